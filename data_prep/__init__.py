"""Corpora: reading, cleaning, SentencePiece subwords and Sockeye's binarized data, plus what every layer
shares (S2SError, atomic writes); the bottom layer, importing no other package of the project."""
