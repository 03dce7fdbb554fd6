"""Options that several command groups share."""
import argparse
import os
from pathlib import Path

# Sets the default of --engine: a serving container has no other way to choose.
ENGINE_ENV = "S2S_ENGINE"


def add_store(p: argparse.ArgumentParser) -> None:
    from seq2seq.versions.store import DEFAULT_STORE

    p.add_argument("--store", type=Path, default=DEFAULT_STORE,
                   help="model store directory (default: $S2S_STORE or %(default)s)")


def add_engine(p: argparse.ArgumentParser) -> None:
    from seq2seq.engines.choice import AUTO, ENGINES

    p.add_argument("--engine", choices=ENGINES, default=os.environ.get(ENGINE_ENV, AUTO),
                   help="auto: CTranslate2 when the version has an export it can run here, else Sockeye; the "
                   f"choice and its reason are logged (default: ${ENGINE_ENV} or %(default)s)")
