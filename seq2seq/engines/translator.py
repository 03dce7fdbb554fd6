"""Translating plain text with a model and its SentencePiece model: what every engine offers,
and the Sockeye engine (the CTranslate2 one is seq2seq/engines/ct2_translator.py)."""
import abc
import logging
import threading
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, NamedTuple

from data_prep.errors import S2SError
from data_prep.subwords import SubwordPair
from data_prep.terms import without_stray_placeholders

logger = logging.getLogger(__name__)

DTYPES = ("float32", "int8")
# A translation may be up to this many times as long as its source, in subwords. It is Sockeye's
# own factor when it is not told a length ratio (`max_output_length_num_stds` < 0). Its default
# bound, the training data's mean ratio plus two standard deviations, cut 3% of the demo's test
# translations short, in mid-word ("... obwohl dieser Fuchs fa").
OUTPUT_LENGTH_FACTOR = 2


class WordLink(NamedTuple):
    """A source word and a target word of a sentence and its translation (indices among their words split
    at spaces), linked by an alignment; `sure` when the alignment found it both ways."""
    source: int
    target: int
    sure: bool


def by_position(source_words: int, target_words: int) -> list[WordLink]:
    """Each target word linked to the source word at the same relative position."""
    if not source_words:
        return []
    return [WordLink(min(source_words - 1, k * source_words // target_words), k, False) for k in range(target_words)]


def word_of_pieces(pieces: list[str]) -> list[int]:
    """The word index of each SentencePiece subword: a word starts at each piece with SentencePiece's
    space mark."""
    words, word = [], -1
    for piece in pieces:
        if piece.startswith("\u2581") or word < 0:
            word += 1
        words.append(word)
    return words


@dataclass(frozen=True)
class DecodeConfig:
    """How a loaded model is run: fixed for the model's lifetime."""
    batch_size: int = 32
    # int8 runs on the CPU: CTranslate2's int8, or Sockeye's dynamic quantisation of the linear layers.
    dtype: str = "float32"
    # Threads for one batch on the CPU: CTranslate2's intra_threads, or PyTorch's for Sockeye. 0: every
    # core (CTranslate2 then decodes a batch per core, seq2seq/engines/ct2_translator.py; PyTorch its default).
    threads: int = 0


@dataclass(frozen=True)
class DecodeOptions:
    """What one call may choose: sentences with equal options can share a batch. The defaults decode
    as Sockeye does, so that both engines give the same translations (SOCKEYE_DECODING); a version's
    own options, chosen on its dev set when it is published, are in its version.json
    (seq2seq/versions/decoding.py)."""
    beam_size: int = 5
    # How many hypotheses to return, best first (1 = the translation only).
    nbest: int = 1
    # Hypotheses rank by log-probability / length ** length_penalty: Sockeye's alpha (its beta left
    # at 0), CTranslate2's length_penalty. 1 is the mean log-probability per subword.
    length_penalty: float = 1.0
    # CTranslate2 stops a sentence once beam_size x patience hypotheses have finished. Sockeye has no
    # such setting: it stops when every hypothesis in its beam has finished. With patience 1
    # CTranslate2 missed longer hypotheses that Sockeye finds, and gave Sockeye's translation for
    # 96.4% of the demo's test sentences at beam 5; with 2, for all of them.
    patience: int = 2


# Sockeye's own decoding, kept as a named mode: the engines' equivalence tests and users who need
# Sockeye's translations exactly decode with it.
SOCKEYE_DECODING = DecodeOptions()


@dataclass(frozen=True)
class Hypotheses:
    """One sentence's translations, best first, with Sockeye's scores (length-normalised
    negative log-probabilities: lower is better)."""
    translations: list[str]
    scores: list[float]

    @property
    def best(self) -> str:
        return self.translations[0]


EMPTY = Hypotheses([""], [0.0])


class TextTranslator(abc.ABC):
    """Plain text in, plain text out: what every engine offers (see seq2seq/engines/choice.py)."""
    # "sockeye" or "ctranslate2": the engine's name in logs and in version.json.
    engine = ""
    subwords: SubwordPair

    @property
    @abc.abstractmethod
    def max_input_length(self) -> int:
        """Subwords per sentence the model takes; longer input is translated in chunks."""

    @abc.abstractmethod
    def hypotheses(self, sentences: list[str], options: DecodeOptions = DecodeOptions()) -> list[Hypotheses]:
        """Translates each sentence; an empty (or blank) sentence translates to ""."""

    def _subwords(self, sentences: list[str]) -> dict[int, str]:
        """By index, the subwords of each sentence that has any, stripped and NFC-normalised. An
        empty sentence has none, and neither has one of nothing but characters that SentencePiece
        drops (control characters): both translate to ""."""
        encoded = {i: self.subwords.source.encode(unicodedata.normalize("NFC", s.strip()))
                   for i, s in enumerate(sentences) if s.strip()}
        return {i: pieces for i, pieces in encoded.items() if pieces}

    def _decoded(self, source: str, pieces: str) -> str:
        """A translation's subwords as text, without placeholders its source lacks (data_prep/terms.py)."""
        return without_stray_placeholders(source, self.subwords.target.decode(pieces))

    def translate(self, sentences: list[str], options: DecodeOptions = DecodeOptions()) -> list[str]:
        return [h.best for h in self.hypotheses(sentences, options)]

    def align(self, sources: list[str], targets: list[str]) -> list[list[WordLink]]:
        """For each sentence and its translation, the links between their words. This engine has no
        alignment to offer: words are linked by their position in the sentence, which holds for words
        that keep their order. The CTranslate2 engine reads the model's attention instead."""
        return [by_position(len(source.split()), len(target.split())) for source, target in zip(sources, targets)]

    def translate_stream(self, lines: Iterator[str], options: DecodeOptions = DecodeOptions(),
                         chunk_size: int = 256) -> Iterator[str]:
        """Translates a long stream in chunks, keeping memory flat and order intact."""
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) == chunk_size:
                yield from self.translate(chunk, options)
                chunk = []
        if chunk:
            yield from self.translate(chunk, options)


class Translator(TextTranslator):
    """A Sockeye model loaded with PyTorch. Thread-safe: concurrent calls are serialised on the model."""
    engine = "sockeye"

    def __init__(self, model_dir: Path, subword_dir: Path, config: DecodeConfig = DecodeConfig()):
        """`subword_dir` holds the SentencePiece model(s) that the model was trained with."""
        import torch
        from sockeye.model import load_models

        if not (Path(model_dir) / "config").is_file():
            raise S2SError(f"{model_dir}: not a Sockeye model folder (no config file)")
        if config.dtype not in DTYPES:
            raise S2SError(f"unknown dtype {config.dtype!r}; choose one of {', '.join(DTYPES)}")
        device = torch.device("cuda" if torch.cuda.is_available() and config.dtype != "int8" else "cpu")
        if config.threads and device.type == "cpu":
            # Process-wide, and set on the thread that will translate (serve/batcher.py says why).
            torch.set_num_threads(config.threads)
        self._models, self._source_vocabs, self._target_vocabs = load_models(
            device, [str(model_dir)], inference_only=True, dtype=None if config.dtype == "float32" else config.dtype)
        self._device = device
        self.device = device.type
        self.config = config
        # Sockeye fixes beam size, n-best size and length penalty per Translator; these share the loaded
        # models. Patience and the length bounds are CTranslate2's: Sockeye always decodes its own way.
        self._translators: dict[tuple[int, int, float], object] = {}
        self.subwords = SubwordPair.load(subword_dir)
        self._lock = threading.Lock()

    def _sockeye(self, options: DecodeOptions):
        from sockeye import inference

        key = (options.beam_size, options.nbest, options.length_penalty)
        if key not in self._translators:
            if not 1 <= options.nbest <= options.beam_size:
                raise S2SError(f"n-best size {options.nbest} must be between 1 and the beam size {options.beam_size}")
            scorer = inference.CandidateScorer(length_penalty_alpha=options.length_penalty, length_penalty_beta=0.0,
                                               brevity_penalty_weight=0.0)
            scorer.to(self._models[0].dtype)
            self._translators[key] = inference.Translator(
                device=self._device, ensemble_mode="linear", scorer=scorer, batch_size=self.config.batch_size,
                beam_size=options.beam_size, nbest_size=options.nbest, beam_search_stop="all",
                max_output_length_num_stds=-1,
                models=self._models, source_vocabs=self._source_vocabs, target_vocabs=self._target_vocabs)
        return self._translators[key]

    @property
    def max_input_length(self) -> int:
        return self._sockeye(DecodeOptions()).max_input_length

    def hypotheses(self, sentences: list[str], options: DecodeOptions = DecodeOptions()) -> list[Hypotheses]:
        import torch
        from sockeye.inference import make_input_from_plain_string

        encoded = self._subwords(sentences)
        todo = list(encoded)
        inputs = [make_input_from_plain_string(n, encoded[i]) for n, i in enumerate(todo)]
        outputs = []
        if inputs:
            with self._lock, torch.inference_mode(), warnings.catch_warnings():
                # Sockeye traces its decoder on first use, and torch 2.x warns about it; harmless.
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                # Without fill-up, a batch of one costs one sentence, not a padded full batch.
                outputs = self._sockeye(options).translate(inputs, fill_up_batches=False)
        results = [EMPTY] * len(sentences)
        for i, output in zip(todo, outputs):
            if options.nbest > 1:
                results[i] = Hypotheses([self._decoded(sentences[i], t) for t in output.nbest_translations],
                                        [s[0] for s in output.nbest_scores])
            else:
                results[i] = Hypotheses([self._decoded(sentences[i], output.translation)], [output.score])
        return results
