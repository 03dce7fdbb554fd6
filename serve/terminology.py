"""Custom terminology in requests: a request's `"glossary"` (inline entries) and `"terminology"` (a
glossary imported with `s2s terms import`), checked, merged and compiled for the version's language pair.

Compiled glossaries are kept in a small LRU keyed by their content (inline entries by their sha256,
named ones by name and sha256, and the pair), so a 1,000-entry glossary sent with every request is
checked and compiled once. The terms are applied by ServedVersion.translate (data_prep/terms.py).
"""
import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Mapping

from data_prep.errors import S2SError
from data_prep.termbase import MAX_TERM_BYTES
from data_prep.terms import Glossary
from seq2seq.versions.glossaries import Glossary as StoredGlossary
from seq2seq.versions.version import Version
from serve.request_checks import ApiError

# Compiled glossaries kept per worker: enough for a few clients' glossaries, small next to a model.
COMPILED_GLOSSARIES = 64


@dataclass(frozen=True)
class TermRequest:
    """What a request asked for: inline entries (with their sha256), a named glossary, or both."""
    inline: dict | None
    inline_sha256: str | None
    name: str | None


def term_request(body: dict, max_entries: int) -> TermRequest | None:
    """The request's `glossary` and `terminology` fields, None when it has neither. Their shape is checked
    here, the terms themselves when they are compiled (and only then: a cached glossary was checked)."""
    inline, name = body.get("glossary"), body.get("terminology")
    if inline is None and name is None:
        return None
    digest = None
    if inline is not None:
        if not isinstance(inline, dict):
            raise ApiError(400, "field 'glossary' must be an object of source term -> target term, "
                                "e.g. {\"dog\": \"Hund\"}")
        if len(inline) > max_entries:
            raise ApiError(400, f"field 'glossary': {len(inline):,} entries; at most {max_entries:,} per request "
                                f"(import a larger glossary with `s2s terms import` and name it in 'terminology')")
        for source, target in inline.items():
            if not isinstance(target, str):
                raise ApiError(400, f"glossary entry {source[:40]!r}: the target term must be a string, not "
                                    f"{json.dumps(target)[:40]}")
        # Strings only now, so this cannot recurse; ensure_ascii writes half a character (\ud800) as its escape.
        digest = hashlib.sha256(json.dumps(inline, sort_keys=True).encode("ascii")).hexdigest()
    if name is not None and not isinstance(name, str):
        raise ApiError(400, "field 'terminology' must be a string: the name of a glossary on the server "
                            "(GET /v1/models lists them)")
    return TermRequest(inline, digest, name)


def _check_terms(inline: dict[str, str]) -> dict[str, str]:
    for source, target in inline.items():
        where = f"glossary entry {source[:40]!r}"
        for side, term in (("source", source), ("target", target)):
            if not term.strip():
                raise ApiError(400, f"{where}: the {side} term is empty")
            try:
                size = len(term.encode("utf-8"))
            except UnicodeEncodeError as e:
                raise ApiError(400, f"{where}: the {side} term is not valid Unicode text: a lone surrogate "
                                    f"{term[e.start]!r} at character {e.start}") from None
            if size > MAX_TERM_BYTES:
                raise ApiError(400, f"{where}: the {side} term is {size} bytes in UTF-8, over the limit of "
                                    f"{MAX_TERM_BYTES}; shorten it")
    return inline


def _base(language: str) -> str:
    return language.split("-")[0].lower()


def glossary_pair(glossary: StoredGlossary, pair: tuple[str, str]) -> tuple[str, str] | None:
    """The glossary's language pair for a model's pair: the same codes, else the first pair (in the
    glossary's column order) whose codes differ only by their regions (en-US -> de-DE for en -> de)."""
    pairs = glossary.termbase.pairs()
    if pair in pairs:
        return pair
    base = (_base(pair[0]), _base(pair[1]))
    return next((p for p in pairs if (_base(p[0]), _base(p[1])) == base), None)


def _named(name: str, named: Mapping[str, StoredGlossary], problems: Mapping[str, str]) -> StoredGlossary:
    glossary = named.get(name)
    if glossary is None:
        if name in problems:
            raise ApiError(400, f"field 'terminology': glossary {name!r} is not served: {problems[name]}")
        available = ", ".join(sorted(named))
        raise ApiError(400, f"field 'terminology': no glossary {name!r} on this server; "
                            + (f"it has {available}" if available else
                               "it has none (`s2s terms import NAME FILE` adds one)"))
    return glossary


def _pair_of(glossary: StoredGlossary, pair: tuple[str, str]) -> tuple[str, str]:
    found = glossary_pair(glossary, pair)
    if found is None:
        pairs = ", ".join(f"{s}->{t}" for s, t in glossary.termbase.pairs())
        raise ApiError(400, f"field 'terminology': glossary {glossary.name!r} has no {pair[0]}->{pair[1]} terms "
                            f"(it is {glossary.directionality} with {pairs})")
    return found


def _words(term: str) -> tuple[str, ...]:
    # The same source term as far as matching goes: data_prep/terms.py compares casefolded words.
    return tuple(term.casefold().split())


def not_trained(version: Version) -> ApiError:
    return ApiError(400, f"version {version.id} was not trained to apply terms, so it cannot take a 'glossary' "
                         f"or 'terminology': versions trained on data that `s2s prepare` annotated with terms "
                         f"(its default) apply them, and {version.id} was published without that annotation. "
                         f"Translate without a glossary, or pin a version trained with terms")


class GlossaryCache:
    """Compiled glossaries by content, least recently used dropped first; shared by a worker's threads."""

    def __init__(self, size: int = COMPILED_GLOSSARIES):
        self.size = size
        self._entries: OrderedDict[tuple, Glossary] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def compiled(self, request: TermRequest, version: Version, named: Mapping[str, StoredGlossary],
                 problems: Mapping[str, str]) -> Glossary:
        """The glossary a request asked for, for `version`'s pair: the named one's terms, with the inline
        entries added, replacing any named entry with the same source term (ignoring case). The request's
        own mistakes are named first, then a version that cannot apply terms."""
        inline = None
        if request.inline is not None:
            inline = self._get_or_compile((request.inline_sha256,),
                                          lambda: _compile(_check_terms(request.inline),
                                                           "field 'glossary'"))
        stored = _named(request.name, named, problems) if request.name is not None else None
        if not version.terms_trained:
            raise not_trained(version)
        if stored is None:
            return inline
        pair = _pair_of(stored, version.pair)
        own = self._get_or_compile((None, stored.name, stored.sha256, pair),
                                   lambda: _compile(stored.termbase.terms(*pair),
                                                    f"field 'terminology': glossary {stored.name!r}"))
        if inline is None:
            return own
        return self._get_or_compile((request.inline_sha256, stored.name, stored.sha256, pair),
                                    lambda: _compile(_merge(stored.termbase.terms(*pair), request.inline),
                                                    "field 'glossary'"))

    def _get_or_compile(self, key: tuple, compile_) -> Glossary:
        with self._lock:
            glossary = self._entries.get(key)
            if glossary is not None:
                self._entries.move_to_end(key)
                return glossary
        glossary = compile_()
        with self._lock:
            self._entries[key] = glossary
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return glossary


def _merge(named: dict[str, str], inline: dict[str, str]) -> dict[str, str]:
    """The named entries with the inline ones added, an inline entry replacing a named one with the same
    source term ignoring case (and spacing, as matching does)."""
    overridden = {_words(source) for source in inline}
    return {**{s: t for s, t in named.items() if _words(s) not in overridden}, **inline}


def _compile(entries: dict[str, str], where: str) -> Glossary:
    # A named glossary was checked at import, but a term with no word in it fails only here.
    try:
        return Glossary.from_pairs(entries)
    except S2SError as e:
        raise ApiError(400, f"{where}: {e}") from None
