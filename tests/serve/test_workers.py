"""A worker process that dies (SIGKILL) while requests are in flight: gunicorn replaces it, the
other workers go on answering, and the dead one's clients get an error rather than a hang."""
import subprocess
import threading
import time

import pytest
import requests

from tests.serve.test_gunicorn import APPLES, serving

# They time a replacement worker: no other test beside them under pytest-xdist.
pytestmark = pytest.mark.alone

# Seconds within which a replacement worker must be answering; measured: about 2 s here.
RECOVERY_BOUND_S = 30


def _workers(master: int) -> set[int]:
    return {int(pid) for pid in subprocess.run(["pgrep", "-P", str(master)], capture_output=True,
                                               text=True).stdout.split()}


def _answered_by(url: str, pids: set[int], deadline: float) -> float:
    """Polls /healthz until one of `pids` answers (and /ping is 200); returns when."""
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/healthz", timeout=2).json()["pid"] in pids and \
                    requests.get(url + "/ping", timeout=2).status_code == 200:
                return time.monotonic()
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise AssertionError(f"no replacement worker answered within {RECOVERY_BOUND_S} s")


def test_a_killed_worker_is_replaced_and_only_its_own_clients_see_an_error(store):
    with serving(store, "--workers", "2", "--cache-size", "0") as server:
        first = _workers(server.process.pid)
        assert len(first) == 2
        outcomes, stop = [], threading.Event()

        def client():
            while not stop.is_set():
                started = time.monotonic()
                try:
                    answer = requests.post(server.url + "/v1/translate", timeout=30,
                                           json={"q": [APPLES] * 20, "source": "en", "target": "de"})
                    outcomes.append((started, "ok" if answer.status_code == 200 else f"http {answer.status_code}"))
                except requests.Timeout:
                    outcomes.append((started, "hang"))
                except requests.ConnectionError:
                    outcomes.append((started, "connection error"))

        clients = [threading.Thread(target=client) for _ in range(8)]
        for thread in clients:
            thread.start()
        time.sleep(2)
        victim = min(first)
        killed = time.monotonic()
        subprocess.run(["kill", "-KILL", str(victim)], check=True)
        deadline = killed + RECOVERY_BOUND_S
        while not (replacement := _workers(server.process.pid) - first) and time.monotonic() < deadline:
            time.sleep(0.05)
        recovered = _answered_by(server.url, replacement, deadline)
        time.sleep(1)
        stop.set()
        for thread in clients:
            thread.join()
    print(f"replacement worker answering {recovered - killed:.2f} s after the kill")
    assert recovered - killed < RECOVERY_BOUND_S
    kinds = {kind for _, kind in outcomes}
    assert "hang" not in kinds and kinds <= {"ok", "connection error"}
    # The surviving worker went on answering while the other was down and being replaced.
    assert any(kind == "ok" for started, kind in outcomes if killed < started < recovered)
    assert [kind for started, kind in outcomes if started > recovered] and \
        all(kind == "ok" for started, kind in outcomes if started > recovered + 0.5)


def test_the_only_worker_killed_is_replaced_and_ping_recovers(store):
    with serving(store, "--cache-size", "0") as server:
        (worker,) = _workers(server.process.pid)
        killed = time.monotonic()
        subprocess.run(["kill", "-KILL", str(worker)], check=True)
        deadline = killed + RECOVERY_BOUND_S
        while not (replacement := _workers(server.process.pid) - {worker}) and time.monotonic() < deadline:
            time.sleep(0.05)
        recovered = _answered_by(server.url, replacement, deadline)
    print(f"/ping 200 again {recovered - killed:.2f} s after the only worker was killed")
    assert recovered - killed < RECOVERY_BOUND_S
