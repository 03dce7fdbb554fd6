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


class ThreadRecorder(Recorder):
    """Also records the thread of each batch, and fails if two batches ever overlap."""

    def __init__(self):
        super().__init__()
        self.threads: list[int] = []
        self._running = threading.Lock()

    def __call__(self, sentences, options):
        assert self._running.acquire(blocking=False), "two batches on the model at once"
        try:
            self.threads.append(threading.get_ident())
            return super().__call__(sentences, options)
        finally:
            self._running.release()


def test_an_idle_model_translates_on_the_requests_own_thread_when_the_engine_allows():
    recorder = ThreadRecorder()
    batcher = Batcher(lambda: recorder, BatchConfig(max_batch_size=4), "t")
    assert batcher.translate_now(["a"], DecodeOptions()) is None  # Sockeye's case: the batcher's thread only
    batcher.on_any_thread = True
    assert [h.best for h in batcher.translate_now(["a", "b"], DecodeOptions())] == ["A", "B"]
    assert recorder.threads[-1] == threading.get_ident()
    # More than a batch holds goes through the batcher, which splits it.
    assert batcher.translate_now(list("abcde"), DecodeOptions()) is None


def test_a_busy_model_sends_requests_to_the_queue_and_the_batches_never_overlap():
    recorder = ThreadRecorder()
    batcher = Batcher(lambda: recorder, BatchConfig(max_batch_size=4, max_wait_ms=0), "t")
    batcher.on_any_thread = True
    recorder.gate.clear()
    # A request's thread holds the model ...
    inline = threading.Thread(target=lambda: batcher.translate_now(["x"], DecodeOptions()), daemon=True)
    inline.start()
    time.sleep(0.1)
    # ... so others queue, and the batcher takes them once the model is free, in one batch.
    assert batcher.translate_now(["y"], DecodeOptions()) is None
    queued = batcher.submit(["y", "z"], DecodeOptions())
    time.sleep(0.1)
    assert [batch for batch, _ in recorder.batches] == []
    recorder.gate.set()
    inline.join(5)
    assert [f.result(5).best for f in queued] == ["Y", "Z"]
    assert [batch for batch, _ in recorder.batches] == [["x"], ["y", "z"]]
    assert recorder.threads[0] == inline.ident and recorder.threads[1] == batcher._thread.ident


def test_closing_waits_for_a_translation_on_a_requests_thread():
    recorder = ThreadRecorder()
    batcher = Batcher(lambda: recorder, BatchConfig(), "t")
    batcher.on_any_thread = True
    recorder.gate.clear()
    results = []
    # Daemons: should the batcher fail to let go, the test fails and the run still ends.
    inline = threading.Thread(target=lambda: results.append(batcher.translate_now(["x"], DecodeOptions())),
                              daemon=True)
    inline.start()
    time.sleep(0.1)
    closer = threading.Thread(target=batcher.close, daemon=True)
    closer.start()
    closer.join(0.3)
    assert closer.is_alive()  # the model is still in use
    assert batcher.translate_now(["y"], DecodeOptions()) is None
    recorder.gate.set()
    closer.join(5)
    inline.join(5)
    assert not closer.is_alive() and [h.best for h in results[0]] == ["X"]
