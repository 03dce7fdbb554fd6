"""Dynamic batching: sentences from concurrent requests share the model's batches.

Each loaded version has one Batcher: request threads queue sentences and wait on futures,
and one thread takes up to `max_batch_size` sentences with the same decoding options. When
requests have been arriving less than `max_wait_ms` apart (a running average), it waits at
most that long after the oldest for the batch to fill; a request that comes alone is
translated at once. While the model is busy the queue fills by itself, so batches grow
with the load. A request that finds the model idle and nothing queued is translated on its
own thread when the engine allows it (CTranslate2), without the two hand-offs between threads.
"""
import logging
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable

from data_prep.errors import S2SError
from seq2seq.engines.translator import DecodeOptions, Hypotheses
from serve import observability
from serve.config import BatchConfig

logger = logging.getLogger(__name__)


class QueueFull(S2SError):
    """More sentences are waiting than the queue holds; the client should retry later."""


@dataclass
class _Item:
    sentence: str
    options: DecodeOptions
    future: Future
    enqueued: float


TranslateFn = Callable[[list[str], DecodeOptions], list[Hypotheses]]


class Batcher:
    def __init__(self, load: Callable[[], TranslateFn], config: BatchConfig, name: str):
        """`load` runs on the batcher's own thread and returns the function that translates a batch.
        Loading and translating on one thread matters: PyTorch's OpenMP pool belongs to the thread
        that first ran an operation, and a second thread's pool competing with it for the cores
        made single sentences 3-5x slower on 2 cores (measured: 25 ms vs 100 ms)."""
        self.config = config
        self.name = name
        self._queue: deque[_Item] = deque()
        self._ready = threading.Condition()
        self._closed = False
        # Whether the model is translating a batch, on the batcher's thread or a request's.
        self._busy = False
        # Set once loaded: whether the model may translate on a request's thread (translate_now).
        self.on_any_thread = False
        self._translate: TranslateFn | None = None
        self._loaded = threading.Event()
        self._load_error: BaseException | None = None
        # When the last request arrived, and the running average of the time between arrivals.
        self._last_arrival: float | None = None
        self._gap: float | None = None
        self._thread = threading.Thread(target=self._run, args=(load,), name=f"batcher-{name}", daemon=True)
        self._thread.start()
        self._loaded.wait()
        if self._load_error is not None:
            raise self._load_error

    def submit(self, sentences: list[str], options: DecodeOptions) -> list[Future]:
        """Queues the sentences; their futures resolve to Hypotheses. Cancelling a future drops its sentence."""
        with self._ready:
            if self._closed:
                raise QueueFull(f"version {self.name} is being unloaded")
            if len(self._queue) + len(sentences) > self.config.max_queue:
                raise QueueFull(f"the translation queue is full ({len(self._queue)} sentences waiting)")
            now = self._arrived()
            items = [_Item(s, options, Future(), now) for s in sentences]
            self._queue.extend(items)
            observability.QUEUE_DEPTH.labels(self.name).set(len(self._queue))
            self._ready.notify()
        return [item.future for item in items]

    def translate_now(self, sentences: list[str], options: DecodeOptions) -> list[Hypotheses] | None:
        """Translates on the caller's thread when the model is idle and nothing is queued, as one batch;
        None when it is not (or the engine must keep to the batcher's thread), and the caller submits.
        At one request at a time this saves the hand-off to the batcher's thread and back."""
        if not self.on_any_thread or not sentences or len(sentences) > self.config.max_batch_size:
            return None
        with self._ready:
            if self._busy or self._queue or self._closed:
                return None
            self._busy = True
            self._arrived()
        try:
            observability.BATCH_SIZE.labels(self.name).observe(len(sentences))
            return self._translate(sentences, options)
        finally:
            with self._ready:
                self._busy = False
                if self._queue or self._closed:  # the batcher's thread waits for the model to be free
                    self._ready.notify()

    def _arrived(self) -> float:
        """Notes a request's arrival (under the lock) for the running average of the gaps; returns when."""
        now = time.monotonic()
        if self._last_arrival is not None:
            gap = now - self._last_arrival
            self._gap = gap if self._gap is None else 0.75 * self._gap + 0.25 * gap
        self._last_arrival = now
        return now

    def close(self) -> None:
        """Finishes what is queued, then stops the thread, and returns when it has stopped: the
        model is freed only once the thread lets go of it."""
        with self._ready:
            self._closed = True
            self._ready.notify()
        self._thread.join()

    def _next_batch(self) -> list[_Item] | None:
        with self._ready:
            while not self._queue or self._busy:
                if self._closed and not self._queue and not self._busy:  # nor a request's thread on the model
                    return None
                self._ready.wait()
            first = self._queue[0]
            max_wait = self.config.max_wait_ms / 1000
            # Waiting for company only pays when it is coming: at one request at a time it would add
            # max_wait to every request (2 ms of the 8 ms a demo sentence took on CTranslate2).
            deadline = first.enqueued + (max_wait if self._gap is not None and self._gap < max_wait else 0)
            while (len(self._queue) < self.config.max_batch_size and not self._closed
                   and (remaining := deadline - time.monotonic()) > 0):
                self._ready.wait(remaining)
            batch, rest = [], deque()
            while self._queue and len(batch) < self.config.max_batch_size:
                item = self._queue.popleft()
                if item.options != first.options:
                    rest.append(item)
                elif item.future.set_running_or_notify_cancel():
                    batch.append(item)
            self._queue.extendleft(reversed(rest))
            observability.QUEUE_DEPTH.labels(self.name).set(len(self._queue))
            self._busy = bool(batch)
            return batch

    def _run(self, load: Callable[[], TranslateFn]) -> None:
        try:
            self._translate = load()
        except BaseException as e:  # handed to the constructor, which raises it in the loading thread
            self._load_error = e
            return
        finally:
            self._loaded.set()
        while (batch := self._next_batch()) is not None:
            if not batch:
                continue
            try:
                self._run_batch(batch)
            finally:
                with self._ready:
                    self._busy = False

    def _run_batch(self, batch: list[_Item]) -> None:
        started = time.monotonic()
        observability.BATCH_SIZE.labels(self.name).observe(len(batch))
        for item in batch:
            observability.QUEUE_WAIT.labels(self.name).observe(started - item.enqueued)
        try:
            results = self._translate([item.sentence for item in batch], batch[0].options)
        except Exception as e:  # the requests report it; the thread must live on for the next batch
            logger.exception("batch of %d sentences failed on %s", len(batch), self.name)
            for item in batch:
                item.future.set_exception(e)
            return
        for item, result in zip(batch, results):
            item.future.set_result(result)
