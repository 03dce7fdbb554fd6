"""Shared fixtures. The trained model is built once per session: training is the slow part."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from data_prep.demo_corpus import DemoCorpusConfig, write_demo_corpus

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

    # For quick local iterations only: S2S_TEST_DEMO=DIR keeps the demo in DIR and reuses a
    # finished one there (CI never sets it, so every CI run trains the demo afresh).
    reuse = os.environ.get("S2S_TEST_DEMO")
    workdir = Path(reuse) if reuse else tmp_path_factory.mktemp("demo")
    result_file = workdir / "demo_result.json"
    if reuse and result_file.is_file():
        return workdir, json.loads(result_file.read_text())
    result = run_demo(DemoConfig(workdir=workdir))
    result_file.write_text(json.dumps(result))
    return workdir, result


@pytest.fixture(scope="session")
def store(demo) -> Path:
    return demo[0] / "models"


def run_s2s(*args: str, input: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Runs the real `s2s` command line in a subprocess."""
    return subprocess.run([sys.executable, "-m", "s2s_cli", *args], capture_output=True, text=True,
                          input=input, timeout=timeout, cwd=REPO)
