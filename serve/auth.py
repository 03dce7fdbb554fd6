"""Optional API keys, each with its own rate limit: bearer keys for /v1/* and LibreTranslate's API,
stored as sha256 hashes, and SigV4 keys for Amazon Translate's API, stored whole.

Bearer keys are 256-bit random tokens, so one round of sha256 is enough: there is nothing to
brute-force that a slow password hash would protect, and the file never holds such a key itself.
A SigV4 key (an access key id and a secret) cannot be kept that way: verifying a signature means
computing it, which takes the secret. So the file keeps SigV4 secrets in plain form, and is written
readable by its owner alone (0600), as AWS's own ~/.aws/credentials is.
"""
import hashlib
import json
import math
import os
import secrets
import string
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from data_prep.errors import S2SError

# Requests per minute for a key that does not set its own.
DEFAULT_PER_MINUTE = 600
# A "translate" key may use /v1/translate and /v1/models; a "reviewer" key may also use /v1/review/*.
ROLES = ("translate", "reviewer")
ACCESS_KEY_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class ApiKey:
    name: str
    # A bearer key's sha256; empty for a SigV4 key.
    sha256: str
    # 0 means unlimited.
    per_minute: int = DEFAULT_PER_MINUTE
    # Key files written before roles existed hold no role: their keys translate.
    role: str = "translate"
    # A SigV4 key's access key id and secret (Amazon Translate's API); empty for a bearer key.
    access_key_id: str = ""
    secret: str = ""


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def load_keys(path: Path) -> dict[str, ApiKey]:
    """The bearer keys in `path`, by hash."""
    return {key.sha256: key for key in read_key_file(path) if not key.access_key_id}


def sigv4_keys(keys: list[ApiKey]) -> dict[str, ApiKey]:
    """The SigV4 keys among `keys`, by access key id."""
    return {key.access_key_id: key for key in keys if key.access_key_id}


def read_key_file(path: Path) -> list[ApiKey]:
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
        if not key.sha256 and not (key.access_key_id and key.secret):
            raise S2SError(f"{path}: key {key.name!r} has neither a sha256 nor an access key id and secret")
    return keys


def add_key(path: Path, name: str, per_minute: int = DEFAULT_PER_MINUTE, role: str = "translate") -> str:
    """Creates a bearer key, records its hash in `path` (created if missing), and returns the key:
    the only time it is ever shown."""
    key = "s2s_" + secrets.token_urlsafe(32)
    _add(path, ApiKey(name, key_hash(key), per_minute, role))
    return key


def add_sigv4_key(path: Path, name: str, per_minute: int = DEFAULT_PER_MINUTE,
                  role: str = "translate") -> tuple[str, str]:
    """Creates a SigV4 key for Amazon Translate's API, records it in `path`, and returns its access key id
    and secret."""
    # AWS's shapes: a 20-character access key id of capitals and digits, and a 40-character secret.
    access_key_id = "S2S" + "".join(secrets.choice(ACCESS_KEY_ALPHABET) for _ in range(17))
    secret = secrets.token_urlsafe(30)
    _add(path, ApiKey(name, "", per_minute, role, access_key_id, secret))
    return access_key_id, secret


def _add(path: Path, new: ApiKey) -> None:
    path = Path(path)
    keys = read_key_file(path) if path.exists() else []
    if any(k.name == new.name for k in keys):
        raise S2SError(f"{path}: a key named {new.name!r} exists already")
    if new.per_minute < 0:
        raise S2SError(f"--per-minute must be 0 (unlimited) or more, not {new.per_minute}")
    if new.role not in ROLES:
        raise S2SError(f"--role must be one of {', '.join(ROLES)}, not {new.role!r}")
    keys.append(new)
    # Written owner-only from the first byte: the file may hold SigV4 secrets.
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps({"keys": [_entry(k) for k in keys]}, indent=2) + "\n")
    os.replace(tmp, path)


def _entry(key: ApiKey) -> dict:
    # A bearer key's entry stays as it was before SigV4 keys existed.
    return {name: value for name, value in asdict(key).items() if value or name not in ("access_key_id", "secret")}


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
            tokens, last = self._buckets.get(key.name, (float(key.per_minute), now))
            tokens = min(float(key.per_minute), tokens + (now - last) * rate)
            if tokens >= 1:
                self._buckets[key.name] = (tokens - 1, now)
                return 0
            self._buckets[key.name] = (tokens, now)
            return math.ceil((1 - tokens) / rate)
