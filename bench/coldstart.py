"""Cold start: the time from starting `s2s serve` to its first /ping 200 and to its first translation.
Prints JSON.

    .venv/bin/python bench/coldstart.py STORE [--runs 3] [--images localhost/s2s:test localhost/s2s-serve:test]

Two processes, as the two images would run them: serving on CTranslate2 alone (what a serve-only
image runs: no PyTorch or Sockeye is imported, which /proc/PID/maps confirms), and on Sockeye (what
only the full image can run, for a version without a CTranslate2 export). One worker each, the
medians of --runs starts. Goal: the first translation within 2 s of the start on CTranslate2.
With --images FULL SERVE (built by `make image`): their sizes (goal: the serve-only image at most
25% of the full one) and the same start-up times for each image's `serve` run with buildah on
STORE's default version.
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
GOAL_SIZE_RATIO = 0.25
ENGINES = ("ctranslate2", "sockeye")


def _start(store: Path, engine: str) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = subprocess.Popen([str(Path(sys.executable).parent / "s2s"), "serve", "--store", str(store),
                                "--port", str(port), "--workers", "1", "--engine", engine, "--reload-interval", "0"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        times = _first_answers(url, process, started, f"s2s serve --engine {engine}")
        workers = [p for p in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()]
        maps = "".join(Path(f"/proc/{pid}/maps").read_text() for pid in workers)
        return {**times, "torch_loaded": "libtorch" in maps}
    finally:
        process.terminate()
        process.wait(timeout=60)


def _first_answers(url: str, process: subprocess.Popen, started: float, what: str) -> dict:
    ping = translation = None
    while translation is None:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode}")
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
    return {"ping_s": ping, "first_translation_s": translation}


def _image_size(image: str) -> int:
    """The image's size in bytes, as podman reports it (buildah shares its storage)."""
    out = subprocess.run(["podman", "image", "inspect", image, "--format", "{{.Size}}"], capture_output=True,
                         text=True, check=True).stdout
    return int(out.strip())


def _start_image(image: str, store: Path) -> dict:
    """Start to first /ping and first translation of the image's `serve`, its store mounted as /opt/ml/model."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    name = subprocess.run(["buildah", "from", image], capture_output=True, text=True, check=True).stdout.strip()
    try:
        started = time.perf_counter()
        process = subprocess.Popen(["buildah", "run", "--isolation", "chroot", "--network", "host", "-v",
                                    f"{store}:/opt/ml/model:ro", "-e", f"SAGEMAKER_BIND_TO_PORT={port}",
                                    "-e", "SAGEMAKER_MODEL_SERVER_WORKERS=1", name, "--", "serve"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            return _first_answers(url, process, started, image)
        finally:
            process.terminate()
            process.wait(timeout=60)
    finally:
        subprocess.run(["buildah", "rm", name], capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path, help="a model store whose default version has a CTranslate2 export")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--images", nargs=2, metavar=("FULL", "SERVE"), help="the images `make image` built")
    args = parser.parse_args()
    results = {}
    for engine in ENGINES:
        runs = [_start(args.store, engine) for _ in range(args.runs)]
        results[engine] = {"ping_s": round(statistics.median(r["ping_s"] for r in runs), 2),
                           "first_translation_s": round(statistics.median(r["first_translation_s"] for r in runs), 2),
                           "torch_loaded": any(r["torch_loaded"] for r in runs), "runs": runs}
    ct2 = results["ctranslate2"]["first_translation_s"]
    images = "not measured: give --images FULL SERVE, which `make image` builds"
    if args.images:
        images = {}
        for label, image in zip(("full", "serve_only"), args.images):
            runs = [_start_image(image, args.store) for _ in range(args.runs)]
            images[label] = {"image": image, "bytes": _image_size(image),
                             "ping_s": round(statistics.median(r["ping_s"] for r in runs), 2),
                             "first_translation_s": round(statistics.median(r["first_translation_s"] for r in runs), 2)}
        ratio = images["serve_only"]["bytes"] / images["full"]["bytes"]
        images["serve_only_size_ratio"] = round(ratio, 3)
        images["goal"] = {"size_ratio_at_most": GOAL_SIZE_RATIO, "met": ratio <= GOAL_SIZE_RATIO}
    print(json.dumps({"benchmark": "coldstart", "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
                      "store": str(args.store), "processes": results,
                      "goal": {"first_translation_s_at_most": GOAL_FIRST_TRANSLATION_S,
                               "met": ct2 <= GOAL_FIRST_TRANSLATION_S},
                      "images": images}, indent=2))


if __name__ == "__main__":
    main()
