"""The HTTP service: the Flask app under gunicorn, keys, cache, batching, the registry of served versions and
the pages; imports seq2seq.versions, seq2seq.engines, review and data_prep, never seq2seq.training."""
