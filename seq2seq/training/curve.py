"""The training curve: perplexity and validation BLEU at each checkpoint, as a PNG."""
from pathlib import Path


def plot_training_curve(checkpoints: list[dict], path: Path) -> None:
    # A Figure of its own, not pyplot's: no backend to switch process-wide, and no figure left open in
    # pyplot's registry when plotting fails half-way.
    from matplotlib.figure import Figure

    numbers = [c["checkpoint"] for c in checkpoints]
    fig = Figure(figsize=(10, 4), dpi=100)
    ppl, bleu = fig.subplots(1, 2)
    ppl.plot(numbers, [c["train_perplexity"] for c in checkpoints], marker="o", label="train")
    ppl.plot(numbers, [c["validation_perplexity"] for c in checkpoints], marker="o", label="validation")
    ppl.set_yscale("log")
    ppl.set_xlabel("checkpoint")
    ppl.set_ylabel("perplexity")
    ppl.legend()
    scored = [c for c in checkpoints if "validation_bleu" in c]
    bleu.plot([c["checkpoint"] for c in scored], [c["validation_bleu"] for c in scored], marker="o", color="C2")
    bleu.set_xlabel("checkpoint")
    bleu.set_ylabel("validation BLEU (sacreBLEU)")
    fig.suptitle("Training curve")
    fig.tight_layout()
    fig.savefig(path)
