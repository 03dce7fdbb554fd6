"""Optional API keys for /v1/*, stored as sha256 hashes, each with its own rate limit.

Keys are 256-bit random tokens, so one round of sha256 is enough: there is nothing to
brute-force that a slow password hash would protect. The file never holds a key itself.
"""
import hashlib
import json
import math
import os
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from data_prep.errors import S2SError

# Requests per minute for a key that does not set its own.
DEFAULT_PER_MINUTE = 600
# A "translate" key may use /v1/translate and /v1/models; a "reviewer" key may also use /v1/review/*.
ROLES = ("translate", "reviewer")


@dataclass(frozen=True)
class ApiKey:
    name: str
    sha256: str
    # 0 means unlimited.
    per_minute: int = DEFAULT_PER_MINUTE
    # Key files written before roles existed hold no role: their keys translate.
    role: str = "translate"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def load_keys(path: Path) -> dict[str, ApiKey]:
    """The keys in `path`, by hash."""
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))["keys"]
        keys = [ApiKey(**entry) for entry in entries]
    except FileNotFoundError:
        raise S2SError(f"{path}: no such API key file; `s2s keys add` creates it") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise S2SError(f"{path}: not an API key file ({e}); expected "
                       '{"keys": [{"name": ..., "sha256": ..., "per_minute": ..., "role": ...}]}') from e
    for key in keys:
        if key.role not in ROLES:
            raise S2SError(f"{path}: key {key.name!r} has the unknown role {key.role!r}; "
                           f"roles are {', '.join(ROLES)}")
    return {key.sha256: key for key in keys}


def add_key(path: Path, name: str, per_minute: int = DEFAULT_PER_MINUTE, role: str = "translate") -> str:
    """Creates a key, records its hash in `path` (created if missing), and returns the key:
    the only time it is ever shown."""
    path = Path(path)
    keys = list(load_keys(path).values()) if path.exists() else []
    if any(k.name == name for k in keys):
        raise S2SError(f"{path}: a key named {name!r} exists already")
    if per_minute < 0:
        raise S2SError(f"--per-minute must be 0 (unlimited) or more, not {per_minute}")
    if role not in ROLES:
        raise S2SError(f"--role must be one of {', '.join(ROLES)}, not {role!r}")
    key = "s2s_" + secrets.token_urlsafe(32)
    keys.append(ApiKey(name, key_hash(key), per_minute, role))
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps({"keys": [asdict(k) for k in keys]}, indent=2) + "\n", encoding="utf-8")
    tmp.chmod(0o600)
    os.replace(tmp, path)
    return key


class RateLimiter:
    """A token bucket per key: `per_minute` requests a minute, in bursts of up to that many.
    State is per worker process, so with N workers a key may get up to N times its limit."""

    def __init__(self):
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: ApiKey) -> int:
        """0 if the request may go ahead (and is counted), else seconds until it may."""
        if key.per_minute == 0:
            return 0
        rate = key.per_minute / 60
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key.sha256, (float(key.per_minute), now))
            tokens = min(float(key.per_minute), tokens + (now - last) * rate)
            if tokens >= 1:
                self._buckets[key.sha256] = (tokens - 1, now)
                return 0
            self._buckets[key.sha256] = (tokens, now)
            return math.ceil((1 - tokens) / rate)
