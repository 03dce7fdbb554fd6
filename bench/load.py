"""The load generator the server benchmarks share: client threads sending one request at a time
on keep-alive connections, with http.client (not requests: on 2 cores shared with the server,
requests' own CPU time per call held the server back; CTranslate2 at concurrency 16: 236 against
300 sentences/s)."""
import http.client
import json
import threading
import time
from typing import Callable
from urllib.parse import urlsplit

# (path, JSON body) of the i-th request, or (path, body, headers) with headers of its own; a body given as
# bytes is sent as it is (a signed request's body must be the bytes signed).
MakeRequest = Callable[[int], tuple]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def run_load(url: str, make_request: MakeRequest, concurrency: int, requests_total: int,
             time_limit_s: float) -> dict:
    """`requests_total` requests from `concurrency` client threads, or as many as `time_limit_s` allows:
    throughput and latency percentiles of those answered with a 200, and the count of the others."""
    latencies: list[float] = []
    errors = []
    next_index = iter(range(requests_total))
    lock = threading.Lock()
    deadline = time.monotonic() + time_limit_s
    host, port = urlsplit(url).hostname, urlsplit(url).port

    def client():
        connection = http.client.HTTPConnection(host, port, timeout=60)
        while time.monotonic() < deadline:
            with lock:
                i = next(next_index, None)
            if i is None:
                return
            path, body, *headers = make_request(i)
            data = body if isinstance(body, bytes) else json.dumps(body)
            start = time.perf_counter()
            try:
                connection.request("POST", path, data, headers[0] if headers else {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):  # no answer within the timeout, say
                connection.close()
                ok = False
            elapsed = time.perf_counter() - start
            with lock:
                (latencies if ok else errors).append(elapsed)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    done = len(latencies)
    return {"concurrency": concurrency, "requests": done, "errors": len(errors), "wall_s": round(wall, 2),
            "sentences_per_s": round(done / wall, 2),
            "p50_ms": round(percentile(latencies, 50) * 1000, 1) if latencies else None,
            "p95_ms": round(percentile(latencies, 95) * 1000, 1) if latencies else None,
            "p99_ms": round(percentile(latencies, 99) * 1000, 1) if latencies else None}


def save_load_plot(fig, left, right, ylabels: tuple[str, str], xlabel: str, path) -> None:
    """Finishes and saves the two panels the load benchmarks draw: throughput (left) and latency
    (right, log scale) against concurrent clients (log 2)."""
    for axis, ylabel in zip((left, right), ylabels):
        axis.set_xscale("log", base=2)
        axis.set_xlabel(xlabel)
        axis.set_ylabel(ylabel)
        axis.legend(fontsize=7)
    right.set_yscale("log")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
