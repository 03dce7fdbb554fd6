"""The batcher with a real, cheap translate function, so that batching itself is what is tested."""
import threading
import time

import pytest

from seq2seq.engines.translator import DecodeOptions, Hypotheses
from serve.batcher import Batcher, QueueFull
from serve.config import BatchConfig


class Recorder:
    """Upper-cases sentences and records the batches it was given; `gate` holds it mid-batch."""

    def __init__(self):
        self.batches: list[tuple[list[str], DecodeOptions]] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, sentences, options):
        self.gate.wait(10)
        self.batches.append((list(sentences), options))
        return [Hypotheses([s.upper()], [0.0]) for s in sentences]


def test_concurrent_submissions_share_batches_and_results_stay_in_order():
    recorder = Recorder()
    recorder.gate.clear()
    batcher = Batcher(lambda: recorder, BatchConfig(max_batch_size=4, max_wait_ms=50), "t")
    first = batcher.submit(["a"], DecodeOptions())  # taken alone while the gate is shut
    time.sleep(0.1)
    rest = batcher.submit(["b", "c", "d", "e", "f"], DecodeOptions())
    recorder.gate.set()
    assert [f.result(5).best for f in first + rest] == ["A", "B", "C", "D", "E", "F"]
    assert [batch for batch, _ in recorder.batches] == [["a"], ["b", "c", "d", "e"], ["f"]]


def test_different_options_never_share_a_batch():
    recorder = Recorder()
    recorder.gate.clear()
    batcher = Batcher(lambda: recorder, BatchConfig(max_batch_size=8, max_wait_ms=1), "t")
    batcher.submit(["x"], DecodeOptions())
    time.sleep(0.05)
    wide = batcher.submit(["a", "b"], DecodeOptions(beam_size=2))
    narrow = batcher.submit(["c"], DecodeOptions(beam_size=1))
    recorder.gate.set()
    assert [f.result(5).best for f in wide + narrow] == ["A", "B", "C"]
    assert (["a", "b"], DecodeOptions(beam_size=2)) in recorder.batches
    assert (["c"], DecodeOptions(beam_size=1)) in recorder.batches


def test_full_queue_is_refused_and_cancelled_sentences_are_dropped():
    recorder = Recorder()
    recorder.gate.clear()
    batcher = Batcher(lambda: recorder, BatchConfig(max_batch_size=1, max_wait_ms=0, max_queue=3), "t")
    batcher.submit(["busy"], DecodeOptions())
    time.sleep(0.05)  # "busy" is now being translated, the queue is empty
    waiting = batcher.submit(["a", "b", "c"], DecodeOptions())
    with pytest.raises(QueueFull, match="queue is full"):
        batcher.submit(["d"], DecodeOptions())
    waiting[1].cancel()
    recorder.gate.set()
    assert waiting[0].result(5).best == "A" and waiting[2].result(5).best == "C"
    assert ["b"] not in [batch for batch, _ in recorder.batches]


def test_a_failing_batch_fails_its_requests_and_the_batcher_lives_on():
    calls = []

    def translate(sentences, options):
        calls.append(sentences)
        if sentences == ["boom"]:
            raise RuntimeError("model exploded")
        return [Hypotheses([s], [0.0]) for s in sentences]

    batcher = Batcher(lambda: translate, BatchConfig(max_batch_size=1), "t")
    (bad,) = batcher.submit(["boom"], DecodeOptions())
    with pytest.raises(RuntimeError, match="model exploded"):
        bad.result(5)
    (good,) = batcher.submit(["fine"], DecodeOptions())
    assert good.result(5).best == "fine"


def test_a_load_failure_is_raised_to_the_caller():
    def load():
        raise OSError("params.best: no such file")

    with pytest.raises(OSError, match="params.best"):
        Batcher(load, BatchConfig(), "t")


@pytest.mark.alone  # a lone request is answered within 250 ms
def test_a_lone_request_is_not_kept_waiting_but_a_stream_of_them_is_batched():
    recorder = Recorder()
    batcher = Batcher(lambda: recorder, BatchConfig(max_batch_size=8, max_wait_ms=300), "t")
    started = time.monotonic()
    assert batcher.submit(["alone"], DecodeOptions())[0].result(5).best == "ALONE"
    assert time.monotonic() - started < 0.25  # not the 300 ms a batch may wait to fill
    # Requests arriving close together: the batcher waits for them to share a batch.
    futures = [f for s in "bcd" for f in batcher.submit([s], DecodeOptions())]
    assert [f.result(5).best for f in futures] == ["B", "C", "D"]
    assert [batch for batch, _ in recorder.batches] == [["alone"], ["b", "c", "d"]]
