"""Does `s2s train` add anything to Sockeye's training speed? Prints JSON.

    .venv/bin/python bench/train.py PREPARED [--updates 300]

Runs `s2s train` and then bare `sockeye-train` with the identical command line (the one
`s2s train` records in run.json) on the same prepared data, and compares the tokens/s that
Sockeye logs (`tok/sec=`), which leave start-up out, and the wall times.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def _tokens_per_s(log: Path) -> float:
    values = [float(v) for v in re.findall(r"tok/sec=([0-9.]+)", log.read_text(encoding="utf-8"))]
    if not values:
        raise RuntimeError(f"{log}: no tok/sec lines; train for more updates")
    return statistics.median(values)


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prepared", type=Path, help="a directory written by `s2s prepare`")
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--preset", default="tiny")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="s2s-bench-train-"))
    # Large checkpoint intervals keep validation out of both timings.
    common = ["--max-updates", str(args.updates), "--checkpoint-interval", str(args.updates)]
    s2s_wall = _timed([str(BIN / "s2s"), "train", str(args.prepared), "--output", str(work / "s2s"),
                       "--preset", args.preset, *common])
    argv = json.loads((work / "s2s" / "run.json").read_text())["sockeye_args"]
    argv[argv.index("--output") + 1] = str(work / "bare")
    bare_wall = _timed([str(BIN / "sockeye-train"), *argv])
    s2s_tps, bare_tps = _tokens_per_s(work / "s2s" / "model" / "log"), _tokens_per_s(work / "bare" / "log")
    print(json.dumps({
        "benchmark": "train",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0]},
        "preset": args.preset,
        "updates": args.updates,
        "s2s_train": {"tokens_per_s": round(s2s_tps), "wall_s": round(s2s_wall, 1)},
        "sockeye_train": {"tokens_per_s": round(bare_tps), "wall_s": round(bare_wall, 1)},
        "tokens_per_s_ratio": round(s2s_tps / bare_tps, 3),
    }, indent=2))


if __name__ == "__main__":
    main()
