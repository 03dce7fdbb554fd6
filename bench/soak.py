"""A long soak of the real server: mixed requests at concurrency 64 while versions are published.
Prints JSON and writes a PNG.

    .venv/bin/python bench/soak.py DEMO_DIR [--minutes 10] [--max-requests 1000000] [--plot bench/soak.png]

DEMO_DIR is what `make demo` leaves (demo/): its store is copied, and its run is published into
the copy again at the start of every `--publish-every` seconds, the first included (`s2s publish`
on 50 test sentences), so that the server hot-reloads a new default version each time. `s2s
serve` runs with 2 workers and the cache off, and 64 client threads send, in turn: one
sentence; a list of four; one sentence with two alternatives; one sentence pinned to the first
version. Reported: errors (the goal is none), each worker's resident memory every 5 s and its
growth after warm-up: the mean over the last third of the run against the mean over the middle
third (goal: at most 10%), and p50/p99 latency per minute (goal: the last minute's p99 at most
1.5 times the first's).
"""
import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from seq2seq.versions.store import ModelStore  # noqa: E402
from serve.local import free_port, wait_until_ready  # noqa: E402

BIN = Path(sys.executable).parent
CONCURRENCY = 64


def _rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024
    except (OSError, StopIteration):
        return None


def _workers(master: int) -> list[int]:
    return [int(p) for p in subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def _bodies(sentences: list[str], pinned: str) -> list[dict]:
    """The request mix, in turn."""
    pair = {"source": "en", "target": "de"}
    return [{"q": sentences[i % len(sentences)], **pair} if kind == 0
            else {"q": [sentences[(i + k) % len(sentences)] for k in range(4)], **pair} if kind == 1
            else {"q": sentences[i % len(sentences)], "alternatives": 2, **pair} if kind == 2
            else {"q": sentences[i % len(sentences)], "version": pinned, **pair}
            for i in range(len(sentences)) for kind in range(4)]


def _plot(samples: list[dict], minutes: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for pid in sorted({pid for s in samples for pid in s["rss_mb"]}):
        points = [(s["t_s"], s["rss_mb"][pid]) for s in samples if pid in s["rss_mb"]]
        left.plot([t for t, _ in points], [m for _, m in points], label=f"worker {pid}")
    left.set_xlabel("seconds")
    left.set_ylabel("resident memory (MB)")
    left.legend(fontsize=7)
    for key in ("p50_ms", "p99_ms"):
        right.plot([m["minute"] for m in minutes], [m[key] for m in minutes], marker="o", label=key)
    right.set_xlabel("minute")
    right.set_ylabel("latency (ms)")
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("demo", type=Path, help="the directory `make demo` wrote (its models/, run/ and corpus/)")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--publish-every", type=float, default=60, help="seconds (default: 60)")
    parser.add_argument("--plot", type=Path, default=Path("bench/soak.png"))
    parser.add_argument("--server-log", type=Path, help="keep the server's log here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="s2s-soak-"))
    store = work / "models"
    shutil.copytree(args.demo / "models", store)
    (pinned,) = [v.id for v in ModelStore(store).versions()][:1]
    sentences = (args.demo / "corpus" / "test.en").read_text(encoding="utf-8").splitlines()
    test = []
    for side in ("en", "de"):
        lines = (args.demo / "corpus" / f"test.{side}").read_text(encoding="utf-8").splitlines(True)
        test.append(work / f"test.{side}")
        test[-1].write_text("".join(lines[:50]), encoding="utf-8")
    bodies = [json.dumps(body) for body in _bodies(sentences, pinned)]

    port = free_port()
    server = subprocess.Popen([str(BIN / "s2s"), "serve", "--store", str(store), "--port", str(port), "--workers", "2",
                               "--cache-size", "0", "--reload-interval", "1"],
                              stdout=subprocess.DEVNULL,
                              stderr=open(args.server_log, "w") if args.server_log else subprocess.DEVNULL)
    wait_until_ready(f"http://127.0.0.1:{port}", server)
    started = time.monotonic()
    deadline = started + args.minutes * 60
    lock, results, samples, publications = threading.Lock(), [], [], []
    counter = iter(range(args.max_requests))

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            sent = time.monotonic()
            try:
                connection.request("POST", "/v1/translate", bodies[i % len(bodies)],
                                   {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as e:
                connection.close()
                status = type(e).__name__
            with lock:
                results.append((sent - started, time.monotonic() - sent, status))

    def watch():
        while time.monotonic() < deadline:
            samples.append({"t_s": round(time.monotonic() - started, 1),
                            "rss_mb": {pid: _rss_mb(pid) for pid in _workers(server.pid)}})
            time.sleep(5)

    def publish():
        # At the start of every period, the first included: each minute is then measured under one
        # publication, which takes the cores for 20-35 s, and the first minute compares with the last.
        for period in range(int(args.minutes * 60 // args.publish_every)):
            time.sleep(max(0.0, started + period * args.publish_every - time.monotonic()))
            begun = time.monotonic()
            done = subprocess.run([str(BIN / "s2s"), "publish", str(args.demo / "run"), "--store", str(store),
                                   "--test-source", str(test[0]), "--test-target", str(test[1])],
                                  capture_output=True, text=True)
            publications.append({"at_s": round(begun - started, 1), "took_s": round(time.monotonic() - begun, 1),
                                 "ok": done.returncode == 0,
                                 **({"error": done.stderr.strip().splitlines()[-1:]} if done.returncode else {})})

    threads = ([threading.Thread(target=client) for _ in range(CONCURRENCY)]
               + [threading.Thread(target=watch), threading.Thread(target=publish)])
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.terminate()
        server.wait(timeout=60)

    minutes = []
    for minute in range(int(max(t for t, _, _ in results) // 60) + 1):
        mine = [(latency, status) for t, latency, status in results if minute * 60 <= t < (minute + 1) * 60]
        ok = [latency for latency, status in mine if status == 200]
        if ok:
            minutes.append({"minute": minute + 1, "requests": len(mine), "errors": len(mine) - len(ok),
                            "p50_ms": round(_percentile(ok, 50) * 1000, 1), "p99_ms": round(_percentile(ok, 99) * 1000, 1)})
    # The first third is warm-up: it holds the first publication and the first unloading, after which
    # the loaded versions come and go (the pinned first version, the default, and the previous default
    # for --unload-after seconds), so a single sample is high or low depending on where in that cycle
    # it falls. Growth compares whole thirds: the last against the middle.
    growth = {}
    third = args.minutes * 60 / 3
    for pid in {pid for s in samples for pid in s["rss_mb"]}:
        points = [(s["t_s"], s["rss_mb"][pid]) for s in samples if s["rss_mb"].get(pid)]
        middle = [mb for t, mb in points if third <= t < 2 * third]
        last = [mb for t, mb in points if t >= 2 * third]
        if middle and last:
            growth[pid] = {"middle_third_mean_mb": round(statistics.mean(middle), 1),
                           "last_third_mean_mb": round(statistics.mean(last), 1),
                           "growth": round(statistics.mean(last) / statistics.mean(middle) - 1, 3),
                           "first_mb": points[0][1], "peak_mb": max(mb for _, mb in points)}
    errors = [status for _, _, status in results if status != 200]
    _plot(samples, minutes, args.plot)
    print(json.dumps({
        "benchmark": "soak", "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "minutes": args.minutes, "concurrency": CONCURRENCY, "workers": 2, "requests": len(results),
        "requests_per_s": round(len(results) / (args.minutes * 60), 1), "errors": len(errors),
        "error_kinds": {str(k): errors.count(k) for k in set(errors)}, "publications": publications,
        "versions_in_store": len(ModelStore(store).versions()), "per_minute": minutes, "rss_growth": growth,
        "rss_samples": samples,
        "goals": {"errors": len(errors) == 0,
                  "rss_growth_at_most_10_percent": bool(growth) and all(g["growth"] <= 0.10 for g in growth.values()),
                  "last_p99_vs_first": round(minutes[-1]["p99_ms"] / minutes[0]["p99_ms"], 3) if minutes else None},
        "median_latency_ms": round(statistics.median(latency for _, latency, s in results if s == 200) * 1000, 1),
        "plot": str(args.plot),
    }, indent=2))


if __name__ == "__main__":
    main()
