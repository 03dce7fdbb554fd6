"""SentencePiece subwords: training one joint model, and encoding and decoding with it."""
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import sentencepiece as spm

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubwordConfig:
    vocab_size: int = 8000
    model_type: str = "unigram"
    character_coverage: float = 1.0


class Subwords:
    """A loaded SentencePiece model: text <-> space-separated pieces, as Sockeye reads them."""

    def __init__(self, model_file: Path):
        self.model_file = Path(model_file)
        self._sp = spm.SentencePieceProcessor(model_file=str(model_file))

    def encode(self, text: str) -> str:
        return " ".join(self._sp.encode(text, out_type=str))

    def decode(self, pieces: str) -> str:
        return self._sp.decode(pieces.split())

    @property
    def piece_count(self) -> int:
        return self._sp.get_piece_size()


def train_subwords(text_files: Iterable[Path], model_file: Path, config: SubwordConfig) -> Subwords:
    """Trains a SentencePiece model on all the given files together; writes model_file."""
    prefix = str(model_file.with_suffix(""))
    # A small corpus cannot fill a large vocabulary; hard_vocab_limit=False lets SentencePiece
    # stop short instead of failing, and we log the size it reached.
    spm.SentencePieceTrainer.train(
        input=",".join(str(p) for p in text_files), model_prefix=prefix,
        vocab_size=config.vocab_size, model_type=config.model_type,
        character_coverage=config.character_coverage, hard_vocab_limit=False,
        input_sentence_size=2_000_000, shuffle_input_sentence=True, minloglevel=2)
    Path(prefix + ".vocab").unlink()
    Path(prefix + ".model").replace(model_file)
    subwords = Subwords(model_file)
    if subwords.piece_count < config.vocab_size:
        logger.warning("SentencePiece reached %d pieces, fewer than the %d asked for: the corpus is small",
                       subwords.piece_count, config.vocab_size)
    return subwords
