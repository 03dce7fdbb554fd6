"""Stopping a training run on SIGTERM at its next update, with a checkpoint to resume from.

SageMaker sends SIGTERM to a stopped or preempted (spot) job, and SIGKILL 120 s later.
Sockeye calls back only at checkpoints, which the `base` preset writes every 1,000 updates
(minutes apart on a GPU), so waiting for the next one could lose everything since the last.
Instead the trainer checks after every update, and on a stop it ends the run through
Sockeye's own "maximum updates reached" path, which writes a checkpoint with the whole
training state; once Sockeye has returned, the caller raises TrainingInterrupted.
"""
import contextlib
import logging
import signal
import threading
from pathlib import Path
from typing import Iterator

from data_prep.errors import S2SError

logger = logging.getLogger(__name__)


class TrainingInterrupted(S2SError):
    """Training stopped on request and saved its state; running it again resumes from there."""

    @classmethod
    def at_update(cls, update: int | None) -> "TrainingInterrupted":
        where = f" at update {update}" if update is not None else ""
        return cls(f"stopped by SIGTERM{where}, with the training state saved; run again with the same output "
                   "(`s2s train --resume`, or the same checkpoint directory on SageMaker) to continue from it")


class StopRequest:
    """Whether this run was asked to stop: by SIGTERM in this process, or by `stop_file`, which
    the parent of torchrun's workers creates (SageMaker signals only that parent)."""

    def __init__(self, stop_file: Path | None = None):
        self.stop_file = stop_file
        self._signalled = threading.Event()
        # The update at which every process agreed to stop.
        self.stopped_at: int | None = None

    def signal(self) -> None:
        self._signalled.set()

    def asked(self) -> bool:
        return self._signalled.is_set() or (self.stop_file is not None and self.stop_file.exists())

    def agreed(self, device) -> bool:
        """Whether any process was asked. Every process of a distributed run gets the same answer,
        so that all of them stop at the same update and write one consistent checkpoint."""
        import torch
        import torch.distributed as dist

        asked = self.asked()
        if dist.is_initialized():
            flag = torch.tensor([int(asked)], device=device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            asked = bool(flag.item())
        return asked

    def raise_if_stopped(self) -> None:
        """After Sockeye has returned: TrainingInterrupted if it stopped on request, raised once every
        process is here, since the first process saves the checkpoint after the others are done."""
        import torch.distributed as dist

        if self.stopped_at is None:
            return
        if dist.is_initialized():
            dist.barrier()
        raise TrainingInterrupted.at_update(self.stopped_at)


def _stoppable(trainer_class: type, stop: StopRequest) -> type:
    class StoppableTrainer(trainer_class):
        def _step(self, batch) -> bool:
            updated = super()._step(batch)
            if updated and stop.stopped_at is None and stop.agreed(self.device):
                stop.stopped_at = self.state.updates
                logger.warning("stopping at update %d; saving a checkpoint to resume from", stop.stopped_at)
                # Sockeye's loop now writes a checkpoint, with the training state, and ends.
                self.config.max_updates = self.state.updates
            return updated

    return StoppableTrainer


@contextlib.contextmanager
def stop_on_sigterm(stop_file: Path | None = None) -> Iterator[StopRequest]:
    """While inside, SIGTERM (or `stop_file` appearing) stops Sockeye's training at the next update;
    call the request's `raise_if_stopped` when Sockeye has returned."""
    from sockeye import training

    stop = StopRequest(stop_file)
    # Signals reach only the main thread; training on another thread (a test, a notebook)
    # still stops on the stop file.
    on_main_thread = threading.current_thread() is threading.main_thread()
    if on_main_thread:
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.signal())
    # Sockeye builds its trainer inside `sockeye.train.train` and has no per-update hook.
    sockeye_trainer = training.EarlyStoppingTrainer
    training.EarlyStoppingTrainer = _stoppable(sockeye_trainer, stop)
    try:
        yield stop
    finally:
        training.EarlyStoppingTrainer = sockeye_trainer
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)
