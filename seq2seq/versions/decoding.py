"""A version's decoding options: what version.json records under "decoding", and the named modes.

Options are chosen on the dev set when a version is published (decoding_choice.py); both engines
then decode with them by default. Sockeye's own decoding (SOCKEYE_DECODING) stays a named mode,
`--decoding sockeye`, and is what a training run and a version published before s2s chose
options decode with.
"""
from dataclasses import asdict, replace

from data_prep.errors import S2SError
from seq2seq.engines.translator import SOCKEYE_DECODING, DecodeOptions

# The named modes of `--decoding`: the version's chosen options, or Sockeye's.
CHOSEN, SOCKEYE_MODE = "chosen", "sockeye"
MODES = (CHOSEN, SOCKEYE_MODE)
# A candidate may cost this many times Sockeye's mode in CPU a sentence (`s2s publish --decoding-budget`).
DEFAULT_BUDGET = 1.0


def options_record(options: DecodeOptions) -> dict:
    """The options as version.json keeps them (n-best is a request's, not a version's)."""
    return {key: value for key, value in asdict(options).items() if key != "nbest"}


def options_from(record: dict | None, mode: str = CHOSEN) -> DecodeOptions:
    """The options a version decodes with: its chosen ones, or Sockeye's for `mode` "sockeye" and for
    versions published before s2s chose them."""
    if mode not in MODES:
        raise S2SError(f"unknown decoding mode {mode!r}; choose one of: {', '.join(MODES)}")
    if mode == SOCKEYE_MODE or not record or "options" not in record:
        return SOCKEYE_DECODING
    return DecodeOptions(**record["options"])


def check_budget(budget: float) -> None:
    if budget <= 0:
        raise S2SError(f"the decoding budget must be above 0, not {budget:g}")


def sockeye_only(why: str) -> dict:
    """The record of a version that decodes as Sockeye does, and why it was not given a choice."""
    return {"mode": SOCKEYE_MODE, "options": options_record(SOCKEYE_DECODING), "why": why}


def with_beam(options: DecodeOptions, beam_size: int | None) -> DecodeOptions:
    """A version's options with a request's or a command line's beam size."""
    return options if beam_size is None else replace(options, beam_size=beam_size)


def beam_for(options: DecodeOptions, alternatives: int) -> int:
    """The beam a request for `alternatives` decodes with when it names no beam size: the version's, widened
    to hold the alternatives, as Argos Translate (LibreTranslate's engine) widens it. A version whose chosen
    beam is 2 still gives 3 alternatives."""
    return max(options.beam_size, alternatives + 1)
