"""Translated files kept for a while for LibreTranslate's /translate_file, whose answer is a URL to
download the file from: each under a random name in a directory the server's workers share, and
deleted once older than the time to keep them (looked at on every write and every download)."""
import os
import re
import shutil
import tempfile
import time
import uuid
import weakref
from pathlib import Path

_NAME = re.compile(r"[0-9a-f]{32}\.[A-Za-z0-9._-]{1,120}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class Downloads:
    def __init__(self, directory: Path | None, keep_s: float):
        """`directory`: the one the workers share (`s2s serve` makes it and removes it on exit); without one,
        a directory of this process's own is made with the first file kept and removed with this object, so
        that an app made for a test or embedded elsewhere leaves nothing behind."""
        self._directory, self.keep_s = Path(directory) if directory else None, keep_s
        if self._directory:
            self._directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _made(self) -> Path:
        if self._directory is None:
            self._directory = Path(tempfile.mkdtemp(prefix="s2s-files-"))
            weakref.finalize(self, shutil.rmtree, self._directory, ignore_errors=True)
        return self._directory

    def _expire(self) -> None:
        if self._directory is None:
            return
        cutoff = time.time() - self.keep_s
        for entry in os.scandir(self._directory):
            try:
                if entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
            except FileNotFoundError:
                continue  # another worker deleted it first

    def put(self, data: bytes, filename: str) -> str:
        """Keeps `data`; returns the name to download it by, which ends with the (made safe) file name."""
        self._expire()
        name = f"{uuid.uuid4().hex}.{_UNSAFE.sub('_', filename).strip('._')[-100:] or 'document'}"
        tmp = self._made() / f".{name}"
        tmp.write_bytes(data)
        os.replace(tmp, self._directory / name)
        return name

    def get(self, name: str) -> Path | None:
        """The file kept under `name`, unless it is gone or expired (or `name` is none of ours)."""
        if self._directory is None or not _NAME.fullmatch(name):
            return None
        self._expire()
        path = self._directory / name
        return path if path.is_file() else None
