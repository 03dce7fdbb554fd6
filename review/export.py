"""Reviewed pairs out of the review database as `source<TAB>target` lines, the format of
`s2s prepare --tsv` and of a `--config` corpus's `tsv:`.

A pair's target is the reviewer's correction for "edit", and the machine translation itself
for "good"; "bad" items have no translation to learn from. A held-out slice is chosen by a
hash of the seed and the source text, not by shuffling, so a pair stays on its side of the
split as the database grows, and the same source never lands on both sides.
"""
import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from data_prep.atomic import partial_path
from data_prep.errors import S2SError, disk_full
from review.db import Item, ReviewDb

EXPORTABLE = ("good", "edit")
# A TSV line holds one pair: tabs and anything a line reader may break a line at
# (str.splitlines' separators) become one space.
_BREAKS = re.compile("[\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]+")


@dataclass(frozen=True)
class ExportConfig:
    output: Path
    verdicts: tuple[str, ...] = EXPORTABLE
    since: str | None = None  # YYYY-MM-DD, UTC: reviewed on or after that day
    version: str | None = None
    # Where the held-out slice goes; None exports every pair to `output`.
    test_output: Path | None = None
    test_fraction: float = 0.1
    seed: int = 1
    force: bool = False  # replace existing output files

    def __post_init__(self):
        if not self.verdicts:
            raise S2SError(f"--verdict: give at least one of {', '.join(EXPORTABLE)}")
        for verdict in self.verdicts:
            if verdict not in EXPORTABLE:
                raise S2SError(f"--verdict: {verdict!r} cannot be exported; choose from {', '.join(EXPORTABLE)} "
                               "('bad' items have no translation to learn from)")
        if self.since is not None:
            try:
                dt.date.fromisoformat(self.since)
            except ValueError:
                raise S2SError(f"--since: {self.since!r} is not a date of the form YYYY-MM-DD") from None
        if self.test_output is not None:
            if not 0 < self.test_fraction < 1:
                raise S2SError(f"--test-fraction must be between 0 and 1 (exclusive), not {self.test_fraction}")
            if Path(self.test_output).resolve() == Path(self.output).resolve():
                raise S2SError(f"--test-output and --output are the same file: {self.output}")


@dataclass(frozen=True)
class ExportResult:
    train: int  # pairs written to the output
    test: int  # pairs written to the test output
    normalised: int  # pairs whose tabs or line breaks became spaces
    empty: int  # pairs left out because a side was blank


def one_line(text: str) -> str:
    return _BREAKS.sub(" ", text).strip()


def target(item: Item) -> str:
    return item.correction if item.verdict == "edit" else item.translation


def held_out(source: str, seed: int, fraction: float) -> bool:
    digest = hashlib.sha256(f"{seed}\0{source}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") < fraction * 2 ** 64


def export(db: ReviewDb, config: ExportConfig) -> ExportResult:
    """Writes the reviewed pairs matching `config`; an error, and no file, when none match."""
    outputs = [Path(config.output)] + ([Path(config.test_output)] if config.test_output else [])
    for path in outputs:
        if path.exists() and not config.force:
            raise S2SError(f"{path}: already exists; choose another output or pass --force to replace it")
    lines: dict[Path, list[str]] = {path: [] for path in outputs}
    normalised = empty = 0
    for item in db.reviewed(config.verdicts, config.since, config.version):
        raw = (item.source, target(item))
        source, translation = (one_line(text) for text in raw)
        if not source or not translation:
            empty += 1
            continue
        normalised += (source, translation) != raw
        test = config.test_output is not None and held_out(source, config.seed, config.test_fraction)
        lines[outputs[1] if test else outputs[0]].append(f"{source}\t{translation}\n")
    if not any(lines.values()):
        raise S2SError(f"{db.path}: no reviewed pairs match (verdict {','.join(config.verdicts)}"
                       f"{f', since {config.since}' if config.since else ''}"
                       f"{f', version {config.version}' if config.version else ''}); nothing written")
    for path, written in lines.items():
        if not written:
            raise S2SError(f"{path}: none of the {sum(map(len, lines.values()))} matching pairs fell in this "
                           f"side of the split; change --test-fraction or --seed (nothing written)")
    _write_all(lines)
    return ExportResult(len(lines[outputs[0]]), len(lines[outputs[1]]) if config.test_output else 0,
                        normalised, empty)


def _write_all(lines: dict[Path, list[str]]) -> None:
    """Each file appears whole or not at all: written beside itself, then renamed into place."""
    partials = {path: partial_path(path) for path in lines}
    try:
        for path, written in lines.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(partials[path], "w", encoding="utf-8", newline="\n") as f:
                f.writelines(written)
        for path, partial in partials.items():
            os.replace(partial, path)
    except OSError as error:
        full = disk_full(error, next(iter(lines)))
        if full:
            raise full from error
        raise
    finally:
        for partial in partials.values():
            partial.unlink(missing_ok=True)
