"""Reading sentence-aligned text: plain or gzipped UTF-8, one sentence per line."""
import gzip
import hashlib
from pathlib import Path
from typing import IO, Iterator

from data_prep.errors import S2SError


def _open_binary(path: Path) -> IO[bytes]:
    if not path.is_file():
        raise S2SError(f"{path}: no such file")
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_lines(path: Path) -> Iterator[str]:
    """Yields the lines of a text file without their line ends; fails on invalid UTF-8."""
    with _open_binary(path) as f:
        try:
            for line_no, raw in enumerate(f, start=1):
                try:
                    yield raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError as e:
                    raise S2SError(f"{path}:{line_no}: invalid UTF-8 at byte {e.start} "
                                   f"({raw[e.start:e.start + 4]!r}); convert the file to UTF-8") from None
        except (gzip.BadGzipFile, EOFError) as e:
            raise S2SError(f"{path}: not a valid gzip file ({e})") from None


def count_lines(path: Path) -> int:
    with _open_binary(path) as f:
        return sum(1 for _ in f)


def read_parallel(source: Path, target: Path) -> Iterator[tuple[str, str]]:
    """Yields aligned (source, target) lines; fails if the files differ in length."""
    trg_lines = read_lines(target)
    for src in read_lines(source):
        trg = next(trg_lines, None)
        if trg is None:
            _misaligned(source, target)
        yield src, trg
    if next(trg_lines, None) is not None:
        _misaligned(source, target)


def _misaligned(source: Path, target: Path) -> None:
    n_src, n_trg = count_lines(source), count_lines(target)
    raise S2SError(f"{source} has {n_src} lines but {target} has {n_trg}: the files must be "
                   f"line-aligned (line {min(n_src, n_trg) + 1} has no partner)")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
