"""Cold start: the time from starting `s2s serve` to its first /ping 200 and to its first translation.
Prints JSON.

    .venv/bin/python bench/coldstart.py STORE [--runs 3]

Two processes, as the two images would run them: serving on CTranslate2 alone (what a serve-only
image runs: no PyTorch or Sockeye is imported, which /proc/PID/maps confirms), and on Sockeye (what
only the full image can run, for a version without a CTranslate2 export). One worker each, the
medians of --runs starts. Goal: the first translation within 2 s of the start on CTranslate2.
Image sizes need the images built (`make image-test`), which this benchmark does not do.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from serve.local import free_port  # noqa: E402

GOAL_FIRST_TRANSLATION_S = 2.0
ENGINES = ("ctranslate2", "sockeye")


def _start(store: Path, engine: str) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = subprocess.Popen([str(Path(sys.executable).parent / "s2s"), "serve", "--store", str(store),
                                "--port", str(port), "--workers", "1", "--engine", engine, "--reload-interval", "0"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ping = translation = None
        while translation is None:
            if process.poll() is not None:
                raise SystemExit(f"s2s serve --engine {engine} exited with {process.returncode}")
            try:
                if ping is None and requests.get(url + "/ping", timeout=1).status_code == 200:
                    ping = time.perf_counter() - started
                if ping is not None:
                    answer = requests.post(url + "/v1/translate", json={"q": "The small dog sees a red car.",
                                                                        "source": "en", "target": "de"}, timeout=30)
                    if answer.status_code == 200:
                        translation = time.perf_counter() - started
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still loading
                time.sleep(0.02)
        workers = [p for p in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()]
        maps = "".join(Path(f"/proc/{pid}/maps").read_text() for pid in workers)
        return {"ping_s": ping, "first_translation_s": translation, "torch_loaded": "libtorch" in maps}
    finally:
        process.terminate()
        process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path, help="a model store whose default version has a CTranslate2 export")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = {}
    for engine in ENGINES:
        runs = [_start(args.store, engine) for _ in range(args.runs)]
        results[engine] = {"ping_s": round(statistics.median(r["ping_s"] for r in runs), 2),
                           "first_translation_s": round(statistics.median(r["first_translation_s"] for r in runs), 2),
                           "torch_loaded": any(r["torch_loaded"] for r in runs), "runs": runs}
    ct2 = results["ctranslate2"]["first_translation_s"]
    print(json.dumps({"benchmark": "coldstart", "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
                      "store": str(args.store), "processes": results,
                      "goal": {"first_translation_s_at_most": GOAL_FIRST_TRANSLATION_S,
                               "met": ct2 <= GOAL_FIRST_TRANSLATION_S},
                      "images": "not measured: `make image-test` builds them, with buildah"}, indent=2))


if __name__ == "__main__":
    main()
