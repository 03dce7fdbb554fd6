"""Named glossaries in the model store, which a server applies when asked (Amazon Translate's custom
terminologies, DeepL's glossaries):

    STORE/glossaries/<name>.json   name, languages, directionality, entries, entry count, the sha256
                                   of its terms, the imported file's name and sha256, the import time

A glossary is checked whole before it is stored (data_prep/termbase.py), written to a hidden
temporary file and renamed into place, so a reader sees the old glossary or the new one, never
half of one; importing a name again replaces it whole.
"""
import hashlib
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from data_prep.errors import S2SError, disk_full
from data_prep.termbase import UNI, Termbase, load_term_file, parse_termbase, to_csv

log = logging.getLogger(__name__)

GLOSSARIES_DIR = "glossaries"
GLOSSARY_SUFFIX = ".json"
# Amazon Translate's rule for a terminology's name, but for its length: Amazon allows 256 characters, and
# a file name holds at most 255 bytes, the suffix included.
MAX_NAME_CHARS = 255 - len(GLOSSARY_SUFFIX)
NAME = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_NAME_CHARS}}}")


class GlossaryNotFound(S2SError):
    """No glossary of that name in the store."""


@dataclass(frozen=True)
class Glossary:
    """A stored glossary: its terms and where they came from."""
    name: str
    termbase: Termbase
    source_file: str
    source_sha256: str
    imported: str
    # Amazon Translate's description of a terminology (ImportTerminology's Description).
    description: str = ""

    @property
    def languages(self) -> tuple[str, ...]:
        return self.termbase.languages

    @property
    def directionality(self) -> str:
        return self.termbase.directionality

    @property
    def entry_count(self) -> int:
        return len(self.termbase.entries)

    @property
    def sha256(self) -> str:
        return self.termbase.sha256()

    def info(self) -> dict:
        """What its JSON file holds."""
        return {"name": self.name, "languages": list(self.languages), "directionality": self.directionality,
                "entry_count": self.entry_count, "sha256": self.sha256, "source_file": self.source_file,
                "source_sha256": self.source_sha256, "imported": self.imported, "description": self.description,
                "entries": [list(row) for row in self.termbase.entries]}


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise S2SError(f"glossary name {name!r}: use 1 to {MAX_NAME_CHARS} letters, digits, '_' or '-'")
    return name


class GlossaryStore:
    """The glossaries of a model store directory."""

    def __init__(self, store: Path):
        self.store = Path(store)
        self.root = self.store / GLOSSARIES_DIR

    def path(self, name: str) -> Path:
        return self.root / f"{check_name(name)}{GLOSSARY_SUFFIX}"

    def names(self) -> list[str]:
        """The names stored now; hidden (half-written) files are skipped."""
        if not self.root.is_dir():
            return []
        return sorted(p.name.removesuffix(GLOSSARY_SUFFIX) for p in self.root.iterdir()
                      if p.name.endswith(GLOSSARY_SUFFIX) and not p.name.startswith("."))

    def import_file(self, name: str, file: Path, directionality: str = UNI) -> Glossary:
        """Checks a term file (CSV, TSV or TMX) and stores it as `name`, replacing any glossary of that name."""
        self.path(name)  # the name is checked before the file is read
        return self.import_data(name, load_term_file(file), str(file), directionality)

    def import_data(self, name: str, data: bytes, file_name: str, directionality: str = UNI,
                    description: str = "") -> Glossary:
        """Checks a term file's bytes (`file_name`'s extension gives the format) and stores them as `name`."""
        path = self.path(name)
        termbase = parse_termbase(data, file_name, directionality)
        glossary = Glossary(name, termbase, Path(file_name).name, hashlib.sha256(data).hexdigest(),
                            datetime.now(timezone.utc).isoformat(timespec="seconds"), description)
        self._write(path, json.dumps(glossary.info(), ensure_ascii=False, indent=1) + "\n")
        return glossary

    def _write(self, path: Path, text: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-", suffix=".partial")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            # mkstemp's 0600 would hide the glossary from a server running as another user.
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException as error:
            full = disk_full(error, path, "the glossary was not changed")
            Path(tmp).unlink(missing_ok=True)
            if full:
                raise full from error
            raise

    def _read(self, name: str) -> Glossary:
        """Raises FileNotFoundError when the glossary is gone, S2SError when its file is damaged."""
        path = self.path(name)
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
            termbase = Termbase(tuple(info["languages"]), tuple(tuple(row) for row in info["entries"]),
                                info["directionality"])
            glossary = Glossary(name, termbase, info["source_file"], info["source_sha256"], info["imported"],
                                info.get("description", ""))
        except FileNotFoundError:
            raise
        except (OSError, ValueError, KeyError, TypeError, S2SError) as e:
            raise S2SError(f"{path}: unreadable glossary ({e}); import it again or delete it") from None
        if glossary.sha256 != info.get("sha256"):
            raise S2SError(f"{path}: its terms do not match their sha256; import it again or delete it")
        return glossary

    def _not_found(self, name: str) -> GlossaryNotFound:
        held = ", ".join(self.names())
        return GlossaryNotFound(f"no glossary {name!r} in {self.root}; " + (
            f"it holds {held}" if held else "it holds none (`s2s terms import NAME FILE` adds one)"))

    def get(self, name: str) -> Glossary:
        try:
            return self._read(name)
        except FileNotFoundError:
            raise self._not_found(name) from None

    def glossaries(self) -> list[Glossary]:
        """Every readable glossary, by name; a damaged one is logged and skipped, so that it cannot take the
        others down with it."""
        found = []
        for name in self.names():
            try:
                found.append(self._read(name))
            except FileNotFoundError:
                continue  # deleted since it was listed
            except S2SError as e:
                log.warning("skipping glossary %s: %s", name, e)
        return found

    def export_csv(self, name: str) -> str:
        """The glossary as a CSV term file, which imports back to the same glossary."""
        return to_csv(self.get(name).termbase)

    def delete(self, name: str) -> None:
        path = self.path(name)
        try:
            path.unlink()
        except FileNotFoundError:
            raise self._not_found(name) from None

    def signature(self) -> tuple:
        """Changes whenever a glossary is added, replaced or deleted, without reading one: each file's name,
        inode (every write is a new file, renamed into place), size and modification time."""
        try:
            entries = os.scandir(self.root)
        except (FileNotFoundError, NotADirectoryError):
            return ()
        found = []
        with entries:
            for entry in entries:
                if entry.name.startswith(".") or not entry.name.endswith(GLOSSARY_SUFFIX):
                    continue
                try:
                    st = entry.stat()
                except FileNotFoundError:
                    continue
                found.append((entry.name, st.st_ino, st.st_size, st.st_mtime_ns))
        return tuple(sorted(found))
