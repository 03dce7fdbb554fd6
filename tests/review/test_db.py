"""The review database: schema migrations, errors that name the file, undo, and saves from many processes."""
import sqlite3
import subprocess
import sys
import time

import pytest

from data_prep.errors import S2SError
from review import db as review_db
from review.db import NewItem, ReviewDb, UnknownItem
from tests.conftest import REPO
from tests.review.lock import write_locked


def _items(n: int, version: str = "v1", origin: str = "add") -> list[NewItem]:
    return [NewItem(f"source {i}", f"Quelle {i}", version, "ctranslate2", origin) for i in range(n)]


def test_a_new_database_is_in_wal_mode_at_the_current_schema(tmp_path):
    path = tmp_path / "review.db"
    ReviewDb(path).add(_items(1))
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        # Sampled client text lives here and in the WAL files beside it: the owner's alone.
        assert {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()} == {
            "review.db": 0o600, "review.db-wal": 0o600, "review.db-shm": 0o600}
        assert raw.execute("PRAGMA user_version").fetchone()[0] == review_db.SCHEMA_VERSION >= 1


def test_a_migration_upgrades_an_older_database_and_keeps_its_items(tmp_path, monkeypatch):
    path = tmp_path / "review.db"
    ReviewDb(path).add(_items(3))
    monkeypatch.setattr(review_db, "MIGRATIONS", review_db.MIGRATIONS + ["ALTER TABLE items ADD COLUMN note TEXT"])
    monkeypatch.setattr(review_db, "SCHEMA_VERSION", review_db.SCHEMA_VERSION + 1)
    db = ReviewDb(path)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == review_db.SCHEMA_VERSION
        assert raw.execute("SELECT count(note), count(*) FROM items").fetchone() == (0, 3)
    assert [item.source for item in db.queue(10)] == ["source 0", "source 1", "source 2"]


def test_a_failed_migration_leaves_the_database_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "review.db"
    ReviewDb(path).add(_items(2))
    before = review_db.SCHEMA_VERSION
    monkeypatch.setattr(review_db, "MIGRATIONS", review_db.MIGRATIONS + [
        "ALTER TABLE items ADD COLUMN note TEXT; CREATE TABLE items (x)"])
    monkeypatch.setattr(review_db, "SCHEMA_VERSION", before + 1)
    with pytest.raises(S2SError, match=r"review\.db: review database error: table items already exists"):
        ReviewDb(path)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == before
        assert "note" not in [row[1] for row in raw.execute("PRAGMA table_info(items)")]


def test_a_newer_schema_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "review.db"
    ReviewDb(path)
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA user_version = 99")
    with pytest.raises(S2SError, match=rf"{path}: the review database has schema version 99, newer than this s2s "
                                       rf"knows \({review_db.SCHEMA_VERSION}\); upgrade s2s"):
        ReviewDb(path)


def test_a_locked_database_is_a_clear_error_not_a_hang(tmp_path):
    path = tmp_path / "review.db"
    db = ReviewDb(path, busy_timeout_s=0.3)
    with write_locked(path):
        started = time.monotonic()
        with pytest.raises(S2SError, match=rf"{path}: the review database is locked: another process held it for "
                                           r"more than 0.3 s; wait for it to finish, or stop it"):
            db.add(_items(1))
        assert time.monotonic() - started < 5
        with pytest.raises(S2SError, match="is locked"):
            ReviewDb(path, busy_timeout_s=0.3)
    assert db.add(_items(1)) == 1


@pytest.mark.parametrize("make,message", [
    (lambda p: p.write_bytes(b"this is no database, but a text file long enough to be read" * 20),
     "not a review database"),
    (lambda p: p.mkdir(), "is a directory"),
])
def test_a_path_that_is_no_database_is_named(tmp_path, make, message):
    path = tmp_path / "review.db"
    make(path)
    with pytest.raises(S2SError, match=rf"{path}: {message}"):
        ReviewDb(path)


def test_a_missing_directory_is_named(tmp_path):
    with pytest.raises(S2SError, match=rf"no such directory {tmp_path / 'nope'}"):
        ReviewDb(tmp_path / "nope" / "review.db")


def test_add_skips_pairs_already_queued_from_the_same_version(tmp_path):
    db = ReviewDb(tmp_path / "review.db")
    assert db.add(_items(3)) == 3
    assert db.add(_items(4)) == 1
    assert db.add(_items(2, version="v2", origin="sample")) == 2
    assert [(i.version, i.origin) for i in db.queue(10)][-2:] == [("v2", "sample"), ("v2", "sample")]
    with pytest.raises(ValueError, match="origin must be one of add, capture, sample, not 'web'"):
        NewItem("a", "b", "v1", "sockeye", "web")


def test_verdicts_progress_and_undo_of_ones_own_latest_review(tmp_path):
    db = ReviewDb(tmp_path / "review.db")
    db.add(_items(3))
    first, second, third = db.queue(10)
    db.save(first.id, "alice", "good")
    db.save(second.id, "alice", "bad")
    db.save(first.id, "bob", "edit", "Erste Quelle")
    assert [i.id for i in db.queue(10)] == [third.id]
    assert (db.item(first.id).verdict, db.item(first.id).correction, db.item(first.id).reviewer) == \
        ("edit", "Erste Quelle", "bob")
    progress = db.progress("alice")
    assert (progress.reviewed, progress.total, progress.today) == (2, 3, 2)

    undone = db.undo("alice")
    assert (undone.item_id, undone.verdict) == (second.id, "bad")
    assert db.item(second.id).verdict is None
    assert db.undo("alice").item_id == first.id
    # Alice's undo never touches Bob's review of the same item.
    assert db.item(first.id).verdict == "edit"
    assert db.undo("alice") is None
    assert db.progress("alice").today == 0 and db.progress("bob").today == 1
    assert [i.id for i in db.queue(10)] == [second.id, third.id]


@pytest.mark.parametrize("call,error,message", [
    (lambda db: db.save(1, "alice", "fine"), S2SError, "verdict must be one of good, edit, bad, not 'fine'"),
    (lambda db: db.save(1, "alice", "edit"), S2SError, "a correction goes with the verdict 'edit'"),
    (lambda db: db.save(1, "alice", "good", "x"), S2SError, "a correction goes with the verdict 'edit'"),
    (lambda db: db.save(42, "alice", "good"), UnknownItem, "no review item 42"),
])
def test_bad_saves_are_refused_and_nothing_is_recorded(tmp_path, call, error, message):
    db = ReviewDb(tmp_path / "review.db")
    db.add(_items(1))
    with pytest.raises(error, match=message):
        call(db)
    assert db.reviews() == []


_SAVER = """
import pathlib, sys, time
from review.db import ReviewDb
db, reviewer, saves, go = ReviewDb(pathlib.Path(sys.argv[1])), sys.argv[2], int(sys.argv[3]), pathlib.Path(sys.argv[4])
items = [item.id for item in db.queue(1000)]
while not go.exists():
    time.sleep(0.01)
for n in range(saves):
    db.save(items[n % len(items)], reviewer, "edit", f"{reviewer} {n}")
"""


def test_parallel_saves_from_several_processes_lose_none(tmp_path):
    path, go = tmp_path / "review.db", tmp_path / "go"
    db = ReviewDb(path)
    db.add(_items(5))
    reviewers, saves = [f"reviewer{i}" for i in range(4)], 60
    processes = [subprocess.Popen([sys.executable, "-c", _SAVER, str(path), name, str(saves), str(go)], cwd=REPO,
                                  stderr=subprocess.PIPE, text=True) for name in reviewers]
    # Every process is past its start-up before any saves, so that the saves overlap.
    time.sleep(3)
    go.touch()
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    reviews = db.reviews()
    assert len(reviews) == len(reviewers) * saves
    assert {r.correction for r in reviews} == {f"{name} {n}" for name in reviewers for n in range(saves)}
