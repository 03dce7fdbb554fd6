"""Model versions: immutable, self-describing, BLEU-scored directories in a model store.

A store is a directory with one sub-directory per version:

    STORE/<version id>/
        model/                 Sockeye's files (params.best is a real file, not a link)
        sentencepiece*.model   one joint model, or one per side
        training_curve.png     perplexity and validation BLEU at each checkpoint
        version.json           id, languages, scores, provenance and the sha256 of every file

Publishing happens in a hidden directory that is renamed into place, so a crash never
leaves a half version visible, and published files are made read-only.
"""
import json
import os
import shutil
import stat
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from data_prep import atomic
from data_prep.corpus import file_sha256
from data_prep.errors import S2SError
from data_prep.subwords import SubwordPair
from seq2seq.evaluate import TestResult
from seq2seq.run_dir import RunDir

# Where versions are published and served from unless told otherwise.
DEFAULT_STORE = Path(os.environ.get("S2S_STORE", "models"))
VERSION_JSON = "version.json"
MODEL_DIR = "model"
# What inference needs from Sockeye's output folder, plus args.yaml as the record of training.
SOCKEYE_FILES = ("config", "version", "vocab.src.0.json", "vocab.trg.0.json", "params.best", "args.yaml")
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


class VersionNotFound(S2SError):
    """No such version, or no version for a language pair."""


@dataclass(frozen=True)
class Version:
    """A published version, read back from its version.json."""
    path: Path
    info: dict

    @property
    def id(self) -> str:
        return self.info["id"]

    @property
    def pair(self) -> tuple[str, str]:
        return self.info["source_lang"], self.info["target_lang"]

    @property
    def bleu(self) -> float:
        return self.info["test"]["bleu"]

    @property
    def model_dir(self) -> Path:
        return self.path / MODEL_DIR

    def verify(self) -> None:
        """Fails if any file differs from the sha256 recorded at publication."""
        for rel, expected in self.info["files"].items():
            path = self.path / rel
            if not path.is_file() or file_sha256(path) != expected:
                raise S2SError(f"version {self.id}: {rel} is missing or does not match its sha256")


def _software_versions() -> dict:
    from importlib.metadata import version

    return {name: version(name) for name in ("sockeye", "torch", "sacrebleu", "sentencepiece")}


def _version_id(source_lang: str, target_lang: str, created: datetime, digest: str) -> str:
    return f"{source_lang}-{target_lang}-{created:%Y%m%d-%H%M%S}-{digest[:8]}"


def publish(run_dir: Path, store: Path, test: TestResult) -> Version:
    """Copies a finished run into the store as a new version scored by `test`."""
    run = RunDir(run_dir)
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
        info = {
            "id": version_id,
            "source_lang": summary["source_lang"],
            "target_lang": summary["target_lang"],
            "created": created.isoformat(timespec="seconds"),
            "test": {"name": test.name, "source_sha256": test.source_sha256,
                     "reference_sha256": test.reference_sha256, **asdict(test.scores)},
            "training": {"train_data_sha256": summary["train_data_sha256"], "preset": summary["preset"],
                         "hyperparameters": summary["sockeye_args"], "updates": summary["updates"],
                         "checkpoints": summary["checkpoints"], "averaging": summary.get("averaging")},
            "software": _software_versions(),
            "files": {str(p.relative_to(tmp)): file_sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()},
        }
        (tmp / VERSION_JSON).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        for path in tmp.rglob("*"):
            if path.is_file():
                path.chmod(READ_ONLY)
    return Version(final, info)


class ModelStore:
    """Read access to the versions in a store directory."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def versions(self) -> list[Version]:
        """Every published version, oldest first. Hidden (in-progress) directories are skipped."""
        if not self.root.is_dir():
            return []
        found = []
        for path in sorted(self.root.iterdir()):
            meta = path / VERSION_JSON
            if not path.name.startswith(".") and meta.is_file():
                found.append(Version(path, json.loads(meta.read_text(encoding="utf-8"))))
        return sorted(found, key=lambda v: v.info["created"])

    def get(self, version_id: str) -> Version:
        for version in self.versions():
            if version.id == version_id:
                return version
        raise VersionNotFound(f"unknown version {version_id!r} in {self.root}; "
                              "`s2s models` lists the versions")

    def pairs(self) -> list[tuple[str, str]]:
        return sorted({v.pair for v in self.versions()})

    def default_for(self, source_lang: str, target_lang: str) -> Version:
        """The best-BLEU version for a language pair."""
        candidates = [v for v in self.versions() if v.pair == (source_lang, target_lang)]
        if not candidates:
            raise VersionNotFound(f"no version translates {source_lang}->{target_lang} in {self.root}; "
                                  f"pairs available: {', '.join('-'.join(p) for p in self.pairs()) or 'none'}")
        return max(candidates, key=lambda v: (v.bleu, v.info["created"]))

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
