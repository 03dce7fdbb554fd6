"""The one exception type of the project, and the disk-full error, which can come from anywhere.

Its message names the bad input and, where there is one, the fix. CLIs print it as one
line and exit non-zero; the server turns it into a JSON error.
"""
import errno
import re
import shutil
from pathlib import Path


class S2SError(Exception):
    """A user-facing error: bad input, missing file, unknown version."""


_NO_SPACE = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "the disk quota is exceeded"}
# Some writers do not pass the system's error on: PyTorch's checkpoint writer, on a full disk,
# reports "unexpected pos 1338624 vs 1338520". Such a failure on a disk with little space left
# reads as a full disk.
_WRITE_FAILED = re.compile(r"unexpected pos|failed writing|write failed|no space left", re.IGNORECASE)
_LITTLE_SPACE_BYTES = 64 << 20


def disk_full(error: BaseException, where: Path, kept: str = "nothing half-written was kept") -> S2SError | None:
    """The one-line error for a write to `where` that failed because its disk is full, or None
    when the disk is not why it failed; `kept` says what is left. Call it before cleaning up,
    which frees space."""
    if isinstance(error, S2SError):
        return None
    reason = _NO_SPACE.get(getattr(error, "errno", None))
    if reason is None:
        if not _WRITE_FAILED.search(str(error)):
            return None
        try:
            free = shutil.disk_usage(where if where.exists() else where.parent).free
        except OSError:
            return None
        if free >= _LITTLE_SPACE_BYTES:
            return None
        reason = f"a write failed with {free:,} bytes left on the device"
    return S2SError(f"disk full: {reason} while writing {where}; free some space there or write somewhere "
                    f"else ({kept})")
