"""The server's settings: one dataclass for the app, one for gunicorn, and SageMaker's variables."""
import os
from dataclasses import dataclass, field
from pathlib import Path

from data_prep.errors import S2SError
from documents.formats import DocumentLimits
from seq2seq.engines.choice import ENGINES
from seq2seq.engines.translator import DecodeConfig

MIB = 1024 * 1024
# Where worker processes keep their Prometheus metrics, so that /metrics can sum them.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# One folder per GPU that the NVIDIA driver shows.
NVIDIA_GPUS = Path("/proc/driver/nvidia/gpus")


@dataclass(frozen=True)
class BatchConfig:
    max_batch_size: int = 32
    max_wait_ms: float = 2.0
    # Sentences waiting, over all requests; past this, requests are turned away with 503.
    max_queue: int = 4096


@dataclass(frozen=True)
class ServeConfig:
    store: Path
    # The version that /invocations uses; None means the default version of the store's only pair.
    version: str | None = None
    max_payload_bytes: int = 6 * MIB  # SageMaker's own limit for /invocations
    max_items: int = 1000
    max_item_chars: int = 10_000
    max_beam_size: int = 10
    # Entries of a request's inline "glossary"; larger glossaries are imported (s2s terms import) and named.
    max_glossary_entries: int = 1000
    batching: BatchConfig = field(default_factory=BatchConfig)
    # A request still waiting for its translations after this many seconds gets a 503.
    request_timeout_s: float = 60.0
    # Translations remembered per worker; 0 turns the cache off.
    cache_size: int = 10_000
    # auto, ctranslate2 or sockeye (seq2seq/engines/choice.py).
    engine: str = "auto"
    # Quantise the served models to int8 (CPU only): CTranslate2's int8, or Sockeye's.
    int8: bool = False
    # CTranslate2's threads per translation; 0 shares the cores among the workers (engine_threads).
    threads: int = 0
    # How often the store is checked for new versions and promotions; 0 turns hot reload off.
    reload_interval_s: float = 2.0
    # A loaded version that is no longer a default is unloaded after answering nothing this long;
    # a request that pins it loads it again. 0 keeps every version loaded.
    unload_after_s: float = 60.0
    # A JSON file of hashed API keys; when set, /v1/* requires a key.
    api_keys: Path | None = None
    # Load the default versions at start-up, so that /readyz and /ping succeed only with models in memory.
    preload: bool = True
    # The translation page at `/` (serve/page.py); off for an API-only server, such as a SageMaker endpoint
    # that no person browses.
    page: bool = True
    # The review database (review/db.py); when set, reviewer keys may use /review and /v1/review/*.
    review_db: Path | None = None
    # The share of successful /v1/translate texts queued for review (0 turns sampling off). Client
    # text is then kept on disk: see README, "s2s review", on privacy.
    review_sample: float = 0.0
    # Documents (/v1/documents, LibreTranslate's /translate_file, Amazon's TranslateDocument): their limits.
    documents: DocumentLimits = field(default_factory=DocumentLimits)
    # Where LibreTranslate's /translate_file keeps translated files for download (None: a temporary
    # directory), and for how long.
    files_dir: Path | None = None
    files_keep_s: float = 600.0

    def decode_config(self) -> DecodeConfig:
        return DecodeConfig(batch_size=self.batching.max_batch_size, dtype="int8" if self.int8 else "float32",
                            threads=self.threads)

    def __post_init__(self):
        if self.engine not in ENGINES:
            raise S2SError(f"unknown engine {self.engine!r}; choose one of: {', '.join(ENGINES)}")
        if self.batching.max_queue < self.max_items:
            raise S2SError(f"the queue ({self.batching.max_queue} sentences) must hold at least one "
                           f"request's {self.max_items} items")
        if self.review_db and not self.api_keys:
            raise S2SError("--review-db needs --api-keys: reviewers are known by their keys (s2s keys add NAME "
                           "--role reviewer)")
        if not 0 <= self.review_sample <= 1:
            raise S2SError(f"--review-sample must be between 0 (off) and 1, not {self.review_sample}")
        if self.review_sample and not self.review_db:
            raise S2SError("--review-sample needs --review-db: the file that sampled requests are queued in")
        for name in ("max_payload_bytes", "max_items", "max_item_chars", "max_beam_size", "max_glossary_entries"):
            if getattr(self, name) < 1:
                raise S2SError(f"{name} must be at least 1, not {getattr(self, name)}")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise S2SError(f"environment variable {name}={value!r} is not a whole number") from None


def gpu_count() -> int:
    """The NVIDIA GPUs this machine shows, read from the driver's /proc files: the server's master
    process must not initialise CUDA, which a process forked after that cannot use."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return 0
    try:
        return sum(1 for _ in NVIDIA_GPUS.iterdir())
    except OSError:
        return 0


def default_workers() -> int:
    """One worker on a GPU machine, where a worker decodes on the GPU; else one per core, each
    decoding with one thread (engine_threads). On 2 cores, 2 workers of one thread each answered
    twice the requests of 1 worker with 2 threads at concurrency 16 (CTranslate2: 409 against 209
    a second; Sockeye: 135 against 90): a worker's Python runs on one core at a time (the GIL), and
    CTranslate2's OpenMP threads spin between steps, spending 15 ms of CPU per single-sentence
    request against 6 with one thread. The SageMaker SDK documents the same default: one worker
    per vCPU."""
    return 1 if gpu_count() else os.cpu_count() or 1


@dataclass(frozen=True)
class ServerConfig:
    """gunicorn's side: where to listen, how many processes and threads, and how long to wait."""
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = field(default_factory=default_workers)
    # Threads per worker wait on the batcher, so more threads mean larger batches, not more CPU.
    threads: int = 64
    # gunicorn restarts a worker whose main loop is silent this long. gthread's loop beats while
    # requests run on other threads, so this is not the request timeout (ServeConfig has that).
    timeout_s: int = 60
    # SIGTERM: stop accepting, and give requests in flight this long to finish.
    graceful_timeout_s: int = 25
    # An idle keep-alive connection is closed after this long (gunicorn's default).
    keepalive_s: int = 2


def engine_threads(workers: int) -> int:
    """The decoder's threads per worker (CTranslate2's, or PyTorch's for Sockeye on the CPU): the
    cores shared among the workers, so that N workers decoding at once do not oversubscribe the
    machine."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def sagemaker_defaults() -> dict:
    """Defaults that SageMaker sets through the environment of a serving container."""
    return {
        "port": _env_int("SAGEMAKER_BIND_TO_PORT", ServerConfig.port),
        "workers": _env_int("SAGEMAKER_MODEL_SERVER_WORKERS", default_workers()),
        "timeout": _env_int("SAGEMAKER_MODEL_SERVER_TIMEOUT", int(ServeConfig.request_timeout_s)),
        "max_payload_mb": _env_int("SAGEMAKER_MAX_PAYLOAD_IN_MB", ServeConfig.max_payload_bytes // MIB),
    }
