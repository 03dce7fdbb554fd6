"""Directories that appear whole or not at all.

Work happens in a hidden sibling (`.NAME.partial-PID`) that is renamed into place only
when it is complete, so an interrupted or failed run never leaves a directory that a
later step could mistake for finished.
"""
import contextlib
import os
import shutil
from pathlib import Path
from typing import Iterator

from data_prep.errors import S2SError, disk_full

PARTIAL_MARK = ".partial-"


def partial_path(final: Path) -> Path:
    return final.parent / f".{final.name}{PARTIAL_MARK}{os.getpid()}"


@contextlib.contextmanager
def directory(final: Path, force: bool = False) -> Iterator[Path]:
    """Yields a scratch directory that becomes `final` if the block succeeds."""
    final = Path(final)
    if final.exists() and not force:
        raise S2SError(f"{final}: already exists; choose another output or pass --force to replace it")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(final)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
        if final.exists():
            old = final.parent / f".{final.name}.replaced-{os.getpid()}"
            final.rename(old)
            tmp.rename(final)
            shutil.rmtree(old)
        else:
            tmp.rename(final)
    except Exception as error:
        full = disk_full(error, final)
        if full:
            raise full from error
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
