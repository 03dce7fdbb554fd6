"""Splitting text into sentences for translation, and putting the translations back in its layout.

Models are trained on single sentences, so a paragraph is split with sentencex (Wikimedia's
sentence segmenter, rule sets for some 250 languages); every newline and run of spaces
between sentences is kept and returned around the translations. A sentence longer than
the model takes is split further, at clause punctuation and then between words, so that
no part of it is cut off.
"""
import re
from dataclasses import dataclass
from typing import Callable

import sentencex

_EDGES = re.compile(r"^(\s*)(.*?)(\s*)$", re.DOTALL)
_CLAUSE_END = re.compile(r"(?<=[,;:])(\s+)")
_SPACE = re.compile(r"(\s+)")


@dataclass(frozen=True)
class Segmented:
    """A text as alternating layout and sentences: layout[0] s[0] layout[1] s[1] ... layout[n]."""
    layout: list[str]
    sentences: list[str]

    def join(self, translations: list[str]) -> str:
        parts = [self.layout[0]]
        for translation, after in zip(translations, self.layout[1:]):
            parts += [translation, after]
        return "".join(parts)


def _pack(parts: list[str], too_long: Callable[[str], bool]) -> list[str]:
    """Joins consecutive (text, separator) parts greedily into pieces that are not too long."""
    pieces, current = [], ""
    for i in range(0, len(parts), 2):
        candidate = current + parts[i]
        if current and too_long(candidate.strip()):
            pieces += [current.rstrip(), current[len(current.rstrip()):]]
            candidate = parts[i]
        current = candidate + (parts[i + 1] if i + 1 < len(parts) else "")
    return pieces + [current]


def _split_long(sentence: str, too_long: Callable[[str], bool]) -> list[str]:
    """[piece, separator, piece, ...]: at clause ends, and between words within a clause."""
    if not too_long(sentence):
        return [sentence]
    out = []
    clauses = _CLAUSE_END.split(sentence)
    for i in range(0, len(clauses), 2):
        out += _pack(_SPACE.split(clauses[i]), too_long) if too_long(clauses[i]) else [clauses[i]]
        if i + 1 < len(clauses):
            out.append(clauses[i + 1])
    return out


def segment(text: str, language: str, too_long: Callable[[str], bool] = lambda sentence: False) -> Segmented:
    """Splits on newlines, then into sentences, then any sentence that is `too_long` into
    clauses or runs of words; whitespace-only text has no sentences."""
    layout, sentences = [""], []
    for line in text.splitlines(keepends=True):
        for piece in sentencex.segment(language, line):
            before, body, after = _EDGES.match(piece).groups()
            if not body:
                layout[-1] += piece
                continue
            layout[-1] += before
            parts = _split_long(body, too_long)
            for i in range(0, len(parts), 2):
                sentences.append(parts[i])
                layout.append(parts[i + 1] if i + 1 < len(parts) else "")
            layout[-1] += after
    return Segmented(layout, sentences)
