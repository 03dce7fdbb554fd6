"""A server on this machine: a free loopback port, waiting for its /ping, and a JSON call to it.
Used by the demo, the benchmarks and the tests that start a real `s2s serve`."""
import json
import socket
import subprocess
import time
import urllib.request

from data_prep.errors import S2SError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_ready(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise S2SError(f"the server exited with code {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url + "/ping", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise S2SError(f"the server at {url} was not ready after {timeout:.0f} s")


def post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())
