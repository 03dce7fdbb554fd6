"""Which of the served languages a text is in, for requests whose source language is "auto".

py3langid's model (the wheel's own, 4.6 MB) is loaded once per process, on the first call: loading
takes about 0.7 s, which a worker that never sees "auto" should not pay at start-up; nor should it pay
py3langid's import, whose numpy costs 67 ms and is imported by nothing else a server needs. Each set of
languages gets its own restricted copy of the model, because py3langid's set_languages changes the
identifier it is called on; a copy, once made, is only read, so threads share it without a lock.
"""
import copy
import logging
import threading
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from data_prep.errors import S2SError

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

log = logging.getLogger(__name__)

# Confidence is py3langid's probability over the allowed languages, so 1/n says nothing about n
# languages; 0.6 sits above a two-language store's 0.5. On Multi30k's 4,000 test sentences in
# en/de/fr/cs the lowest is 0.84; of its 116,000 training sentences 8 fall below 0.6, among them 4 of
# the 5 it gets wrong. Single words shared by those languages ("Hotel", "Restaurant") fall below too.
LOW_CONFIDENCE = 0.6
# ISO 639-2's code for "undetermined": the answer for a text with no letters, at confidence 0.
UNDETERMINED = "und"


@dataclass(frozen=True)
class Detected:
    language: str
    confidence: float


_lock = threading.Lock()
_full: "LanguageIdentifier | None" = None
# Keyed by the requested codes, lowercased: the served languages, so a handful of sets per process.
_restricted: "dict[frozenset[str], LanguageIdentifier]" = {}


def _identifier(among: frozenset[str]) -> "LanguageIdentifier":
    global _full
    with _lock:
        if among not in _restricted:
            if _full is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                _full = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            known = among & set(_full.labels)
            if not known:
                raise S2SError(f"language identification knows none of the languages {sorted(among)}; "
                               f"give the source language instead of 'auto'")
            if among - known:
                log.warning("language identification leaves out %s, which py3langid does not know",
                            ", ".join(sorted(among - known)))
            restricted = copy.copy(_full)  # shares the full model's arrays; set_languages slices its own
            restricted.set_languages(sorted(known))
            _restricted[among] = restricted
        return _restricted[among]


def identify(text: str, among: Collection[str]) -> Detected:
    """The language of `text` among the ISO 639-1 codes `among` (those py3langid knows), with its
    probability over them; UNDETERMINED at confidence 0 for a text with no letters."""
    identifier = _identifier(frozenset(code.lower() for code in among))
    if not any(ch.isalpha() for ch in text):
        return Detected(UNDETERMINED, 0.0)
    language, confidence = identifier.classify(text)
    return Detected(language, confidence)
