"""Splitting text into sentences for translation, and putting the translations back in its layout.

Models are trained on single sentences, so a paragraph is split with sentencex (Wikimedia's
sentence segmenter, rule sets for some 250 languages); every newline and run of spaces
between sentences is kept and returned around the translations.
"""
import re
from dataclasses import dataclass

import sentencex

_EDGES = re.compile(r"^(\s*)(.*?)(\s*)$", re.DOTALL)


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


def segment(text: str, language: str) -> Segmented:
    """Splits on newlines, then into sentences; whitespace-only text has no sentences."""
    layout, sentences = [""], []
    for line in text.splitlines(keepends=True):
        for piece in sentencex.segment(language, line):
            before, body, after = _EDGES.match(piece).groups()
            if body:
                layout[-1] += before
                sentences.append(body)
                layout.append(after)
            else:
                layout[-1] += piece
    return Segmented(layout, sentences)
