"""The README's Multi30k recipe, timed, through the real `s2s` commands. Prints JSON.

    .venv/bin/python bench/recipe.py [--multi30k DIR] [--target-lang de] [--preset auto] [-- sockeye-train options]

Runs `s2s prepare` (vocabulary 8,000, test_2016_flickr as the test set), `s2s train`,
`s2s publish` and `s2s evaluate` of the published version on the raw test files, and
reports the time of each, the preset that was chosen and why, validation BLEU at each
checkpoint with the seconds since training started, the version's test BLEU and chrF, and whether
`s2s evaluate` printed the same. The goal it was written for: test_2016_flickr BLEU >= 41
in under 15 minutes of training on one GPU.
"""
import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _s2s(*args: str) -> tuple[str, float]:
    """Runs an s2s command; returns its stdout and its wall time."""
    start = time.perf_counter()
    result = subprocess.run([str(BIN / "s2s"), *args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"s2s {args[0]} failed:\n{result.stderr[-3000:]}")
    return result.stdout, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--multi30k", type=Path, default=REPO.parent / "shared" / "data" / "multi30k")
    parser.add_argument("--target-lang", default="de")
    parser.add_argument("--preset", default="auto")
    parser.add_argument("--workdir", type=Path, help="keep the outputs here (default: a temporary directory)")
    args, sockeye_args = parser.parse_known_args()
    import torch

    work = args.workdir or Path(tempfile.mkdtemp(prefix="s2s-bench-recipe-"))
    data, trg = args.multi30k, args.target_lang
    test = (data / "test_2016_flickr.en.gz", data / f"test_2016_flickr.{trg}.gz")
    _, prepare_s = _s2s("prepare", "--source", str(data / "train.en.gz"), "--target", str(data / f"train.{trg}.gz"),
                        "--source-lang", "en", "--target-lang", trg, "--dev-source", str(data / "val.en.gz"),
                        "--dev-target", str(data / f"val.{trg}.gz"), "--test-source", str(test[0]),
                        "--test-target", str(test[1]), "--vocab-size", "8000", "--output", str(work / "prepared"),
                        "--force")
    _, train_s = _s2s("train", str(work / "prepared"), "--output", str(work / "run"), "--preset", args.preset,
                      "--force", *sockeye_args)
    _, publish_s = _s2s("publish", str(work / "run"), "--store", str(work / "models"))
    (version,) = json.loads(_s2s("models", "list", "--store", str(work / "models"), "--json")[0])
    evaluated, _ = _s2s("evaluate", "--store", str(work / "models"), "--source", str(test[0]),
                        "--reference", str(test[1]))
    printed = re.search(r"BLEU ([0-9.]+)  chrF ([0-9.]+)", evaluated)
    run = json.loads((work / "run" / "run.json").read_text())
    print(json.dumps({
        "benchmark": "recipe",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0],
                    "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
                    "torch": torch.__version__},
        "pair": f"en-{trg}", "preset": run["preset"], "preset_reason": run["preset_reason"],
        "precision": run["precision"], "sockeye_args": sockeye_args, "updates": run["updates"],
        "prepare_s": round(prepare_s, 1), "train_s": round(train_s, 1), "publish_s": round(publish_s, 1),
        "checkpoints": [{key: c.get(key) for key in ("checkpoint", "elapsed_s", "validation_bleu")}
                        for c in run["checkpoints"]],
        "averaging": run.get("averaging"),
        "test": {"name": version["test"]["name"], "bleu": version["test"]["bleu"], "chrf": version["test"]["chrf"]},
        "evaluate_prints_the_same": bool(printed) and (float(printed[1]), float(printed[2])) == (
            version["test"]["bleu"], version["test"]["chrf"]),
        "workdir": str(work),
    }, indent=2))


if __name__ == "__main__":
    main()
