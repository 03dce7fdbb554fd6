"""Models: training (seq2seq.training), the published versions (seq2seq.versions) and the engines
that translate with them (seq2seq.engines); each imports only the ones after it, and data_prep."""
