"""One process of a distributed training run; torchrun starts it (see seq2seq/launch.py)."""
import json
import logging
import sys
from pathlib import Path

from seq2seq.train import TrainConfig, train


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    values = json.loads(argv[0])
    config = TrainConfig(**dict(values, prepared=Path(values["prepared"]), output=Path(values["output"]),
                                sockeye_args=(*values["sockeye_args"], "--dist")))
    train(config)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
