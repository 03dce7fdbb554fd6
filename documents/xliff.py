"""XLIFF 1.2 and 2.0, the files translation tools (Trados, memoQ, OmegaT) exchange: each source
segment translated into its target, which is marked machine-translated for a translator to review;
a segment that already has a final or approved target is left alone, as is one marked
translate="no". Inline codes are markup: XLIFF 1.2's <g> and <mrk>, 2.0's <pc> and <mrk> span the
words they enclose; placeholders (<x/>, <ph/>, <bx/>, <bpt>, <sc/>, ...) keep their place as units.
"""

from lxml import etree

from data_prep.errors import S2SError
from documents.inline import Parsed, Segment, Translated, project, render
from documents.safe_xml import parse
from documents.trees import SPAN, UNIT, content, inline_segment, rebuilt, set_content

XLIFF_1 = "urn:oasis:names:tc:xliff:document:1.2"
XLIFF_2 = "urn:oasis:names:tc:xliff:document:2.0"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Inline elements that enclose translatable text; every other inline element is a unit.
SPANS = {XLIFF_1: ("g", "mrk"), XLIFF_2: ("pc", "mrk")}
# A target in one of these states is a person's, and stays.
KEPT_STATES = {XLIFF_1: ("final", "signed-off"), XLIFF_2: ("reviewed", "final")}


def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _segment(source, namespace: str) -> Segment:
    def classify(item) -> tuple[str, tuple, str]:
        if _local(item) in SPANS[namespace] and item.get("translate") != "no":
            return SPAN, (SPAN, item), ""
        return UNIT, (UNIT, item), ""

    return inline_segment(content(source), classify)


def _units(root, namespace: str) -> list[tuple]:
    """(source, the element that holds it and its target, the target or None) of each segment to translate."""
    q = lambda name: f"{{{namespace}}}{name}"  # noqa: E731 - a namespace-qualified name
    found = []
    if namespace == XLIFF_1:
        for unit in root.iter(q("trans-unit")):
            source, target = unit.find(q("source")), unit.find(q("target"))
            if unit.get("translate") == "no" or source is None:
                continue
            if target is not None and (unit.get("approved") == "yes"
                                       or target.get("state") in KEPT_STATES[namespace]):
                continue
            found.append((source, unit, target))
    else:
        for unit in root.iter(q("unit")):
            if unit.get("translate") == "no":
                continue
            for segment in unit.iter(q("segment")):
                source, target = segment.find(q("source")), segment.find(q("target"))
                if source is None or (target is not None and segment.get("state") in KEPT_STATES[namespace]):
                    continue
                found.append((source, segment, target))
    return found


def read_xliff(data: bytes, name: str, target_language: str) -> Parsed:
    tree = parse(data, name)
    root = tree.getroot()
    namespace = etree.QName(root).namespace
    if _local(root) != "xliff" or namespace not in (XLIFF_1, XLIFF_2):
        raise S2SError(f"{name}: not XLIFF 1.2 or 2.0 (its root is {root.tag})")
    units = _units(root, namespace)
    segments = [_segment(source, namespace) for source, _, _ in units]

    def write(results: list[Translated]) -> bytes:
        for (source, holder, target), segment, result in zip(units, segments, results):
            if target is None:
                target = etree.Element(f"{{{namespace}}}target")
                source.addnext(target)
                target.tail = source.tail
            set_content(target, render(project(segment, result), str, rebuilt))
            if namespace == XLIFF_1:
                target.set("state", "needs-review-translation")
                target.set("state-qualifier", "mt-suggestion")
                target.set(XML_LANG, target_language)
            else:
                holder.set("state", "translated")
                holder.set("subState", "s2s:machine-translated")
        if namespace == XLIFF_1:
            for file in root.iter(f"{{{namespace}}}file"):
                file.set("target-language", file.get("target-language") or target_language)
        elif not root.get("trgLang"):
            root.set("trgLang", target_language)
        return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")

    return Parsed(segments, write)
