"""Translated files kept for a while for LibreTranslate's /translate_file, whose answer is a URL to
download the file from: each under a random name in a directory the server's workers share, and
deleted once older than the time to keep them (looked at on every write and every download)."""
import os
import re
import time
import uuid
from pathlib import Path

_NAME = re.compile(r"[0-9a-f]{32}\.[A-Za-z0-9._-]{1,120}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class Downloads:
    def __init__(self, directory: Path, keep_s: float):
        self.directory, self.keep_s = Path(directory), keep_s
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _expire(self) -> None:
        cutoff = time.time() - self.keep_s
        for entry in os.scandir(self.directory):
            try:
                if entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
            except FileNotFoundError:
                continue  # another worker deleted it first

    def put(self, data: bytes, filename: str) -> str:
        """Keeps `data`; returns the name to download it by, which ends with the (made safe) file name."""
        self._expire()
        name = f"{uuid.uuid4().hex}.{_UNSAFE.sub('_', filename).strip('._')[-100:] or 'document'}"
        tmp = self.directory / f".{name}"
        tmp.write_bytes(data)
        os.replace(tmp, self.directory / name)
        return name

    def get(self, name: str) -> Path | None:
        """The file kept under `name`, unless it is gone or expired (or `name` is none of ours)."""
        if not _NAME.fullmatch(name):
            return None
        self._expire()
        path = self.directory / name
        return path if path.is_file() else None
