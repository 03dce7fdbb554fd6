"""Which versions the server offers: a snapshot of the store, checked and reloaded while serving.

The snapshot is replaced whole, so a request sees either the old store or the new one, and a
request in flight keeps the ServedVersion it started with. A version is served only after
every file matched its sha256; one that fails is refused, logged, and never served. The store's
named glossaries (STORE/glossaries) are reloaded the same way, as a whole set.
"""
import ctypes
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from data_prep.errors import S2SError
from seq2seq.versions.glossaries import Glossary, GlossaryNotFound, GlossaryStore
from seq2seq.versions.store import ModelStore, StoreSnapshot
from seq2seq.versions.version import Version, VersionNotFound
from serve import observability
from serve.config import ServeConfig
from serve.served_version import ServedVersion

logger = logging.getLogger(__name__)


def _fingerprint(directory: Path) -> tuple:
    """Changes when any file in a version directory is added, removed or rewritten."""
    return tuple(sorted((str(p.relative_to(directory)), p.stat().st_size, p.stat().st_mtime_ns)
                        for p in directory.rglob("*") if p.is_file()))


def _return_freed_memory() -> None:
    """glibc keeps the memory an unloaded model freed for the process to reuse, and the next
    version's different-sized allocations mostly could not: without a trim, a server's workers
    grew by about 20 MB, a demo model's size, with each version published (bench/soak.py)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


@dataclass(frozen=True)
class GlossarySet:
    served: dict[str, Glossary]  # by name
    problems: dict[str, str]  # name -> why it is not served (a damaged file)


class Registry:
    def __init__(self, config: ServeConfig):
        self.config = config
        self.store = ModelStore(config.store)
        # version directory -> (fingerprint at verification, the verified version)
        self._verified: dict[Path, tuple[tuple, Version]] = {}
        # version directory name -> (fingerprint when refused, reason)
        self._refused: dict[str, tuple[tuple, str]] = {}
        self._served: dict[str, ServedVersion] = {}
        # When each loaded version last answered a request: a version that is no longer a default
        # is unloaded once it has been idle for `unload_after_s`.
        self._last_used: dict[str, float] = {}
        self._snapshot: StoreSnapshot = self.store.snapshot([])
        self._signature: tuple | None = None
        self.glossary_store = GlossaryStore(config.store)
        self._glossaries = GlossarySet({}, {})
        self._glossary_signature: tuple | None = None
        self._load_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._glossary_lock = threading.Lock()
        self.refresh()
        if config.reload_interval_s > 0:
            threading.Thread(target=self._watch, name="store-watcher", daemon=True).start()

    @property
    def snapshot(self) -> StoreSnapshot:
        return self._snapshot

    @property
    def loaded(self) -> list[str]:
        # dict.copy() is one step under the GIL: no lock, so /readyz never waits for a model to load.
        return list(self._served.copy())

    @property
    def engines(self) -> dict[str, dict]:
        """Per loaded version, the engine that translates it, on which device, and why."""
        return {version_id: served.engine.as_dict() for version_id, served in self._served.copy().items()}

    @property
    def refused(self) -> dict[str, str]:
        return {name: reason for name, (_, reason) in self._refused.copy().items()}

    @property
    def glossaries(self) -> GlossarySet:
        """The named glossaries served now; the set is replaced whole, never changed."""
        return self._glossaries

    def refresh_glossaries(self) -> GlossarySet:
        """The glossaries read again now if any changed, rather than at the next reload: an API that has just
        imported or deleted one answers for the set that holds its change."""
        self._refresh_glossaries()
        return self._glossaries

    def _refresh_glossaries(self) -> bool:
        with self._glossary_lock:
            return self._reread_glossaries()

    def _reread_glossaries(self) -> bool:
        # The signature is taken before reading, so a glossary written meanwhile is read on the next round.
        try:
            signature = self.glossary_store.signature()
            if signature == self._glossary_signature:
                return False
            glossaries, problems = {}, {}
            for name in self.glossary_store.names():
                try:
                    glossaries[name] = self.glossary_store.get(name)
                except GlossaryNotFound:
                    continue  # deleted since it was listed
                except S2SError as e:
                    logger.error("not serving glossary %s: %s", name, e)
                    problems[name] = str(e)
        except OSError as e:
            # An unreadable glossaries folder must not keep the versions from being served.
            logger.error("cannot read the glossaries in %s (%s); serving the previous ones", self.glossary_store.root,
                         e)
            return False
        previous, self._glossaries = self._glossaries, GlossarySet(glossaries, problems)
        self._glossary_signature = signature
        if previous.served or glossaries:
            logger.info("glossaries: %s", ", ".join(f"{g.name} ({g.entry_count} entries)"
                                                    for g in glossaries.values()) or "none")
        return True

    def _store_signature(self) -> tuple:
        entries = []
        for meta in self.store.version_files():
            stat = meta.stat()
            entries.append((meta.parent.name, stat.st_mtime_ns, stat.st_size))
            if meta.parent.name in self._refused:
                entries.append(_fingerprint(meta.parent))
        promotions = self.store.promotions_file
        return tuple(entries), promotions.stat().st_mtime_ns if promotions.exists() else None

    def _checked_versions(self) -> list[Version]:
        versions = []
        for meta in self.store.version_files():
            directory = meta.parent
            fingerprint = _fingerprint(directory)
            if directory in self._verified and self._verified[directory][0] == fingerprint:
                versions.append(self._verified[directory][1])
                continue
            if directory.name in self._refused and self._refused[directory.name][0] == fingerprint:
                continue
            try:
                version = self.store.read_version(meta)
                version.verify()
            except S2SError as e:
                logger.error("refusing to serve %s: %s", directory.name, e)
                observability.REFUSED.inc()
                self._refused[directory.name] = (fingerprint, str(e))
                continue
            self._refused.pop(directory.name, None)
            self._verified[directory] = (fingerprint, version)
            versions.append(version)
        return versions

    def refresh(self) -> bool:
        """Re-reads the store if anything changed; True if the snapshot or the glossaries were replaced."""
        with self._refresh_lock:
            glossaries_changed = self._refresh_glossaries()
            signature = self._store_signature()
            if signature == self._signature:
                return glossaries_changed
            versions = self._checked_versions()
            snapshot = self.store.snapshot(versions)
            while self.config.preload and (failed := self._load_defaults(snapshot)):
                # A default that cannot load is refused like a corrupt one; the next best takes its place.
                versions = [v for v in versions if v.id not in failed]
                snapshot = self.store.snapshot(versions)
            previous, self._snapshot, self._signature = self._snapshot, snapshot, signature
            present = {v.id for v in snapshot.versions}
            with self._load_lock:
                gone = [v for v in self._served if v not in present]
                for version_id in gone:
                    logger.info("version %s left the store; unloading it", version_id)
                self._unload(gone)
            if previous.versions or snapshot.versions:
                logger.info("store: %d versions, defaults %s", len(snapshot.versions),
                            {"-".join(p): v.id for p, v in snapshot.defaults().items()})
            return True

    def _load_defaults(self, snapshot: StoreSnapshot) -> set[str]:
        """Loads each pair's default before the snapshot goes live, so that no request waits for a
        model to load; returns the ids of those that failed, now refused."""
        failed = set()
        for version in snapshot.defaults().values():
            try:
                self._serve(version)
            except Exception as e:  # noqa: BLE001 - any failure to load means "do not serve this"
                logger.error("refusing to serve %s: it failed to load: %s", version.id, e)
                observability.REFUSED.inc()
                self._refused[version.path.name] = (_fingerprint(version.path), f"failed to load: {e}")
                self._verified.pop(version.path, None)
                failed.add(version.id)
        return failed

    def _watch(self) -> None:
        while True:
            time.sleep(self.config.reload_interval_s)
            try:
                self.refresh()
                self.unload_idle()
            except Exception:  # a bad moment in the store must not end hot reload for good
                logger.exception("reloading the store failed; serving the previous snapshot")

    def unload_idle(self) -> list[str]:
        """Unloads the versions that are no longer a default and have answered nothing for
        `unload_after_s`; returns their ids. Without this, every version a server ever made its
        default stayed in memory, so memory grew with each publication."""
        if self.config.unload_after_s <= 0:
            return []
        keep = {v.id for v in self._snapshot.defaults().values()} | {self.config.version}
        idle_since = time.monotonic() - self.config.unload_after_s
        with self._load_lock:
            idle = [v for v in self._served if v not in keep and self._last_used.get(v, 0) < idle_since]
            for version_id in idle:
                logger.info("unloading version %s: not a default, and unused for %g s", version_id,
                            self.config.unload_after_s)
            self._unload(idle)
        return idle

    def _unload(self, version_ids: list[str]) -> None:
        """Under the load lock."""
        for version_id in version_ids:
            self._served.pop(version_id).close()
        if version_ids:
            _return_freed_memory()

    def _serve(self, version: Version) -> ServedVersion:
        self._last_used[version.id] = time.monotonic()
        with self._load_lock:
            if version.id not in self._served:
                logger.info("loading version %s", version.id)
                self._served[version.id] = ServedVersion(version, self.config.batching, self.config.engine,
                                                         self.config.decode_config())
            return self._served[version.id]

    def resolve(self, source_lang: str | None, target_lang: str | None,
                version_id: str | None = None) -> ServedVersion:
        """The pinned version, else the pair's default, else (no pair given) /invocations' version."""
        refused = self.refused
        if version_id in refused:
            raise VersionNotFound(f"version {version_id} is not served: {refused[version_id]}")
        snapshot = self._snapshot
        if source_lang is None and target_lang is None:
            version = snapshot.select(version_id or self.config.version)
        else:
            version = snapshot.select(version_id, source_lang, target_lang)
            if version.pair != (source_lang, target_lang):
                raise VersionNotFound(f"version {version_id} translates {'->'.join(version.pair)}, "
                                      f"not {source_lang}->{target_lang}")
        return self._serve(version)
