"""How long the demo path takes, stage by stage, and the BLEU it reaches. Prints JSON.

    .venv/bin/python bench/demo_training.py [--workdir DIR] [--preset tiny] [-- sockeye-train options]
"""
import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from data_prep.demo_corpus import DemoCorpusConfig, write_demo_corpus
from data_prep.prepare import prepare
from seq2seq.versions.evaluate import evaluate
from seq2seq.versions.run_dir import RunDir
from seq2seq.training.train import TrainConfig, train
from seq2seq.engines.translator import Translator
from pipeline.demo import DemoConfig, demo_prepare_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, help="keep the outputs here (default: a temporary directory)")
    parser.add_argument("--preset", default="tiny")
    args, sockeye_args = parser.parse_known_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="s2s-bench-"))
    demo = DemoConfig(workdir=workdir)
    timings = {}

    start = time.perf_counter()
    corpus = write_demo_corpus(workdir / "corpus", DemoCorpusConfig(seed=demo.seed))
    timings["corpus_s"] = time.perf_counter() - start

    start = time.perf_counter()
    prepare(demo_prepare_config(corpus, workdir / "prepared", demo.vocab_size))
    timings["prepare_s"] = time.perf_counter() - start

    start = time.perf_counter()
    summary = train(TrainConfig(prepared=workdir / "prepared", output=workdir / "run", preset=args.preset,
                                sockeye_args=tuple(sockeye_args), force=True))
    timings["train_s"] = time.perf_counter() - start

    start = time.perf_counter()
    run = RunDir(workdir / "run")
    result = evaluate(Translator(run.model, run.root), *corpus["test"])
    timings["evaluate_s"] = time.perf_counter() - start

    print(json.dumps({
        "benchmark": "demo_training",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0]},
        "preset": args.preset,
        "sockeye_args": sockeye_args,
        "updates": summary["updates"],
        "updates_per_s": round(summary["updates"] / timings["train_s"], 2),
        **{k: round(v, 1) for k, v in timings.items()},
        "checkpoints": summary["checkpoints"],
        "test_bleu": result.scores.bleu,
        "test_chrf": result.scores.chrf,
        "bleu_signature": result.scores.bleu_signature,
    }, indent=2))


if __name__ == "__main__":
    main()
