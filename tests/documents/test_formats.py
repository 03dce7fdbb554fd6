"""Every document format through documents/formats.py with a stand-in model: the structure kept (compared
element by element, run by run), what must stay untouched untouched; and hostile files refused with an
error that names the problem."""
import io
import re
import zipfile

import docx
import pptx
import pytest
import srt

from data_prep.errors import S2SError
from documents.formats import DocumentLimits, detect, translate_document
from documents.inline import Translated


def upper(segments):
    """A stand-in model: upper case, each word linked to itself."""
    return [Translated(s.text.upper(), tuple((*m.span(), *m.span(), True) for m in re.finditer(r"\S+", s.text)))
            for s in segments]


def _translate(data: bytes, name: str, limits: DocumentLimits = DocumentLimits()):
    out, fmt = translate_document(data, name, "de", upper, limits)
    return out, fmt.name


def test_text_keeps_its_lines_and_endings():
    out, fmt = _translate(b"One dog.\r\n\r\nTwo cats.\n", "notes.txt")
    assert (fmt, out) == ("text", b"ONE DOG.\r\n\r\nTWO CATS.\n")


def test_subtitles_keep_numbers_timings_and_line_count():
    text = ("1\n00:00:01,000 --> 00:00:03,500\nThe small dog\nsees a <i>red</i> car & a cat.\n\n"
            "7\n00:00:04,000 --> 00:00:05,250\nHello.\n\n")
    out, fmt = _translate(text.encode(), "film.srt")
    before, after = list(srt.parse(text)), list(srt.parse(out.decode()))
    assert fmt == "srt" and [(s.index, s.start, s.end) for s in after] == [(s.index, s.start, s.end) for s in before]
    assert [len(s.content.splitlines()) for s in after] == [2, 1]
    assert " ".join(after[0].content.splitlines()) == "THE SMALL DOG SEES A <i>RED</i> CAR & A CAT."


XLIFF_12 = b"""<?xml version="1.0" encoding="UTF-8"?>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">
 <file source-language="en" datatype="plaintext" original="a.txt"><body>
  <trans-unit id="1"><source>The <g id="1">small</g> dog<x id="2"/> sees a car.</source></trans-unit>
  <trans-unit id="2"><source>Approved.</source><target state="final">Genehmigt.</target></trans-unit>
  <trans-unit id="3" translate="no"><source>Brand</source></trans-unit>
  <trans-unit id="4"><source>Old draft.</source><target state="new">Alt.</target></trans-unit>
 </body></file>
</xliff>"""
XLIFF_20 = b"""<?xml version="1.0" encoding="UTF-8"?>
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="en">
 <file id="f1">
  <unit id="1"><segment><source>Hello <pc id="1">world</pc><ph id="2"/>.</source></segment></unit>
  <unit id="2"><segment state="final"><source>Done.</source><target>Fertig.</target></segment></unit>
 </file>
</xliff>"""


def test_xliff_fills_targets_marks_them_machine_translated_and_leaves_approved_ones():
    out, fmt = _translate(XLIFF_12, "job.xlf")
    text = out.decode()
    assert fmt == "xliff" and 'target-language="de"' in text
    assert ('<target state="needs-review-translation" state-qualifier="mt-suggestion" xml:lang="de">'
            'THE <g id="1">SMALL</g> DOG<x id="2"/> SEES A CAR.</target>') in text
    assert '<target state="final">Genehmigt.</target>' in text and "<source>Brand</source></trans-unit>" in text
    assert ">OLD DRAFT.</target>" in text and "Alt." not in text  # a draft target is replaced
    out, _ = _translate(XLIFF_20, "job.xlf")
    text = out.decode()
    assert 'trgLang="de"' in text and '<segment state="final"><source>Done.</source><target>Fertig.</target>' in text
    assert ('<segment state="translated" subState="s2s:machine-translated"><source>Hello <pc id="1">world</pc>'
            '<ph id="2"/>.</source><target>HELLO <pc id="1">WORLD</pc><ph id="2"/>.</target>') in text


def _docx() -> bytes:
    document = docx.Document()
    paragraph = document.add_paragraph("The ")
    paragraph.add_run("small").bold = True
    paragraph.add_run(" dog sees a red car.")
    document.add_paragraph("A tab\there, and a break").add_run().add_break()
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "cell one", "cell two"
    document.sections[0].header.paragraphs[0].text = "Header text"
    document.sections[0].footer.paragraphs[0].text = "Footer text"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_word_keeps_runs_formatting_tables_headers_and_footers():
    out, fmt = _translate(_docx(), "report.docx")
    document = docx.Document(io.BytesIO(out))
    assert fmt == "docx"
    assert [(r.text, r.bold) for r in document.paragraphs[0].runs] == [("THE ", None), ("SMALL", True),
                                                                       (" DOG SEES A RED CAR.", None)]
    assert document.paragraphs[1].text == "A TAB\tHERE, AND A BREAK\n"
    assert [c.text for c in document.tables[0].rows[0].cells] == ["CELL ONE", "CELL TWO"]
    assert document.sections[0].header.paragraphs[0].text == "HEADER TEXT"
    assert document.sections[0].footer.paragraphs[0].text == "FOOTER TEXT"
    assert len(document.paragraphs) == len(docx.Document(io.BytesIO(_docx())).paragraphs)


def test_powerpoint_keeps_shapes_runs_and_notes():
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = "A title"
    frame = slide.placeholders[1].text_frame
    frame.text = "Plain words "
    run = frame.paragraphs[0].add_run()
    run.text, run.font.italic = "in italics", True
    slide.notes_slide.notes_text_frame.text = "Speaker notes"
    data = io.BytesIO()
    presentation.save(data)
    out, fmt = _translate(data.getvalue(), "deck.pptx")
    slide = pptx.Presentation(io.BytesIO(out)).slides[0]
    assert fmt == "pptx" and slide.shapes.title.text == "A TITLE"
    runs = [(r.text, r.font.italic) for r in slide.placeholders[1].text_frame.paragraphs[0].runs]
    assert runs[-1] == ("IN ITALICS", True) and "".join(t for t, _ in runs) == "PLAIN WORDS IN ITALICS"
    assert slide.notes_slide.notes_text_frame.text == "SPEAKER NOTES"


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2"><file><body>
<trans-unit id="1"><source>&lol3;</source></trans-unit></body></file></xliff>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2"><file><body>
<trans-unit id="1"><source>&secret;</source></trans-unit></body></file></xliff>"""


@pytest.mark.parametrize("data,name,message", [
    # A zip bomb: a small file that unpacks past the limit (here 1 MB, for a 5 MB part).
    (_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<a/>", "word/big.bin": b"\0" * 5_000_000}),
     "bomb.docx", "unpacks to 5,000,0"),
    (BILLION_LAUGHS, "laughs.xlf", "has a DTD"),
    (EXTERNAL_ENTITY, "entity.xlf", "has a DTD"),
    (_zip({"[Content_Types].xml": b'<!DOCTYPE x [<!ENTITY a "b">]><Types/>', "word/document.xml": b"<a/>"}),
     "dtd.docx", "has a DTD"),
    (_docx()[:2000], "cut.docx", "cannot be read"),
    (b"<html><body><p>Hello</p></body></html>", "report.docx", "its extension says Word (.docx), but its content is HTML"),
    (XLIFF_12, "page.html", "its extension says HTML, but its content is XLIFF"),
    (bytes(range(256)) * 4, "blob.bin", "binary file"),
    (b"\xff\xfe" + "text".encode("utf-16-le"), "wide.txt", "neither an Office file nor UTF-8 text"),
    (_zip({"a.txt": b"hello"}), "archive.docx", "neither a Word (.docx) nor a PowerPoint (.pptx) file"),
    (b"   \n", "blank.txt", "empty; nothing to translate"),
    (b"x" * 2000, "big.txt", "over the limit of 1,000"),
    (b"1\n00:00:01,000 --> nonsense\nHi\n", "bad.srt", "not a SubRip (.srt) file"),
    (b"<xliff version='1.2' xmlns='urn:oasis:names:tc:xliff:document:1.2'><file>", "cut.xlf", "not well-formed XML"),
])
def test_hostile_and_broken_files_are_refused_by_name(data, name, message):
    limits = DocumentLimits(max_bytes=1000 if name == "big.txt" else DocumentLimits.max_bytes,
                            max_unpacked_bytes=1_000_000)
    with pytest.raises(S2SError, match=re.escape(message)) as refused:
        _translate(data, name, limits)
    assert str(refused.value).startswith(name)


def test_formats_are_told_by_content_not_by_name():
    assert detect(_docx(), "no-extension") == "docx"
    assert detect(XLIFF_20, "job.xml") == "xliff"
    assert detect(b"<p>Hello <b>you</b></p>", "upload") == "html"
    assert detect(b"1\n00:00:01,000 --> 00:00:02,000\nHi\n", "subs") == "srt"
    assert detect(b"<b> is a tag", "notes.txt") == "text"  # a .txt that mentions a tag stays text
