"""Custom terminology: glossaries that the model really applies.

Models are trained to copy a placeholder ⟦0⟧ … ⟦9⟧ from the source to the translation. A
request's glossary terms are found in the whole text (`Glossary.find`), each replaced by a
private-use marker character that the sentence splitter cannot split (`mark`); per sentence the
markers become placeholders (`to_model`), and the placeholders of the translation become the
target terms (`from_model`):

    matches = glossary.find(text)
    marked = mark(text, matches)
    for sentence in segment(marked.text, language).sentences:
        model_input, slots = to_model(sentence, marked)
        translation, applied, missed = from_model(translate(model_input), slots)

Matching is by tokens: runs of word characters, and single characters that are neither word
characters nor whitespace. A term matches whole tokens only ("cat" never matches in "cats" or
"category"), ignoring case; where the term has whitespace between two tokens the text may have
any run of whitespace, newlines included, and where it has none the text must have none. The
target takes the case of the text it replaces (Amazon Translate's rule): lowercase text gives the
target as written, ALL UPPERCASE text the target in upper case, Title Case text (each
whitespace-separated word's first letter a capital, its other letters small) the target with the
first letter of each word a capital, and anything else, or text with no cased letters, the target
as written. Case is judged on the letters present, so "A" is upper case.

Spacing. `to_model` puts a single space between a placeholder and a word character (or another
placeholder) that it would otherwise touch, so that "C++11" goes to the model as "⟦0⟧ 11";
elsewhere ("the ⟦0⟧'s", "(⟦0⟧)") the text is left as it is. `from_model` takes each space it
added out again where the model's placeholder still has a space on that side, and when it drops a
placeholder that the input did not have, it takes out the space that would be left over: the one
after it where there is one on both sides or it starts the text, else the one before it where it
ends the text or stands before . , ; : ! ? ) ] } or …. No other spacing of the model is changed.

A literal ⟦n⟧ in the user's text is not a placeholder of ours: `to_model` gives it a placeholder
of its own that `from_model` fills with the same ⟦n⟧, so it comes back as it was (and is not a
term, so never reported); beyond ten placeholders in a sentence it goes to the model as [n].
"""
import re
from typing import Iterable, Mapping, NamedTuple, Sequence

# regex's \w, unlike re's, includes combining marks and joiners: "हिन्दी" and a decomposed "café"
# are one word each. sacrebleu already depends on regex.
import regex

from data_prep.errors import S2SError

PLACEHOLDERS = tuple(f"⟦{i}⟧" for i in range(10))

# Whitespace as str.split() has it, which includes \x1c-\x1f. On ASCII text re's tokens are the
# same, and re is faster.
_TOKEN = regex.compile(r"\w+|[^\w\s\x1c-\x1f]")
_ASCII_TOKEN = re.compile(_TOKEN.pattern)
_WORD_CHAR = regex.compile(r"\w")
_SPACES = re.compile(r"(\s+)")
_PRIVATE_USE = ((0xE000, 0xF8FF), (0xF0000, 0xFFFFD), (0x100000, 0x10FFFD))
_PRIVATE_USE_CHAR = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in _PRIVATE_USE) + "]")
_MARKER_OR_LITERAL = re.compile("(⟦[0-9]⟧|" + _PRIVATE_USE_CHAR.pattern + ")")
_PLACEHOLDER = re.compile("⟦([0-9])⟧")
_CLOSING = frozenset(".,;:!?)]}…")


def user_defined_symbols() -> tuple[str, ...]:
    """The symbols SentencePiece must keep whole for terminology: the placeholders."""
    return PLACEHOLDERS


class Match(NamedTuple):
    """A glossary term found in a text: text[start:end] is `text`."""
    start: int
    end: int
    text: str  # as in the input
    source: str  # the glossary entry's source term
    target: str  # the entry's target, in the case of `text`


class Term(NamedTuple):
    """A term of a marked text: the text it replaced, its entry's source, and its target as applied."""
    text: str
    source: str  # "" for a literal ⟦n⟧ of the input, which is no term
    target: str


class Marked(NamedTuple):
    """A text with each match replaced by a marker character, and what each marker stands for."""
    text: str
    terms: Mapping[str, Term]


class Slots(NamedTuple):
    """What the placeholders of one sentence's model input stand for."""
    terms: tuple[Term, ...] = ()  # terms[i] fills ⟦i⟧
    # Per placeholder, per occurrence in the input: whether to_model added a space (before, after).
    spaced: tuple[tuple[tuple[bool, bool], ...], ...] = ()
    overflow: tuple[Term, ...] = ()  # the terms past the tenth, given to the model as their text


_NO_SLOTS = Slots()


class Glossary:
    """Source terms compiled for matching: entries keyed by their casefolded tokens."""
    __slots__ = ("_entries", "_longest")

    def __init__(self, entries: dict[tuple[str, ...], tuple[str, str]], longest: dict[str, int]):
        self._entries = entries  # key (casefolded tokens, see _term_key) -> (source, target)
        self._longest = longest  # first token -> the most tokens of a term that starts with it

    @classmethod
    def from_pairs(cls, pairs: Mapping[str, str] | Iterable[tuple[str, str]]) -> "Glossary":
        """A glossary of source -> target pairs; S2SError names the first bad entry."""
        by_key: dict[tuple[str, ...], tuple[str, str]] = {}
        longest: dict[str, int] = {}
        for entry_source, entry_target in pairs.items() if isinstance(pairs, Mapping) else pairs:
            try:
                source, target = entry_source.strip(), entry_target.strip()
            except AttributeError:
                raise S2SError(f"glossary entry {entry_source!r} -> {entry_target!r}: source and target must be "
                               f"text") from None
            if not source or not target:
                raise S2SError(f"glossary entry {entry_source!r} -> {entry_target!r}: the "
                               f"{'target' if source else 'source'} term is empty")
            words = source.casefold().split()
            key = tuple(words)  # the usual term, words of letters only, needs no tokenising
            if not (words[0].isalpha() if len(words) == 1 else "".join(words).isalpha()):
                key = _term_key(words)
                if not any(_WORD_CHAR.match(token[-1]) for token in key):
                    raise S2SError(f"glossary entry {entry_source!r} -> {entry_target!r}: the source term has no "
                                   f"letters or digits; a term must contain a word")
            known = by_key.get(key)
            if known is not None:
                if known[1] != target:
                    raise S2SError(f"glossary entries {known[0]!r} -> {known[1]!r} and {source!r} -> {target!r} have "
                                   f"the same source term, ignoring case and spacing, but different targets; keep one")
                continue
            by_key[key] = (source, target)
            if len(key) > longest.get(key[0], 0):
                longest[key[0]] = len(key)
        return cls(by_key, longest)

    def __len__(self) -> int:
        return len(self._entries)

    def find(self, text: str) -> list[Match]:
        """The terms in `text`, left to right, the longest at each place, never overlapping."""
        longest = self._longest
        if not longest:
            return []
        folded = text.casefold()
        if len(folded) == len(text):  # each character folded to one, so positions carry over
            words = raw = (_ASCII_TOKEN if folded.isascii() else _TOKEN).findall(folded)
            within = folded
        else:
            raw = _TOKEN.findall(text)
            words = [word.casefold() for word in raw]
            within = text
        if longest.keys().isdisjoint(words):
            return []
        # Tokens are separated by whitespace only, so each is the next occurrence of its text.
        tokens, pos = [], 0
        for token, word in zip(raw, words):
            start = within.find(token, pos)
            pos = start + len(token)
            tokens.append((start, pos, word))
        matches, i, n = [], 0, len(tokens)
        while i < n:
            most = longest.get(tokens[i][2])
            if most is None:
                i += 1
                continue
            key = [tokens[i][2]]
            for k in range(i + 1, min(i + most, n)):
                word = tokens[k][2]
                key.append(" " + word if tokens[k][0] == tokens[k - 1][1] else word)
            for length in range(len(key), 0, -1):
                entry = self._entries.get(tuple(key[:length]))
                if entry is not None:
                    start, end = tokens[i][0], tokens[i + length - 1][1]
                    found = text[start:end]
                    matches.append(Match(start, end, found, entry[0], _in_case(entry[1], found)))
                    i += length
                    break
            else:
                i += 1
        return matches


def _term_key(words: list[str]) -> tuple[str, ...]:
    """A term's tokens from its whitespace-separated words; a token that follows the one before
    it without whitespace has a space in front, which no token has, so that "e-mail" is not "e - mail"."""
    key: list[str] = []
    for word in words:
        first, *rest = _TOKEN.findall(word)
        key += [first, *[" " + token for token in rest]]
    return tuple(key)


def _in_case(target: str, found: str) -> str:
    """`target` in the case of `found`."""
    if found.islower():
        return target
    if found.isupper():
        return target.upper()
    if _is_title(found):
        return _title(target)
    return target


def _is_title(text: str) -> bool:
    cased = False
    for word in text.split():
        letters = [c for c in word if c.islower() or c.isupper()]
        if not letters:
            continue
        if not letters[0].isupper() or not all(c.islower() for c in letters[1:]):
            return False
        cased = True
    return cased


def _title(text: str) -> str:
    """The first letter of each whitespace-separated word a capital, the rest as written."""
    words = _SPACES.split(text)
    for i in range(0, len(words), 2):
        word = words[i]
        for j, c in enumerate(word):
            if c.isalpha():
                words[i] = word[:j] + c.title() + word[j + 1:]
                break
    return "".join(words)


def mark(text: str, matches: Sequence[Match]) -> Marked:
    """`text` with each match replaced by a private-use character not otherwise in it."""
    if not matches:
        return Marked(text, {})
    markers = _free_markers(text)
    marker_of: dict[Term, str] = {}
    pieces, pos = [], 0
    for match in matches:
        term = Term(match.text, match.source, match.target)
        marker = marker_of.get(term)
        if marker is None:
            marker = marker_of[term] = next(markers, None)
            if marker is None:
                raise S2SError(f"the text has more different glossary terms than there are private-use "
                               f"characters to mark them ({len(marker_of) - 1:,}); split it")
        pieces += [text[pos:match.start], marker]
        pos = match.end
    pieces.append(text[pos:])
    return Marked("".join(pieces), {marker: term for term, marker in marker_of.items()})


def unmark(text: str, marked: Marked) -> str:
    """A piece of a marked text as it was written, each marker back to the words it replaced."""
    return _PRIVATE_USE_CHAR.sub(lambda c: marked.terms[c[0]].text if c[0] in marked.terms else c[0], text)


def _free_markers(text: str) -> Iterable[str]:
    taken = set(_PRIVATE_USE_CHAR.findall(text))
    for first, last in _PRIVATE_USE:
        for code in range(first, last + 1):
            if chr(code) not in taken:
                yield chr(code)


def _is_word(c: str) -> bool:
    return c != " " and (c.isalpha() or c.isdecimal() or _WORD_CHAR.match(c) is not None)


def to_model(sentence: str, marked: Marked) -> tuple[str, Slots]:
    """One sentence of a marked text with its markers (and literal ⟦n⟧) as placeholders, numbered
    in order of first appearance; past the tenth, terms go back as their text."""
    if not marked.terms and "⟦" not in sentence:
        return sentence, _NO_SLOTS
    parts = _MARKER_OR_LITERAL.split(sentence)  # text, marker or literal, text, ...
    if len(parts) == 1:
        return sentence, _NO_SLOTS
    out = [parts[0]]
    tail = parts[0][-1:]  # the last character of `out`
    number: dict[str, int] = {}
    terms: list[Term] = []
    spaced: list[list[list[bool]]] = []
    overflow: list[Term] = []
    awaiting = None  # the flags of a placeholder that ends `out`, to learn whether a space follows it
    for j in range(1, len(parts), 2):
        found, after = parts[j], parts[j + 1]
        term = marked.terms.get(found) if len(found) == 1 else Term(found, "", found)
        i = None if term is None else number.get(found)
        if term is not None and i is None and len(terms) < len(PLACEHOLDERS):
            i = number[found] = len(terms)
            terms.append(term)
            spaced.append([])
        if i is not None:
            flags = [tail == "⟧" or _is_word(tail), False]
            if flags[0]:
                out.append(" ")
            out.append(PLACEHOLDERS[i])
            spaced[i].append(flags)
            awaiting, tail = flags, "⟧"
        elif term is None:  # a private-use character of the user's own
            after = found + after
        elif term.source:
            if term not in overflow:
                overflow.append(term)
            after = term.text + after
        else:
            after = f"[{found[1]}]" + after
        if after:
            if awaiting is not None and _is_word(after[0]):
                out.append(" ")
                awaiting[1] = True
            awaiting, tail = None, after[-1]
            out.append(after)
    return "".join(out), Slots(tuple(terms), tuple(tuple(map(tuple, s)) for s in spaced), tuple(overflow))


def without_stray_placeholders(source: str, translation: str) -> str:
    """`translation` without the placeholders that its `source` lacks: a model trained for terms may emit
    one for a sentence that has none (a tiny one did, for "A dog runs in the park."), and nothing would
    fill it. A source with a placeholder of its own (a glossary's model input, a literal ⟦n⟧) keeps them."""
    if "⟦" not in translation or "⟦" in source:
        return translation
    return from_model(translation, _NO_SLOTS)[0]


def from_model(translation: str, slots: Slots) -> tuple[str, tuple[Term, ...], tuple[Term, ...]]:
    """The translation with its placeholders filled (those the input lacked dropped), and the terms
    whose target is in it (applied) and those whose target is not (missed)."""
    terms = slots.terms
    if not terms and not slots.overflow and "⟦" not in translation:
        return translation, (), ()
    out: list[str] = []
    seen = [0] * len(terms)
    written = set()  # the placeholders filled with no letters glued to them that the input did not glue
    pos = 0
    for m in _PLACEHOLDER.finditer(translation):
        start, end = m.span()
        before = translation[pos:start]
        i = int(m.group(1))
        if i < len(terms):
            spaced = slots.spaced[i]
            left, right = spaced[seen[i]] if seen[i] < len(spaced) else (False, False)
            seen[i] += 1
            if left and before.endswith(" "):
                before = before[:-1]
            target = terms[i].target
            # A model that glued letters to a placeholder ("⟦1⟧e", an inflection it guessed) wrote "Tibalixene",
            # which does not give the term "Tibalixen"; letters glued in the input ("C++11") are the input's.
            if not ((not left and _is_word(before[-1:]) and _is_word(target[0]))
                    or (not right and _is_word(translation[end:end + 1]) and _is_word(target[-1]))):
                written.add(i)
            out += [before, target]
            pos = end + 1 if right and translation.startswith(" ", end) else end
            continue
        out.append(before)
        prev = next((piece[-1] for piece in reversed(out) if piece), "")
        after = translation[end:end + 1]
        pos = end
        if after == " " and prev in ("", " "):
            pos = end + 1
        elif prev == " " and (after == "" or after in _CLOSING):
            last = next(k for k in range(len(out) - 1, -1, -1) if out[k])
            out[last] = out[last][:-1]
    out.append(translation[pos:])
    text = "".join(out)
    applied, missed = [], []
    for i, term in enumerate(terms):
        if term.source:
            (applied if i in written or occurrences(text, term.target) else missed).append(term)
    for term in slots.overflow:
        (applied if occurrences(text, term.target) else missed).append(term)
    return text, tuple(applied), tuple(missed)


def occurrences(text: str, target: str) -> int:
    """How often `target` is in `text` as whole tokens, case as written."""
    return len(occurrence_starts(text, target))


def occurrence_starts(text: str, target: str) -> list[int]:
    """Where `target` is in `text` as whole tokens, case as written."""
    word_start, word_end = _is_word(target[0]), _is_word(target[-1])
    starts, start = [], text.find(target)
    while start != -1:
        end = start + len(target)
        if ((word_start and start and _is_word(text[start - 1]))
                or (word_end and end < len(text) and _is_word(text[end]))):
            start = text.find(target, start + 1)
        else:
            starts.append(start)
            start = text.find(target, end)
    return starts


def term_places(sentence: str, marked: Marked, translation: str) -> list[tuple[int, int, int, int]]:
    """Where each term of a marked sentence is in the sentence as written (unmark's) and where its target is
    in the sentence's translation, as (source start, source end, target start, target end): the n-th time
    a term is in the source goes with the n-th time its target is in the translation, if it is."""
    places, at = [], 0
    pieces = _PRIVATE_USE_CHAR.split(sentence)
    found: dict[Term, list[int]] = {}
    for piece, marker in zip(pieces, _PRIVATE_USE_CHAR.findall(sentence) + [""]):
        at += len(piece)
        term = marked.terms.get(marker)
        if term is None:
            at += len(marker)
            continue
        if term not in found:
            found[term] = occurrence_starts(translation, term.target)
        starts = found[term]
        if starts:
            start = starts.pop(0)
            places.append((at, at + len(term.text), start, start + len(term.target)))
        at += len(term.text)
    return places


def term_use(sources: Sequence[str], outputs: Sequence[str], glossary: Glossary) -> tuple[int, int]:
    """(hits, total) for exact-match term accuracy (WMT 2021's terminology task): per sentence and
    target term, min(source occurrences, occurrences of the target, case rule applied, in the output)."""
    if len(sources) != len(outputs):
        raise S2SError(f"term use needs one output per source sentence: {len(sources):,} sources, "
                       f"{len(outputs):,} outputs")
    hits = total = 0
    for source, output in zip(sources, outputs):
        counts: dict[str, int] = {}
        for match in glossary.find(source):
            counts[match.target] = counts.get(match.target, 0) + 1
        for target, count in counts.items():
            total += count
            hits += min(count, occurrences(output, target))
    return hits, total


def with_placeholders(text: str, spans: Sequence[tuple[int, int, int]]) -> str:
    """`text` with each (start, end, i) span replaced by ⟦i⟧, spaced as `to_model` spaces them: a
    space against a word character or another placeholder, none against punctuation or space. Term
    annotation (data_prep/term_annotation.py) writes training pairs with it, so the model sees its
    placeholders at training exactly as at inference."""
    out, pos, tail = [], 0, ""
    for start, end, i in sorted(spans):
        before = text[pos:start]
        out.append(before)
        tail = before[-1:] or tail
        out.append((" " if tail == "⟧" or (tail and _is_word(tail)) else "") + PLACEHOLDERS[i])
        tail, pos = "⟧", end
        if pos < len(text) and _is_word(text[pos]):
            out.append(" ")
    out.append(text[pos:])
    return "".join(out)
