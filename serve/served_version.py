"""A version in memory: its model, its batcher, and the path from texts to translations."""
import concurrent.futures
import re
import time
from dataclasses import dataclass, replace
from typing import Sequence

from data_prep.errors import S2SError
from data_prep.terms import Glossary, Marked, Term, from_model, mark, occurrences, term_places, to_model, unmark
from documents.inline import Link, Segment, Translated, pinned, sentence_links
from seq2seq.engines.choice import open_translator
from seq2seq.engines.translator import DecodeConfig, DecodeOptions, Hypotheses
from seq2seq.versions.version import Version
from serve.batcher import Batcher
from serve.cache import LruCache
from serve.config import BatchConfig
from serve.segment import Segmented, segment

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
    # With a glossary: its terms matched in the text whose target is in the translation, and those whose
    # target is not, each once, in order of appearance.
    applied: tuple[Term, ...] = ()
    missed: tuple[Term, ...] = ()
    # When asked for: each translated word and the source word it was aligned to (documents/inline.py).
    links: tuple[Link, ...] = ()


@dataclass(frozen=True)
class _Sentences:
    """A text's layout, its sentences as written, and their best translations: what aligning needs; with a
    glossary, the text marked and its sentences as marked, where aligning finds each term's place."""
    layout: list[str]
    sources: list[str]
    translations: list[str]
    marked: Marked | None = None
    marked_sources: Sequence[str] = ()


_WORD = re.compile(r"\S+")


def _word_offsets(sentence: str, at: int) -> list[tuple[int, int]]:
    return [(at + m.start(), at + m.end()) for m in _WORD.finditer(sentence)]


class ServedVersion:
    def __init__(self, version: Version, batching: BatchConfig, engine: str, decode: DecodeConfig):
        self.version = version
        # Its decoding options, chosen when it was published (seq2seq/versions/decoding.py).
        self.options = version.decoding

        def load():
            self.translator, self.engine = open_translator(version.model_files(), engine, decode)
            # Sockeye traces its decoder on first use: pay that now, not in the first request.
            self.translator.translate([WARM_UP])
            return self.translator.hypotheses

        self.batcher = Batcher(load, batching, version.id)
        # PyTorch's thread pools belong to the thread that loaded the model (serve/batcher.py says why);
        # CTranslate2 runs a model from any thread.
        self.batcher.on_any_thread = self.engine.engine == "ctranslate2"
        self._max_input_length = self.translator.max_input_length

    def _too_long(self, sentence: str) -> bool:
        # A subword covers at least one character, so only long strings need encoding to check.
        return (len(sentence) >= self._max_input_length
                and len(self.translator.subwords.source.encode(sentence).split()) > self._max_input_length)

    def translate(self, texts: list[str], options: DecodeOptions, cache: LruCache, timeout_s: float,
                  glossary: Glossary | None = None,
                  aligned: Sequence[Sequence[tuple[int, int]]] | None = None) -> list[TextResult]:
        """Splits each text into sentences, translates those not cached through the batcher,
        and rebuilds each text around its translated sentences; with a glossary, applies its terms.
        `aligned`: per text, the character ranges whose words each result also links to the words of its
        translation, for markup to be placed by (documents/inline.py); only the sentences those ranges
        touch (an empty range, the sentences on either side of it) are aligned."""
        if glossary is not None:
            results, sentences = self._translate_with_terms(texts, options, cache, timeout_s, glossary)
        else:
            results, sentences = self._translate_plain(texts, options, cache, timeout_s)
        if aligned is None:
            return results
        return self._with_links(results, sentences, aligned)

    def translate_segments(self, segments: list[Segment], options: DecodeOptions, cache: LruCache, timeout_s: float,
                           glossary: Glossary | None = None) -> list[Translated]:
        """A document's segments (documents/inline.py), in one pass: the sentences their markup touches are
        aligned, for the markup to be placed."""
        results = self.translate([s.text for s in segments], options, cache, timeout_s, glossary,
                                 [[(span.start, span.end) for span in s.spans] for s in segments])
        return [Translated(result.translation, result.links) for result in results]

    def _translate_plain(self, texts: list[str], options: DecodeOptions, cache: LruCache,
                         timeout_s: float) -> tuple[list[TextResult], list[_Sentences]]:
        segmented = [segment(text, self.version.pair[0], self._too_long) for text in texts]
        hypotheses = self._hypotheses([s for seg in segmented for s in seg.sentences], options, cache, timeout_s)
        results, sentences, start = [], [], 0
        for seg in segmented:
            mine = hypotheses[start:start + len(seg.sentences)]
            start += len(seg.sentences)
            results.append(_result(seg, [h.translations for h in mine], [h.scores[0] for h in mine], options))
            sentences.append(_Sentences(seg.layout, seg.sentences, [h.best for h in mine]))
        return results, sentences

    def _with_links(self, results: list[TextResult], sentences: list[_Sentences],
                    ranges: Sequence[Sequence[tuple[int, int]]]) -> list[TextResult]:
        """The results with links from each translated word to its source word, from one alignment of the
        sentences the ranges touch (the CTranslate2 engine reads the model's attention;
        seq2seq/engines/ct2_translator.py): a forced decoding costs a fifth of a translation's time."""
        todo = []  # (text index, source offset, target offset, source, translation, its terms' places)
        for i, (text, wanted) in enumerate(zip(sentences, ranges)):
            source_at = target_at = len(text.layout[0])
            for j, (source, translation, after) in enumerate(zip(text.sources, text.translations, text.layout[1:])):
                end = source_at + len(source)
                if any(start < end + 1 and source_at - 1 < stop for start, stop in wanted):
                    places = term_places(text.marked_sources[j], text.marked, translation) if text.marked else []
                    todo.append((i, source_at, target_at, source, translation, places))
                source_at, target_at = end + len(after), target_at + len(translation) + len(after)
        alignments = self.translator.align([t[3] for t in todo], [t[4] for t in todo])
        links: list[list[Link]] = [[] for _ in results]
        for (i, source_at, target_at, source, translation, places), alignment in zip(todo, alignments):
            source_words, target_words = _word_offsets(source, source_at), _word_offsets(translation, target_at)
            links[i] += pinned(sentence_links(source_words, target_words, alignment), source_words, target_words,
                               [(ss + source_at, se + source_at, ts + target_at, te + target_at)
                                for ss, se, ts, te in places])
        return [replace(result, links=tuple(mine)) for result, mine in zip(results, links)]

    def _translate_with_terms(self, texts: list[str], options: DecodeOptions, cache: LruCache, timeout_s: float,
                              glossary: Glossary) -> tuple[list[TextResult], list[_Sentences]]:
        """Terms are marked in the whole text before it is split, so that no term is split across sentences;
        the model translates each sentence with placeholders for its terms (which is also the cache key, so
        the cache holds for every glossary), and the placeholders are filled after decoding."""
        marked = [mark(text, glossary.find(text)) for text in texts]
        segmented = [segment(m.text, self.version.pair[0], self._too_long if not m.terms else
                             (lambda sentence, m=m: self._too_long(to_model(sentence, m)[0]))) for m in marked]
        inputs = [[to_model(sentence, m) for sentence in seg.sentences] for m, seg in zip(marked, segmented)]
        hypotheses = self._hypotheses([model_input for text in inputs for model_input, _ in text], options, cache,
                                      timeout_s)
        results, sentences, start = [], [], 0
        for m, seg, text in zip(marked, segmented, inputs):
            mine = hypotheses[start:start + len(text)]
            start += len(text)
            matched: dict[tuple[str, str], Term] = {}
            applied: set[tuple[str, str]] = set()
            translations = []
            for h, (_, slots) in zip(mine, text):
                filled = [from_model(translation, slots) for translation in h.translations]
                translations.append([out for out, _, _ in filled])
                _, hits, misses = filled[0]
                for term in hits + misses:
                    matched.setdefault((term.source, term.target), term)
                applied.update((term.source, term.target) for term in hits)
            result = _result(seg, translations, [h.scores[0] for h in mine], options)
            # Judged on the whole translation: a term missed in one sentence may be in another's translation.
            present = [key in applied or occurrences(result.translation, key[1]) > 0 for key in matched]
            terms = list(matched.values())
            results.append(replace(result, applied=tuple(t for t, p in zip(terms, present) if p),
                                   missed=tuple(t for t, p in zip(terms, present) if not p)))
            sentences.append(_Sentences(seg.layout, [unmark(sentence, m) for sentence in seg.sentences],
                                        [t[0] for t in translations], m, seg.sentences))
        return results, sentences

    def _hypotheses(self, sentences: list[str], options: DecodeOptions, cache: LruCache,
                    timeout_s: float) -> list[Hypotheses]:
        """Each sentence's hypotheses, from the cache or else the batcher."""
        keys = [(self.version.id, options, s) for s in sentences]
        hypotheses: list[Hypotheses | None] = [cache.get(key) for key in keys]
        todo = [i for i, h in enumerate(hypotheses) if h is None]
        if not todo:
            return hypotheses
        started = time.monotonic()
        done = self.batcher.translate_now([sentences[i] for i in todo], options)
        if done is None:
            futures = self.batcher.submit([sentences[i] for i in todo], options)
            _, pending = concurrent.futures.wait(futures, timeout=timeout_s)
            if pending:
                for future in futures:
                    future.cancel()
                raise _timed_out(timeout_s)
            done = [future.result() for future in futures]
        for i, result in zip(todo, done):
            hypotheses[i] = result
            cache.put(keys[i], result)
        if time.monotonic() - started > timeout_s:  # translated on the request's thread, but too late
            raise _timed_out(timeout_s)
        return hypotheses

    def close(self) -> None:
        self.batcher.close()


def _timed_out(timeout_s: float) -> TranslationTimeout:
    return TranslationTimeout(f"the translation did not finish within {timeout_s:g} s; "
                              "the server is overloaded, retry later or send less text")


def _result(seg: Segmented, translations: list[list[str]], scores: list[float], options: DecodeOptions) -> TextResult:
    """A text's result from its sentences' n-best translations (best first) and best scores."""
    alternatives = [seg.join([t[min(k, len(t) - 1)] for t in translations]) for k in range(1, options.nbest)]
    score = sum(scores) / len(scores) if scores else 0.0
    return TextResult(seg.join([t[0] for t in translations]), alternatives, score)
