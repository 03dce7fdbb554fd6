"""Prometheus metrics and structured access logs.

Under gunicorn each worker is a process, so the server sets PROMETHEUS_MULTIPROC_DIR before
the workers start and /metrics sums what every worker has recorded.
"""
import json
import logging
import os
import time

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram,
                               generate_latest, multiprocess)

from serve.config import MULTIPROC_ENV

REQUESTS = Counter("s2s_requests", "HTTP requests by route, status and model version",
                   ["route", "status", "version"])
LATENCY = Histogram("s2s_request_seconds", "Time to answer a request", ["route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
BATCH_SIZE = Histogram("s2s_batch_sentences", "Sentences per model batch", ["version"],
                       buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))
QUEUE_WAIT = Histogram("s2s_queue_wait_seconds", "Time a sentence waits for its batch", ["version"],
                       buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
QUEUE_DEPTH = Gauge("s2s_queue_depth", "Sentences waiting for a batch", ["version"], multiprocess_mode="livesum")
CACHE = Counter("s2s_cache_lookups", "Translation cache lookups by result (hit or miss)", ["result"])
REFUSED = Counter("s2s_versions_refused", "Versions refused because their files failed their sha256")

access_logger = logging.getLogger("s2s.access")


def exposition() -> tuple[bytes, str]:
    """The metrics page, summed over worker processes when there are several."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


def log_access(**fields) -> None:
    """One JSON object per request, for log pipelines to parse without regexes."""
    access_logger.info(json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **fields}, ensure_ascii=False))


def send_access_log_to(stream) -> None:
    """Access records go to `stream` as bare JSON lines, apart from the server's other logs."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_logger.addHandler(handler)
    access_logger.setLevel(logging.INFO)
    access_logger.propagate = False
