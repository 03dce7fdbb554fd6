"""Model versions: immutable, self-describing, BLEU-scored directories in a model store.

A store is a directory with one sub-directory per version:

    STORE/<version id>/
        model/                 Sockeye's files (params.best is a real file, not a link)
        ctranslate2/           the same model converted for CTranslate2 (seq2seq/engines/ct2_convert.py)
        sentencepiece*.model   one joint model, or one per side
        training_curve.png     perplexity and validation BLEU at each checkpoint
        version.json           id, languages, scores, provenance and the sha256 of every file
    STORE/promotions.json      per language pair, the versions promoted to be its default

Publishing happens in a hidden directory that is renamed into place, so a crash never
leaves a half version visible, and published files are made read-only.
"""
import fcntl
import json
import os
import shutil
import stat
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from data_prep import atomic
from data_prep.corpus import file_sha256
from data_prep.errors import S2SError
from data_prep.subwords import SubwordPair
from seq2seq.versions.evaluate import TestResult
from seq2seq.versions.gate import promotion_refusal
from seq2seq.versions.run_dir import RunDir
from seq2seq.versions.version import EXPORT_DIR, MODEL_DIR, SOCKEYE_FILES, VERSION_JSON, Version, VersionNotFound

# Where versions are published and served from unless told otherwise.
DEFAULT_STORE = Path(os.environ.get("S2S_STORE", "models"))
# Which versions were promoted: the store's only mutable file.
PROMOTIONS_JSON = "promotions.json"
# How far below the current default's test BLEU a version may be and still be promoted unforced.
PROMOTE_TOLERANCE = 1.0
# How many points below the current default's term use rate, on the same terms test, a version may be.
TERM_USE_TOLERANCE = 2.0
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


def _software_versions() -> dict:
    from importlib.metadata import version

    return {name: version(name) for name in ("sockeye", "torch", "ctranslate2", "sacrebleu", "sentencepiece")}


def _version_id(source_lang: str, target_lang: str, created: datetime, digest: str) -> str:
    return f"{source_lang}-{target_lang}-{created:%Y%m%d-%H%M%S}-{digest[:8]}"


def publish(run_dir: Path, store: Path, results: dict[str, TestResult], export: Path | None = None,
            export_refused: str | None = None, review_test: dict | None = None,
            term_use: dict | None = None, decoding: dict | None = None) -> Version:
    """Copies a finished run, and its CTranslate2 `export`, into the store as a new version scored
    by `results` (the same test set on each engine and precision, the headline first), on a review
    test set (seq2seq/versions/review_set.py) and by a terms test (term_test.py) when given, with
    its `decoding` record (seq2seq/versions/decoding.py)."""
    run = RunDir(run_dir)
    headline, test = next(iter(results.items()))
    summary = run.read_summary()
    created = datetime.now(timezone.utc)
    version_id = _version_id(summary["source_lang"], summary["target_lang"], created,
                             file_sha256(run.model / "params.best"))
    final = Path(store) / version_id
    with atomic.directory(final) as tmp:
        (tmp / MODEL_DIR).mkdir()
        for name in SOCKEYE_FILES:
            # copyfile follows symlinks, so params.best lands as a real file.
            shutil.copyfile(run.model / name, tmp / MODEL_DIR / name)
        for model in SubwordPair.load(run.root).files:
            shutil.copyfile(model, tmp / model.name)
        if run.curve.is_file():
            shutil.copyfile(run.curve, tmp / run.curve.name)
        if export is not None:
            shutil.copytree(export, tmp / EXPORT_DIR)
        info = {
            "id": version_id,
            "source_lang": summary["source_lang"],
            "target_lang": summary["target_lang"],
            "created": created.isoformat(timespec="seconds"),
            "test": {"name": test.name, "source_sha256": test.source_sha256,
                     "reference_sha256": test.reference_sha256, **asdict(test.scores), "engine": headline,
                     "engines": {key: {"bleu": r.scores.bleu, "chrf": r.scores.chrf} for key, r in results.items()}},
            # int8 or float32 is chosen when CTranslate2 loads the model.
            EXPORT_DIR: ({"weights": "float32"} if export is not None else {"refused": export_refused or "not converted"}),
            "training": {"train_data_sha256": summary["train_data_sha256"], "preset": summary["preset"],
                         "hyperparameters": summary["sockeye_args"], "updates": summary["updates"],
                         "checkpoints": summary["checkpoints"], "averaging": summary.get("averaging"),
                         "init_from": summary.get("init_from", {}).get("version")},
            "terms": {**summary.get("terms", {"trained": False, "why": "trained before s2s annotated terms"}),
                      **({"term_use": term_use} if term_use else {})},
            **({"review_test": review_test} if review_test else {}),
            **({"decoding": decoding} if decoding else {}),
            "software": _software_versions(),
            "files": {str(p.relative_to(tmp)): file_sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()},
        }
        (tmp / VERSION_JSON).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        for path in tmp.rglob("*"):
            if path.is_file():
                path.chmod(READ_ONLY)
    return Version(final, info)


def _pair_key(source_lang: str, target_lang: str) -> str:
    return f"{source_lang}-{target_lang}"


@dataclass(frozen=True)
class StoreSnapshot:
    """The store's versions and promotions as read at one moment; queries never touch the disk."""
    root: Path
    versions: tuple[Version, ...]
    # Per language pair ("en-de"), the promoted versions, oldest first; the last one is the default.
    promotions: dict[str, list[str]]

    def get(self, version_id: str) -> Version:
        for version in self.versions:
            if version.id == version_id:
                return version
        raise VersionNotFound(f"unknown version {version_id!r} in {self.root}; "
                              "`s2s models list` lists the versions")

    def pairs(self) -> list[tuple[str, str]]:
        return sorted({v.pair for v in self.versions})

    def default_for(self, source_lang: str, target_lang: str) -> Version:
        """The promoted version for a language pair, or else its best-BLEU version that was not
        fine-tuned from another (any version, if all were)."""
        candidates = [v for v in self.versions if v.pair == (source_lang, target_lang)]
        if not candidates:
            raise VersionNotFound(f"no version translates {source_lang}->{target_lang} in {self.root}; "
                                  f"pairs available: {', '.join('-'.join(p) for p in self.pairs()) or 'none'}")
        present = {v.id: v for v in candidates}
        for version_id in reversed(self.promotions.get(_pair_key(source_lang, target_lang), [])):
            if version_id in present:
                return present[version_id]
        # A fine-tuned version becomes the default only through `s2s models promote`, which runs the
        # gate: were it the default by its BLEU alone, it would be served before the gate had checked
        # it, and promoting it would have nothing left to decide.
        trained_afresh = [v for v in candidates if not v.fine_tuned_from] or candidates
        return max(trained_afresh, key=lambda v: (v.bleu, v.info["created"]))

    def defaults(self) -> dict[tuple[str, str], Version]:
        return {pair: self.default_for(*pair) for pair in self.pairs()}

    def select(self, version_id: str | None = None, source_lang: str | None = None,
               target_lang: str | None = None) -> Version:
        """A version by id; else a pair's default; else the default of the store's only pair."""
        if version_id:
            return self.get(version_id)
        if source_lang and target_lang:
            return self.default_for(source_lang, target_lang)
        pairs = self.pairs()
        if len(pairs) != 1:
            raise VersionNotFound(f"{self.root} holds {len(pairs)} language pairs; name a version "
                                  "(--version) or a language pair (--source-lang, --target-lang)")
        return self.default_for(*pairs[0])


class ModelStore:
    """A store directory: its versions, and which one is each pair's default.

    Versions never change; promotions.json is the store's only mutable file."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @property
    def promotions_file(self) -> Path:
        return self.root / PROMOTIONS_JSON

    def version_files(self) -> list[Path]:
        """The version.json of every published version. Hidden (in-progress) directories are skipped."""
        if not self.root.is_dir():
            return []
        return [path / VERSION_JSON for path in sorted(self.root.iterdir())
                if not path.name.startswith(".") and (path / VERSION_JSON).is_file()]

    def read_version(self, meta: Path) -> Version:
        try:
            return Version(meta.parent, json.loads(meta.read_text(encoding="utf-8")))
        except (OSError, ValueError) as e:
            raise S2SError(f"{meta}: unreadable version.json ({e})") from e

    def _read_promotions(self) -> dict[str, list[str]]:
        if not self.promotions_file.is_file():
            return {}
        try:
            return json.loads(self.promotions_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise S2SError(f"{self.promotions_file}: unreadable ({e}); fix or delete it") from e

    def snapshot(self, versions: list[Version] | None = None) -> StoreSnapshot:
        """The store now; `versions` (already read and checked by the caller) replaces reading them."""
        if versions is None:
            versions = [self.read_version(meta) for meta in self.version_files()]
        return StoreSnapshot(self.root, tuple(sorted(versions, key=lambda v: v.info["created"])),
                             self._read_promotions())

    def versions(self) -> list[Version]:
        """Every published version, oldest first."""
        return list(self.snapshot().versions)

    def get(self, version_id: str) -> Version:
        return self.snapshot().get(version_id)

    def pairs(self) -> list[tuple[str, str]]:
        return self.snapshot().pairs()

    def default_for(self, source_lang: str, target_lang: str) -> Version:
        return self.snapshot().default_for(source_lang, target_lang)

    def select(self, version_id: str | None = None, source_lang: str | None = None,
               target_lang: str | None = None) -> Version:
        return self.snapshot().select(version_id, source_lang, target_lang)

    @contextmanager
    def _promotions_locked(self) -> Iterator[dict[str, list[str]]]:
        """The promotions, to change in place; written back atomically under a lock, so that two
        `s2s models promote` at once cannot lose one another's change."""
        with open(self.root / ".promotions.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            promotions = self._read_promotions()
            yield promotions
            tmp = self.root / f".{PROMOTIONS_JSON}.{os.getpid()}"
            tmp.write_text(json.dumps(promotions, indent=2) + "\n", encoding="utf-8")
            os.replace(tmp, self.promotions_file)

    def promote(self, version_id: str, tolerance: float = PROMOTE_TOLERANCE, force: bool = False) -> Version:
        """Makes a version its pair's default; returns the previous default. Refuses a version scored
        on another test set than the current default, or whose test BLEU is more than `tolerance` below
        the default's, or whose term use rate on the same terms test is more than TERM_USE_TOLERANCE points
        below, unless forced (seq2seq/versions/gate.py)."""
        snapshot = self.snapshot()
        version = snapshot.get(version_id)
        current = snapshot.default_for(*version.pair)
        if current.id == version.id:
            raise S2SError(f"{version.id} is already the default for {'->'.join(version.pair)}")
        refusal = None if force else promotion_refusal(version, current, tolerance, TERM_USE_TOLERANCE)
        if refusal:
            raise S2SError(refusal)
        with self._promotions_locked() as promotions:
            promotions.setdefault(_pair_key(*version.pair), []).append(version.id)
        return current

    def rollback(self, source_lang: str, target_lang: str) -> Version:
        """Undoes the pair's last promotion; returns the default that is back."""
        key = _pair_key(source_lang, target_lang)
        with self._promotions_locked() as promotions:
            history = promotions.get(key, [])
            if not history:
                raise S2SError(f"nothing to roll back for {source_lang}->{target_lang}: no version was promoted")
            history.pop()
            if not history:
                del promotions[key]
        return self.default_for(source_lang, target_lang)
