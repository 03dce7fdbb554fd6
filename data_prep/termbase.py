"""Term files (glossaries) in Amazon Translate's custom-terminology formats: read, check, write back.

CSV or TSV whose first row names the languages (`en,de` or `en,de,fr`), one term per column
below; or TMX, one <tu> per entry with a <tuv xml:lang="..."><seg>term</seg></tuv> per language.
UTF-8 with or without a BOM, at most 10 MB a file and 200 bytes a term, as Amazon states.
UNI: the first language is the source and the others its targets; MULTI: any language can be
the source. Every problem is refused with `FILE:LINE: what; the fix` before anything is kept.
"""
import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from data_prep.corpus import _TMX_CODE_ELEMENTS, _XML_LANG
from data_prep.errors import S2SError

UNI, MULTI = "UNI", "MULTI"
DIRECTIONALITIES = (UNI, MULTI)
# Amazon Translate's limits for a custom terminology, kept so that a file either service takes, the other takes.
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_TERM_BYTES = 200
FORMATS = {".csv": "csv", ".tsv": "tsv", ".tmx": "tmx"}
# `en`, `haw`, `pt-BR` (`pt_BR` and `pt-br` are read as `pt-BR`).
_LANGUAGE = re.compile(r"([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}))?")
_XML_ENCODING = re.compile(r"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']+)["']""")


@dataclass(frozen=True)
class Termbase:
    """A checked term file: its languages (the source first, under UNI) and one row of terms per entry."""
    languages: tuple[str, ...]
    entries: tuple[tuple[str, ...], ...]
    directionality: str = UNI

    def __post_init__(self):
        if self.directionality not in DIRECTIONALITIES:
            raise S2SError(f"directionality {self.directionality!r}: use {' or '.join(DIRECTIONALITIES)}")
        if any(len(row) != len(self.languages) for row in self.entries):
            raise S2SError(f"every entry needs one term per language ({', '.join(self.languages)})")

    def pairs(self) -> list[tuple[str, str]]:
        """The (source, target) language pairs it has terms for."""
        sources = self.languages if self.directionality == MULTI else self.languages[:1]
        return [(s, t) for s in sources for t in self.languages if t != s]

    def terms(self, source_lang: str, target_lang: str) -> dict[str, str]:
        """{source term: target term} for a language pair; source terms are matched ignoring case."""
        if (source_lang, target_lang) not in self.pairs():
            pairs = ", ".join(f"{s}->{t}" for s, t in self.pairs())
            raise S2SError(f"no {source_lang}->{target_lang} terms in this {self.directionality} glossary; "
                           f"it has {pairs}")
        s, t = self.languages.index(source_lang), self.languages.index(target_lang)
        terms: dict[str, str] = {}
        for row in self.entries:
            terms.setdefault(row[s], row[t])
        return terms

    def sha256(self) -> str:
        """The sha256 of its content (languages, directionality, entries), whatever file it came from."""
        content = json.dumps([self.languages, self.directionality, self.entries], ensure_ascii=False,
                             separators=(",", ":"))
        return hashlib.sha256(content.encode("utf-8")).hexdigest()


def to_csv(termbase: Termbase) -> str:
    """The termbase as CSV, header row first; reading it back gives the same termbase."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(termbase.languages)
    writer.writerows(termbase.entries)
    return out.getvalue()


def read_termbase(path: Path, directionality: str = UNI) -> Termbase:
    """Reads and checks a term file; its format comes from the extension (.csv, .tsv, .tmx), else the content."""
    return parse_termbase(load_term_file(path), str(path), directionality)


def load_term_file(path: Path) -> bytes:
    """A term file's bytes, refused unread when it is over the size limit."""
    path = Path(path)
    try:
        if not path.is_file():
            raise S2SError(f"{path}: " + ("not a file; give a CSV, TSV or TMX term file" if path.exists()
                                          else "no such file"))
        _check_size(str(path), path.stat().st_size)
        return path.read_bytes()
    except OSError as e:
        raise S2SError(f"{path}: cannot read it ({e.strerror})") from None


def parse_termbase(data: bytes, name: str, directionality: str = UNI) -> Termbase:
    """Checks a term file's bytes; `name` is the file's name, which the errors start with and whose
    extension gives the format."""
    if directionality not in DIRECTIONALITIES:
        raise S2SError(f"directionality {directionality!r}: use {' or '.join(DIRECTIONALITIES)}")
    _check_size(name, len(data))
    text = _decode(data, name)
    fmt = FORMATS.get(Path(name).suffix.lower()) or _sniff(text)
    if fmt == "tmx":
        languages, rows = _read_tmx(text, name, directionality)
    else:
        languages, rows = _read_table(text, name, delimiter="," if fmt == "csv" else "\t")
    _check_consistent(name, languages, rows, directionality)
    return Termbase(languages, tuple(cells for _, cells in rows), directionality)


def _check_size(name: str, size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise S2SError(f"{name}: {size:,} bytes, over the {MAX_FILE_BYTES // 2**20} MB limit for a term file "
                       f"({MAX_FILE_BYTES:,} bytes); split it into several glossaries")


def _decode(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise S2SError(f"{name}:1: UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise S2SError(f"{name}:{line}: not UTF-8 (byte 0x{data[e.start]:02x}); save the file as UTF-8") from None
    if "\0" in text:
        line = text[:text.index("\0")].count("\n") + 1
        raise S2SError(f"{name}:{line}: holds NUL characters (is it UTF-16?); save the file as UTF-8")
    return text


def _sniff(text: str) -> str:
    head = text.lstrip()
    if head.startswith("<"):
        return "tmx"
    return "tsv" if "\t" in head.split("\n", 1)[0] else "csv"


def _language(name: str, line: int, cell: str, what: str) -> str:
    """The language code in a header cell or xml:lang, written canonically (`pt-BR`)."""
    match = _LANGUAGE.fullmatch(cell.strip())
    if not match:
        raise S2SError(f"{name}:{line}: {what} {cell!r} is not a language code (like en, haw or pt-BR); "
                       "the first row must name each column's language, e.g. en,de")
    language, region = match.groups()
    return language.lower() + (f"-{region.upper()}" if region else "")


def _check_term(name: str, line: int, language: str, term: str) -> str:
    term = term.strip()
    if not term:
        raise S2SError(f"{name}:{line}: empty {language} term; every entry needs a term in each language")
    if "\n" in term or "\r" in term:
        raise S2SError(f"{name}:{line}: the {language} term {term!r} holds a line break, so it could never match "
                       "a sentence; remove it")
    if not re.search(r"\w", term):
        # Terms are matched as whole words (data_prep/terms.py): one without a letter or digit never matches.
        raise S2SError(f"{name}:{line}: the {language} term {term!r} has no letter or digit, so it could never be "
                       "matched as a word; remove the entry")
    size = len(term.encode("utf-8"))
    if size > MAX_TERM_BYTES:
        raise S2SError(f"{name}:{line}: the {language} term {term[:40]!r}... is {size} bytes in UTF-8, over the "
                       f"limit of {MAX_TERM_BYTES}; shorten it")
    return term


def _check_languages(name: str, line: int, languages: list[str]) -> tuple[str, ...]:
    for i, language in enumerate(languages):
        if language in languages[:i]:
            raise S2SError(f"{name}:{line}: language {language} appears twice (columns {languages.index(language) + 1} "
                           f"and {i + 1}); give each language one column")
    if len(languages) < 2:
        raise S2SError(f"{name}:{line}: only one language ({', '.join(languages)}); a glossary needs a source "
                       "and at least one target, e.g. en,de")
    return tuple(languages)


def _read_table(text: str, name: str, delimiter: str) -> tuple[tuple[str, ...], list[tuple[int, tuple[str, ...]]]]:
    """CSV (quoted as Excel writes it) or TSV (no quoting): the header's languages and (line, terms) rows."""
    quoting = csv.QUOTE_MINIMAL if delimiter == "," else csv.QUOTE_NONE
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting, strict=True)
    kind = "CSV" if delimiter == "," else "TSV"
    languages: tuple[str, ...] | None = None
    rows: list[tuple[int, tuple[str, ...]]] = []
    while True:
        # A quoted term may span lines: a row is reported at the line it starts on.
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise S2SError(f"{name}:{reader.line_num}: malformed {kind} ({e}); quote a term that holds a comma or a "
                           'quote, and double the quotes inside it ("a ""b""")') from None
        if not cells:
            continue
        if languages is None:
            languages = _check_languages(name, line, [_language(name, line, cell, "header cell") for cell in cells])
            continue
        if len(cells) != len(languages):
            hint = "; quote a term that holds a comma" if delimiter == "," else ""
            raise S2SError(f"{name}:{line}: {len(cells)} columns, but the header names {len(languages)} languages "
                           f"({', '.join(languages)}){hint}")
        rows.append((line, tuple(_check_term(name, line, lang, cell) for lang, cell in zip(languages, cells))))
    if languages is None:
        raise S2SError(f"{name}:1: empty; the first row must name the languages, e.g. en,de, and each row below "
                       "hold one term per language")
    if not rows:
        raise S2SError(f"{name}:{reader.line_num}: no terms below the header row")
    return languages, rows


class _TmxReader:
    """An ElementTree parser target collecting each <tu>'s terms by language, with the <tu>'s line."""

    def __init__(self, name: str):
        self.name = name
        self.parser = None
        self.srclang: str | None = None
        self.units: list[tuple[int, dict[str, str]]] = []
        self._unit: dict[str, str] | None = None
        self._unit_line = 0
        self._lang: str | None = None
        self._seg: list[str] | None = None
        self._code_depth = 0

    def _line(self) -> int:
        # The expat parser under DefusedXMLParser (the pure-Python XMLParser's own `parser`).
        return self.parser.parser.CurrentLineNumber

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        tag = tag.rsplit("}", 1)[-1]
        if tag == "header":
            self.srclang = attrs.get("srclang")
        elif tag == "tu":
            self._unit, self._unit_line = {}, self._line()
        elif tag == "tuv" and self._unit is not None:
            lang = attrs.get(_XML_LANG) or attrs.get("lang")
            if lang is None:
                raise S2SError(f'{self.name}:{self._line()}: <tuv> without xml:lang; add xml:lang="en" (its language)')
            self._lang = _language(self.name, self._line(), lang, "xml:lang")
            if self._lang in self._unit:
                raise S2SError(f"{self.name}:{self._line()}: a second {self._lang} <tuv> in one <tu>; give each "
                               "language one term per entry")
            self._unit[self._lang] = ""
        elif tag == "seg" and self._lang is not None:
            self._seg = []
        elif self._seg is not None and tag in _TMX_CODE_ELEMENTS:
            self._code_depth += 1

    def end(self, tag: str) -> None:
        tag = tag.rsplit("}", 1)[-1]
        if tag == "seg" and self._seg is not None:
            self._unit[self._lang] = "".join(self._seg)
            self._seg = None
        elif self._seg is not None and tag in _TMX_CODE_ELEMENTS:
            self._code_depth -= 1
        elif tag == "tuv":
            self._lang = None
        elif tag == "tu" and self._unit is not None:
            self.units.append((self._unit_line, self._unit))
            self._unit = None

    def data(self, text: str) -> None:
        # Inline codes (<ph>, <bpt>, ...) hold formatting of the original document, not words of the term.
        if self._seg is not None and not self._code_depth:
            self._seg.append(text)

    def close(self) -> None:
        return None


def _read_tmx(text: str, name: str, directionality: str) -> tuple[tuple[str, ...], list[tuple[int, tuple[str, ...]]]]:
    # defusedxml refuses entity declarations (billion laughs) and external entities (XXE); an external
    # DTD (<!DOCTYPE tmx SYSTEM "tmx14.dtd">, as most TMX writers put) is never fetched.
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser, ParseError

    declared = _XML_ENCODING.match(text)
    if declared and declared.group(1).lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise S2SError(f"{name}:1: declares encoding {declared.group(1)}; save it as UTF-8 (encoding=\"UTF-8\")")
    reader = _TmxReader(name)
    reader.parser = DefusedXMLParser(target=reader)
    try:
        reader.parser.feed(text)
        reader.parser.close()
    except DefusedXmlException as e:
        raise S2SError(f"{name}:{reader._line()}: refused: the TMX declares entities or refers to external ones "
                       f"({type(e).__name__}); remove the <!ENTITY> declarations") from None
    except ParseError as e:
        line, column = e.position
        reason = re.sub(r": line \d+, column \d+$", "", str(e))
        raise S2SError(f"{name}:{line}:{column}: malformed TMX: {reason}") from None
    if not reader.units:
        raise S2SError(f"{name}:1: no <tu> entries; each entry is a <tu> with one "
                       '<tuv xml:lang="..."><seg>term</seg></tuv> per language')
    seen: list[str] = []
    for _, unit in reader.units:
        seen += [lang for lang in unit if lang not in seen]
    if directionality == UNI:
        if not reader.srclang or reader.srclang == "*all*":
            raise S2SError(f'{name}:1: a UNI glossary needs its source language in <header srclang="...">; '
                           "add it, or import it as MULTI")
        source = _language(name, 1, reader.srclang, "<header> srclang")
        if source not in seen:
            raise S2SError(f"{name}:1: <header> srclang is {source}, but no <tuv> is in {source}")
        seen.remove(source)
        seen.insert(0, source)
    languages = _check_languages(name, 1, seen)
    rows = []
    for line, unit in reader.units:
        missing = [lang for lang in languages if lang not in unit]
        if missing:
            raise S2SError(f"{name}:{line}: <tu> has no {', '.join(missing)} term; every <tu> needs one <tuv> for "
                           f"each language of the file ({', '.join(languages)})")
        rows.append((line, tuple(_check_term(name, line, lang, unit[lang]) for lang in languages)))
    return languages, rows


def _check_consistent(name: str, languages: tuple[str, ...], rows: list[tuple[int, tuple[str, ...]]],
                      directionality: str) -> None:
    """Refuses a source term with two translations into one language. Terms are matched ignoring case, so
    `Bank` and `bank` are the same source term; under MULTI every language is a source."""
    for s in range(len(languages) if directionality == MULTI else 1):
        first: dict[str, tuple[int, tuple[str, ...]]] = {}
        for line, cells in rows:
            key = cells[s].casefold()
            if key not in first:
                first[key] = (line, cells)
                continue
            first_line, first_cells = first[key]
            for t, language in enumerate(languages):
                if t != s and cells[t] != first_cells[t]:
                    raise S2SError(
                        f"{name}:{line}: the {languages[s]} term {cells[s]!r} has two {language} translations: "
                        f"{first_cells[t]!r} (line {first_line}) and {cells[t]!r}; keep one"
                        + (" (under MULTI every language is a source)" if directionality == MULTI and s else ""))
