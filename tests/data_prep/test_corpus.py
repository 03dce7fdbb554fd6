import gzip
from collections import Counter

import pytest

from data_prep.corpus import (INVALID_UTF8, SKIP, TMX_MISSING_LANGUAGE, CorpusSpec, read_lines, read_parallel,
                              read_tmx, read_tsv)
from data_prep.errors import S2SError


def test_reads_plain_and_gzipped_files_alike_and_drops_a_bom(tmp_path):
    text = "\ufeffein Hund\r\nzwei Katzen\n\ndrei Häuser\n"
    (tmp_path / "a.txt").write_text(text, encoding="utf-8", newline="")
    with gzip.open(tmp_path / "a.txt.gz", "wt", encoding="utf-8", newline="") as f:
        f.write(text)
    expected = ["ein Hund", "zwei Katzen", "", "drei Häuser"]
    assert list(read_lines(tmp_path / "a.txt")) == expected
    assert list(read_lines(tmp_path / "a.txt.gz")) == expected


def test_invalid_utf8_names_file_and_line_or_is_skipped_and_counted(tmp_path):
    src, trg = tmp_path / "x.en", tmp_path / "latin1.de"
    src.write_text("good\nsize\nend\n")
    trg.write_bytes("gut\n".encode() + "Größe\n".encode("latin-1") + b"Ende\n")
    with pytest.raises(S2SError, match=r"latin1\.de:2: invalid UTF-8"):
        list(read_parallel(src, trg))
    skipped = Counter()
    assert list(read_parallel(src, trg, SKIP, skipped)) == [("good", "gut"), ("end", "Ende")]
    assert skipped == {INVALID_UTF8: 1}


def test_missing_file_is_named(tmp_path):
    with pytest.raises(S2SError, match=r"nope\.en: no such file"):
        list(read_lines(tmp_path / "nope.en"))


def test_corrupt_gzip_is_named(tmp_path):
    path = tmp_path / "broken.en.gz"
    path.write_bytes(b"this is not gzip")
    with pytest.raises(S2SError, match=r"broken\.en\.gz: not a valid gzip file"):
        list(read_lines(path))


@pytest.mark.parametrize("n_src,n_trg", [(3, 2), (2, 3)])
def test_mismatched_line_counts_give_both_counts(tmp_path, n_src, n_trg):
    src, trg = tmp_path / "x.en", tmp_path / "x.de"
    src.write_text("s\n" * n_src)
    trg.write_text("t\n" * n_trg)
    with pytest.raises(S2SError) as e:
        list(read_parallel(src, trg))
    message = str(e.value)
    assert f"x.en has {n_src} lines but" in message and f"x.de has {n_trg}" in message
    assert "line 3 has no partner" in message


def test_tsv_pairs_and_the_first_row_without_a_tab(tmp_path):
    path = tmp_path / "c.tsv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("The dog.\tDer Hund.\nA cat.\tEine Katze.\n")
    assert list(read_tsv(path)) == [("The dog.", "Der Hund."), ("A cat.", "Eine Katze.")]
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\nc\td\ne f\ng\th\n")
    with pytest.raises(S2SError, match=r"bad\.tsv:3: expected 2 tab-separated columns"):
        list(read_tsv(bad))


TMX = """<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4">
  <header srclang="en-US" datatype="plaintext" segtype="sentence" adminlang="en" o-tmf="x" creationtool="t"
          creationtoolversion="1"/>
  <body>
    <tu><tuv xml:lang="en-US"><seg>Click <bpt i="1">&lt;b&gt;</bpt>Save<ept i="1">&lt;/b&gt;</ept>.</seg></tuv>
        <tuv xml:lang="de-DE"><seg>Klicken Sie auf <bpt i="1">&lt;b&gt;</bpt>Speichern<ept i="1">&lt;/b&gt;</ept>.</seg></tuv></tu>
    <tu><tuv lang="EN"><seg>Good morning.</seg></tuv><tuv lang="DE"><seg>Guten Morgen.</seg></tuv></tu>
    <tu><tuv xml:lang="en"><seg>Only English.</seg></tuv><tuv xml:lang="fr"><seg>Seulement.</seg></tuv></tu>
  </body>
</tmx>
"""


def test_tmx_units_matched_by_language_with_inline_codes_removed(tmp_path):
    path = tmp_path / "memory.tmx"
    path.write_text(TMX, encoding="utf-8")
    skipped = Counter()
    assert list(read_tmx(path, "en", "de", skipped)) == [("Click Save.", "Klicken Sie auf Speichern."),
                                                         ("Good morning.", "Guten Morgen.")]
    assert skipped == {TMX_MISSING_LANGUAGE: 1}


def test_malformed_tmx_gives_line_and_column(tmp_path):
    path = tmp_path / "broken.tmx"
    path.write_text(TMX.replace("<seg>Guten Morgen.</seg>", "<seg>Guten Morgen.</sg>"), encoding="utf-8")
    with pytest.raises(S2SError, match=r"broken\.tmx:8:\d+: malformed TMX: mismatched tag"):
        list(read_tmx(path, "en", "de"))


def test_corpus_spec_needs_exactly_one_format(tmp_path):
    with pytest.raises(S2SError, match="give either source and target files, or one tsv file, or one tmx file"):
        CorpusSpec(name="x", source=tmp_path / "a", tsv=tmp_path / "b")
    with pytest.raises(S2SError):
        CorpusSpec(name="x", source=tmp_path / "a")
