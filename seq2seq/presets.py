"""Named model and training settings, given to Sockeye as its own command-line options."""
from dataclasses import dataclass

from data_prep.errors import S2SError


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
            name="base",
            description="transformer-base (6+6 layers, 512 wide, 8 heads): for GPUs",
            sockeye_args=(
                "--num-layers", "6:6", "--transformer-model-size", "512", "--num-embed", "512:512",
                "--transformer-attention-heads", "8", "--transformer-feed-forward-num-hidden", "2048",
                "--batch-type", "word", "--batch-size", "8192", "--update-interval", "1",
                "--optimizer", "adam", "--optimizer-betas", "0.9:0.98",
                "--initial-learning-rate", "0.06325",
                "--learning-rate-scheduler-type", "inv-sqrt-decay", "--learning-rate-warmup", "4000",
                "--label-smoothing", "0.1", "--transformer-dropout-prepost", "0.1",
                "--transformer-dropout-attention", "0.1", "--transformer-dropout-act", "0.1",
                "--checkpoint-interval", "1000", "--max-updates", "100000",
                "--max-num-checkpoint-not-improved", "10",
                "--weight-tying-type", "src_trg_softmax",
            ),
        ),
    )
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise S2SError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}") from None
