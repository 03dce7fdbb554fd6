"""Cleaning sentence pairs, with a count of why each dropped pair was dropped."""
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Iterator

# Drop reasons, as they appear in manifest.json.
EMPTY = "empty"
TOO_LONG = "too_long"
LENGTH_RATIO = "length_ratio"


@dataclass(frozen=True)
class CleanConfig:
    max_chars: int = 1000
    max_length_ratio: float = 3.0
    # Short pairs are exempt from the ratio rule: "OK" / "In Ordnung" is a fine pair.
    ratio_min_chars: int = 20
    normalization: str = "NFC"


def normalize(text: str, config: CleanConfig) -> str:
    return unicodedata.normalize(config.normalization, text.strip())


def drop_reason(src: str, trg: str, config: CleanConfig) -> str | None:
    """Why a normalised pair must be dropped, or None to keep it."""
    if not src or not trg:
        return EMPTY
    shorter, longer = sorted((len(src), len(trg)))
    if longer > config.max_chars:
        return TOO_LONG
    if longer >= config.ratio_min_chars and longer > config.max_length_ratio * shorter:
        return LENGTH_RATIO
    return None


def clean_pairs(pairs: Iterable[tuple[str, str]], config: CleanConfig,
                dropped: Counter) -> Iterator[tuple[str, str]]:
    """Yields the kept pairs, normalised; counts each dropped pair in `dropped` by reason."""
    for src, trg in pairs:
        src, trg = normalize(src, config), normalize(trg, config)
        reason = drop_reason(src, trg, config)
        if reason is None:
            yield src, trg
        else:
            dropped[reason] += 1
