"""A training job's hyperparameters: SageMaker hands them over as strings; these are typed.

SDK v2 sends booleans through str() ("True") and v3 through json.dumps ("true"); both are
accepted, as are real JSON values from other launchers.
"""
import dataclasses
import shlex
import typing
from dataclasses import dataclass

from data_prep.corpus import BAD_LINE_POLICIES
from data_prep.errors import S2SError
from data_prep.subwords import MODEL_TYPES
from seq2seq.training.precision import PRECISIONS
from seq2seq.training.presets import DEFAULT_PRESET, PRESET_CHOICES
from seq2seq.versions.decoding import CHOSEN, MODES

_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


@dataclass(frozen=True)
class Hyperparameters:
    source_lang: str = ""
    target_lang: str = ""
    preset: str = DEFAULT_PRESET
    vocab_size: int = 8000
    subword_model_type: str = "unigram"
    joint_vocab: bool = True
    max_seq_len: int = 200
    dev_size: int = 500
    test_size: int = 500
    on_bad_line: str = "fail"
    seed: int = 1
    max_updates: int | None = None
    checkpoint_interval: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    # Encoder and decoder layers each; the width of the model (embeddings, attention, feed-forward
    # = 4x); one dropout for the residual, attention and feed-forward paths. What `s2s aws tune` varies.
    num_layers: int | None = None
    model_size: int | None = None
    dropout: float | None = None
    # Stop when validation BLEU has not improved for this many checkpoints.
    early_stopping: int | None = None
    # Average this many best checkpoints at the end; kept only if better on the dev set (1: off).
    average_checkpoints: int = 4
    # Training processes per host (torchrun); None means one per GPU, or one on a CPU host.
    processes_per_host: int | None = None
    # auto: bfloat16 mixed precision on GPUs that support it, else float32.
    precision: str = "auto"
    # Any further sockeye-train options, as one string: "--num-layers 4:4 --label-smoothing 0.2".
    sockeye_args: str = ""
    # Fine-tune this version, in the `model` channel (needed only when the channel holds several).
    init_from: str = ""
    # The published version's decoding: options chosen on the dev set, or Sockeye's own (`s2s publish --decoding`).
    decoding: str = CHOSEN

    def __post_init__(self):
        for name, allowed in (("preset", PRESET_CHOICES), ("subword_model_type", MODEL_TYPES),
                              ("on_bad_line", BAD_LINE_POLICIES), ("precision", PRECISIONS),
                              ("decoding", MODES)):
            if getattr(self, name) not in allowed:
                raise S2SError(f"bad hyperparameter {name}={getattr(self, name)!r}; choose one of: "
                               f"{', '.join(allowed)}")
        for name in ("source_lang", "target_lang"):
            if not getattr(self, name):
                raise S2SError(f"missing hyperparameter {name}, e.g. \"en\"; the valid ones are: {_valid_names()}")

    def sockeye_train_args(self) -> tuple[str, ...]:
        """The options that override the preset, in sockeye-train's own spelling."""
        args = []
        for name, flag in (("max_updates", "--max-updates"), ("checkpoint_interval", "--checkpoint-interval"),
                           ("batch_size", "--batch-size"), ("learning_rate", "--initial-learning-rate")):
            value = getattr(self, name)
            if value is not None:
                args += [flag, str(value)]
        if self.num_layers is not None:
            args += ["--num-layers", f"{self.num_layers}:{self.num_layers}"]
        if self.model_size is not None:
            # Attention heads (4 or 8 in the presets) must divide the width.
            args += ["--transformer-model-size", str(self.model_size), "--num-embed",
                     f"{self.model_size}:{self.model_size}", "--transformer-feed-forward-num-hidden",
                     str(4 * self.model_size)]
        if self.dropout is not None:
            for flag in ("--transformer-dropout-prepost", "--transformer-dropout-attention", "--transformer-dropout-act"):
                args += [flag, str(self.dropout)]
        return tuple(args) + tuple(shlex.split(self.sockeye_args))


def _valid_names() -> str:
    return ", ".join(f.name for f in dataclasses.fields(Hyperparameters))


def _convert(name: str, raw, kind) -> object:
    base = [t for t in typing.get_args(kind) if t is not type(None)][0] if typing.get_args(kind) else kind
    text = str(raw).strip()
    if kind is not base and text.lower() in {"", "none", "null"}:
        return None
    try:
        if base is bool:
            if isinstance(raw, bool):
                return raw
            if text.lower() in _TRUE | _FALSE:
                return text.lower() in _TRUE
            raise ValueError
        if base is int:
            return int(text)
        if base is float:
            return float(text)
        return text
    except ValueError:
        raise S2SError(f"bad hyperparameter {name}={raw!r}: expected {base.__name__}") from None


def parse_hyperparameters(values: dict) -> Hyperparameters:
    """Typed hyperparameters; an unknown or invalid one is an error that names it."""
    kinds = typing.get_type_hints(Hyperparameters)
    unknown = sorted(set(values) - set(kinds))
    if unknown:
        raise S2SError(f"unknown hyperparameter(s) {', '.join(unknown)}; the valid ones are: {_valid_names()}")
    return Hyperparameters(**{name: _convert(name, raw, kinds[name]) for name, raw in values.items()})
