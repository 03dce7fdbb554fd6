"""Options that several command groups share."""
import argparse
from pathlib import Path


def add_store(p: argparse.ArgumentParser) -> None:
    from seq2seq.store import DEFAULT_STORE

    p.add_argument("--store", type=Path, default=DEFAULT_STORE,
                   help="model store directory (default: $S2S_STORE or %(default)s)")
