"""Exporting reviewed pairs: filters, the held-out slice, TSV safety, and nothing written when nothing matches."""
import json
import sqlite3

import pytest

from data_prep.corpus import read_tsv
from data_prep.errors import S2SError
from review.db import NewItem, ReviewDb
from review.export import ExportConfig, export, held_out
from tests.conftest import run_s2s


def _reviewed(db: ReviewDb, pairs: list[tuple[str, str, str, str, str | None]]) -> None:
    """pairs: (source, translation, version, verdict, correction)."""
    db.add([NewItem(source, translation, version, "sockeye", "add") for source, translation, version, _, _ in pairs])
    by_source = {item.source: item.id for item in db.queue(1000)}
    for source, _, _, verdict, correction in pairs:
        db.save(by_source[source], "alice", verdict, correction)


@pytest.fixture
def db(tmp_path):
    db = ReviewDb(tmp_path / "review.db")
    _reviewed(db, [("one", "eins", "v1", "good", None), ("two", "zwo", "v1", "edit", "zwei"),
                   ("three", "vier", "v1", "bad", None), ("four", "vier", "v2", "good", None)])
    return db


def _lines(path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("filters,expected", [
    ({}, ["one\teins", "two\tzwei", "four\tvier"]),
    ({"verdicts": ("edit",)}, ["two\tzwei"]),
    ({"verdicts": ("good",), "version": "v1"}, ["one\teins"]),
    ({"since": "2000-01-01"}, ["one\teins", "two\tzwei", "four\tvier"]),
])
def test_export_writes_corrections_and_good_pairs_by_filter(db, tmp_path, filters, expected):
    out = tmp_path / "corrections.tsv"
    result = export(db, ExportConfig(output=out, **filters))
    assert _lines(out) == expected and result.train == len(expected) and result.test == 0


def test_since_filters_by_the_day_of_the_review(db, tmp_path):
    # Back-date the review of "one": it is then before --since, and the others are not.
    with sqlite3.connect(db.path) as raw:
        raw.execute("UPDATE reviews SET created = '2026-01-02T10:00:00.000000Z' WHERE item_id = "
                    "(SELECT id FROM items WHERE source = 'one')")
    out = tmp_path / "c.tsv"
    export(db, ExportConfig(output=out, since="2026-01-03"))
    assert _lines(out) == ["two\tzwei", "four\tvier"]
    export(db, ExportConfig(output=out, since="2026-01-02", force=True))
    assert _lines(out)[0] == "one\teins"


@pytest.mark.parametrize("filters", [{"version": "v3"}, {"since": "2999-01-01"}])
def test_nothing_to_export_is_an_error_and_writes_no_file(db, tmp_path, filters):
    out = tmp_path / "c.tsv"
    with pytest.raises(S2SError, match=r"review.db: no reviewed pairs match .*; nothing written"):
        export(db, ExportConfig(output=out, **filters))
    assert not [p.name for p in tmp_path.iterdir() if "c.tsv" in p.name]


@pytest.mark.parametrize("fields,message", [
    ({"verdicts": ("bad",)}, "'bad' cannot be exported"),
    ({"verdicts": ()}, "give at least one of good, edit"),
    ({"since": "23/11/2026"}, "'23/11/2026' is not a date of the form YYYY-MM-DD"),
    ({"test_output": "t.tsv", "test_fraction": 1.0}, "--test-fraction must be between 0 and 1"),
    ({"test_output": "c.tsv"}, "--test-output and --output are the same file"),
])
def test_bad_export_options_are_named(fields, message):
    with pytest.raises(S2SError, match=message):
        ExportConfig(output="c.tsv", **fields)


def test_an_existing_output_is_kept_unless_forced(db, tmp_path):
    out = tmp_path / "c.tsv"
    out.write_text("precious\n")
    with pytest.raises(S2SError, match="already exists; choose another output or pass --force"):
        export(db, ExportConfig(output=out))
    assert out.read_text() == "precious\n"
    export(db, ExportConfig(output=out, force=True))
    assert len(_lines(out)) == 3


def test_tabs_and_line_breaks_inside_texts_become_spaces(tmp_path):
    db = ReviewDb(tmp_path / "review.db")
    _reviewed(db, [("a\tb", "x", "v1", "edit", "c\r\nd\u2028e"), ("line\none", "Zeile eins", "v1", "good", None),
                   ("blank", "x", "v1", "edit", " \n ")])
    out = tmp_path / "c.tsv"
    result = export(db, ExportConfig(output=out))
    assert _lines(out) == ["a b\tc d e", "line one\tZeile eins"]
    assert (result.normalised, result.empty) == (2, 1)
    assert list(read_tsv(out)) == [("a b", "c d e"), ("line one", "Zeile eins")]


def test_the_held_out_slice_is_disjoint_deterministic_and_stable_as_the_database_grows(tmp_path):
    db = ReviewDb(tmp_path / "review.db")
    _reviewed(db, [(f"sentence {i}", f"Satz {i}", "v1", "good", None) for i in range(200)])
    config = dict(test_fraction=0.2, seed=3)
    first = export(db, ExportConfig(output=tmp_path / "a.tsv", test_output=tmp_path / "a_test.tsv", **config))
    export(db, ExportConfig(output=tmp_path / "b.tsv", test_output=tmp_path / "b_test.tsv", **config))
    train, test = set(_lines(tmp_path / "a.tsv")), set(_lines(tmp_path / "a_test.tsv"))
    assert not train & test and len(train | test) == 200 and 20 <= first.test <= 60
    assert _lines(tmp_path / "a.tsv") == _lines(tmp_path / "b.tsv")
    assert _lines(tmp_path / "a_test.tsv") == _lines(tmp_path / "b_test.tsv")

    # More reviews, and another seed: no earlier test pair moves to training under the same seed.
    _reviewed(db, [(f"sentence {i}", f"Satz {i}", "v1", "good", None) for i in range(200, 300)])
    export(db, ExportConfig(output=tmp_path / "c.tsv", test_output=tmp_path / "c_test.tsv", **config))
    assert test <= set(_lines(tmp_path / "c_test.tsv")) and not test & set(_lines(tmp_path / "c.tsv"))
    other = export(db, ExportConfig(output=tmp_path / "d.tsv", test_output=tmp_path / "d_test.tsv",
                                    test_fraction=0.2, seed=4))
    assert set(_lines(tmp_path / "d_test.tsv")) != set(_lines(tmp_path / "c_test.tsv")) and other.test > 0


def test_the_same_source_from_two_versions_lands_on_one_side(tmp_path):
    db = ReviewDb(tmp_path / "review.db")
    _reviewed(db, [(f"s{i}", f"a{i}", "v1", "good", None) for i in range(50)])
    db.add([NewItem(f"s{i}", f"b{i}", "v2", "sockeye", "add") for i in range(50)])
    for item in db.queue(1000):
        db.save(item.id, "bob", "good")
    export(db, ExportConfig(output=tmp_path / "t.tsv", test_output=tmp_path / "h.tsv", test_fraction=0.3))
    sources = [{line.split("\t")[0] for line in _lines(tmp_path / name)} for name in ("t.tsv", "h.tsv")]
    assert sources[0] and sources[1] and not sources[0] & sources[1]
    assert held_out("s1", 1, 0.3) == ("s1" in sources[1])


def test_an_empty_held_out_slice_is_an_error_and_writes_nothing(db, tmp_path):
    with pytest.raises(S2SError, match="none of the 3 matching pairs fell in this side of the split"):
        export(db, ExportConfig(output=tmp_path / "t.tsv", test_output=tmp_path / "h.tsv", test_fraction=1e-9))
    assert not (tmp_path / "t.tsv").exists() and not (tmp_path / "h.tsv").exists()


def test_the_export_is_a_corpus_that_s2s_prepare_takes(tmp_path, small_corpus):
    src, trg = small_corpus["train"]
    pairs = list(zip(src.read_text(encoding="utf-8").splitlines(), trg.read_text(encoding="utf-8").splitlines()))
    db = ReviewDb(tmp_path / "review.db")
    # Half approved as they are, half corrected; one correction with a line break a reviewer pasted in.
    _reviewed(db, [(s, t, "v1", "good", None) if i % 2 else (s, "falsch", "v1", "edit", t)
                   for i, (s, t) in enumerate(pairs[:600])])
    db.save(db.reviewed()[0].id, "bob", "edit", "Zeile\nzwei")
    exported = run_s2s("review", "export", "--review-db", str(db.path), "--output", str(tmp_path / "train.tsv"),
                       "--test-output", str(tmp_path / "test.tsv"), "--test-fraction", "0.1")
    assert exported.returncode == 0, exported.stderr
    assert "1 had tabs or line breaks turned into spaces" in exported.stdout
    prepared = run_s2s("prepare", "--tsv", str(tmp_path / "train.tsv"), "--test-tsv", str(tmp_path / "test.tsv"),
                       "--source-lang", "en", "--target-lang", "de", "--dev-size", "20", "--vocab-size", "300",
                       "--output", str(tmp_path / "prepared"))
    assert prepared.returncode == 0, prepared.stderr
    manifest = json.loads((tmp_path / "prepared" / "manifest.json").read_text())
    train_lines = len(_lines(tmp_path / "train.tsv"))
    assert 400 < train_lines < 600
    assert manifest["corpora"]["corpus"]["read"] == train_lines
