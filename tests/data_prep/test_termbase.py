import dataclasses
import re

import pytest

from data_prep.errors import S2SError
from data_prep.termbase import (MAX_FILE_BYTES, MAX_TERM_BYTES, MULTI, UNI, Termbase, parse_termbase, read_termbase,
                                to_csv)

TMX_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tmx SYSTEM "tmx14.dtd">\n<tmx version="1.4">\n'
            '<header srclang="{srclang}" datatype="plaintext" segtype="phrase" adminlang="en" o-tmf="x" '
            'creationtool="x" creationtoolversion="1"/>\n<body>\n')


def tmx(units: str, srclang: str = "en") -> str:
    return TMX_HEAD.format(srclang=srclang) + units + "</body>\n</tmx>\n"


def tu(**terms: str) -> str:
    tuvs = "".join(f'<tuv xml:lang="{lang}"><seg>{term}</seg></tuv>' for lang, term in terms.items())
    return f"<tu>{tuvs}</tu>\n"


def write(tmp_path, name, content) -> str:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def test_csv_uni_gives_terms_from_the_first_language_only(tmp_path):
    path = write(tmp_path, "legal.csv", 'en,de,FR\nBank,Bank,banque\n"Smith, Inc.","Smith ""AG""",Smith SA\n')
    tb = read_termbase(path)
    assert tb == Termbase(("en", "de", "fr"), (("Bank", "Bank", "banque"), ("Smith, Inc.", 'Smith "AG"', "Smith SA")),
                          UNI)
    assert tb.pairs() == [("en", "de"), ("en", "fr")]
    assert tb.terms("en", "fr") == {"Bank": "banque", "Smith, Inc.": "Smith SA"}
    with pytest.raises(S2SError, match=r"no de->en terms in this UNI glossary; it has en->de, en->fr"):
        tb.terms("de", "en")
    with pytest.raises(dataclasses.FrozenInstanceError):
        tb.languages = ("de", "en")


def test_csv_with_a_bom_and_crlf_and_a_quoted_term_over_two_lines_reports_the_starting_line(tmp_path):
    path = write(tmp_path, "bom.csv", b'\xef\xbb\xbfen,pt-br\r\nmachine learning,aprendizado de m\xc3\xa1quina\r\n')
    tb = read_termbase(path)
    assert tb.languages == ("en", "pt-BR")
    assert tb.terms("en", "pt-BR") == {"machine learning": "aprendizado de máquina"}
    path = write(tmp_path, "multiline.csv", 'en,de\nok,gut\n"two\nlines",zwei\n')
    with pytest.raises(S2SError, match=r"multiline\.csv:3: the en term 'two\\nlines' holds a line break"):
        read_termbase(path)


def test_tsv_and_a_sniffed_format(tmp_path):
    content = 'en\tde\n"quoted"\tHaus, rot\n'
    for name in ("terms.tsv", "terms.txt"):
        tb = read_termbase(write(tmp_path, name, content))
        # TSV has no quoting: the quotes and the comma are part of the terms.
        assert tb.entries == (('"quoted"', "Haus, rot"),)
    assert read_termbase(write(tmp_path, "terms.dat", "en,de\na,b\n")).entries == (("a", "b"),)
    assert read_termbase(write(tmp_path, "terms.xml", tmx(tu(en="a", de="b")))).entries == (("a", "b"),)


def test_tmx_with_doctype_entities_inline_codes_and_regions(tmp_path):
    units = (tu(de="Maschinelles <ph>&lt;b&gt;</ph>Lernen", en=" machine learning ")
             + tu(en="R&amp;D", de="F&amp;E"))
    tb = read_termbase(write(tmp_path, "t.tmx", tmx(units.replace('"en"', '"en-us"'), srclang="EN-US")))
    # The header's srclang is the source even where a unit lists it second.
    assert tb.languages == ("en-US", "de")
    assert tb.terms("en-US", "de") == {"machine learning": "Maschinelles Lernen", "R&D": "F&E"}


def test_tmx_uni_needs_srclang_and_multi_does_not(tmp_path):
    content = tmx(tu(de="Haus", en="house")).replace(' srclang="en"', "")
    path = write(tmp_path, "nosrc.tmx", content)
    with pytest.raises(S2SError, match=r'nosrc\.tmx:1: a UNI glossary needs its source language in <header srclang'):
        read_termbase(path)
    tb = read_termbase(path, MULTI)
    assert tb.terms("en", "de") == {"house": "Haus"} and tb.terms("de", "en") == {"Haus": "house"}


def test_multi_gives_every_pair(tmp_path):
    tb = read_termbase(write(tmp_path, "m.csv", "en,de,fr\nhouse,Haus,maison\n"), MULTI)
    assert len(tb.pairs()) == 6
    assert tb.terms("de", "fr") == {"Haus": "maison"}
    assert tb.terms("fr", "en") == {"maison": "house"}
    with pytest.raises(S2SError, match="no en->es terms"):
        tb.terms("en", "es")


def test_a_repeated_source_term_with_the_same_translation_is_kept(tmp_path):
    tb = read_termbase(write(tmp_path, "dup.csv", "en,de\nBank,Bank\nbank,Bank\n"))
    assert len(tb.entries) == 2
    assert tb.terms("en", "de") == {"Bank": "Bank", "bank": "Bank"}


def test_a_term_of_the_byte_limit_is_taken_and_one_byte_more_is_refused(tmp_path):
    limit = "é" * (MAX_TERM_BYTES // 2)  # 2 bytes each in UTF-8
    assert read_termbase(write(tmp_path, "ok.csv", f"en,de\n{limit},x\n")).entries == ((limit, "x"),)
    path = write(tmp_path, "long.csv", f"en,de\nfine,gut\nx,{limit}a\n")
    with pytest.raises(S2SError, match=r"long\.csv:3: the de term .* is 201 bytes in UTF-8, over the limit of 200"):
        read_termbase(path)


def test_a_file_over_10_mb_is_refused_unread(tmp_path):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as f:
        f.write(b"en,de\n")
        f.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(S2SError, match=r"huge\.csv: 10,485,761 bytes, over the 10 MB limit"):
        read_termbase(path)
    with pytest.raises(S2SError, match=r"upload\.csv: 10,485,761 bytes"):
        parse_termbase(b"x" * (MAX_FILE_BYTES + 1), "upload.csv")


def test_a_file_of_exactly_10_mb_is_taken(tmp_path):
    header = b"en,de\n"
    rows = [b"t%08d,b%08d\n" % (i, i) for i in range((MAX_FILE_BYTES - len(header)) // 20)]
    rest = MAX_FILE_BYTES - len(header) - 20 * len(rows)
    data = header + b"".join(rows) + b"x" * (rest - 3) + b",y\n"
    assert len(data) == MAX_FILE_BYTES
    tb = read_termbase(write(tmp_path, "full.csv", data))
    assert len(tb.entries) == len(rows) + 1 and tb.entries[-1] == ("x" * (rest - 3), "y")


CSV_ERRORS = [
    # (file name, content, directionality, the message after "NAME:")
    ("nohead.csv", "house,Haus\n", UNI, r"1: header cell 'house' is not a language code"),
    ("badcode.csv", "en,german\n", UNI, r"1: header cell 'german' is not a language code"),
    ("empty.csv", "", UNI, r"1: empty; the first row must name the languages"),
    ("blankhead.csv", "en,\nhouse,Haus\n", UNI, r"1: header cell '' is not a language code"),
    ("onelang.csv", "en\nhouse\n", UNI, r"1: only one language \(en\)"),
    ("twice.csv", "en,de,EN\n", UNI, r"1: language en appears twice \(columns 1 and 3\)"),
    ("columns.csv", "en,de\nhouse,Haus\ntree,Baum,arbre\n", UNI, r"3: 3 columns, but the header names 2 languages"),
    ("short.tsv", "en\tde\nhouse\tHaus\ntree\n", UNI, r"3: 1 columns, but the header names 2 languages"),
    ("emptyterm.csv", "en,de\nhouse,Haus\n\ntree, \n", UNI, r"4: empty de term"),
    ("noterms.csv", "en,de\n", UNI, r"1: no terms below the header row"),
    ("noword.csv", "en,de\nhouse,Haus\n+++,plus\n", UNI, r"3: the en term '\+\+\+' has no letter or digit"),
    ("conflict.csv", "en,de\nHouse,Haus\ntree,Baum\nhouse,Gebäude\n", UNI,
     r"4: the en term 'house' has two de translations: 'Haus' \(line 2\) and 'Gebäude'; keep one"),
    ("multi.csv", "en,de\nbank,Bank\nshore,Bank\n", MULTI,
     r"3: the de term 'Bank' has two en translations: 'bank' \(line 2\) and 'shore'"),
    ("quote.csv", 'en,de\nhouse,"Haus"x\n', UNI, r"2: malformed CSV"),
]


@pytest.mark.parametrize("name, content, directionality, message", CSV_ERRORS, ids=[e[0] for e in CSV_ERRORS])
def test_bad_table_files_are_refused_naming_the_file_and_line(tmp_path, name, content, directionality, message):
    path = write(tmp_path, name, content)
    with pytest.raises(S2SError) as error:
        read_termbase(path, directionality)
    assert str(error.value).startswith(f"{path}:")
    assert "\n" not in str(error.value)
    assert re.search(message, str(error.value)), str(error.value)


def test_the_multi_conflict_is_no_conflict_under_uni(tmp_path):
    tb = read_termbase(write(tmp_path, "multi.csv", "en,de\nbank,Bank\nshore,Bank\n"), UNI)
    assert tb.terms("en", "de") == {"bank": "Bank", "shore": "Bank"}


ENCODING_ERRORS = [
    ("latin1.csv", "en,de\nhouse,Haus\nstreet,Straße\n".encode("latin-1"), r"3: not UTF-8 \(byte 0xdf\)"),
    ("utf16.csv", "en,de\nhouse,Haus\n".encode("utf-16"), r"1: UTF-16"),
    ("utf16le.csv", "en,de\nhouse,Haus\n".encode("utf-16-le"), r"1: holds NUL characters"),
    ("latin1.tmx", tmx(tu(en="street", de="Straße")).replace("UTF-8", "ISO-8859-1").encode("utf-8"),
     r"1: declares encoding ISO-8859-1; save it as UTF-8"),
]


@pytest.mark.parametrize("name, content, message", ENCODING_ERRORS, ids=[e[0] for e in ENCODING_ERRORS])
def test_other_encodings_than_utf8_are_refused(tmp_path, name, content, message):
    path = write(tmp_path, name, content)
    with pytest.raises(S2SError, match=f"^{path}:{message}"):
        read_termbase(path)


BILLION_LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE tmx [\n<!ENTITY lol "lol">\n'
                  + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">\n'
                            for i in range(1, 10))
                  + ']>\n<tmx version="1.4"><header srclang="en"/><body>\n'
                  '<tu><tuv xml:lang="en"><seg>&lol9;</seg></tuv><tuv xml:lang="de"><seg>x</seg></tuv></tu>\n'
                  "</body></tmx>\n")


def test_a_billion_laughs_tmx_is_refused(tmp_path):
    path = write(tmp_path, "laughs.tmx", BILLION_LAUGHS)
    with pytest.raises(S2SError, match=rf"^{path}:3: refused: the TMX declares entities .*EntitiesForbidden"):
        read_termbase(path)


def test_an_external_entity_tmx_is_refused_and_the_file_it_names_never_read(tmp_path):
    secret = write(tmp_path, "secret.txt", "TOP-SECRET-42")
    content = (f'<?xml version="1.0"?>\n<!DOCTYPE tmx [\n<!ENTITY xxe SYSTEM "file://{secret}">\n]>\n'
               '<tmx version="1.4"><header srclang="en"/><body>\n'
               '<tu><tuv xml:lang="en"><seg>&xxe;</seg></tuv><tuv xml:lang="de"><seg>x</seg></tuv></tu>\n'
               "</body></tmx>\n")
    for directionality in (UNI, MULTI):
        path = write(tmp_path, "xxe.tmx", content)
        with pytest.raises(S2SError, match=rf"^{path}:3: refused") as error:
            read_termbase(path, directionality)
        assert "TOP-SECRET" not in str(error.value)
    # A parameter entity, which would fetch at once, is refused too.
    path = write(tmp_path, "pe.tmx", content.replace("<!ENTITY xxe", "<!ENTITY % xxe").replace("]>", "%xxe;]>")
                 .replace("&xxe;", "x"))
    with pytest.raises(S2SError, match=rf"^{path}:3: refused"):
        read_termbase(path)


TMX_ERRORS = [
    ("malformed.tmx", tmx(tu(en="a", de="b") + "<tu><tuv xml:lang='en'><seg>x</tuv></tu>\n"),
     r"7:\d+: malformed TMX: mismatched tag"),
    ("nolang.tmx", tmx(tu(en="a", de="b") + "<tu><tuv><seg>x</seg></tuv></tu>\n"), r"7: <tuv> without xml:lang"),
    ("badlang.tmx", tmx(tu(en="a", de="b") + tu(en="c", german="d")), r"7: xml:lang 'german' is not a language code"),
    ("missing.tmx", tmx(tu(en="a", de="b") + tu(en="c", de="d", fr="e") + tu(en="f", de="g")),
     r"6: <tu> has no fr term; every <tu> needs one <tuv> for each language of the file \(en, de, fr\)"),
    ("twice.tmx", tmx(tu(en="a", de="b") + "<tu>\n<tuv xml:lang='en'><seg>x</seg></tuv>\n"
                      "<tuv xml:lang='EN'><seg>y</seg></tuv></tu>\n"), r"9: a second en <tuv> in one <tu>"),
    ("emptyseg.tmx", tmx(tu(en="a", de="b") + tu(en="c", de=" ")), r"7: empty de term"),
    ("noseg.tmx", tmx(tu(en="a", de="b") + "<tu><tuv xml:lang='en'><seg>x</seg></tuv><tuv xml:lang='de'/></tu>\n"),
     r"7: empty de term"),
    ("conflict.tmx", tmx(tu(en="Bank", de="Bank") + tu(en="bank", de="Ufer")),
     r"7: the en term 'bank' has two de translations: 'Bank' \(line 6\) and 'Ufer'"),
    ("srclang.tmx", tmx(tu(en="a", de="b"), srclang="fr"), r"1: <header> srclang is fr, but no <tuv> is in fr"),
    ("nounits.tmx", tmx(""), r"1: no <tu> entries"),
    ("long.tmx", tmx(tu(en="a" * (MAX_TERM_BYTES + 1), de="b")), r"6: the en term .* is 201 bytes"),
]


@pytest.mark.parametrize("name, content, message", TMX_ERRORS, ids=[e[0] for e in TMX_ERRORS])
def test_bad_tmx_files_are_refused_naming_the_file_and_line(tmp_path, name, content, message):
    path = write(tmp_path, name, content)
    with pytest.raises(S2SError, match=f"^{path}:{message}") as error:
        read_termbase(path)
    assert "\n" not in str(error.value)


def test_missing_files_and_directories_are_named(tmp_path):
    with pytest.raises(S2SError, match=rf"^{tmp_path}/none\.csv: no such file$"):
        read_termbase(tmp_path / "none.csv")
    with pytest.raises(S2SError, match=rf"^{tmp_path}: not a file"):
        read_termbase(tmp_path)
    with pytest.raises(S2SError, match=r"directionality 'BOTH': use UNI or MULTI"):
        parse_termbase(b"en,de\na,b\n", "x.csv", "BOTH")


@pytest.mark.parametrize("directionality", [UNI, MULTI])
def test_export_then_import_round_trips(tmp_path, directionality):
    original = read_termbase(write(tmp_path, "t.tmx", tmx(
        tu(en="Smith, Inc.", de='"Smith" AG', fr="Smith SA") + tu(en="a\tb", de="ä;ö", fr="'x'")
        + tu(en="R&amp;D", de="F&amp;E", fr="R&amp;D"))), directionality)
    text = to_csv(original)
    assert text.splitlines()[0] == "en,de,fr"
    again = parse_termbase(text.encode("utf-8"), "again.csv", directionality)
    assert again == original
    assert again.sha256() == original.sha256()
    assert parse_termbase(text.encode("utf-8"), "again.csv", MULTI if directionality == UNI else UNI).sha256() \
        != original.sha256()
