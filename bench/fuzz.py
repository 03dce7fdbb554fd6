"""Fuzz the real server's HTTP surface with many more requests than `make test` sends. Prints JSON.

    .venv/bin/python bench/fuzz.py STORE [--examples 20000] [--engine ctranslate2] [--seed 1]

Starts `s2s serve` on STORE and sends the malformed (and valid) requests of
tests/serve/strategies.py: arbitrary bytes, arbitrary and deeply nested JSON, huge numbers,
every escape sequence (lone surrogates included), wrong types in every field, every content
type, to every route that takes a body (this project's, LibreTranslate's and Amazon Translate's),
on a copy of STORE. Reports the answers by status code, the 5xx answers
(the goal is none), the slowest answer, requests that got no answer within 90 s, and whether
the server still translated afterwards.
"""
import argparse
import collections
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import requests
from hypothesis import HealthCheck, Phase, given, seed, settings

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.serve.strategies import http_request, requests_  # noqa: E402
from tests.serve.test_gunicorn import GOOD, serving  # noqa: E402

# Longer than the server's own request timeout (60 s, answered 503), so that no answer means a
# hang, not a slow translation of a large body on a busy machine.
CLIENT_TIMEOUT_S = 90


def _copy(store: Path, scratch: Path) -> Path:
    copy = scratch / "store"
    shutil.copytree(store, copy)
    return copy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path)
    parser.add_argument("--examples", type=int, default=20_000)
    parser.add_argument("--engine", default="ctranslate2")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    statuses, server_errors, no_answer = collections.Counter(), [], []
    slowest = (0.0, None)

    # Amazon's ImportTerminology writes what it is sent into the store it serves: a copy of STORE.
    with tempfile.TemporaryDirectory() as scratch, \
            serving(_copy(args.store, Path(scratch)), "--engine", args.engine, "--max-payload-mb", "1") as server:
        @seed(args.seed)
        @settings(max_examples=args.examples, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(requests_)
        def send(request):
            nonlocal slowest
            route, content_type, body = request
            path, headers = http_request(route, content_type)
            started = time.perf_counter()
            try:
                response = requests.post(server.url + path, data=body, timeout=CLIENT_TIMEOUT_S, headers=headers)
            except requests.RequestException as e:
                no_answer.append({"route": route, "content_type": content_type, "bytes": len(body),
                                  "body": repr(body[:200]), "error": str(e)[:200]})
                return
            elapsed = time.perf_counter() - started
            statuses[response.status_code] += 1
            slowest = max(slowest, (elapsed, f"{route} {content_type} {body[:80]!r}"))
            if response.status_code >= 500:
                server_errors.append({"route": route, "content_type": content_type, "body": repr(body[:200]),
                                      "answer": response.text[:300]})

        started = time.perf_counter()
        send()
        wall = time.perf_counter() - started
        still_serving = requests.post(server.url + "/v1/translate", json=GOOD, timeout=30).status_code == 200
    print(json.dumps({
        "benchmark": "fuzz", "engine": args.engine, "seed": args.seed, "requests": sum(statuses.values()),
        "wall_s": round(wall, 1), "by_status": dict(sorted(statuses.items())), "5xx": len(server_errors),
        f"no_answer_within_{CLIENT_TIMEOUT_S}_s": len(no_answer), "slowest_s": round(slowest[0], 3), "slowest_request": slowest[1],
        "still_serving": still_serving, "5xx_examples": server_errors[:10], "no_answer_examples": no_answer[:10],
    }, indent=2))


if __name__ == "__main__":
    main()
