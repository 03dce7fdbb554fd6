"""The review database: one SQLite file in WAL mode, shared by every server worker and CLI.

Items are the (source, machine translation) pairs to review. Reviews are kept in a table of
their own and never overwritten: a save only appends a row, so reviewers saving at once
never lose one another's work, and an item's verdict is its latest review that was not
undone. The schema is versioned with `PRAGMA user_version`; each migration runs once, in
order, inside one write transaction.
"""
import contextlib
import datetime as dt
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from data_prep.errors import S2SError

ORIGINS = ("add", "capture", "sample")
VERDICTS = ("good", "edit", "bad")
# How long a write waits for another process's write to finish. Saves are single rows, so
# anything near this long means a process is stuck holding the database.
BUSY_TIMEOUT_S = 10.0

# MIGRATIONS[i] takes a database from schema version i to i + 1.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        translation TEXT NOT NULL,
        version TEXT NOT NULL,
        engine TEXT NOT NULL,
        origin TEXT NOT NULL CHECK (origin IN ('add', 'capture', 'sample')),
        created TEXT NOT NULL,
        -- The same pair from the same version is queued once, however often it is added.
        UNIQUE (source, translation, version)
    );
    CREATE TABLE reviews (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items (id),
        reviewer TEXT NOT NULL,
        verdict TEXT NOT NULL CHECK (verdict IN ('good', 'edit', 'bad')),
        correction TEXT,
        created TEXT NOT NULL,
        undone TEXT,
        CHECK ((verdict = 'edit') = (correction IS NOT NULL))
    );
    CREATE INDEX reviews_by_item ON reviews (item_id, id);
    CREATE INDEX reviews_by_reviewer ON reviews (reviewer, id);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)

# Each item with its latest review that was not undone, if any.
_LATEST = """
    SELECT i.id, i.source, i.translation, i.version, i.engine, i.origin, i.created,
           r.reviewer, r.verdict, r.correction, r.created AS reviewed
    FROM items i LEFT JOIN reviews r ON r.id = (
        SELECT max(id) FROM reviews WHERE item_id = i.id AND undone IS NULL)
"""


@dataclass(frozen=True)
class NewItem:
    source: str
    translation: str
    version: str
    engine: str
    origin: str  # one of ORIGINS

    def __post_init__(self):
        if self.origin not in ORIGINS:
            raise ValueError(f"origin must be one of {', '.join(ORIGINS)}, not {self.origin!r}")


@dataclass(frozen=True)
class Item:
    """An item with its current verdict: that of its latest review, or None if unreviewed."""
    id: int
    source: str
    translation: str
    version: str
    engine: str
    origin: str
    created: str
    reviewer: str | None = None
    verdict: str | None = None
    correction: str | None = None
    reviewed: str | None = None


@dataclass(frozen=True)
class Review:
    id: int
    item_id: int
    reviewer: str
    verdict: str
    correction: str | None
    created: str


@dataclass(frozen=True)
class Progress:
    reviewed: int  # items with a verdict
    total: int  # items in the database
    today: int  # items this reviewer gave a verdict today (UTC)


class UnknownItem(S2SError):
    """A review names an item the database does not have."""


def now() -> str:
    """UTC, ISO 8601 with microseconds: such strings sort as the times do, so dates compare as text."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ReviewDb:
    """The review database at `path`, created and migrated to the current schema if needed.

    Each call opens its own connection, so one ReviewDb may be used from many threads, and
    a server worker forked after it was made does not share a connection with its parent."""

    def __init__(self, path: Path, busy_timeout_s: float = BUSY_TIMEOUT_S):
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        if self.path.is_dir():
            raise S2SError(f"{self.path}: is a directory; give --review-db a file name")
        if not self.path.parent.is_dir():
            raise S2SError(f"{self.path}: no such directory {self.path.parent}; create it first")
        # Sampled client text is kept here: readable by its owner alone. SQLite gives its -wal and
        # -shm files the same permissions.
        with contextlib.suppress(FileExistsError):
            os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        with self._write() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise S2SError(f"{self.path}: the review database has schema version {version}, newer than "
                               f"this s2s knows ({SCHEMA_VERSION}); upgrade s2s, or give --review-db another file")
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[target - 1].split(";"):
                    if statement.strip():
                        db.execute(statement)
                # PRAGMA takes no parameters; target is an int from range().
                db.execute(f"PRAGMA user_version = {target}")

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            # isolation_level=None: no implicit transactions, so that writes take the write lock
            # up front (BEGIN IMMEDIATE) and wait for it, rather than failing on upgrade.
            db = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
        except sqlite3.Error as e:
            raise self._error(e) from e
        try:
            db.row_factory = sqlite3.Row
            if db.execute("PRAGMA journal_mode = WAL").fetchone()[0] != "wal":
                raise S2SError(f"{self.path}: SQLite could not switch the review database to WAL mode; "
                               "put it on a local file system")
            db.execute("PRAGMA foreign_keys = ON")
            yield db
        except sqlite3.Error as e:
            raise self._error(e) from e
        finally:
            db.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _error(self, e: sqlite3.Error) -> S2SError:
        message = str(e)
        if "locked" in message or "busy" in message:
            return S2SError(f"{self.path}: the review database is locked: another process held it for more than "
                            f"{self.busy_timeout_s:g} s; wait for it to finish, or stop it, and try again")
        if "not a database" in message or "malformed" in message:
            return S2SError(f"{self.path}: not a review database ({message}); give --review-db another file")
        return S2SError(f"{self.path}: review database error: {message}")

    def add(self, items: list[NewItem]) -> int:
        """Queues `items`; returns how many were new (a pair already queued from that version is skipped)."""
        created = now()
        with self._write() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO items (source, translation, version, engine, origin, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(i.source, i.translation, i.version, i.engine, i.origin, created) for i in items])
            return db.total_changes - before

    def item(self, item_id: int) -> Item | None:
        with self._connect() as db:
            row = db.execute(_LATEST + " WHERE i.id = ?", (item_id,)).fetchone()
        return Item(**dict(row)) if row else None

    def queue(self, limit: int, after: int = 0) -> list[Item]:
        """Up to `limit` items with no verdict yet and an id above `after`, oldest first."""
        with self._connect() as db:
            rows = db.execute(_LATEST + " WHERE r.id IS NULL AND i.id > ? ORDER BY i.id LIMIT ?",
                              (after, limit)).fetchall()
        return [Item(**dict(row)) for row in rows]

    def save(self, item_id: int, reviewer: str, verdict: str, correction: str | None = None) -> Review:
        """Records a review; the item's verdict is now this one. A correction goes with 'edit' only."""
        if verdict not in VERDICTS:
            raise S2SError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
        if (verdict == "edit") != (correction is not None):
            raise S2SError("a correction goes with the verdict 'edit', and only with it")
        created = now()
        with self._write() as db:
            if db.execute("SELECT 1 FROM items WHERE id = ?", (item_id,)).fetchone() is None:
                raise UnknownItem(f"{self.path}: no review item {item_id}")
            cursor = db.execute("INSERT INTO reviews (item_id, reviewer, verdict, correction, created) "
                                "VALUES (?, ?, ?, ?, ?)", (item_id, reviewer, verdict, correction, created))
        return Review(cursor.lastrowid, item_id, reviewer, verdict, correction, created)

    def undo(self, reviewer: str) -> Review | None:
        """Undoes `reviewer`'s latest review that is not undone yet (the row is kept, marked); None if none."""
        with self._write() as db:
            row = db.execute("SELECT id, item_id, reviewer, verdict, correction, created FROM reviews "
                             "WHERE reviewer = ? AND undone IS NULL ORDER BY id DESC LIMIT 1",
                             (reviewer,)).fetchone()
            if row is None:
                return None
            db.execute("UPDATE reviews SET undone = ? WHERE id = ?", (now(), row["id"]))
        return Review(**dict(row))

    def counts(self) -> tuple[int, int]:
        """How many items have a verdict, and how many there are."""
        with self._connect() as db:
            return tuple(db.execute(f"SELECT count(verdict), count(*) FROM ({_LATEST})").fetchone())

    def progress(self, reviewer: str) -> Progress:
        today = now()[:10]
        reviewed, total = self.counts()
        with self._connect() as db:
            mine = db.execute("SELECT count(DISTINCT item_id) FROM reviews WHERE reviewer = ? AND undone IS NULL "
                              "AND created >= ?", (reviewer, today)).fetchone()[0]
        return Progress(reviewed, total, mine)

    def reviewed(self, verdicts: tuple[str, ...] = VERDICTS, since: str | None = None,
                 version: str | None = None) -> list[Item]:
        """Items whose verdict is one of `verdicts`, reviewed on or after `since` (YYYY-MM-DD, UTC),
        translated by `version`; in the order they were added."""
        where, params = [f"r.verdict IN ({', '.join('?' for _ in verdicts)})"], list(verdicts)
        if since:
            where.append("r.created >= ?")
            params.append(since)
        if version:
            where.append("i.version = ?")
            params.append(version)
        with self._connect() as db:
            rows = db.execute(_LATEST + " WHERE " + " AND ".join(where) + " ORDER BY i.id", params).fetchall()
        return [Item(**dict(row)) for row in rows]

    def reviews(self) -> list[Review]:
        """Every review ever saved and not undone, in the order saved."""
        with self._connect() as db:
            rows = db.execute("SELECT id, item_id, reviewer, verdict, correction, created FROM reviews "
                              "WHERE undone IS NULL ORDER BY id").fetchall()
        return [Review(**dict(row)) for row in rows]
