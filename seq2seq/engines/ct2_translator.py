"""The CTranslate2 engine: a version's export (seq2seq/engines/ct2_convert.py) decoded by CTranslate2's
C++ beam search. With SOCKEYE_DECODING's options it gives Sockeye's translations.

It imports neither torch nor Sockeye, so a server on this engine does not load them.
"""
import logging
import os
import unicodedata
from pathlib import Path
from typing import NamedTuple

from data_prep.errors import S2SError
from data_prep.subwords import SubwordPair
from seq2seq.engines.ct2_convert import Ct2Settings
from seq2seq.engines.translator import (EMPTY, DecodeConfig, DecodeOptions, Hypotheses, TextTranslator, WordLink,
                                       by_position, word_of_pieces)

logger = logging.getLogger(__name__)

class Ranked(NamedTuple):
    """One input's hypotheses (subwords, the end-of-sentence included when generated), best first,
    and their scores: CTranslate2's, the log-probability over the length."""
    hypotheses: list[list[str]]
    scores: list[float]


# CTranslate2's GPU build opens these when it first needs them (CUDA 12's cuBLAS, cuDNN 9).
_CUDA_LIBRARIES = ("libcublasLt.so.12", "libcublas.so.12", "libcudnn.so.9")


def preload_cuda_libraries() -> list[str]:
    """Loads CUDA 12's cuBLAS and cuDNN 9 from the `nvidia` Python packages that PyTorch's CUDA
    wheels (and the PyTorch base image) install: they sit outside the loader's search path, where
    CTranslate2 looks. Loaded once, globally, CTranslate2 finds them by name. Returns what it loaded."""
    import ctypes

    try:
        import nvidia
    except ImportError:
        return []
    loaded = []
    for name in _CUDA_LIBRARIES:
        for path in sorted(p for directory in nvidia.__path__ for p in Path(directory).glob(f"*/lib/{name}")):
            try:
                ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
            except OSError as e:
                logger.warning("cannot load %s: %s", path, e)
                continue
            loaded.append(str(path))
            break
    return loaded


def compute_type(dtype: str) -> str:
    """CTranslate2's compute type for a DecodeConfig dtype."""
    return {"float32": "float32", "int8": "int8"}[dtype]


class Ct2Translator(TextTranslator):
    """Thread-safe: CTranslate2 queues concurrent calls itself."""
    engine = "ctranslate2"

    def __init__(self, export_dir: Path, subword_dir: Path, config: DecodeConfig = DecodeConfig(),
                 device: str = "cpu"):
        """`device` is "cpu" or "cuda"; int8 always runs on the CPU."""
        import ctranslate2

        self.config = config
        self.device = "cpu" if config.dtype == "int8" else device
        if self.device == "cuda":
            logger.info("CUDA libraries for CTranslate2: %s", preload_cuda_libraries() or "the loader's path")
        # CTranslate2 decodes a call's batches in parallel on `inter_threads` replicas that share the
        # weights. Given no thread count (translate, evaluate, publish), the CPU decodes a batch per
        # core, each on one thread: on 2 cores, 619 sentences/s against 379 with both threads on one
        # batch, and in int8 831 against 164, as OpenMP's threads spin between steps. A server worker
        # is given its share of the cores (serve/config.py) and decodes one batch at a time.
        intra, inter = (config.threads, 1) if config.threads or self.device == "cuda" else (1, os.cpu_count() or 1)
        try:
            self.settings = Ct2Settings.load(Path(export_dir))
            self._model = ctranslate2.Translator(str(export_dir), device=self.device,
                                                 compute_type=compute_type(config.dtype),
                                                 intra_threads=intra, inter_threads=inter)
        except (OSError, ValueError, RuntimeError) as e:
            raise S2SError(f"{export_dir}: CTranslate2 cannot load this model on {self.device}: {e}") from None
        self.subwords = SubwordPair.load(subword_dir)

    @property
    def max_input_length(self) -> int:
        return self.settings.max_input_length

    def _chunks(self, pieces: list[str]) -> list[list[str]]:
        """Sockeye translates input longer than the model takes in chunks of the longest it takes."""
        size = self.max_input_length
        return [pieces[i:i + size] for i in range(0, len(pieces), size)]

    def _decode(self, batch: list[list[str]], options: DecodeOptions, max_length: int,
                nbest: int) -> list[Ranked]:
        return [Ranked(result.hypotheses, result.scores) for result in self._model.translate_batch(
            batch, beam_size=options.beam_size, num_hypotheses=nbest, return_scores=True, return_end_token=True,
            # Sockeye's scoring, and no minimum length.
            length_penalty=options.length_penalty, min_decoding_length=0, max_input_length=0,
            max_decoding_length=max_length, patience=options.patience, max_batch_size=self.config.batch_size)]

    def _end_at_bound(self, pieces: list[str], ranked: Ranked, options: DecodeOptions) -> Ranked:
        """At its bound Sockeye ends each hypothesis with its end-of-sentence, whose probability counts
        in its score; CTranslate2 stops without it. This adds it, and ranks again."""
        hypotheses, scores = ranked
        cut = [k for k, hypothesis in enumerate(hypotheses) if hypothesis[-1:] != [self.settings.eos]]
        if cut:
            for k, result in zip(cut, self._model.score_batch([pieces] * len(cut), [hypotheses[k] for k in cut])):
                scores[k] = sum(result.log_probs) / len(result.log_probs) ** options.length_penalty
        order = sorted(range(len(hypotheses)), key=lambda k: -scores[k])[:options.nbest]
        return Ranked([hypotheses[k] for k in order], [scores[k] for k in order])

    def _translate(self, batch: list[list[str]], options: DecodeOptions) -> list[Ranked]:
        """Decodes each input within its own length bound, as Sockeye does, so that a sentence's
        translation never depends on the batch it shared (a batch decoded within its longest
        sentence's bound gave "Kamm." in company and "Kamm" alone). CTranslate2 takes one bound per
        call, so the batch is decoded within the largest, and the few inputs whose translation
        reached their own bound are decoded again within it, grouped by bound."""
        bounds = [self.settings.max_decoding_length(len(pieces)) for pieces in batch]
        outputs = self._decode(batch, options, max(bounds), options.nbest)
        again: dict[int, list[int]] = {}
        for i, (output, bound) in enumerate(zip(outputs, bounds)):
            if any(len(hypothesis) > bound or hypothesis[-1:] != [self.settings.eos] for hypothesis in output.hypotheses):
                again.setdefault(bound, []).append(i)
        for bound, indices in again.items():
            batch_again = [batch[i] for i in indices]
            # Every hypothesis in the beam at the bound is a candidate once it is ended there.
            for i, ranked in zip(indices, self._decode(batch_again, options, bound, options.beam_size)):
                outputs[i] = self._end_at_bound(batch[i], ranked, options)
        return outputs

    def hypotheses(self, sentences: list[str], options: DecodeOptions = DecodeOptions()) -> list[Hypotheses]:
        encoded = self._subwords(sentences)
        results = [EMPTY] * len(sentences)
        if not encoded:
            return results
        todo = list(encoded)
        chunked = [self._chunks(encoded[i].split()) for i in todo]
        outputs = self._translate([chunk for chunks in chunked for chunk in chunks], options)
        start = 0
        for i, chunks in zip(todo, chunked):
            mine = outputs[start:start + len(chunks)]
            start += len(chunks)
            # A chunked sentence's hypotheses are its chunks' hypotheses of the same rank, joined.
            ranks = min(len(output.hypotheses) for output in mine)
            translations = [self._decoded(sentences[i], " ".join(p for output in mine for p in output.hypotheses[k]
                                                               if p != self.settings.eos))
                            for k in range(ranks)]
            # CTranslate2 scores are length-normalised log-probabilities; Sockeye's are their negation.
            scores = [-sum(output.scores[k] for output in mine) / len(mine) for k in range(ranks)]
            results[i] = Hypotheses(translations, scores)
        return results

    def align(self, sources: list[str], targets: list[str]) -> list[list[WordLink]]:
        """Forced decoding of each given translation (its subwords as the target prefix, greedy), and the
        cross-attention that the export keeps (every head of the last layer, averaged; an export from before
        that keeps the first head), summed over each word's subwords. A target word and a source word are
        linked when either attends to the other most, and surely when both do: the sure links place markup
        more precisely (an article attends to its noun more than the noun to the article). Sentences the
        model takes in chunks, or that have no subwords, are linked by position."""
        links = [by_position(len(s.split()), len(t.split())) for s, t in zip(sources, targets)]
        todo, batch, prefixes = [], [], []
        for i, (source, target) in enumerate(zip(sources, targets)):
            source_pieces = self.subwords.source.encode(unicodedata.normalize("NFC", source.strip())).split()
            target_pieces = self.subwords.target.encode(unicodedata.normalize("NFC", target.strip())).split()
            if source_pieces and target_pieces and len(source_pieces) <= self.max_input_length:
                todo.append(i)
                batch.append(source_pieces)
                prefixes.append(target_pieces)
        if not todo:
            return links
        results = self._model.translate_batch(
            batch, target_prefix=prefixes, beam_size=1, return_attention=True, min_decoding_length=0,
            max_input_length=0, max_decoding_length=max(len(p) for p in prefixes) + 1,
            max_batch_size=self.config.batch_size)
        for i, source_pieces, target_pieces, result in zip(todo, batch, prefixes, results):
            source_word, target_word = word_of_pieces(source_pieces), word_of_pieces(target_pieces)
            if source_word[-1] + 1 != len(sources[i].split()) or target_word[-1] + 1 != len(targets[i].split()):
                continue  # SentencePiece saw other words than the text's spaces part: linked by position
            # Attention between words: each target word's rows summed over each source word's columns,
            # the end of sentence left out.
            weights = [[0.0] * (source_word[-1] + 1) for _ in range(target_word[-1] + 1)]
            for row, t in zip(result.attention[0], target_word):
                for j, weight in enumerate(row[:len(source_pieces)]):
                    weights[t][source_word[j]] += weight
            to_source = {(max(range(len(w)), key=w.__getitem__), t) for t, w in enumerate(weights)}
            to_target = {(s, max(range(len(weights)), key=lambda t: weights[t][s])) for s in range(len(weights[0]))}
            links[i] = [WordLink(s, t, (s, t) in to_source and (s, t) in to_target)
                        for s, t in sorted(to_source | to_target)]
        return links
