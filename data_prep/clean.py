"""Cleaning sentence pairs: normalisation, then rules that drop a pair, each one counted."""
import hashlib
import re
import unicodedata
from dataclasses import dataclass

# Drop reasons, as they appear in manifest.json.
EMPTY = "empty"
TOO_LONG = "too_long"
LENGTH_RATIO = "length_ratio"
IDENTICAL = "identical"
CONTROL_CHARS = "control_chars"
MARKUP = "markup"
NUMBERS = "numbers_mismatch"
DUPLICATE = "duplicate"

NORMALIZATIONS = ("NFC", "NFKC", "NFD", "NFKD", "none")

# C0/C1 control characters, and invisible characters that mark broken or pasted text:
# zero-width space, word joiner, byte-order mark, soft hyphen, and the replacement character.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b\u2060\ufeff\u00ad\ufffd]")
_MARKUP = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(\s[^<>]*)?/?>|&(#[0-9]+|#x[0-9A-Fa-f]+|[A-Za-z]+);")
_NUMBER = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class CleanConfig:
    normalization: str = "NFC"
    max_chars: int = 1000
    max_length_ratio: float = 3.0
    # Short pairs are exempt from the ratio rule: "OK" / "In Ordnung" is a fine pair.
    ratio_min_chars: int = 20
    drop_identical: bool = True
    drop_control_chars: bool = True
    drop_markup: bool = True
    # Off by default: "three" / "3" is a good pair that this rule would drop.
    check_numbers: bool = False
    dedupe: bool = True


def normalize(text: str, config: CleanConfig) -> str:
    """Collapses whitespace (tabs and no-break spaces too) and applies the Unicode normal form."""
    text = " ".join(text.split())
    return text if config.normalization == "none" else unicodedata.normalize(config.normalization, text)


def drop_reason(src: str, trg: str, config: CleanConfig) -> str | None:
    """Why a normalised pair must be dropped, or None to keep it. Duplicates are found elsewhere."""
    if not src or not trg:
        return EMPTY
    shorter, longer = sorted((len(src), len(trg)))
    if longer > config.max_chars:
        return TOO_LONG
    if longer >= config.ratio_min_chars and longer > config.max_length_ratio * shorter:
        return LENGTH_RATIO
    if config.drop_identical and src == trg:
        return IDENTICAL
    if config.drop_control_chars and (_CONTROL.search(src) or _CONTROL.search(trg)):
        return CONTROL_CHARS
    if config.drop_markup and (_MARKUP.search(src) or _MARKUP.search(trg)):
        return MARKUP
    if config.check_numbers and sorted(_NUMBER.findall(src)) != sorted(_NUMBER.findall(trg)):
        return NUMBERS
    return None


def text_hash(*texts: str) -> int:
    """A 64-bit hash: deduplication keeps these, not the sentences, so memory stays small."""
    return int.from_bytes(hashlib.blake2b("\t".join(texts).encode(), digest_size=8).digest(), "little")
