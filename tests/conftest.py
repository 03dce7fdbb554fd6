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
def job_corpus(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """The small corpus with 20 dev and 20 test sentences, for training jobs of a few dozen updates: such a
    model decodes every sentence to its length bound, at each checkpoint, when averaging and on three
    engines when publishing (a job took 30.5 s with 50 of each, 23.4 s with 20)."""
    return write_demo_corpus(tmp_path_factory.mktemp("job_corpus"),
                             DemoCorpusConfig(seed=7, train=2000, dev=20, test=20))


def pytest_configure(config):
    """Under pytest-xdist, each worker's torch (and the processes it starts) gets its share of the cores:
    two workers on 2 cores that each ran torch on both would spin waiting for each other's threads. On
    this 2-core machine the suite took 23.6 minutes so, 9.5 with one thread each, and 16.3 in one process.
    OMP_NUM_THREADS, when set, is kept."""
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers:
        threads = str(max(1, (os.cpu_count() or 1) // int(workers)))
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, threads)


def pytest_collection_modifyitems(config, items):
    """The demo's own module first, then the modules that don't need the demo, then those that do, and
    last those with a test marked `alone`: under pytest-xdist one worker trains the demo while the other
    works through the rest, and no `alone` test waits for the training. A module stays whole, so that
    its module-scoped fixtures are built once."""
    def module(item) -> str:
        return item.nodeid.split("::")[0]

    needs_demo = {module(item) for item in items if "demo" in getattr(item, "fixturenames", ())}
    has_alone = {module(item) for item in items if item.get_closest_marker("alone")}

    def group(item) -> int:
        name = module(item)
        return 0 if name == "tests/test_end_to_end.py" else 3 if name in has_alone else 2 if name in needs_demo else 1

    items.sort(key=group)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Under pytest-xdist, a test marked `alone` (it bounds a time, or a race that a busy machine could
    lose) runs with no other worker's test beside it: it takes a file lock exclusively that every other
    test holds shared, from its fixtures' set-up to their tear-down. A turnstile keeps the others from
    starving it."""
    shared = shared_tmp(item.config._tmp_path_factory)  # what the tmp_path_factory fixture returns
    if shared is None:
        yield
        return
    import fcntl

    with open(shared / "alone.turnstile", "a") as turnstile, open(shared / "alone.lock", "a") as lock:
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        if item.get_closest_marker("alone"):
            fcntl.flock(lock, fcntl.LOCK_EX)
            fcntl.flock(turnstile, fcntl.LOCK_UN)
        else:
            fcntl.flock(turnstile, fcntl.LOCK_UN)
            fcntl.flock(lock, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def shared_tmp(tmp_path_factory) -> Path | None:
    """Under pytest-xdist (`pytest -n 2 --dist loadscope --no-loadscope-reorder`: by module, in this
    file's order), the temporary folder of the whole run, above each worker's own: where what is built
    once for every worker lives. None in a plain pytest run."""
    return tmp_path_factory.getbasetemp().parent if os.environ.get("PYTEST_XDIST_WORKER") else None


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """The full demo run: corpus, prepare, train `tiny`, evaluate, publish, serve, translate. Read it,
    don't change it: copy what a test mutates (the run, the store)."""
    from filelock import FileLock

    from pipeline.demo import DemoConfig, run_demo

    # For quick local iterations only: S2S_TEST_DEMO=DIR keeps the demo in DIR and reuses a
    # finished one there (CI never sets it, so every CI run trains the demo afresh).
    reuse = os.environ.get("S2S_TEST_DEMO")
    # Under pytest-xdist each worker is a session of its own: the first to need the demo trains it
    # where all of them look, and the others wait for it on the lock and reuse it.
    shared = shared_tmp(tmp_path_factory)
    workdir = Path(reuse) if reuse else shared / "demo" if shared else tmp_path_factory.mktemp("demo")
    result_file = workdir / "demo_result.json"
    with FileLock(f"{workdir}.lock"):
        if not result_file.is_file():
            result_file.write_text(json.dumps(run_demo(DemoConfig(workdir=workdir))))
    return workdir, json.loads(result_file.read_text())


@pytest.fixture(scope="session")
def store(demo) -> Path:
    return demo[0] / "models"


@pytest.fixture(scope="session")
def translated(store):
    """`translated(text, engine="auto")`: what the demo's version makes of `text` sent alone, through an
    in-process app on `engine`. Tests compare the server, the command line and the pages with it, not
    with fixed German: the same recipe trains other weights on another machine (torch's CPU kernels
    differ by instruction set), and a tiny model's wording differs with them."""
    from serve.app import create_app
    from serve.config import ServeConfig

    clients = {}

    def translate(text: str, engine: str = "auto") -> str:
        if engine not in clients:
            clients[engine] = create_app(ServeConfig(store=store, engine=engine, cache_size=0)).test_client()
        response = clients[engine].post("/v1/translate", json={"q": text, "source": "en", "target": "de"})
        assert response.status_code == 200, response.json
        (translation,) = response.json["translations"]
        return translation

    return translate


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
