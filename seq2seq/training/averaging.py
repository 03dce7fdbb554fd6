"""Finishing a run: average the best checkpoints, and keep the average only if it scores better."""
import logging
import tempfile
from pathlib import Path

from data_prep.prepared_dir import PreparedDir
from seq2seq.engines.translator import Translator
from seq2seq.versions.evaluate import evaluate
from seq2seq.versions.run_dir import RunDir

logger = logging.getLogger(__name__)

# What Sockeye needs besides parameters to load a model folder.
_MODEL_FILES = ("config", "version", "vocab.src.0.json", "vocab.trg.0.json")


def _dev_bleu(run: RunDir, prepared: PreparedDir, params: Path) -> float:
    """sacreBLEU on the whole dev set of the model with these parameters."""
    with tempfile.TemporaryDirectory(prefix="s2s-average-") as tmp:
        for name in _MODEL_FILES:
            (Path(tmp) / name).symlink_to((run.model / name).resolve())
        (Path(tmp) / "params.best").symlink_to(params.resolve())
        translator = Translator(Path(tmp), run.root)
        result = evaluate(translator, prepared.text("dev", "source"), prepared.text("dev", "target"), "dev")
    return result.scores.bleu


def average_best_checkpoints(run: RunDir, prepared: PreparedDir, size: int) -> dict:
    """Averages the `size` checkpoints with the best validation BLEU (Sockeye's averaging) and
    makes the average params.best if it beats the best single checkpoint on the dev set."""
    import torch
    from sockeye import average

    points = average.find_checkpoints(str(run.model), size=size, strategy="best", metric="bleu")
    if len(points) < 2:
        return {"averaged_checkpoints": [Path(p).name for p in points], "published": "best checkpoint"}
    averaged = run.model / "params.average"
    torch.save(average.average(points), averaged)
    best, mean = run.model / "params.best", averaged
    scores = {"best_checkpoint_dev_bleu": _dev_bleu(run, prepared, best),
              "average_dev_bleu": _dev_bleu(run, prepared, mean)}
    use_average = scores["average_dev_bleu"] > scores["best_checkpoint_dev_bleu"]
    logger.info("dev BLEU: best checkpoint %.2f, average of %d %.2f: publishing the %s",
                scores["best_checkpoint_dev_bleu"], len(points), scores["average_dev_bleu"],
                "average" if use_average else "best checkpoint")
    if use_average:
        best.unlink()
        averaged.replace(best)
    else:
        averaged.unlink()
    return {"averaged_checkpoints": [Path(p).name for p in points], **scores,
            "published": "average" if use_average else "best checkpoint"}
