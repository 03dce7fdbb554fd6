"""Sampling live translations into the review queue (`s2s serve --review-sample RATE`).

A request only draws its sample and hands it to a queue; one background thread per worker
writes to the database. A busy or locked database therefore never delays or fails a
request: the thread waits, and past `max_pending` waiting items new samples are dropped
and logged.
"""
import logging
import queue
import random
import threading
from dataclasses import dataclass
from typing import Callable

from data_prep.errors import S2SError
from review.db import NewItem, ReviewDb

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SampleConfig:
    rate: float  # the probability that each text is queued
    max_pending: int = 10_000  # items waiting for the database, per worker


class Sampler:
    def __init__(self, db: ReviewDb, config: SampleConfig, draw: Callable[[], float] = random.random):
        self.db = db
        self.config = config
        self._draw = draw
        self._pending: queue.Queue[NewItem] = queue.Queue(config.max_pending)
        threading.Thread(target=self._write_forever, name="review-sample", daemon=True).start()

    def offer(self, texts: list[str], translations: list[str], version: str, engine: str) -> None:
        """Queues each non-blank (text, translation) with probability `rate`; never blocks."""
        for text, translation in zip(texts, translations):
            if not text.strip() or self._draw() >= self.config.rate:
                continue
            try:
                self._pending.put_nowait(NewItem(text, translation, version, engine, "sample"))
            except queue.Full:
                logger.warning("review sample dropped: %d items already wait for %s", self.config.max_pending,
                               self.db.path)

    def join(self) -> None:
        """Returns once every item offered so far is written (or dropped with a log)."""
        self._pending.join()

    def _write_forever(self) -> None:
        while True:
            batch = [self._pending.get()]
            while len(batch) < 256:
                try:
                    batch.append(self._pending.get_nowait())
                except queue.Empty:
                    break
            try:
                self.db.add(batch)
            except S2SError as e:
                logger.warning("review sample of %d texts dropped: %s", len(batch), e)
            except Exception:
                # The thread must outlive any one bad write, or sampling would stop silently.
                logger.exception("review sample of %d texts dropped", len(batch))
            finally:
                for _ in batch:
                    self._pending.task_done()
