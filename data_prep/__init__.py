"""Corpora: reading, cleaning, SentencePiece subwords and Sockeye's binarized data, plus what every layer
shares (S2SError, atomic writes, a command's quick exit); the bottom layer, importing no other package of
the project."""
