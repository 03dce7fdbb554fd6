"""HTML pages and fragments: read as browsers read them (html5lib implements the WHATWG parsing
algorithm, malformed markup included), translated segment by segment, written back with the same
element tree.

A segment is a run of text and inline elements between block boundaries (`<p>The <b>small</b>
dog.</p>` is one segment with a span for the `b`), so that a sentence is translated whole and its
inline markup placed by alignment (documents/inline.py). Nothing inside `script`, `style`, `pre`,
`code`, `textarea` and other such elements, or inside an element marked `translate="no"`, is
translated; inside a sentence such an element, a line break, an image or a comment keeps its
place as a unit (placed after the translation of the word before it; a line break also ends the
line it is in, for the model, as a newline does). The `alt`, `title` and `placeholder` attributes are translated, each as a segment
of its own. Entities are read as the characters they stand for and written back as characters,
but for the no-break space, written `&nbsp;`; a page's doctype is kept as written.
"""
import re
from xml.etree import ElementTree

import html5lib

from documents.inline import Parsed, Segment, Translate, Translated, project, render
from documents.trees import SPAN, UNIT, content, inline_segment, rebuilt, set_content

# Elements that flow inside a line of text; any other (p, div, li, td, h1, ...) bounds a segment.
INLINE = frozenset("a abbr b bdi bdo br cite code data del dfn em font i img ins kbd label mark q s samp small "
                   "span strong sub sup time tt u var wbr".split())
# Elements whose content is never translated: code and preformatted text, scripts, and what is not text.
UNTRANSLATED = frozenset("code pre script style textarea kbd samp var svg math template noscript iframe object "
                         "canvas".split())
# Inline elements with no text of their own: units in a sentence.
EMPTY = frozenset(("br", "img", "wbr"))
ATTRIBUTES = ("alt", "title", "placeholder")
_DOCTYPE = re.compile(r"^\ufeff?\s*(<!doctype[^>]*>)", re.IGNORECASE)
_DOCUMENT = re.compile(r"^\ufeff?\s*(<!doctype|<html[\s>]|<head[\s>]|<body[\s>])", re.IGNORECASE)
_SERIALIZE = dict(tree="etree", omit_optional_tags=False, inject_meta_charset=False, quote_attr_values="always",
                  use_trailing_solidus=False)


def _tag(element) -> str | None:
    # A comment's tag is a function; a string tag is an element's name.
    return element.tag if isinstance(element.tag, str) else None


def _untranslated(element) -> bool:
    return _tag(element) in UNTRANSLATED or element.get("translate", "").lower() == "no"


def _is_unit(element) -> bool:
    return _tag(element) is None or _tag(element) in EMPTY or _untranslated(element)


def _is_inline(element) -> bool:
    """Part of a line: an inline element with only text and inline elements inside, or a unit."""
    if _is_unit(element):
        return _tag(element) is None or _tag(element) in INLINE
    return _tag(element) in INLINE and all(_is_inline(child) for child in element)


class _Reader:
    """The segments of a tree, and where each translation goes: an attribute, or a run of an element's
    content that is rebuilt around it."""

    def __init__(self):
        self.segments: list[Segment] = []
        self.attributes: list[tuple[int, ElementTree.Element, str]] = []
        # Per element with runs: its content as pieces, each an item kept or a run (segment index, items).
        self.rebuilds: list[tuple[ElementTree.Element, list]] = []

    def _add(self, segment: Segment) -> int:
        self.segments.append(segment)
        return len(self.segments) - 1

    def read_attributes(self, element) -> None:
        for name in ATTRIBUTES:
            value = element.get(name)
            if value and value.strip():
                self.attributes.append((self._add(Segment(value)), element, name))

    def read(self, element) -> None:
        if _tag(element) is None or _untranslated(element):
            return
        self.read_attributes(element)
        pieces, run = [], []
        for item in content(element) + [None]:
            if item is not None and (isinstance(item, str) or _is_inline(item)):
                run.append(item)
                continue
            if run:
                pieces.append(self._run(run))
                run = []
            if item is not None:
                pieces.append(item)
                self.read(item)
        if any(isinstance(piece, tuple) for piece in pieces):
            self.rebuilds.append((element, pieces))

    def _run(self, items: list):
        """A run as a segment, its spans the inline elements in it; only whitespace and units stay as they are."""
        segment = inline_segment(items, self._classify)
        if not segment.text.strip():
            return items
        return self._add(segment), items

    def _classify(self, item) -> tuple[str, tuple, str]:
        if _is_unit(item):
            if _tag(item) == "img":
                self.read_attributes(item)
            # A line break parts the words on either side.
            return UNIT, (UNIT, item), "\n" if _tag(item) == "br" else ""
        self.read_attributes(item)
        return SPAN, (SPAN, item), ""


def read_html(text: str) -> Parsed:
    """A page or a fragment's segments, and how to write it back around their translations."""
    if _DOCUMENT.match(text):
        root = html5lib.parse(text, treebuilder="etree", namespaceHTMLElements=False)
    else:
        root = html5lib.parseFragment(text, treebuilder="etree", namespaceHTMLElements=False)
    reader = _Reader()
    reader.read(root)
    doctype = _DOCTYPE.match(text)

    def write(results: list[Translated]) -> str:
        projected = [project(segment, result) for segment, result in zip(reader.segments, results)]
        # Attributes first: an inline element is rebuilt from its attributes, translated by then.
        for index, element, name in reader.attributes:
            element.set(name, projected[index].text)
        for element, pieces in reader.rebuilds:
            items = []
            for piece in pieces:
                if isinstance(piece, tuple):
                    items += render(projected[piece[0]], str, rebuilt)
                elif isinstance(piece, list):
                    items += piece
                else:
                    items.append(piece)
            set_content(element, items)
        out = html5lib.serialize(root, **_SERIALIZE).replace("\xa0", "&nbsp;")
        return (doctype.group(1) if doctype else "") + out

    return Parsed(reader.segments, write)


def translate_html(text: str, translate: Translate) -> str:
    """A page or a fragment, translated by `translate`, with its element tree unchanged."""
    return read_html(text).translated(translate)
