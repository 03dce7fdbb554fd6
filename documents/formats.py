"""Which format a document is in (by its content; an extension that says otherwise is refused), the
limits every document is held to, and a document read into segments in its format."""
import re
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import PurePath

from data_prep.errors import S2SError
from documents.inline import Parsed, Segment, Translate, Translated

MIB = 1024 * 1024
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


@dataclass(frozen=True)
class Format:
    name: str
    content_type: str
    extensions: tuple[str, ...]
    label: str


FORMATS = {f.name: f for f in (
    Format("text", "text/plain", (".txt",), "plain text"),
    Format("html", "text/html", (".html", ".htm", ".xhtml"), "HTML"),
    Format("srt", "application/x-subrip", (".srt",), "SubRip subtitles"),
    Format("xliff", "application/xliff+xml", (".xlf", ".xliff"), "XLIFF"),
    Format("docx", DOCX_TYPE, (".docx",), "Word (.docx)"),
    Format("pptx", PPTX_TYPE, (".pptx",), "PowerPoint (.pptx)"),
)}
_BY_EXTENSION = {extension: f.name for f in FORMATS.values() for extension in f.extensions}


@dataclass(frozen=True)
class DocumentLimits:
    # The file as sent; an Office file unpacked (a zip); the segments (paragraphs, subtitles, units).
    max_bytes: int = 10 * MIB
    max_unpacked_bytes: int = 100 * MIB
    max_segments: int = 50_000


_SRT = re.compile(r"\A\s*\d+[ \t]*\r?\n\d{1,2}:\d\d:\d\d[,.]\d{1,3}[ \t]*-->")
_TAG = re.compile(r"<(!doctype|html|head|body|p|div|span|br|a|b|i|em|strong|h[1-6]|ul|ol|li|table|img)[\s/>]",
                  re.IGNORECASE)
_XLIFF = re.compile(r"<xliff[\s>]")


def _text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise S2SError(f"{name}: neither an Office file nor UTF-8 text (byte 0x{data[e.start]:02x} at "
                       f"{e.start:,}); s2s reads {', '.join(f.label for f in FORMATS.values())}") from None


def detect(data: bytes, name: str) -> str:
    """The document's format, from its content; an extension that names another format is refused."""
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(BytesIO(data)).namelist())
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as e:
            raise S2SError(f"{name}: a zip that cannot be read (cut short?): {e}") from None
        found = "docx" if "word/document.xml" in names else "pptx" if "ppt/presentation.xml" in names else None
        if found is None:
            raise S2SError(f"{name}: a zip, but neither a Word (.docx) nor a PowerPoint (.pptx) file")
    else:
        if b"\0" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise S2SError(f"{name}: a binary file s2s does not read; it reads "
                           f"{', '.join(f.label for f in FORMATS.values())}")
        text = _text(data, name)
        found = ("xliff" if _XLIFF.search(text[:4096]) else "srt" if _SRT.match(text)
                 else "html" if _TAG.search(text[:65536]) else "text")
    claimed = _BY_EXTENSION.get(PurePath(name).suffix.lower())
    if claimed == "text" and found in ("html", "srt"):
        return "text"  # a .txt file that mentions a tag is still text
    if claimed and claimed != found:
        raise S2SError(f"{name}: its extension says {FORMATS[claimed].label}, but its content is "
                       f"{FORMATS[found].label}; rename it, or send it as what it is")
    return found


def _read_text(text: str) -> Parsed:
    lines = text.splitlines(keepends=True)
    kept = [i for i, line in enumerate(lines) if line.strip()]

    def write(results: list[Translated]) -> str:
        out = list(lines)
        for i, result in zip(kept, results):
            ending = lines[i][len(lines[i].rstrip("\r\n")):]
            out[i] = result.translation + ending
        return "".join(out)

    return Parsed([Segment(lines[i].rstrip("\r\n")) for i in kept], write)


def read_document(data: bytes, name: str, target_language: str,
                  limits: DocumentLimits = DocumentLimits()) -> tuple[str, Parsed]:
    """The document's format and its segments, checked against `limits`."""
    if len(data) > limits.max_bytes:
        raise S2SError(f"{name}: {len(data):,} bytes, over the limit of {limits.max_bytes:,} for a document")
    if not data.strip():
        raise S2SError(f"{name}: empty; nothing to translate")
    fmt = detect(data, name)
    # The readers are imported when a document comes, not with this module: their parsers (html5lib, lxml)
    # cost a server's start-up 35-40 ms, a twentieth of it, for documents it may never be sent.
    from documents.html import read_html
    from documents.office import read_docx, read_pptx
    from documents.subtitles import read_srt
    from documents.xliff import read_xliff

    if fmt == "docx":
        parsed = read_docx(data, name, limits.max_unpacked_bytes)
    elif fmt == "pptx":
        parsed = read_pptx(data, name, limits.max_unpacked_bytes)
    elif fmt == "xliff":
        parsed = read_xliff(data, name, target_language)
    else:
        text = _text(data, name)
        parsed = read_srt(text, name) if fmt == "srt" else read_html(text) if fmt == "html" else _read_text(text)
    if len(parsed.segments) > limits.max_segments:
        raise S2SError(f"{name}: {len(parsed.segments):,} segments, over the limit of {limits.max_segments:,}; "
                       f"split it")
    return fmt, parsed


def translated_name(name: str, fmt: Format, target_language: str) -> str:
    """The translated file's name: `report.docx` -> `report.de.docx`, in printable ASCII, safe in a header."""
    path = PurePath(name.replace("\\", "/"))
    stem = path.stem if path.suffix.lower() in fmt.extensions else path.name
    safe = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in stem)[:100]
    return f"{safe or 'document'}.{target_language}{fmt.extensions[0]}"


def translate_document(data: bytes, name: str, target_language: str, translate: Translate,
                       limits: DocumentLimits = DocumentLimits()) -> tuple[bytes, Format]:
    """The document translated, in its own format, and that format."""
    fmt, parsed = read_document(data, name, target_language, limits)
    out = parsed.translated(translate)
    return (out.encode("utf-8") if isinstance(out, str) else out), FORMATS[fmt]
