"""Following a SageMaker resource until it is done: its status reported as it changes, a failure an error
with SageMaker's reason."""
import time
from typing import Callable

from data_prep.errors import S2SError


def follow(describe: Callable[[], dict], status_key: str, done: str, failed: tuple[str, ...], what: str,
           report: Callable[[str], None], poll_s: float) -> dict:
    """Calls `describe` every `poll_s` seconds until its `status_key` is `done` (returns the description) or one of
    `failed` (raises, naming `what`)."""
    last = None
    while True:
        description = describe()
        status = description[status_key]
        if status != last:
            report(f"{what.split()[-1]}: {status}")
            last = status
        if status == done:
            return description
        if status in failed:
            raise S2SError(f"{what} {status}: {description.get('FailureReason', 'no reason given')}")
        time.sleep(poll_s)
