"""Shared fixtures. The trained model is built once per session: training is the slow part."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from data_prep.demo_corpus import DemoCorpusConfig, write_demo_corpus
from serve.demo import free_port

REPO = Path(__file__).resolve().parent.parent
MULTI30K = Path(os.environ.get("S2S_MULTI30K", REPO.parent / "shared" / "data" / "multi30k"))


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """A small demo corpus, enough for data-preparation tests."""
    return write_demo_corpus(tmp_path_factory.mktemp("small_corpus"),
                             DemoCorpusConfig(seed=7, train=2000, dev=50, test=50))


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """The full demo run: corpus, prepare, train `tiny`, evaluate, publish, serve, translate."""
    from serve.demo import DemoConfig, run_demo

    workdir = tmp_path_factory.mktemp("demo")
    result = run_demo(DemoConfig(workdir=workdir))
    return workdir, result


@pytest.fixture(scope="session")
def store(demo) -> Path:
    return demo[0] / "models"


def run_s2s(*args: str, input: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Runs the real `s2s` command line in a subprocess."""
    return subprocess.run([sys.executable, "-m", "s2s_cli", *args], capture_output=True, text=True,
                          input=input, timeout=timeout, cwd=REPO)


@pytest.fixture(scope="session")
def gunicorn_server(store):
    """A real `s2s serve` (gunicorn) process on a free loopback port."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "s2s_cli", "serve", "--store", str(store),
                                "--port", str(port)], cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited during start-up"
        try:
            if requests.get(url + "/ping", timeout=2).status_code == 200:
                break
        except requests.RequestException:  # refused, or queued while the worker loads the model
            pass
        time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("the server did not become ready within 120 s")
    yield url, process
    process.terminate()
    process.wait(timeout=60)
