"""Choosing a version's decoding options on its dev set when it is published.

Sockeye's own decoding (SOCKEYE_DECODING: beam 5, length penalty 1, every hypothesis finished)
is not the best a model can do for its cost: on the demo, LibreTranslate's options (beam 4,
length penalty 0.2, patience 1) scored 0.2-0.4 BLEU higher on the same model, for less time a
sentence. So `s2s publish` decodes the dev set with
each candidate below on CTranslate2 (one thread, as a server worker runs it), measures its BLEU
and its CPU time a sentence, and keeps the best BLEU among Sockeye's mode and the candidates no
slower than it times the budget. Ties go to the smaller beam, then the smaller patience, then the
length penalty nearer Sockeye's: by what each option costs, not by a timing, so that publishing
one checkpoint twice chooses the same options (a timing breaks ties by the machine's noise).
For the same reason a candidate that searches no more than Sockeye's mode (no wider beam, no more
patience) is within any budget of 1 or more whatever its timing: on the demo a beam-5 candidate
once timed 2.54 ms against Sockeye's 2.44 (1.78 when published again), which changed the choice.
Timings count only against a budget under 1, or for a costlier candidate, and only then is each
the lower of two passes over the dev set; otherwise one pass gives the figures version.json records.
version.json records the choice with every candidate's figures (decoding.py reads it back). Sockeye honours the beam size and the
length penalty; patience is CTranslate2's. Every candidate decodes each sentence within its own
length bound, so that a translation never depends on its batch.
"""
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from data_prep.corpus import file_sha256, read_parallel
from data_prep.errors import S2SError
from seq2seq.engines.choice import CTRANSLATE2, ModelFiles, open_translator
from seq2seq.engines.translator import SOCKEYE_DECODING, DecodeConfig, DecodeOptions, TextTranslator
from seq2seq.versions.decoding import CHOSEN, DEFAULT_BUDGET, SOCKEYE_MODE, check_budget, options_record
from seq2seq.versions.scoring import score

logger = logging.getLogger(__name__)

CANDIDATES = tuple(DecodeOptions(beam_size=beam, length_penalty=penalty, patience=1)
                   for beam in (2, 3, 4, 5) for penalty in (0.2, 0.6, 1.0))
# Dev sentences decoded per candidate: enough for BLEU to tell candidates apart, few enough that
# choosing stays a small part of publishing.
DEV_LIMIT = 1000


@dataclass(frozen=True)
class Measured:
    options: DecodeOptions
    dev_bleu: float
    cpu_ms_per_sentence: float

    def as_dict(self) -> dict:
        return {**options_record(self.options), "dev_bleu": self.dev_bleu,
                "cpu_ms_per_sentence": self.cpu_ms_per_sentence}


def _cheaper_first(measured: Measured) -> tuple:
    options = measured.options
    return (-options.beam_size, -options.patience,
            -abs(options.length_penalty - SOCKEYE_DECODING.length_penalty))


def _searches_no_more(options: DecodeOptions) -> bool:
    """No wider beam and no more patience than Sockeye's mode, which also re-decodes at its length bound."""
    return options.beam_size <= SOCKEYE_DECODING.beam_size and options.patience <= SOCKEYE_DECODING.patience


def pick(sockeye: Measured, candidates: list[Measured], budget: float) -> Measured:
    """The best dev BLEU of Sockeye's mode and the candidates within the budget; on a tie, the
    smaller beam, then the smaller patience, then the length penalty nearer Sockeye's."""
    affordable = [m for m in candidates if (budget >= 1 and _searches_no_more(m.options))
                  or m.cpu_ms_per_sentence <= sockeye.cpu_ms_per_sentence * budget]
    return max([sockeye, *affordable], key=lambda m: (m.dev_bleu, *_cheaper_first(m)))


def _decode(translator: TextTranslator, sources: list[str], options: DecodeOptions) -> tuple[list[str], float]:
    # CPU time, not wall time: a busy machine slows both alike, and the choice should not depend on it.
    started = time.process_time()
    hypotheses = translator.translate(sources, options)
    return hypotheses, (time.process_time() - started) / len(sources) * 1000


def _measure_all(translator: TextTranslator, sources: list[str], references: list[str],
                 everything: list[DecodeOptions], timed_again: bool) -> list[Measured]:
    """Each option's BLEU and CPU time; `timed_again`: the lower of two passes, the second after the
    first has run every option, so that a moment's load on the machine counts against none of them."""
    first = [_decode(translator, sources, options) for options in everything]
    again = [_decode(translator, sources, options)[1] for options in everything] if timed_again else \
        [ms for _, ms in first]
    return [Measured(options, score(hypotheses, references).bleu, round(min(ms, ms_again), 3))
            for options, (hypotheses, ms), ms_again in zip(everything, first, again)]


def choose(model: ModelFiles, dev_source: Path, dev_target: Path, budget: float = DEFAULT_BUDGET) -> dict:
    """Decodes the dev set with Sockeye's mode and each candidate; returns version.json's "decoding"
    record, whose "options" both engines use by default."""
    check_budget(budget)
    pairs = list(read_parallel(dev_source, dev_target))[:DEV_LIMIT]
    if not pairs:
        raise S2SError(f"{dev_source}: the dev set is empty; nothing to choose decoding options on")
    sources, references = [s for s, _ in pairs], [r.strip() for _, r in pairs]
    # One thread and one batch at a time, as a server worker decodes.
    translator, _ = open_translator(model, CTRANSLATE2, DecodeConfig(threads=1))
    translator.translate(sources[:8])
    # A second timing pass only where a timing can decide (pick): on the demo it is half of choosing's 9.5 s.
    timed_again = budget < 1 or not all(_searches_no_more(options) for options in CANDIDATES)
    sockeye, *measured = _measure_all(translator, sources, references, [SOCKEYE_DECODING, *CANDIDATES],
                                      timed_again)
    chosen = pick(sockeye, measured, budget)
    logger.info("decoding chosen on %d dev sentences: %s, BLEU %.2f at %.2f ms a sentence (Sockeye's mode: "
                "BLEU %.2f at %.2f ms)", len(sources), options_record(chosen.options), chosen.dev_bleu,
                chosen.cpu_ms_per_sentence, sockeye.dev_bleu, sockeye.cpu_ms_per_sentence)
    return {"mode": CHOSEN if chosen is not sockeye else SOCKEYE_MODE, "options": options_record(chosen.options),
            "dev": {"sentences": len(sources), "source_sha256": file_sha256(dev_source), "bleu": chosen.dev_bleu,
                    "cpu_ms_per_sentence": chosen.cpu_ms_per_sentence},
            "budget": budget, "sockeye": sockeye.as_dict(), "candidates": [m.as_dict() for m in measured]}
