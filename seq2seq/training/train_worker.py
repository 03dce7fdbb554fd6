"""One process of a distributed training run; torchrun starts it (see seq2seq/training/launch.py)."""
import json
import logging
import os
import sys
from pathlib import Path

from data_prep.errors import S2SError
from data_prep.exiting import exit_quickly
from seq2seq.training.launch import worker_failure_file
from seq2seq.training.stopping import TrainingInterrupted
from seq2seq.training.train import TrainConfig, failure_reason, train

logger = logging.getLogger("seq2seq.training.train_worker")


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    values = json.loads(argv[0])
    config = TrainConfig(**dict(values, prepared=Path(values["prepared"]), output=Path(values["output"]),
                                stop_file=Path(values["stop_file"]) if values["stop_file"] else None,
                                init_from=Path(values["init_from"]) if values["init_from"] else None,
                                sockeye_args=(*values["sockeye_args"], "--dist")))
    try:
        train(config)
    except TrainingInterrupted as e:
        logger.warning("%s", e)
        # Stopped as the parent asked (it reports that); a failure would make torchrun print a
        # failure report and signal the other processes.
        return 0 if config.stop_file and config.stop_file.exists() else 1
    except Exception as error:  # the parent reports it: SageMaker's failure file, the command line
        if not isinstance(error, S2SError):
            logger.exception("training failed")
        reason = failure_reason(error)
        logger.error("%s", reason)
        if config.stop_file:
            failure = worker_failure_file(config.stop_file, int(os.environ.get("LOCAL_RANK", "0")))
            failure.write_text(reason, encoding="utf-8")
        return 1
    return 0


if __name__ == "__main__":
    exit_quickly(main(sys.argv[1:]))
