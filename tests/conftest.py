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
    from pipeline.demo import DemoConfig, run_demo

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


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    """A moto server on a loopback port: real HTTP, the AWS APIs boto3 speaks, no AWS account."""
    from serve.local import free_port

    port = free_port()
    # Its recorder writes `moto_recording` into the working directory: keep that out of the checkout.
    process = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               cwd=tmp_path_factory.mktemp("moto"))
    url = f"http://127.0.0.1:{port}"
    import time
    import urllib.request

    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture
def aws_env(moto_server, monkeypatch):
    """boto3 pointed at the moto server, with made-up credentials."""
    # The SDK checks a role's permissions with IAM's policy simulator, which moto lacks.
    for key, value in {"AWS_ENDPOINT_URL": moto_server, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                       "SAGEMAKER_VALIDATE_ROLE": "false"}.items():
        monkeypatch.setenv(key, value)
    return moto_server


@pytest.fixture
def aws_requests(aws_env):
    """The requests the moto server receives from now on, as AWS would: `calls("SageMaker.CreateTrainingJob")`
    returns the JSON bodies of that action, in order."""
    import base64
    import urllib.request

    def post(path: str) -> None:
        urllib.request.urlopen(urllib.request.Request(aws_env + path, method="POST"), timeout=10)

    post("/moto-api/recorder/reset-recording")
    post("/moto-api/recorder/start-recording")

    def calls(target: str) -> list[dict]:
        text = urllib.request.urlopen(aws_env + "/moto-api/recorder/download-recording", timeout=10).read().decode()
        found = []
        for line in text.splitlines():
            record = json.loads(line)
            if record["headers"].get("X-Amz-Target") == target:
                body = base64.b64decode(record["body"]) if record.get("body_encoded") else record["body"]
                found.append(json.loads(body))
        return found

    yield calls
    post("/moto-api/recorder/stop-recording")
