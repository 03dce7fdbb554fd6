"""Element trees (xml.etree's and lxml's alike) as sequences of content: an element's text, its children
and their tails, taken apart and put back; and a run of such content read as a segment with spans."""
import copy
from typing import Any, Callable

from documents.inline import Segment, Span

SPAN, UNIT = "span", "unit"


def content(element) -> list:
    """An element's content as items: strings, and child elements (each tail a string of its own)."""
    items = [element.text] if element.text else []
    for child in element:
        items.append(child)
        if child.tail:
            items.append(child.tail)
    return items


def set_content(element, items: list) -> None:
    for child in list(element):
        element.remove(child)
    element.text, last = None, None
    for item in items:
        if isinstance(item, str):
            if last is None:
                element.text = (element.text or "") + item
            else:
                last.tail = (last.tail or "") + item
        else:
            item.tail = None
            element.append(item)
            last = item


def inline_segment(items: list, classify: Callable[[Any], tuple[str, Any, str]]) -> Segment:
    """A run of content items as a segment. `classify(element)` says what an element is: (SPAN, tag, "") for
    markup around its own content, which becomes a span carrying `tag`; or (UNIT, tag, text) for an
    element that keeps its place as a unit, an empty span followed by `text` (a line break's "\\n")."""
    text: list[str] = []
    spans: list[Span] = []

    def walk(item, depth: int) -> None:
        if isinstance(item, str):
            text.append(item)
            return
        start = sum(map(len, text))
        kind, tag, after = classify(item)
        if kind == UNIT:
            spans.append(Span(start, start, tag, depth))
            text.append(after)
            return
        index = len(spans)
        spans.append(Span(start, start, None))
        for part in content(item):
            walk(part, depth + 1)
        spans[index] = Span(start, sum(map(len, text)), tag, depth)

    for item in items:
        walk(item, 0)
    return Segment("".join(text), tuple(spans))


def rebuilt(tag: tuple, parts: list):
    """What a span or a unit carried (`(kind, element)`), for the translation: a unit as it was, and a span's
    element made anew (the same name and attributes) around `parts`."""
    kind, original = tag
    if kind == UNIT:
        unit = copy.deepcopy(original)
        unit.tail = None
        return unit
    # makeelement: an lxml element keeps its namespaces, an xml.etree one is plain.
    element = original.makeelement(original.tag, dict(original.attrib))
    set_content(element, parts)
    return element
