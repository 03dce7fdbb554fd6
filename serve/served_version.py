"""A version in memory: its model, its batcher, and the path from texts to translations."""
import concurrent.futures
from dataclasses import dataclass

from data_prep.errors import S2SError
from seq2seq.engines.choice import open_translator
from seq2seq.engines.translator import DecodeConfig, DecodeOptions, Hypotheses
from seq2seq.versions.version import Version
from serve.batcher import Batcher
from serve.cache import LruCache
from serve.config import BatchConfig
from serve.segment import segment

WARM_UP = "Hello."


class TranslationTimeout(S2SError):
    """A request waited longer than the server's request timeout."""


@dataclass(frozen=True)
class TextResult:
    translation: str
    # Further hypotheses, best first, when alternatives were asked for.
    alternatives: list[str]
    # Mean of Sockeye's score over the text's sentences (lower is better); 0.0 for an empty text.
    score: float


class ServedVersion:
    def __init__(self, version: Version, batching: BatchConfig, engine: str, decode: DecodeConfig):
        self.version = version

        def load():
            self.translator, self.engine = open_translator(version.model_files(), engine, decode)
            # Sockeye traces its decoder on first use: pay that now, not in the first request.
            self.translator.translate([WARM_UP])
            return self.translator.hypotheses

        self.batcher = Batcher(load, batching, version.id)
        self._max_input_length = self.translator.max_input_length

    def _too_long(self, sentence: str) -> bool:
        # A subword covers at least one character, so only long strings need encoding to check.
        return (len(sentence) >= self._max_input_length
                and len(self.translator.subwords.source.encode(sentence).split()) > self._max_input_length)

    def translate(self, texts: list[str], options: DecodeOptions, cache: LruCache,
                  timeout_s: float) -> list[TextResult]:
        """Splits each text into sentences, translates those not cached through the batcher,
        and rebuilds each text around its translated sentences."""
        segmented = [segment(text, self.version.pair[0], self._too_long) for text in texts]
        sentences = [s for seg in segmented for s in seg.sentences]
        keys = [(self.version.id, options, s) for s in sentences]
        hypotheses: list[Hypotheses | None] = [cache.get(key) for key in keys]
        todo = [i for i, h in enumerate(hypotheses) if h is None]
        futures = self.batcher.submit([sentences[i] for i in todo], options) if todo else []
        _, pending = concurrent.futures.wait(futures, timeout=timeout_s)
        if pending:
            for future in futures:
                future.cancel()
            raise TranslationTimeout(f"the translation did not finish within {timeout_s:g} s; "
                                     "the server is overloaded, retry later or send less text")
        for i, future in zip(todo, futures):
            hypotheses[i] = future.result()
            cache.put(keys[i], hypotheses[i])
        results, start = [], 0
        for seg in segmented:
            mine = hypotheses[start:start + len(seg.sentences)]
            start += len(seg.sentences)
            alternatives = [seg.join([h.translations[min(k, len(h.translations) - 1)] for h in mine])
                            for k in range(1, options.nbest)]
            score = sum(h.scores[0] for h in mine) / len(mine) if mine else 0.0
            results.append(TextResult(seg.join([h.best for h in mine]), alternatives, score))
        return results

    def close(self) -> None:
        self.batcher.close()
