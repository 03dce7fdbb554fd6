"""Named model and training settings, given to Sockeye as its own command-line options, and
`auto`, which picks one from the corpus size and the device."""
import logging
from dataclasses import dataclass

from data_prep.errors import S2SError

logger = logging.getLogger(__name__)

AUTO = "auto"
DEFAULT_PRESET = AUTO
# Below this many training pairs, transformer-base needs the small-corpus regularisation.
SMALL_CORPUS_PAIRS = 100_000

# Transformer-base (Vaswani et al., 2017): what `small-corpus` and `base` share.
_TRANSFORMER_BASE = (
    "--num-layers", "6:6", "--transformer-model-size", "512", "--num-embed", "512:512",
    "--transformer-attention-heads", "8", "--transformer-feed-forward-num-hidden", "2048",
    "--batch-type", "word", "--update-interval", "1",
    "--optimizer", "adam", "--optimizer-betas", "0.9:0.98", "--initial-learning-rate", "0.06325",
    "--learning-rate-scheduler-type", "inv-sqrt-decay", "--label-smoothing", "0.1",
    "--max-num-checkpoint-not-improved", "10", "--weight-tying-type", "src_trg_softmax",
)


def _dropout(value: str) -> tuple[str, ...]:
    return ("--transformer-dropout-prepost", value, "--transformer-dropout-attention", value,
            "--transformer-dropout-act", value)


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    sockeye_args: tuple[str, ...]


PRESETS = {
    preset.name: preset for preset in (
        Preset(
            name="tiny",
            description="2+2 layers, 128 wide: tests and CPU demos (a few minutes on 2 cores)",
            sockeye_args=(
                "--num-layers", "2:2", "--transformer-model-size", "128", "--num-embed", "128:128",
                "--transformer-attention-heads", "4", "--transformer-feed-forward-num-hidden", "512",
                "--batch-type", "word", "--batch-size", "1024",
                "--optimizer", "adam", "--initial-learning-rate", "0.05",
                "--learning-rate-scheduler-type", "inv-sqrt-decay", "--learning-rate-warmup", "100",
                "--label-smoothing", "0.1", "--transformer-dropout-prepost", "0.1",
                "--checkpoint-interval", "100", "--max-updates", "1000",
                "--weight-tying-type", "src_trg_softmax",
            ),
        ),
        Preset(
            # Measured on one H100 with Multi30k En-De (29k pairs): validation BLEU 42.2 and test
            # 40.0 in 7,000 updates (about 6 minutes), where `base` peaked at 38.75 and overfitted
            # after 2,000 updates.
            name="small-corpus",
            description=f"transformer-base with dropout 0.3, 4,096-word batches and a 2,000-update warm-up: "
                        f"GPUs, corpora under {SMALL_CORPUS_PAIRS:,} pairs",
            sockeye_args=(
                *_TRANSFORMER_BASE, *_dropout("0.3"), "--batch-size", "4096", "--learning-rate-warmup", "2000",
                "--checkpoint-interval", "500", "--max-updates", "7000",
            ),
        ),
        Preset(
            name="base",
            description=f"transformer-base (6+6 layers, 512 wide, 8 heads): GPUs, corpora of "
                        f"{SMALL_CORPUS_PAIRS:,} pairs and more",
            sockeye_args=(
                *_TRANSFORMER_BASE, *_dropout("0.1"), "--batch-size", "8192", "--learning-rate-warmup", "4000",
                "--checkpoint-interval", "1000", "--max-updates", "100000",
            ),
        ),
    )
}
PRESET_CHOICES = (AUTO, *PRESETS)

# What `s2s train --init-from` lays over the preset. The weights are trained already: a learning rate
# below where every preset's schedule ends (0.0002 for `base` after 100,000 updates), reached after a
# short warm-up while Adam's fresh moment estimates settle, adapts them to the new data without
# undoing what they learned; it is halved when validation perplexity stops improving.
FINETUNE = Preset(
    name="finetune",
    description="fine-tuning a published version: learning rate 0.0001 after a 100-update warm-up, "
                "halved after 3 checkpoints without improvement",
    sockeye_args=(
        "--initial-learning-rate", "0.0001", "--learning-rate-warmup", "100",
        "--learning-rate-scheduler-type", "plateau-reduce", "--learning-rate-reduce-factor", "0.5",
        "--learning-rate-reduce-num-not-improved", "3",
    ),
)


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise S2SError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}") from None


@dataclass(frozen=True)
class PresetChoice:
    name: str
    reason: str


def choose_preset(requested: str, training_pairs: int, gpu: bool) -> PresetChoice:
    """The preset asked for; or, for `auto`, the one that fits the corpus size on a GPU, and
    `tiny` on a CPU, where transformer-base would take hours to days."""
    if requested != AUTO:
        return PresetChoice(get_preset(requested).name, "asked for")
    if not gpu:
        return PresetChoice("tiny", "auto: no GPU, and the transformer-base presets take hours to days on a CPU; "
                                    "pass --preset small-corpus or base to train one anyway")
    if training_pairs < SMALL_CORPUS_PAIRS:
        return PresetChoice("small-corpus", f"auto: {training_pairs:,} training pairs, fewer than "
                                            f"{SMALL_CORPUS_PAIRS:,}: transformer-base overfits them without "
                                            "more dropout")
    return PresetChoice("base", f"auto: {training_pairs:,} training pairs, at least {SMALL_CORPUS_PAIRS:,}")


def presets_help() -> str:
    return "presets: " + "; ".join(
        [f"{AUTO}: small-corpus or base by the number of training pairs on a GPU, tiny on a CPU"]
        + [f"{name}: {preset.description}" for name, preset in PRESETS.items()])
