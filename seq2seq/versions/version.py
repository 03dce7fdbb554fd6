"""A published version: its directory's layout and its version.json, read back and checked against
the sha256 of every file. The store that holds versions is seq2seq/versions/store.py."""
from dataclasses import dataclass
from pathlib import Path

from data_prep.corpus import file_sha256
from data_prep.errors import S2SError
from seq2seq.engines.choice import ModelFiles
from seq2seq.engines.translator import DecodeOptions
from seq2seq.versions.decoding import options_from

VERSION_JSON = "version.json"
MODEL_DIR = "model"
# The CTranslate2 export; a version without one (older, or a model the converter refused) is
# translated by Sockeye.
EXPORT_DIR = "ctranslate2"
# What inference needs from Sockeye's output folder, plus args.yaml as the record of training.
SOCKEYE_FILES = ("config", "version", "vocab.src.0.json", "vocab.trg.0.json", "params.best", "args.yaml")


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
    def fine_tuned_from(self) -> str | None:
        """The id of the version this one was fine-tuned from (`s2s train --init-from`), if any."""
        return self.info.get("training", {}).get("init_from")

    @property
    def review_bleu(self) -> float | None:
        """BLEU on the review test set it was published with (`s2s publish --review-test`), if any."""
        return self.info.get("review_test", {}).get("bleu")

    @property
    def terms(self) -> dict:
        """How it was trained to apply terms (`s2s prepare`'s annotation: method, ratio, counts) and its
        term use rate on a terms test (`s2s publish --terms-test`); {"trained": False} for older versions."""
        return self.info.get("terms", {"trained": False})

    @property
    def terms_trained(self) -> bool:
        return bool(self.terms.get("trained"))

    @property
    def decoding(self) -> DecodeOptions:
        """The options both engines decode it with by default: those chosen on its dev set when it was
        published, or Sockeye's (seq2seq/versions/decoding.py)."""
        return options_from(self.info.get("decoding"))

    @property
    def model_dir(self) -> Path:
        return self.path / MODEL_DIR

    def _mismatched(self, export: bool) -> str | None:
        """The first file (of the export, or of the rest) that differs from its recorded sha256."""
        for rel, expected in self.info["files"].items():
            if rel.startswith(EXPORT_DIR + "/") == export:
                path = self.path / rel
                if not path.is_file() or file_sha256(path) != expected:
                    return rel
        return None

    def verify(self) -> None:
        """Fails if any file but the CTranslate2 export's differs from the sha256 recorded at
        publication; a bad export only costs the version that engine (export_problem)."""
        bad = self._mismatched(export=False)
        if bad:
            raise S2SError(f"version {self.id}: {bad} is missing or does not match its sha256")

    def export_problem(self) -> str | None:
        """Why the CTranslate2 export cannot be used, or None."""
        export = self.info.get(EXPORT_DIR)
        if not export:
            return "no CTranslate2 export (published before s2s made one)"
        if "refused" in export:
            return f"no CTranslate2 export: {export['refused']}"
        bad = self._mismatched(export=True)
        return f"{bad} is missing or does not match its sha256" if bad else None

    def model_files(self) -> ModelFiles:
        return ModelFiles(name=self.id, model_dir=self.model_dir, subword_dir=self.path,
                          export_dir=self.path / EXPORT_DIR, export_problem=self.export_problem())

    @property
    def scores(self) -> dict[str, dict]:
        """Test BLEU and chrF by engine and precision ("ctranslate2-int8"); older versions have
        Sockeye's float32 and int8 only."""
        test = self.info["test"]
        if "engines" in test:
            return test["engines"]
        scores = {"sockeye-float32": {"bleu": test["bleu"], "chrf": test["chrf"]}}
        if test.get("int8"):
            scores["sockeye-int8"] = {"bleu": test["int8"]["bleu"], "chrf": test["int8"]["chrf"]}
        return scores
