"""The layout of a training run's directory: the one place that names its files."""
import json
from dataclasses import dataclass
from pathlib import Path

from data_prep.errors import S2SError
from seq2seq.engines.choice import ModelFiles


@dataclass(frozen=True)
class RunDir:
    root: Path

    @property
    def model(self) -> Path:
        """Sockeye's output folder."""
        return self.root / "model"

    @property
    def checkpoint_log(self) -> Path:
        """checkpoints.jsonl: one line of scores per checkpoint, appended as training goes."""
        return self.root / "checkpoints.jsonl"

    @property
    def training_state(self) -> Path:
        """What Sockeye saves to continue from; it keeps it after finishing, too."""
        return self.model / "training_state"

    def has_training_state(self) -> bool:
        return self.training_state.is_dir()

    def saved_update(self) -> int | None:
        """The update that the saved training state continues from, if there is one."""
        from sockeye import constants as C
        from sockeye.training import TrainState

        state = self.training_state / C.TRAINING_STATE_NAME
        return TrainState.load(str(state)).updates if state.is_file() else None

    @property
    def curve(self) -> Path:
        return self.root / "training_curve.png"

    @property
    def summary(self) -> Path:
        """run.json: what was trained, on what, and how each checkpoint scored."""
        return self.root / "run.json"

    def model_files(self) -> ModelFiles:
        """The run's model, once finished; a run has no CTranslate2 export (`s2s publish` makes one)."""
        self.read_summary()
        return ModelFiles(name=str(self.root), model_dir=self.model, subword_dir=self.root,
                          export_problem="a training run has no CTranslate2 export; `s2s publish` makes one")

    def read_summary(self) -> dict:
        if not self.summary.is_file():
            raise S2SError(f"{self.root}: not a finished training run (no run.json); run `s2s train` first")
        return json.loads(self.summary.read_text(encoding="utf-8"))
