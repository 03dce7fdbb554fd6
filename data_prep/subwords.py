"""SentencePiece subwords: training joint or per-language models, and encoding and decoding.

A directory that holds subword models has either one joint model, `sentencepiece.model`,
or one per side, `sentencepiece.source.model` and `sentencepiece.target.model`.
"""
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import sentencepiece as spm

from data_prep.errors import S2SError

logger = logging.getLogger(__name__)

JOINT_MODEL = "sentencepiece.model"
SIDE_MODELS = {"source": "sentencepiece.source.model", "target": "sentencepiece.target.model"}
MODEL_TYPES = ("unigram", "bpe")


@dataclass(frozen=True)
class SubwordConfig:
    vocab_size: int = 8000
    model_type: str = "unigram"
    joint: bool = True
    character_coverage: float = 1.0
    byte_fallback: bool = False
    user_defined_symbols: tuple[str, ...] = ()  # kept whole, never split
    # SentencePiece trains on a random sample of this many sentences (both sides together for a
    # joint model). Its memory and time grow with the sample, not the corpus: about 250 MB and
    # 5 s for 200,000 sentences, 2.3 GB and 47 s for 2 million (bench/prepare.py).
    sample_size: int = 200_000


class Subwords:
    """A loaded SentencePiece model: text <-> space-separated pieces, as Sockeye reads them."""

    def __init__(self, model_file: Path):
        self.model_file = Path(model_file)
        self._sp = spm.SentencePieceProcessor(model_file=str(model_file))

    def encode(self, text: str) -> str:
        return " ".join(self._sp.encode(text, out_type=str))

    def encode_batch(self, texts: list[str]) -> list[list[str]]:
        """Encodes many texts on all cores (SentencePiece's own threads, outside the GIL)."""
        return self._sp.encode(texts, out_type=str, num_threads=os.cpu_count() or 1)

    def decode(self, pieces: str) -> str:
        return self._sp.decode(pieces.split())

    @property
    def piece_count(self) -> int:
        return self._sp.get_piece_size()

    def sockeye_vocab(self) -> dict[str, int]:
        """Sockeye's vocabulary for these pieces: its four symbols first, then every piece.
        Handing it to Sockeye saves it a counting pass over the whole corpus."""
        from sockeye import constants as C

        pieces = [self._sp.id_to_piece(i) for i in range(self.piece_count)
                  if not (self._sp.is_unknown(i) or self._sp.is_control(i))]
        return {symbol: i for i, symbol in enumerate(C.VOCAB_SYMBOLS + pieces)}


@dataclass(frozen=True)
class SubwordPair:
    """The models for each side; the same object twice when the vocabulary is joint."""
    source: Subwords
    target: Subwords
    files: list[Path] = field(default_factory=list)

    @property
    def joint(self) -> bool:
        return self.source is self.target

    @classmethod
    def load(cls, directory: Path) -> "SubwordPair":
        joint = Path(directory) / JOINT_MODEL
        if joint.is_file():
            model = Subwords(joint)
            return cls(model, model, [joint])
        sides = [Path(directory) / SIDE_MODELS[side] for side in ("source", "target")]
        if not all(p.is_file() for p in sides):
            raise S2SError(f"{directory}: no SentencePiece model ({JOINT_MODEL}, or "
                           f"{SIDE_MODELS['source']} and {SIDE_MODELS['target']})")
        return cls(Subwords(sides[0]), Subwords(sides[1]), sides)


@dataclass(frozen=True)
class GivenSubwords:
    """Subwords reused instead of trained (`s2s prepare --subwords-from VERSION`): a model can only be
    fine-tuned on data encoded with its own SentencePiece model(s) and Sockeye vocabularies."""
    origin: str  # where they come from (a version id), recorded in the manifest
    models: tuple[Path, ...]  # sentencepiece.model, or one per side
    source_vocab: Path  # Sockeye's vocab.src.0.json
    target_vocab: Path

    @property
    def joint(self) -> bool:
        return len(self.models) == 1

    def copy_into(self, directory: Path) -> SubwordPair:
        for model in self.models:
            shutil.copyfile(model, Path(directory) / model.name)
        return SubwordPair.load(directory)


def _train_one(inputs: list[Path], model_file: Path, config: SubwordConfig) -> Subwords:
    prefix = str(model_file.with_suffix(""))
    # A small corpus cannot fill a large vocabulary; hard_vocab_limit=False lets SentencePiece
    # stop short instead of failing, and the size it reached is logged and recorded.
    spm.SentencePieceTrainer.train(
        input=",".join(str(p) for p in inputs), model_prefix=prefix, vocab_size=config.vocab_size,
        model_type=config.model_type, character_coverage=config.character_coverage,
        byte_fallback=config.byte_fallback, user_defined_symbols=list(config.user_defined_symbols),
        hard_vocab_limit=False, input_sentence_size=config.sample_size, shuffle_input_sentence=True,
        num_threads=os.cpu_count() or 1, minloglevel=2)
    Path(prefix + ".vocab").unlink()
    Path(prefix + ".model").replace(model_file)
    subwords = Subwords(model_file)
    if subwords.piece_count < config.vocab_size:
        logger.warning("SentencePiece reached %d pieces for %s, fewer than the %d asked for: the corpus is small",
                       subwords.piece_count, model_file.name, config.vocab_size)
    return subwords


def train_subwords(source_text: Path, target_text: Path, directory: Path, config: SubwordConfig) -> SubwordPair:
    """Trains a joint model on both sides, or one model per side, into `directory`."""
    if config.model_type not in MODEL_TYPES:
        raise S2SError(f"unknown SentencePiece model type {config.model_type!r}; choose {' or '.join(MODEL_TYPES)}")
    if config.joint:
        model = _train_one([source_text, target_text], directory / JOINT_MODEL, config)
        return SubwordPair(model, model, [directory / JOINT_MODEL])
    source = _train_one([source_text], directory / SIDE_MODELS["source"], config)
    target = _train_one([target_text], directory / SIDE_MODELS["target"], config)
    return SubwordPair(source, target, [directory / SIDE_MODELS[side] for side in ("source", "target")])
