"""Sockeye reconfigures the root logger whenever it starts (and sends it to a file only when
told to be quiet); this puts the caller's logging back afterwards."""
import contextlib
import logging
from typing import Iterator


@contextlib.contextmanager
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
