"""How fast does `s2s serve` translate under load? Prints JSON and writes a PNG plot.

    .venv/bin/python bench/serve.py STORE [--sentences FILE] [--count 256] [--plot bench/serve.png]

STORE is a model store (`make demo` leaves one in demo/models). The sentences are the first
--count lines of --sentences FILE (real text, such as Multi30k's test set; .gz works), or
else generated demo sentences. On the same sentences and model, in one run:
- one in-process Translator call per sentence (the latency floor a server adds to);
- offline `sockeye-translate --batch-size 32` on the device the server uses (the GPU when
  torch sees one, unless --int8 is served), with throughput from Sockeye's own log, loading
  left out;
- the real gunicorn server, one sentence per request, at concurrency 1, 4, 16 and 64, with
  dynamic batching (batch 32) and again with batching off (batch size 1). The cache is off.
Every load loop has a fixed request count and a time limit. Tokens are source subwords.
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
import threading
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from data_prep.demo_corpus import DemoCorpusConfig, write_demo_corpus  # noqa: E402
from seq2seq.store import ModelStore  # noqa: E402
from serve.demo import free_port, wait_until_ready  # noqa: E402

BIN = Path(sys.executable).parent
CONCURRENCY = (1, 4, 16, 64)
LEVEL_TIME_LIMIT_S = 180


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def _in_process_latency(version, sentences: list[str]) -> float:
    from seq2seq.translator import Translator

    translator = Translator(version.model_dir, version.path)
    translator.translate(sentences[:4])  # Sockeye traces its decoder on first use
    times = []
    for sentence in sentences[:64]:
        start = time.perf_counter()
        translator.translate([sentence])
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _offline(version, sentences: list[str], work: Path, device: str, int8: bool) -> float:
    """Sentences/s of bare sockeye-translate on `device` (in int8 if served so), as its log reports it."""
    from data_prep.subwords import SubwordPair

    source = SubwordPair.load(version.path).source
    encoded = work / "input.sp"
    encoded.write_text("".join(source.encode(s) + "\n" for s in sentences), encoding="utf-8")
    result = subprocess.run([str(BIN / "sockeye-translate"), "--models", str(version.model_dir),
                             "--input", str(encoded), "--output", str(work / "output.sp"), "--batch-size", "32",
                             "--beam-size", "5", *(["--use-cpu"] if device == "cpu" else []),
                             *(["--dtype", "int8"] if int8 else [])],
                            capture_output=True, text=True, check=True)
    match = re.search(r"sent/sec: ([0-9.]+)", result.stderr + result.stdout)
    if not match:
        raise RuntimeError("sockeye-translate logged no sent/sec:\n" + result.stderr[-2000:])
    return float(match.group(1))


def _load(url: str, sentences: list[str], tokens: dict[str, int], concurrency: int, requests_total: int,
          pair: tuple[str, str]) -> dict:
    """`requests_total` one-sentence requests from `concurrency` client threads."""
    latencies: list[float] = []
    errors = []
    next_index = iter(range(requests_total))
    lock = threading.Lock()
    deadline = time.monotonic() + LEVEL_TIME_LIMIT_S

    def client():
        session = requests.Session()
        while time.monotonic() < deadline:
            with lock:
                i = next(next_index, None)
            if i is None:
                return
            sentence = sentences[i % len(sentences)]
            start = time.perf_counter()
            response = session.post(url + "/v1/translate", json={"q": sentence, "source": pair[0],
                                                                  "target": pair[1]}, timeout=60)
            elapsed = time.perf_counter() - start
            with lock:
                (latencies if response.status_code == 200 else errors).append(elapsed)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    done = len(latencies)
    done_tokens = sum(tokens[sentences[i % len(sentences)]] for i in range(done))
    return {"concurrency": concurrency, "requests": done, "errors": len(errors), "wall_s": round(wall, 2),
            "sentences_per_s": round(done / wall, 2), "tokens_per_s": round(done_tokens / wall, 1),
            "p50_ms": round(_percentile(latencies, 50) * 1000, 1), "p95_ms": round(_percentile(latencies, 95) * 1000, 1),
            "p99_ms": round(_percentile(latencies, 99) * 1000, 1)}


def _server_levels(store: Path, sentences, tokens, max_batch_size: int, levels, requests_for,
                   extra: list[str], pair: tuple[str, str]) -> list[dict]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(BIN / "s2s"), "serve", "--store", str(store), "--port", str(port),
                               "--cache-size", "0", "--max-batch-size", str(max_batch_size), "--reload-interval", "0", *extra],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_ready(url, server)
        _load(url, sentences, tokens, 4, 16, pair)  # warm-up: decoder tracing, connections
        return [_load(url, sentences, tokens, c, requests_for(c), pair) for c in levels]
    finally:
        server.terminate()
        server.wait(timeout=60)


def _plot(batched: list[dict], unbatched: list[dict], offline: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for rows, label in ((batched, "server, dynamic batching"), (unbatched, "server, batch size 1")):
        left.plot([r["concurrency"] for r in rows], [r["sentences_per_s"] for r in rows], marker="o", label=label)
        right.plot([r["concurrency"] for r in rows], [r["p50_ms"] for r in rows], marker="o", label=f"{label}, p50")
        right.plot([r["concurrency"] for r in rows], [r["p95_ms"] for r in rows], marker="x", linestyle="--",
                   label=f"{label}, p95")
    left.axhline(offline, color="grey", linestyle=":", label="offline sockeye-translate, batch 32 (same device)")
    for axis, ylabel in ((left, "sentences/s"), (right, "latency (ms)")):
        axis.set_xscale("log", base=2)
        axis.set_xlabel("concurrent clients")
        axis.set_ylabel(ylabel)
        axis.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def _sentences(args: argparse.Namespace, work: Path) -> list[str]:
    """The first --count non-empty lines of --sentences, or as many generated demo sentences."""
    if args.sentences:
        from data_prep.corpus import read_lines

        lines = [line for line in read_lines(args.sentences) if line.strip()][:args.count]
        if not lines:
            sys.exit(f"{args.sentences}: no sentences")
        return lines
    corpus = write_demo_corpus(work / "corpus", DemoCorpusConfig(seed=99, train=0, dev=0, test=args.count))
    return corpus["test"][0].read_text(encoding="utf-8").splitlines()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path, help="a model store with a version for the language pair (e.g. demo/models)")
    parser.add_argument("--sentences", type=Path, metavar="FILE",
                        help="source sentences, one per line (default: generated demo sentences)")
    parser.add_argument("--count", type=int, default=256, help="sentences per load level (default: 256)")
    parser.add_argument("--source-lang", default="en", help="(default: en)")
    parser.add_argument("--target-lang", default="de", help="(default: de)")
    parser.add_argument("--plot", type=Path, default=Path("bench/serve.png"))
    parser.add_argument("--serve-option", action="append", default=[], metavar="OPTION",
                        help="an extra `s2s serve` option for both servers, e.g. --serve-option=--max-wait-ms=0")
    args = parser.parse_args()
    import torch

    pair = (args.source_lang, args.target_lang)
    version = ModelStore(args.store).default_for(*pair)
    work = Path(tempfile.mkdtemp(prefix="s2s-bench-serve-"))
    sentences = _sentences(args, work)
    from data_prep.subwords import SubwordPair

    source = SubwordPair.load(version.path).source
    tokens = {s: len(source.encode(s).split()) for s in sentences}
    # The server translates on the GPU when torch sees one (int8 is CPU only): compare like with like.
    int8 = "--int8" in args.serve_option
    device = "cuda" if torch.cuda.is_available() and not int8 else "cpu"

    in_process = _in_process_latency(version, sentences)
    offline = _offline(version, sentences, work, device, int8)
    # Fewer requests at concurrency 1 keeps the run short; every level still ends in bounded time.
    batched = _server_levels(args.store, sentences, tokens, 32, CONCURRENCY,
                             lambda c: len(sentences) // 2 if c == 1 else len(sentences), args.serve_option, pair)
    unbatched = _server_levels(args.store, sentences, tokens, 1, CONCURRENCY,
                               lambda c: len(sentences) // 2 if c == 1 else len(sentences), args.serve_option, pair)
    _plot(batched, unbatched, offline, args.plot)
    at16 = next(r for r in batched if r["concurrency"] == 16)
    unbatched16 = next(r for r in unbatched if r["concurrency"] == 16)
    at1 = next(r for r in batched if r["concurrency"] == 1)
    print(json.dumps({
        "benchmark": "serve",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0],
                    "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None},
        "device": device,
        "version": version.id,
        "serve_options": args.serve_option,
        "sentences_from": str(args.sentences) if args.sentences else "generated demo sentences (seed 99)",
        "sentences": len(sentences),
        "in_process_translate_ms": round(in_process * 1000, 1),
        "offline_sockeye_translate_sentences_per_s": offline,
        "server_batched": batched,
        "server_unbatched": unbatched,
        "goals": {
            "c16_vs_offline": round(at16["sentences_per_s"] / offline, 3),
            "c16_vs_unbatched": round(at16["sentences_per_s"] / unbatched16["sentences_per_s"], 3),
            "c1_p50_vs_in_process": round(at1["p50_ms"] / (in_process * 1000), 3),
        },
        "plot": str(args.plot),
    }, indent=2))


if __name__ == "__main__":
    main()
