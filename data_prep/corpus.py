"""Reading parallel corpora: plain file pairs, two-column TSV and TMX, each optionally .gz.

Everything streams: a corpus is an iterator of (source, target) pairs, never a list.
"""
import gzip
import hashlib
import re
import xml.etree.ElementTree as ET
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterator

from data_prep.clean import CleanConfig
from data_prep.errors import S2SError

# What to do with a line that is not valid UTF-8.
FAIL, SKIP = "fail", "skip"
BAD_LINE_POLICIES = (FAIL, SKIP)
# Drop reason counted for a pair skipped under --on-bad-line skip.
INVALID_UTF8 = "invalid_utf8"
# Drop reason for a translation unit without a segment in both languages.
TMX_MISSING_LANGUAGE = "tmx_missing_language"

FORMATS = ("plain", "tsv", "tmx")


@dataclass(frozen=True)
class CorpusSpec:
    """One input corpus and its cleaning settings."""
    name: str
    source: Path | None = None  # plain: a source file and a target file
    target: Path | None = None
    tsv: Path | None = None  # source<TAB>target per line
    tmx: Path | None = None
    clean: CleanConfig = field(default_factory=CleanConfig)
    # Each kept training pair is trained on this many times: up-samples a small corpus, such as
    # reviewed corrections mixed with the original corpus for fine-tuning.
    repeat: int = 1

    def __post_init__(self):
        given = [fmt for fmt, present in (("plain", self.source or self.target), ("tsv", self.tsv),
                                          ("tmx", self.tmx)) if present]
        if len(given) != 1 or (given == ["plain"] and not (self.source and self.target)):
            raise S2SError(f"corpus {self.name!r}: give either source and target files, or one tsv file, "
                           "or one tmx file")
        if type(self.repeat) is not int or self.repeat < 1:
            raise S2SError(f"corpus {self.name!r}: repeat must be a whole number of at least 1, not {self.repeat!r}")

    @property
    def format(self) -> str:
        return "tsv" if self.tsv else "tmx" if self.tmx else "plain"

    @property
    def files(self) -> list[Path]:
        return [p for p in (self.source, self.target, self.tsv, self.tmx) if p is not None]


def _open_binary(path: Path) -> IO[bytes]:
    if not path.is_file():
        raise S2SError(f"{path}: no such file")
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _decode(raw: bytes, path: Path, line_no: int, on_bad_line: str) -> str | None:
    """A line without its line end, or None for invalid UTF-8 under the skip policy."""
    try:
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as e:
        if on_bad_line == SKIP:
            return None
        raise S2SError(f"{path}:{line_no}: invalid UTF-8 at byte {e.start} ({raw[e.start:e.start + 4]!r}); "
                       "convert the file to UTF-8, or pass --on-bad-line skip") from None
    # A byte-order mark is an artefact of some editors, not text.
    return text[1:] if line_no == 1 and text.startswith("\ufeff") else text


def read_lines(path: Path, on_bad_line: str = FAIL) -> Iterator[str | None]:
    """Yields each line of a text file; None for an invalid line when skipping."""
    with _open_binary(path) as f:
        try:
            for line_no, raw in enumerate(f, start=1):
                yield _decode(raw, path, line_no, on_bad_line)
        except (gzip.BadGzipFile, EOFError, zlib.error) as e:
            raise S2SError(f"{path}: not a valid gzip file ({e})") from None


def count_lines(path: Path) -> int:
    with _open_binary(path) as f:
        return sum(1 for _ in f)


def read_parallel(source: Path, target: Path, on_bad_line: str = FAIL,
                  skipped: Counter | None = None) -> Iterator[tuple[str, str]]:
    """Yields aligned pairs from two files; fails if they differ in length."""
    skipped = Counter() if skipped is None else skipped
    trg_lines = read_lines(target, on_bad_line)
    for src in read_lines(source, on_bad_line):
        trg = next(trg_lines, False)
        if trg is False:
            _misaligned(source, target)
        if src is None or trg is None:
            skipped[INVALID_UTF8] += 1
            continue
        yield src, trg
    if next(trg_lines, False) is not False:
        _misaligned(source, target)


def _misaligned(source: Path, target: Path) -> None:
    n_src, n_trg = count_lines(source), count_lines(target)
    raise S2SError(f"{source} has {n_src} lines but {target} has {n_trg}: the files must be "
                   f"line-aligned (line {min(n_src, n_trg) + 1} has no partner)")


def read_tsv(path: Path, on_bad_line: str = FAIL, skipped: Counter | None = None) -> Iterator[tuple[str, str]]:
    """Yields (source, target) from lines of the form source<TAB>target."""
    skipped = Counter() if skipped is None else skipped
    for line_no, line in enumerate(read_lines(path, on_bad_line), start=1):
        if line is None:
            skipped[INVALID_UTF8] += 1
            continue
        columns = line.split("\t")
        if len(columns) != 2:
            raise S2SError(f"{path}:{line_no}: expected 2 tab-separated columns (source<TAB>target), "
                           f"found {len(columns)}")
        yield columns[0], columns[1]


# Inline TMX elements that hold native codes (formatting tags), not translatable text.
_TMX_CODE_ELEMENTS = {"bpt", "ept", "it", "ph", "ut"}
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _segment_text(seg: ET.Element) -> str:
    parts = [seg.text or ""]
    for child in seg:
        if child.tag not in _TMX_CODE_ELEMENTS:
            parts.append(_segment_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _language_matches(tmx_lang: str, wanted: str) -> bool:
    """`en-US` and `EN_gb` match `en`; `en-US` also matches `en-us`."""
    tmx_lang, wanted = tmx_lang.lower().replace("_", "-"), wanted.lower().replace("_", "-")
    return tmx_lang == wanted or tmx_lang.startswith(wanted + "-")


def read_tmx(path: Path, source_lang: str, target_lang: str,
             skipped: Counter | None = None) -> Iterator[tuple[str, str]]:
    """Yields (source, target) from each translation unit that has both languages."""
    skipped = Counter() if skipped is None else skipped
    with _open_binary(path) as f:
        open_elements: list[ET.Element] = []
        try:
            for event, elem in ET.iterparse(f, events=("start", "end")):
                if event == "start":
                    open_elements.append(elem)
                    continue
                open_elements.pop()
                if elem.tag != "tu":
                    continue
                segments: dict[str, str] = {}
                for tuv in elem.iter("tuv"):
                    lang, seg = tuv.get(_XML_LANG) or tuv.get("lang"), tuv.find("seg")
                    if lang and seg is not None:
                        segments[lang] = _segment_text(seg)
                # The finished unit is dropped from its parent, so memory stays flat however large the file.
                if open_elements:
                    open_elements[-1].remove(elem)
                src = next((text for lang, text in segments.items() if _language_matches(lang, source_lang)), None)
                trg = next((text for lang, text in segments.items() if _language_matches(lang, target_lang)), None)
                if src is None or trg is None:
                    skipped[TMX_MISSING_LANGUAGE] += 1
                    continue
                yield src, trg
        except ET.ParseError as e:
            line, column = e.position
            raise S2SError(f"{path}:{line}:{column}: malformed TMX: {_parse_error_reason(e)}") from None


def _parse_error_reason(e: ET.ParseError) -> str:
    return re.sub(r": line \d+, column \d+$", "", str(e))


def read_corpus(spec: CorpusSpec, source_lang: str, target_lang: str, on_bad_line: str,
                skipped: Counter) -> Iterator[tuple[str, str]]:
    """The pairs of any corpus format; pairs skipped while reading are counted in `skipped`."""
    if spec.format == "tsv":
        return read_tsv(spec.tsv, on_bad_line, skipped)
    if spec.format == "tmx":
        return read_tmx(spec.tmx, source_lang, target_lang, skipped)
    return read_parallel(spec.source, spec.target, on_bad_line, skipped)


def data_set_name(path: Path) -> str:
    """`test_2016_flickr.en.gz` -> `test_2016_flickr`: the name a test set is reported under."""
    name = path.name.removesuffix(".gz")
    return name.rsplit(".", 1)[0] if "." in name else name


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
