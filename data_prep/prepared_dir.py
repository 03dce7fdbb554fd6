"""A prepared directory's layout: the names of its splits and files, and its manifest."""
import json
from dataclasses import dataclass
from pathlib import Path

from data_prep.errors import S2SError
from data_prep.subwords import JOINT_MODEL, SIDE_MODELS

SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class PreparedDir:
    """The layout of a prepared directory: the one place that names its files."""
    root: Path

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def lengths_plot(self) -> Path:
        return self.root / "lengths.png"

    @property
    def sockeye_data(self) -> Path:
        return self.root / "sockeye"

    @property
    def subword_files(self) -> list[Path]:
        return [p for p in (self.root / JOINT_MODEL, *(self.root / f for f in SIDE_MODELS.values())) if p.is_file()]

    @property
    def train_corpus_index(self) -> Path:
        """Each training pair's corpus index, one a line; written by the pool's split, gone after encoding."""
        return self.root / "train.corpus"

    def text(self, split: str, side: str, subwords: bool = False) -> Path:
        """Cleaned text of a split and side ("source" or "target"); `subwords`: encoded."""
        return self.root / f"{split}.{side}{'.sp' if subwords else ''}"

    def test_split(self) -> tuple[Path, Path, str]:
        """The cleaned test split's source and target files, and the name it is reported under."""
        name = self.read_manifest()["splits"]["test"]["name"]
        return self.text("test", "source"), self.text("test", "target"), name

    def read_manifest(self) -> dict:
        if not self.manifest.is_file():
            raise S2SError(f"{self.root}: not a prepared directory (no manifest.json); run `s2s prepare` first")
        return json.loads(self.manifest.read_text(encoding="utf-8"))
