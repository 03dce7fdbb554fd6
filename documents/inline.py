"""Markup inside a sentence: a segment of text with spans of inline formatting over it, and the
spans carried over onto the segment's translation.

`The <b>small</b> dog sees a red car.` is translated whole, as the model was trained, and the
`b` placed around the translation of the words it surrounded: `Der <b>kleine</b> Hund sieht ein
rotes Auto.` This is Hanneman and Dinu's "detag and project" (WMT 2020): the tags are taken off,
the text translated, and each tag projected through a word alignment, which s2s reads from the
model's own attention (seq2seq/engines/ct2_translator.py's `align`). A span covers whole target
words: the hull of those aligned to the words it covered in the source. Spans keep their nesting
(a child stays inside its parent) and never cross (a later sibling starts where an earlier one
ends); a span none of whose words found a partner, or an element with no text at all (a line
break, an image), sits empty after the target word aligned to the source word before it.

What a span stands for (an HTML element, a Word run's formatting) is the format's own business:
the projection carries it along untouched.
"""
import logging
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any, Callable

logger = logging.getLogger(__name__)

# (source start, source end, target start, target end, sure): a source word and a target word linked by
# the alignment, as character offsets in the segment and in its translation; sure when the alignment
# found the link both ways (seq2seq/engines/ct2_translator.py).
Link = tuple[int, int, int, int, bool]


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    # The format's element or formatting, carried along.
    tag: Any = field(compare=False)
    # How many spans enclose it: an empty span at a span's edge may be inside it or beside it.
    depth: int = 0


@dataclass(frozen=True)
class Segment:
    """A run of text translated as one, with the inline spans over it in document order (each span
    before the spans inside it), well nested."""
    text: str
    spans: tuple[Span, ...] = ()


# Translates segments' texts: each translation, and its links when the segment has spans.
Translate = Callable[[list[Segment]], list["Translated"]]


@dataclass(frozen=True)
class Translated:
    translation: str
    links: tuple[Link, ...] = ()


@dataclass(frozen=True)
class Parsed:
    """A document read into segments, and how to write it back around their translations (results in the
    segments' order). A document's segments are translated together, in one call, so that they share
    the batcher."""
    segments: list[Segment]
    write: Callable[[list[Translated]], Any]

    def translated(self, translate: Translate):
        return self.write(translate(self.segments) if self.segments else [])


def _children(spans: tuple[Span, ...]) -> dict[int, list[int]]:
    """Each span's direct children by index; -1 is the root."""
    children: dict[int, list[int]] = {-1: []}
    stack: list[int] = []
    for i, span in enumerate(spans):
        while stack and spans[stack[-1]].depth >= span.depth:
            stack.pop()
        children.setdefault(stack[-1] if stack else -1, []).append(i)
        children[i] = []
        stack.append(i)
    return children


def _punctuation(c: str) -> bool:
    return unicodedata.category(c).startswith("P")


def _hull(span: Span, source: str, target: str, links: tuple[Link, ...]) -> tuple[int, int] | None:
    """The target words aligned to the span's words; without the punctuation that those words carry in
    the translation where the span left it out in the source (`<b>car</b>.` -> `<b>Auto</b>.`)."""
    if span.start == span.end:
        return None
    overlapping = [link for link in links if link[0] < span.end and span.start < link[1]]
    # The sure links where the span has any: the words both ways aligned with it.
    covered = [(ts, te) for _, _, ts, te, sure in overlapping if sure] or [(ts, te) for _, _, ts, te, _ in overlapping]
    if not covered:
        return None
    start, end = min(ts for ts, _ in covered), max(te for _, te in covered)
    inside = source[span.start:span.end].strip()
    if inside and not _punctuation(inside[0]):
        while start < end - 1 and _punctuation(target[start]):
            start += 1
    if inside and not _punctuation(inside[-1]):
        while end > start + 1 and _punctuation(target[end - 1]):
            end -= 1
    return start, end


def _anchor(span: Span, source: str, target: str, links: tuple[Link, ...]) -> int:
    """Where an empty span goes: after the target word aligned to the source word it follows (or is in),
    before that word's punctuation when it stood before the word's punctuation in the source."""
    before = [(se, ts, te) for ss, se, ts, te, _ in links if ss < span.start]
    if not before:
        return 0
    se, ts, te = max(before)
    if span.start < se and all(_punctuation(c) for c in source[span.start:se]):
        while te > ts + 1 and _punctuation(target[te - 1]):
            te -= 1
    return te


def project(segment: Segment, translated: Translated) -> Segment:
    """The segment's translation with its spans placed over it."""
    if not segment.spans:
        return Segment(translated.translation)
    spans, links = segment.spans, translated.links
    children = _children(spans)
    placed: list[Span] = []

    def place(index: int, low: int, high: int) -> None:
        proposals = []
        for child in children[index]:
            hull = _hull(spans[child], segment.text, translated.translation, links)
            start, end = hull if hull else (_anchor(spans[child], segment.text, translated.translation, links),) * 2
            start, end = min(max(start, low), high), min(max(end, low), high)
            proposals.append((start, end, child))
        # In the translation's order; a later sibling starts where an earlier one ends.
        cursor = low
        for start, end, child in sorted(proposals, key=lambda p: (p[0], p[2])):
            start = max(start, cursor)
            end = max(end, start)
            source = spans[child]
            if start == end and source.start < source.end:
                # Kept, empty, where its words went: said, not lost without a word.
                logger.info("markup around %r found no words of its own in the translation %r; kept empty there",
                            segment.text[source.start:source.end][:60], translated.translation[:80])
            placed.append(replace(spans[child], start=start, end=end))
            cursor = end
            place(child, start, end)

    place(-1, 0, len(translated.translation))
    return Segment(translated.translation, tuple(placed))


def sentence_links(source_offsets: list[tuple[int, int]], target_offsets: list[tuple[int, int]],
                   alignment: list[tuple[int, int, bool]]) -> list[Link]:
    """Links from a sentence's word links (source word index, target word index, sure) and each side's
    word offsets in the segment and its translation."""
    return [(*source_offsets[s], *target_offsets[t], sure) for s, t, sure in alignment
            if 0 <= s < len(source_offsets) and 0 <= t < len(target_offsets)]


def pinned(links: list[Link], source_offsets: list[tuple[int, int]], target_offsets: list[tuple[int, int]],
           places: list[tuple[int, int, int, int]]) -> list[Link]:
    """`links` with the words of each place's source range linked, for sure, to the words of its target range
    and to nothing else. A glossary term's place is known (its placeholder carried it: data_prep/terms.py's
    term_places), where the model's attention over a target word it never saw is a guess."""
    for ss, se, ts, te in places:
        sources = [w for w in source_offsets if w[0] < se and ss < w[1]]
        targets = [w for w in target_offsets if w[0] < te and ts < w[1]]
        links = [link for link in links if (link[0], link[1]) not in sources and (link[2], link[3]) not in targets]
        links += [(*s, *t, True) for s in sources for t in targets]
    return links


def render(segment: Segment, text: Callable[[str], Any], element: Callable[[Any, list], Any]) -> list:
    """The segment as a list of parts: `text(s)` for each piece of text, `element(tag, parts)` for each
    span around its own parts, in order; what a format writes its inline content from."""
    children = _children(segment.spans)

    def build(index: int, low: int, high: int) -> list:
        parts, cursor = [], low
        for child in children[index]:
            span = segment.spans[child]
            if span.start > cursor:
                parts.append(text(segment.text[cursor:span.start]))
            parts.append(element(span.tag, build(child, span.start, span.end)))
            cursor = max(cursor, span.end)
        if high > cursor:
            parts.append(text(segment.text[cursor:high]))
        return parts

    return build(-1, 0, len(segment.text))


def combined(parts: list[Parsed], write: Callable[[list], Any]) -> Parsed:
    """One document of several parts: their segments in one list; `write` gets each part's written form."""
    segments = [segment for part in parts for segment in part.segments]

    def write_all(results: list[Translated]) -> Any:
        written, start = [], 0
        for part in parts:
            written.append(part.write(results[start:start + len(part.segments)]))
            start += len(part.segments)
        return write(written)

    return Parsed(segments, write_all)
