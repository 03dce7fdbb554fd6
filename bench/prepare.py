"""Throughput and peak memory of `s2s prepare`, against a naive sequential path. Prints JSON.

    .venv/bin/python bench/prepare.py [--sizes 100000 1000000] [--workdir DIR]

For each size it generates that many synthetic pairs (the demo grammar), then runs:
- `s2s prepare` (cleaning, dedup, leak removal, threaded SentencePiece, Sockeye with all cores);
- the naive path: SentencePiece trained on the same sample size, encoding one line at a time
  in one process, then plain `sockeye-prepare-data`.
Peak memory is the largest proportional set size (PSS) of each command's whole process tree:
resident memory, with pages shared between processes counted once.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from data_prep.demo_corpus import DemoCorpusConfig, write_demo_corpus
from data_prep.subwords import SubwordConfig

BIN = Path(sys.executable).parent
VOCAB = 1000  # the demo grammar has about 1,100 distinct subwords


def _tree_pss_kib(root_pid: int) -> int:
    """Proportional set size of a process tree: forked workers share pages with their parent,
    and summing their RSS would count those pages once per process."""
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("Pss:")), 0)
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    stack += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def measure(command: list[str], timeout: float) -> dict:
    """Runs a command; returns its wall time and the peak memory of its process tree."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample():
        while process.poll() is None:
            peak[0] = max(peak[0], _tree_pss_kib(process.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{stderr[-2000:]}")
    return {"wall_s": round(time.perf_counter() - start, 1), "peak_pss_mib": round(peak[0] / 1024, 1)}


NAIVE = """
import sys, sentencepiece as spm
src, trg, out = sys.argv[1:4]
spm.SentencePieceTrainer.train(input=f"{src},{trg}", model_prefix=f"{out}/sp", vocab_size=%d,
                               character_coverage=1.0, input_sentence_size=%d,
                               shuffle_input_sentence=True, minloglevel=2)
sp = spm.SentencePieceProcessor(model_file=f"{out}/sp.model")
for path, name in ((src, "src"), (trg, "trg")):
    with open(path, encoding="utf-8") as f, open(f"{out}/{name}.sp", "w", encoding="utf-8") as o:
        for line in f:
            o.write(" ".join(sp.encode(line.strip(), out_type=str)) + "\\n")
""" % (VOCAB, SubwordConfig().sample_size)


def run_size(size: int, workdir: Path, timeout: float) -> dict:
    corpus_dir = workdir / f"corpus-{size}"
    corpus = write_demo_corpus(corpus_dir, DemoCorpusConfig(seed=11, train=size, dev=0, test=0))
    src, trg = corpus["train"]
    ours = measure([str(BIN / "s2s"), "prepare", "--source", str(src), "--target", str(trg), "--source-lang", "en",
                    "--target-lang", "de", "--vocab-size", str(VOCAB), "--output", str(workdir / f"ours-{size}"),
                    "--force"], timeout)
    naive_dir = workdir / f"naive-{size}"
    naive_dir.mkdir(exist_ok=True)
    encode = measure([sys.executable, "-c", NAIVE, str(src), str(trg), str(naive_dir)], timeout)
    binarize = measure([str(BIN / "sockeye-prepare-data"), "-s", str(naive_dir / "src.sp"), "-t",
                        str(naive_dir / "trg.sp"), "-o", str(naive_dir / "prepared"), "--shared-vocab",
                        "--max-seq-len", "200:200", "--quiet"], timeout)
    naive_wall = encode["wall_s"] + binarize["wall_s"]
    manifest = json.loads((workdir / f"ours-{size}" / "manifest.json").read_text())
    return {
        "pairs": size,
        "s2s_prepare": {**ours, "pairs_per_s": round(size / ours["wall_s"]),
                        "kept": manifest["splits"]["train"]["kept"]},
        "naive": {"wall_s": round(naive_wall, 1), "pairs_per_s": round(size / naive_wall),
                  "peak_pss_mib": max(encode["peak_pss_mib"], binarize["peak_pss_mib"]),
                  "encode_wall_s": encode["wall_s"], "sockeye_prepare_wall_s": binarize["wall_s"]},
        "speedup_vs_naive": round(naive_wall / ours["wall_s"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--workdir", type=Path, help="keep the data here (default: a temporary directory)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per command")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="s2s-bench-prepare-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results = [run_size(size, workdir, args.timeout) for size in args.sizes]
    report = {"benchmark": "prepare",
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0]},
              "results": results}
    if len(results) >= 2:
        small, large = results[0], results[-1]
        report["pss_ratio_largest_to_smallest"] = round(
            large["s2s_prepare"]["peak_pss_mib"] / small["s2s_prepare"]["peak_pss_mib"], 2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
