"""The server's own CPU per one-sentence request, outside decoding. Prints JSON.

    .venv/bin/python bench/request_path.py STORE [--count 1000] [--route v1|invocations|libretranslate|amazon]

One `s2s serve` worker with one decoding thread (CTranslate2), cache off, answers --count
one-sentence requests from one keep-alive client (http.client), one after another, 3 rounds.
Each thread's CPU time comes from /proc: CTranslate2's own threads decode; the worker's Python
threads (py-spy names them) and gunicorn's master do the rest. Part of the Python threads' time
is decoding too (SentencePiece, and the call into CTranslate2): the same sentences translated
in process, one at a time with the version's options, measure it on the calling thread
(`time.thread_time`). What is left is what the request path costs: HTTP, JSON, routing, checks,
sentence splitting, the batcher, metrics and the access log. The goal is at most 0.5 ms a
request. Subtracting whole-process CPU between two runs would not do on a shared machine: the
decode itself varied by 25% from one run to the next here, more than the path costs.

Needs py-spy (`pip install py-spy`, on PyPI) to tell Python's threads from CTranslate2's. To see
where the path's time goes, `py-spy record --gil --pid WORKER` while it runs.

With --floor, the same requests go to the least a server on this stack can be: gunicorn with s2s's
worker class (serve/server.py) and its thread count, one worker, and a Flask app of one route that
reads the JSON body and answers `{"translations": [q]}`; every thread's CPU counts. That is the floor
under the goal: what HTTP, Flask and JSON cost before s2s does anything.
"""
import argparse
import http.client
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from data_prep.demo_corpus import DemoCorpusConfig, write_demo_corpus  # noqa: E402
from seq2seq.engines.choice import open_translator  # noqa: E402
from seq2seq.engines.translator import DecodeConfig  # noqa: E402
from seq2seq.versions.decoding import options_record  # noqa: E402
from seq2seq.versions.store import ModelStore  # noqa: E402
from serve.amazon_api import CONTENT_TYPE, TARGET_PREFIX  # noqa: E402
from serve.local import free_port, wait_until_ready  # noqa: E402

ROUNDS = 3
GOAL_MS = 0.5
TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def _cpu_ticks(pid: int) -> dict[int, int]:
    """User and system CPU, in clock ticks, of each thread of a process."""
    ticks = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks[int(task.name)] = int(fields[11]) + int(fields[12])
    return ticks


def _python_threads(pid: int) -> dict[int, str]:
    """The native id and name of each Python thread of a process, as py-spy sees them."""
    dump = subprocess.run(["py-spy", "dump", "--pid", str(pid)], capture_output=True, text=True, check=True).stdout
    return {int(m.group(1)): m.group(2) for m in re.finditer(r'Thread (\d+) \(\w+\): "([^"]+)"', dump)}


def _requests(route: str, sentences: list[str], pair: tuple[str, str]) -> list[tuple[str, bytes, dict]]:
    """Each sentence as a request on `route`: this project's /v1/translate, SageMaker's /invocations,
    LibreTranslate's /translate or Amazon Translate's TranslateText."""
    as_json = {"Content-Type": "application/json"}
    if route == "v1":
        return [("/v1/translate", json.dumps({"q": s, "source": pair[0], "target": pair[1]}).encode(), as_json)
                for s in sentences]
    if route == "libretranslate":
        return [("/translate", json.dumps({"q": s, "source": pair[0], "target": pair[1]}).encode(), as_json)
                for s in sentences]
    if route == "amazon":
        headers = {"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET_PREFIX + "TranslateText"}
        return [("/", json.dumps({"Text": s, "SourceLanguageCode": pair[0], "TargetLanguageCode": pair[1]}).encode(),
                 headers) for s in sentences]
    return [("/invocations", json.dumps({"instances": [{"data": s}]}).encode(), as_json) for s in sentences]


def _server_round(port: int, pids: dict[str, int], requests: list) -> tuple[dict[str, float], list[float]]:
    """CPU seconds by part of the server (master, the worker's Python threads, CTranslate2's threads)
    over the requests, and each request's latency."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies = []
    before = {name: _cpu_ticks(pid) for name, pid in pids.items()}
    for path, body, headers in requests:
        start = time.perf_counter()
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - start)
        if response.status != 200:
            sys.exit(f"{path}: HTTP {response.status}")
    # The server's last CPU ticks land when /proc is read again; a moment lets the worker settle.
    time.sleep(0.2)
    after = {name: _cpu_ticks(pid) for name, pid in pids.items()}
    connection.close()
    python = _python_threads(pids["worker"])
    spent = {"master": 0.0, "python": 0.0, "ctranslate2": 0.0}
    for name, ticks in after.items():
        for tid, value in ticks.items():
            part = "master" if name == "master" else "python" if tid in python else "ctranslate2"
            spent[part] += (value - before[name].get(tid, 0)) * TICK_S
    return spent, latencies


FLOOR_APP = """
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/v1/translate")
def translate():
    return jsonify(translations=[request.get_json()["q"]])


@app.get("/ping")
def ping():
    return ""
"""


def _floor(requests: list) -> dict[str, float]:
    """CPU ms a request of gunicorn (s2s's worker class and thread count) and a one-route Flask app."""
    from serve.config import ServerConfig

    app_dir = Path(tempfile.mkdtemp(prefix="s2s-bench-floor-"))
    (app_dir / "floor_app.py").write_text(FLOOR_APP)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--worker-class", "serve.server.PatientThreadWorker",
                               "--workers", "1", "--threads", str(ServerConfig.threads), "--bind",
                               f"127.0.0.1:{port}", "floor_app:app"],
                              cwd=REPO, env=dict(os.environ, PYTHONPATH=f"{app_dir}{os.pathsep}{REPO}"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", server)
        (worker,) = (int(pid) for pid in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split())
        pids = {"master": server.pid, "worker": worker}
        _server_round(port, pids, requests[:64])  # warm-up
        # Every thread counts: the app has no decoder, so what _server_round does not call Python is gunicorn's.
        rounds = [sum(_server_round(port, pids, requests)[0].values()) for _ in range(ROUNDS)]
    finally:
        server.terminate()
        server.wait(timeout=60)
        shutil.rmtree(app_dir, ignore_errors=True)
    return {"cpu_ms_per_request": round(statistics.median(rounds) / len(requests) * 1000, 3),
            "rounds": [round(r / len(requests) * 1000, 3) for r in rounds]}


def _in_process_round(translator, sentences: list[str], options) -> tuple[float, float, list[float]]:
    """CPU seconds of the whole process and of the calling thread, and each sentence's latency."""
    times = []
    process, thread = time.process_time(), time.thread_time()
    for sentence in sentences:
        start = time.perf_counter()
        translator.hypotheses([sentence], options)
        times.append(time.perf_counter() - start)
    return time.process_time() - process, time.thread_time() - thread, times


def _sentences(count: int, work: Path) -> list[str]:
    corpus = write_demo_corpus(work / "corpus", DemoCorpusConfig(seed=99, train=0, dev=0, test=count))
    return corpus["test"][0].read_text(encoding="utf-8").splitlines()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path, help="a model store with a CTranslate2 export (e.g. demo/models)")
    parser.add_argument("--count", type=int, default=1000, help="requests per round (default: 1000)")
    parser.add_argument("--route", choices=("v1", "invocations", "libretranslate", "amazon"), default="v1",
                        help="/v1/translate, /invocations, LibreTranslate's /translate or Amazon's TranslateText "
                        "(default: v1)")
    parser.add_argument("--source-lang", default="en", help="(default: en)")
    parser.add_argument("--target-lang", default="de", help="(default: de)")
    parser.add_argument("--floor", action="store_true",
                        help="also measure gunicorn and a one-route Flask app on the same requests (/v1 only)")
    args = parser.parse_args()

    pair = (args.source_lang, args.target_lang)
    version = ModelStore(args.store).default_for(*pair)
    with tempfile.TemporaryDirectory(prefix="s2s-bench-path-") as work:
        sentences = _sentences(args.count, Path(work))

    translator, _ = open_translator(version.model_files(), "ctranslate2", DecodeConfig(threads=1))
    translator.hypotheses(sentences[:32])
    # The server decodes with the version's options (chosen at publish), and so does this.
    in_process = [_in_process_round(translator, sentences, version.decoding) for _ in range(ROUNDS)]

    port = free_port()
    # This checkout's s2s, whichever the virtualenv has installed.
    server = subprocess.Popen([sys.executable, "-m", "s2s_cli", "serve", "--store", str(args.store), "--port",
                               str(port), "--workers", "1", "--engine-threads", "1", "--engine", "ctranslate2",
                               "--cache-size", "0", "--reload-interval", "0"],
                              cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", server)
        (worker,) = (int(pid) for pid in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split())
        pids = {"master": server.pid, "worker": worker}
        requests = _requests(args.route, sentences, pair)
        _server_round(port, pids, requests[:64])  # warm-up
        served = [_server_round(port, pids, requests) for _ in range(ROUNDS)]
    finally:
        server.terminate()
        server.wait(timeout=60)

    n = len(sentences)

    def ms(values) -> float:
        return round(statistics.median(values) / n * 1000, 3)

    path = [spent["master"] + spent["python"] - thread for (spent, _), (_, thread, _) in zip(served, in_process)]
    print(json.dumps({
        "benchmark": "request_path",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0]},
        "version": version.id,
        "decoding": options_record(version.decoding),
        "route": args.route,
        "requests_per_round": n,
        "rounds": ROUNDS,
        "server_cpu_ms_per_request": {part: ms([spent[part] for spent, _ in served])
                                      for part in ("master", "python", "ctranslate2")},
        "in_process_cpu_ms_per_sentence": {"process": ms([p for p, _, _ in in_process]),
                                           "calling_thread": ms([t for _, t, _ in in_process])},
        "path_cpu_ms_per_request": ms(path),
        "path_cpu_ms_per_request_rounds": [round(p / n * 1000, 3) for p in path],
        "c1_p50_ms_server": round(statistics.median(t for _, times in served for t in times) * 1000, 2),
        "c1_p50_ms_in_process": round(statistics.median(t for _, _, times in in_process for t in times) * 1000, 2),
        "goal": {"path_cpu_ms_per_request_at_most": GOAL_MS, "met": ms(path) <= GOAL_MS},
        **({"floor": _floor(_requests("v1", sentences, pair))} if args.floor else {}),
    }, indent=2))


if __name__ == "__main__":
    main()
