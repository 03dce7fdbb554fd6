"""Training a Sockeye model: presets, the run, distributed launch, the SageMaker job, fine-tuning;
imports seq2seq.versions, seq2seq.engines and data_prep."""
