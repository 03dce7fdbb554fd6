import gzip

import pytest

from data_prep.corpus import read_lines, read_parallel
from data_prep.errors import S2SError


def test_reads_plain_and_gzipped_files_alike(tmp_path):
    text = "ein Hund\r\nzwei Katzen\n\ndrei Häuser\n"
    (tmp_path / "a.txt").write_text(text, encoding="utf-8", newline="")
    with gzip.open(tmp_path / "a.txt.gz", "wt", encoding="utf-8", newline="") as f:
        f.write(text)
    expected = ["ein Hund", "zwei Katzen", "", "drei Häuser"]
    assert list(read_lines(tmp_path / "a.txt")) == expected
    assert list(read_lines(tmp_path / "a.txt.gz")) == expected


def test_invalid_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "latin1.de"
    path.write_bytes("gut\n".encode() + "Größe\n".encode("latin-1"))
    with pytest.raises(S2SError, match=r"latin1\.de:2: invalid UTF-8"):
        list(read_lines(path))


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
