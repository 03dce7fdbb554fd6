"""The server as users run it: a real `s2s serve` gunicorn process on a loopback port."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
import requests

from data_prep.errors import S2SError
from serve.local import free_port, wait_until_ready
from tests.conftest import REPO
from tests.serve.test_app import APPLES, DOG, _copy_version


class Server:
    """A running `s2s serve`: its URL, its process, and what it has printed so far (read as it
    comes, so that a full pipe can never stall the server)."""

    def __init__(self, url: str, process: subprocess.Popen):
        self.url, self.process = url, process
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [threading.Thread(target=self._drain, args=(pipe, lines), daemon=True)
                         for pipe, lines in ((process.stdout, self.stdout), (process.stderr, self.stderr))]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _drain(pipe, lines: list[str]) -> None:
        for line in pipe:
            lines.append(line)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=60)
        for reader in self._readers:
            reader.join(timeout=10)


@contextmanager
def serving(store, *options: str, env: dict | None = None, port: int | None = None):
    port = port or free_port()
    # One worker unless a test asks for more: the default, one per core, depends on the machine.
    if "--workers" not in options and "SAGEMAKER_MODEL_SERVER_WORKERS" not in (env or {}):
        options = ("--workers", "1", *options)
    process = subprocess.Popen([sys.executable, "-m", "s2s_cli", "serve", "--store", str(store), *options]
                               + ([] if env and "SAGEMAKER_BIND_TO_PORT" in env else ["--port", str(port)]),
                               cwd=REPO, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    server = Server(f"http://127.0.0.1:{port}", process)
    try:
        try:
            wait_until_ready(server.url, process)
        except S2SError as e:
            raise AssertionError(f"{e}; the server's log ends:\n{''.join(server.stderr[-40:])}") from e
        yield server
    finally:
        server.stop()


def _translate(url, q, **fields):
    return requests.post(url + "/v1/translate", json={"q": q, "source": "en", "target": "de", **fields}, timeout=60)


@pytest.mark.parametrize("engine", ["ctranslate2", "sockeye"])
def test_concurrent_clients_each_get_their_own_translation(demo, store, engine):
    # Distinct inputs from the demo's test set, and what each translates to when sent alone.
    sources = (demo[0] / "corpus" / "test.en").read_text(encoding="utf-8").splitlines()[:48]
    with serving(store, "--cache-size", "0", "--max-wait-ms", "20", "--engine", engine) as server:
        url = server.url
        alone = {s: _translate(url, s).json()["translations"][0] for s in sources[:24]}
        requests_ = [[sources[i], sources[(i + 7) % 24]] for i in range(24)] * 2
        with ThreadPoolExecutor(32) as pool:
            answers = list(pool.map(lambda q: _translate(url, q), requests_))
        assert all(a.status_code == 200 for a in answers)
        for q, answer in zip(requests_, answers):
            assert answer.json()["translations"] == [alone[s] for s in q]
        metrics = requests.get(url + "/metrics", timeout=5).text
        # Requests were merged: some batch held more than one sentence.
        assert any(line.startswith("s2s_batch_sentences_bucket") and 'le="1.0"' not in line
                   and float(line.split()[-1]) > 0 for line in metrics.splitlines())
        buckets = {line.split('le="')[1].split('"')[0]: float(line.split()[-1])
                   for line in metrics.splitlines() if line.startswith("s2s_batch_sentences_bucket")}
        assert buckets["1.0"] < buckets["+Inf"]


def test_hot_reload_under_load_loses_no_request(store, tmp_path, translated):
    (original,) = [p for p in store.iterdir() if (p / "version.json").is_file()]
    copy = tmp_path / "store"
    copy.mkdir()
    bleu = json.loads((original / "version.json").read_text())["test"]["bleu"]
    _copy_version(original, copy, original.name, bleu)
    dog = translated(DOG)
    with serving(copy, "--reload-interval", "0.2", "--cache-size", "0") as server:
        url = server.url
        statuses, versions = [], set()
        stop = threading.Event()

        def client():
            session = requests.Session()
            while not stop.is_set():
                response = session.post(url + "/v1/translate", json={"q": DOG, "source": "en", "target": "de"},
                                        timeout=60)
                statuses.append(response.status_code)
                if response.status_code == 200:
                    versions.add(response.json()["version"])
                    assert response.json()["translations"] == [dog]

        threads = [threading.Thread(target=client) for _ in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(1)
        _copy_version(original, copy, "en-de-newer", bleu + 1)
        deadline = time.monotonic() + 30
        while "en-de-newer" not in versions and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join()
    assert versions == {original.name, "en-de-newer"}
    assert len(statuses) > 20 and set(statuses) == {200}


@pytest.fixture(scope="module")
def limited_server(store, tmp_path_factory):
    from serve.auth import add_key

    keys = tmp_path_factory.mktemp("keys") / "keys.json"
    key = add_key(keys, "ci", per_minute=1000)
    slow = add_key(keys, "slow", per_minute=1)
    with serving(store, "--max-items", "4", "--max-item-chars", "200", "--max-payload-mb", "0.01",
                 "--api-keys", str(keys), "--max-batch-size", "1", "--max-queue", "4") as server:
        yield server.url, server.process, key, slow


def _request(url, key, body=None, content_type="application/json", path="/v1/translate", headers=None):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return requests.post(url + path, data=data, timeout=60,
                         headers={"Content-Type": content_type, "X-API-Key": key, **(headers or {})})


GOOD = {"q": DOG, "source": "en", "target": "de"}


@pytest.mark.parametrize("body,content_type,path,status,message", [
    ("{", "application/json", "/v1/translate", 400, "not valid JSON"),
    ({"q": [1], "source": "en", "target": "de"}, "application/json", "/v1/translate", 400, "q[0] must be a string"),
    (dict(GOOD, version="en-de-none"), "application/json", "/v1/translate", 404, "unknown version"),
    (dict(GOOD, source="fr"), "application/json", "/v1/translate", 404, "no version translates fr->de"),
    ({"q": ["a"] * 5, "source": "en", "target": "de"}, "application/json", "/v1/translate", 413, "at most 4"),
    ({"q": "a" * 201, "source": "en", "target": "de"}, "application/json", "/v1/translate", 413, "at most 200"),
    ("x" * 20000, "text/plain", "/invocations", 413, "payload larger than 10485 bytes"),
    ("q=a", "application/x-www-form-urlencoded", "/v1/translate", 415, "expected Content-Type"),
    ("<a/>", "application/xml", "/invocations", 415, "unsupported Content-Type"),
    (dict(GOOD, beam_size=99), "application/json", "/v1/translate", 400, "'beam_size' must be between 1 and 10"),
])
def test_every_limit_and_error_returns_its_code(limited_server, body, content_type, path, status, message):
    url, process, key, _ = limited_server
    response = _request(url, key, body, content_type, path)
    assert response.status_code == status
    assert message in response.json()["error"]["message"]
    assert "Traceback" not in response.text
    assert process.poll() is None


def test_keys_rate_limits_and_a_full_queue_over_http(limited_server, translated):
    url, _, key, slow = limited_server
    assert _request(url, "", GOOD).status_code == 401
    assert _request(url, "s2s_not_a_key", GOOD).status_code == 401
    assert _request(url, slow, GOOD).status_code == 200
    limited = _request(url, slow, GOOD)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert requests.get(url + "/ping", timeout=5).status_code == 200  # SageMaker's routes need no key
    # 24 clients with 4 sentences each against a queue of 4, translated one at a time: some are turned away.
    with ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(lambda _: _request(url, key, {"q": [APPLES] * 4, "source": "en", "target": "de"}),
                                range(24)))
    codes = [a.status_code for a in answers]
    assert set(codes) <= {200, 503} and 503 in codes and 200 in codes
    full = next(a for a in answers if a.status_code == 503)
    assert full.headers["Retry-After"] == "1" and "queue is full" in full.json()["error"]["message"]
    ok = next(a for a in answers if a.status_code == 200)
    assert ok.json()["translations"] == [translated(APPLES)] * 4


def test_sagemaker_environment_and_access_log(store, translated):
    port = free_port()
    env = {"SAGEMAKER_BIND_TO_PORT": str(port), "SAGEMAKER_MODEL_SERVER_WORKERS": "2",
           "SAGEMAKER_MAX_PAYLOAD_IN_MB": "1", "SAGEMAKER_MODEL_SERVER_TIMEOUT": "1"}
    with serving(store, "--max-batch-size", "1", "--cache-size", "0", env=env, port=port) as server:
        url = server.url
        assert requests.get(url + "/execution-parameters", timeout=5).json() == {
            "MaxConcurrentTransforms": 2, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": 1}
        too_big = requests.post(url + "/invocations", data="a" * (1024 * 1024 + 1), timeout=10,
                                headers={"Content-Type": "text/plain"})
        assert too_big.status_code == 413
        # 1,000 long sentences one at a time take many seconds on either engine, longer than the 1 s timeout.
        long = " and ".join([APPLES.rstrip(".")] * 6) + "."
        slow = requests.post(url + "/invocations", data=(long + "\n") * 1000, timeout=60,
                             headers={"Content-Type": "text/plain"})
        assert slow.status_code == 503 and "did not finish within 1 s" in slow.json()["error"]["message"]
        for _ in range(4):
            ok = requests.post(url + "/invocations", json={"instances": [{"data": DOG}]}, timeout=60)
            assert ok.json() == {"predictions": [{"target": translated(DOG)}]}
        metrics = requests.get(url + "/metrics", timeout=5).text
        # Both workers' counts are summed.
        assert 's2s_requests_total{route="/invocations",status="200"' in metrics
        server.stop()
    records = [json.loads(line) for line in server.stdout if line.startswith("{")]
    statuses = [r["status"] for r in records if r["path"] == "/invocations"]
    assert statuses.count(200) == 4 and 413 in statuses and 503 in statuses
    assert {"time", "method", "path", "status", "ms", "version", "items", "remote"} <= records[-1].keys()


@pytest.mark.alone  # the server reads all four requests within 0.8 s
@pytest.mark.parametrize("engine,sentences", [("ctranslate2", 150), ("sockeye", 16)])
def test_sigterm_drains_requests_in_flight(store, translated, engine, sentences):
    apples = translated(APPLES, engine)
    with serving(store, "--max-batch-size", "1", "--cache-size", "0", "--engine", engine) as server:
        url, process = server.url, server.process
        with ThreadPoolExecutor(4) as pool:
            # 4 x `sentences` one at a time, behind one another: seconds on either engine (400 on
            # CTranslate2 took 14 s with the demo's chosen decoding), most of it after the signal.
            futures = [pool.submit(_translate, url, [APPLES] * sentences) for _ in range(4)]
            # Long enough for all four to be read: gunicorn drops a connection it has accepted but
            # not yet read when SIGTERM comes, and the client sees it closed.
            time.sleep(0.8)
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            answers = [f.result() for f in futures]
        assert [a.status_code for a in answers] == [200] * 4
        assert all(a.json()["translations"] == [apples] * sentences for a in answers)
        assert any(f"engine {engine} on cpu" in line for line in server.stderr)
        process.wait(timeout=30)
        assert time.monotonic() - started < 30 and process.returncode == 0
        with pytest.raises(requests.ConnectionError):
            requests.get(url + "/ping", timeout=2)


def test_the_child_exit_hook_forgets_a_worker_without_importing(tmp_path, monkeypatch):
    # gunicorn calls the hook inside its SIGCHLD handler, which re-enters itself when workers exit
    # together; an import there was re-entered half done and failed. So the hook must import nothing.
    import builtins

    from serve.config import MULTIPROC_ENV
    from serve.server import forget_dead_workers_metrics

    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    hook = forget_dead_workers_metrics()
    live, other = tmp_path / "gauge_livesum_4242.db", tmp_path / "gauge_livesum_4343.db"
    live.write_bytes(b""), other.write_bytes(b"")

    def no_import(*args, **kwargs):
        raise AssertionError(f"the child_exit hook imported {args[0]}")

    monkeypatch.setattr(builtins, "__import__", no_import)
    hook(None, type("Worker", (), {"pid": 4242})())
    monkeypatch.undo()
    assert not live.exists() and other.exists()


def test_stops_are_quiet_and_quick(store):
    # Two workers that exit together, after each has served (and so written metrics), stopped as
    # SageMaker does and as Ctrl-C does, twice each.
    for stop in [signal.SIGTERM, signal.SIGINT] * 2:
        with serving(store, "--workers", "2") as server:
            for _ in range(4):
                assert _translate(server.url, DOG).status_code == 200
            started = time.monotonic()
            server.process.send_signal(stop)
            server.stop()
        assert time.monotonic() - started < 5 and server.process.returncode == 0
        log = "".join(server.stderr)
        assert "Traceback" not in log and "Error" not in log, log
