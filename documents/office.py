"""Word (.docx) and PowerPoint (.pptx) files, opened with python-docx and python-pptx: every paragraph
translated as one segment (the body's, the tables', the headers' and footers', the text boxes'; each
slide's shapes, tables and notes), its runs' formatting kept as inline markup.

A paragraph's most common formatting (by characters) is its base; a run formatted otherwise (bold,
italic, another font) is a span, placed on the translation by alignment, and a hyperlink spans the
runs inside it. Whatever else a paragraph holds (a tab, a break, a picture, a field, a bookmark)
keeps its place as a unit. A run whose words the alignment could not find in the translation is
kept, empty, where they went, and the log says so (documents/inline.py).
"""
import copy
import io
import re
import zipfile
from dataclasses import dataclass

from lxml import etree

from data_prep.errors import S2SError
from documents.inline import Parsed, Segment, Span, Translated, project, render
from documents.safe_xml import refuse_dtd

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


@dataclass(frozen=True)
class Dialect:
    """Where Word and PowerPoint differ: the names of a paragraph's parts, in their namespaces."""
    ns: str
    run: str
    properties: str  # a run's formatting
    text: str
    # A paragraph's own properties, first, and the end-of-paragraph formatting, last: kept in place.
    leading: tuple[str, ...]
    trailing: tuple[str, ...]
    hyperlink: str | None
    # Tabs and line breaks as the characters they stand for: inside a run (Word's) or beside runs
    # (PowerPoint's line break).
    in_run: dict[str, str]
    in_paragraph: dict[str, str]

    def q(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"


WORD = Dialect(W, "r", "rPr", "t", ("pPr",), (), "hyperlink", {"tab": "\t", "br": "\n", "cr": "\n"}, {})
POWERPOINT = Dialect(A, "r", "rPr", "t", ("pPr",), ("endParaRPr",), None, {}, {"br": "\n"})


def check_zip(data: bytes, name: str, max_uncompressed: int, max_entries: int = 10_000) -> None:
    """An Office file is a zip: refused when it is not one, is cut short, or would unpack to more than
    `max_uncompressed` bytes (a zip bomb); and when any XML part in it has a DTD."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
        if len(entries) > max_entries:
            raise S2SError(f"{name}: {len(entries):,} files inside; at most {max_entries:,}")
        total = sum(entry.file_size for entry in entries)
        if total > max_uncompressed:
            raise S2SError(f"{name}: unpacks to {total:,} bytes, over the limit of {max_uncompressed:,}")
        for entry in entries:
            if entry.filename.endswith((".xml", ".rels")):
                with archive.open(entry) as part:
                    # Read no more than the entry says it holds: a lying header cannot unpack more.
                    refuse_dtd(part.read(entry.file_size + 1)[:entry.file_size], f"{name}:{entry.filename}")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as e:
        raise S2SError(f"{name}: not a readable Office file (a zip): {e}") from None


def _base_formatting(runs: list) -> bytes:
    """The serialized formatting that most of the paragraph's characters have."""
    counts: dict[bytes, int] = {}
    for properties, text in runs:
        counts[properties] = counts.get(properties, 0) + len(text)
    return max(counts, key=counts.get) if counts else b""


class _Paragraph:
    """One paragraph as a segment, and how to write its translation back."""

    def __init__(self, p, dialect: Dialect):
        self.p, self.d = p, dialect
        self.leading = [c for c in p if etree.QName(c).localname in dialect.leading]
        self.trailing = [c for c in p if etree.QName(c).localname in dialect.trailing]
        body = [c for c in p if c not in self.leading and c not in self.trailing]
        text_runs = [(self._key(r), self._text(r)) for r in self._runs(body) if self._text(r) is not None]
        self.base = _base_formatting(text_runs)
        self.segment = self._read(body)

    def _key(self, run) -> bytes:
        properties = run.find(self.d.q(self.d.properties))
        return etree.tostring(properties) if properties is not None else b""

    def _text(self, run) -> str | None:
        """A run's text when it holds nothing but formatting, text, tabs and line breaks; else None (a unit).
        A page or column break is a unit: it is no line break."""
        text = []
        for c in run:
            name = etree.QName(c).localname
            if name == self.d.properties:
                continue
            if name == self.d.text:
                text.append(c.text or "")
            elif name in self.d.in_run and not c.get(f"{{{self.d.ns}}}type"):
                text.append(self.d.in_run[name])
            else:
                return None
        return "".join(text) if text else None

    def _runs(self, items: list) -> list:
        runs = []
        for item in items:
            if item.tag == self.d.q(self.d.run):
                runs.append(item)
            elif self.d.hyperlink and item.tag == self.d.q(self.d.hyperlink):
                runs += self._runs(list(item))
        return runs

    def _read(self, items: list) -> Segment:
        text: list[str] = []
        spans: list[Span] = []

        def walk(item, depth: int, base: bytes) -> None:
            start = sum(map(len, text))
            if item.tag == self.d.q(self.d.run) and self._text(item) is not None:
                text.append(self._text(item))
                if self._key(item) != base:
                    spans.append(Span(start, sum(map(len, text)), ("format", item), depth))
            elif etree.QName(item).localname in self.d.in_paragraph:
                text.append(self.d.in_paragraph[etree.QName(item).localname])
            elif self.d.hyperlink and item.tag == self.d.q(self.d.hyperlink):
                index = len(spans)
                spans.append(Span(start, start, None))
                inner = [self._key(r) for r in item if r.tag == self.d.q(self.d.run)]
                for child in item:
                    walk(child, depth + 1, inner[0] if inner else base)
                spans[index] = Span(start, sum(map(len, text)), ("hyperlink", item), depth)
            else:
                spans.append(Span(start, start, ("unit", item), depth))

        for item in items:
            walk(item, 0, self.base)
        return Segment("".join(text), tuple(spans))

    def _runs_of(self, text: str, properties: bytes) -> list:
        """Text as runs with the given formatting (serialized; empty for none), its tabs and line breaks as
        the dialect writes them."""
        special = {**{c: name for name, c in self.d.in_run.items()}, **{c: name for name, c in self.d.in_paragraph.items()}}
        nodes, run = [], None
        for piece in re.split("([\t\n])", text):
            if not piece:
                continue
            if piece in special and special[piece] in self.d.in_paragraph:
                nodes.append(etree.Element(self.d.q(special[piece])))
                run = None
                continue
            if run is None:
                run = etree.Element(self.d.q(self.d.run))
                if properties:
                    run.append(etree.fromstring(properties))
                nodes.append(run)
            if piece in special:
                etree.SubElement(run, self.d.q(special[piece]))
            else:
                t = etree.SubElement(run, self.d.q(self.d.text))
                t.text = piece
                if piece != piece.strip() and self.d is WORD:
                    t.set(XML_SPACE, "preserve")  # Word drops a run's edge spaces without it
        return nodes

    def write(self, translated: Translated) -> None:
        def element(tag, parts: list):
            kind, original = tag
            if kind == "unit":
                return [copy.deepcopy(original)]
            flat = [node for part in parts for node in (part if isinstance(part, list) else [part])]
            if kind == "format":
                return [n for node in flat for n in (self._runs_of(node, self._key(original))
                                                     if isinstance(node, str) else [node])]
            link = etree.Element(original.tag, dict(original.attrib), nsmap=original.nsmap)
            inner = next((r for r in original if r.tag == self.d.q(self.d.run)), None)
            formatting = self._key(inner) if inner is not None else self.base
            for node in flat:
                for n in (self._runs_of(node, formatting) if isinstance(node, str) else [node]):
                    link.append(n)
            return [link]

        parts = render(project(self.segment, translated), lambda s: s, element)
        nodes = [node for part in parts for node in (part if isinstance(part, list) else [part])]
        for child in list(self.p):
            self.p.remove(child)
        for child in self.leading:
            self.p.append(child)
        for node in nodes:
            for n in (self._runs_of(node, self.base) if isinstance(node, str) else [node]):
                self.p.append(n)
        for child in self.trailing:
            self.p.append(child)


def _paragraphs(roots: list, dialect: Dialect) -> list[_Paragraph]:
    found = []
    for root in roots:
        for p in root.iter(dialect.q("p")):
            paragraph = _Paragraph(p, dialect)
            if paragraph.segment.text.strip():
                found.append(paragraph)
    return found


def _parsed(paragraphs: list[_Paragraph], save) -> Parsed:
    def write(results: list[Translated]) -> bytes:
        for paragraph, result in zip(paragraphs, results):
            paragraph.write(result)
        out = io.BytesIO()
        save(out)
        return out.getvalue()

    return Parsed([p.segment for p in paragraphs], write)


def _open(data: bytes, name: str, max_uncompressed: int, opener, not_found: type, what: str):
    check_zip(data, name, max_uncompressed)
    try:
        return opener(io.BytesIO(data))
    except (not_found, KeyError, ValueError, etree.XMLSyntaxError) as e:
        raise S2SError(f"{name}: not {what}: {e}") from None


def read_docx(data: bytes, name: str, max_uncompressed: int) -> Parsed:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    document = _open(data, name, max_uncompressed, docx.Document, PackageNotFoundError, "a Word (.docx) document")
    roots = [document.element.body]
    for section in document.sections:
        for part in (section.header, section.footer, section.first_page_header, section.first_page_footer,
                     section.even_page_header, section.even_page_footer):
            if not part.is_linked_to_previous:
                roots.append(part._element)
    return _parsed(_paragraphs(roots, WORD), document.save)


def read_pptx(data: bytes, name: str, max_uncompressed: int) -> Parsed:
    import pptx
    from pptx.exc import PackageNotFoundError

    presentation = _open(data, name, max_uncompressed, pptx.Presentation, PackageNotFoundError,
                         "a PowerPoint (.pptx) presentation")
    roots = []
    for slide in presentation.slides:
        roots.append(slide._element)
        if slide.has_notes_slide:
            roots.append(slide.notes_slide._element)
    return _parsed(_paragraphs(roots, POWERPOINT), presentation.save)
