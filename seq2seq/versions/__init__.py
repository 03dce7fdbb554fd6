"""Model versions: publishing a run, the store, scoring, the promotion gate; imports seq2seq.engines and data_prep."""
