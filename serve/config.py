"""The server's settings, passed to the app factory."""
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServeConfig:
    store: Path
    # The version that /invocations uses; None means the best version of the store's only pair.
    version: str | None = None
    max_payload_bytes: int = 6 * 1024 * 1024  # SageMaker's limit for /invocations
    max_items: int = 1000
    max_item_chars: int = 10_000
    # Load the default versions at start-up, so that /ping is healthy only with a model in memory.
    preload: bool = True
