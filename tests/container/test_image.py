"""The image itself: linted always; built and run (train, then serve) by `make image-test`.

Building needs buildah, a debootstrap base and several minutes, so `make test` lints the
Dockerfile and leaves the build to `make image-test`, which sets S2S_IMAGE.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from seq2seq.training.metrics import METRIC_DEFINITIONS
from seq2seq.versions.store import ModelStore
from serve.local import free_port
from tests.conftest import REPO
from tests.seq2seq.training.test_sagemaker_job import _tree

IMAGE = os.environ.get("S2S_IMAGE")
SERVE_IMAGE = os.environ.get("S2S_SERVE_IMAGE")
needs_image = pytest.mark.skipif(not IMAGE, reason="set S2S_IMAGE to a built image; `make image-test` does")
needs_serve_image = pytest.mark.skipif(not SERVE_IMAGE, reason="set S2S_SERVE_IMAGE to a built serve-only image; "
                                                                "`make image-test` does")
HADOLINT = Path(sys.executable).parent / "hadolint"


def test_dockerfile_passes_hadolint():
    result = subprocess.run([str(HADOLINT), str(REPO / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_keeps_the_contract():
    text = (REPO / "Dockerfile").read_text()
    assert "LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true" in text
    assert "ARG BASE_IMAGE=pytorch/pytorch:" in text and "cuda12" in text
    assert "ARG PIP_CERT" in text
    # SageMaker mounts /opt/ml at run time; the image must not bring anything there.
    assert "/opt/ml" not in "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    for script in ("train", "serve"):
        assert os.access(REPO / "docker" / script, os.X_OK)


def test_dockerfile_copies_every_package():
    """A package left out builds an image whose server cannot import (documents/ once was)."""
    import tomllib

    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    text = (REPO / "Dockerfile").read_text()
    for package in {p.split(".")[0] for p in packages}:
        assert re.search(rf"^COPY {package} /s2s/{package}$", text, re.M), package


@contextmanager
def container(image: str):
    name = subprocess.run(["buildah", "from", image], capture_output=True, text=True, check=True).stdout.strip()
    try:
        yield name
    finally:
        subprocess.run(["buildah", "rm", name], capture_output=True)


@pytest.fixture(scope="module")
def trained(small_corpus, tmp_path_factory):
    """A job trained by the full image's `train`, as SageMaker runs it: its /opt/ml tree and its log."""
    if not IMAGE:
        pytest.skip("set S2S_IMAGE to a built image; `make image-test` does")
    paths = _tree(tmp_path_factory.mktemp("job"), small_corpus,
                  {"source_lang": "en", "target_lang": "de", "vocab_size": "400", "max_updates": "20",
                   "checkpoint_interval": "10", "sockeye_args": "--batch-size 512"})
    with container(IMAGE) as name:
        train = subprocess.run(["buildah", "run", "--isolation", "chroot", "-v", f"{paths.root}:/opt/ml", name,
                                "--", "train"], capture_output=True, text=True, timeout=900)
    assert train.returncode == 0, train.stdout[-3000:] + train.stderr[-3000:]
    return paths, train.stdout + train.stderr


@contextmanager
def serving_in(image: str, model_dir: Path):
    """The image's `serve` on `model_dir` as /opt/ml/model; yields its URL and, once stopped, its output."""
    port = free_port()
    output: list[str] = []
    with container(image) as name:
        server = subprocess.Popen(["buildah", "run", "--isolation", "chroot", "--network", "host",
                                   "-v", f"{model_dir}:/opt/ml/model:ro", "-e", f"SAGEMAKER_BIND_TO_PORT={port}",
                                   name, "--", "serve"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and server.poll() is None:
                try:
                    if requests.get(url + "/ping", timeout=2).status_code == 200:
                        break
                except requests.RequestException:  # refused while starting, or slow while loading
                    pass
                time.sleep(1)
            yield url, output
        finally:
            server.terminate()
            output.append(server.communicate(timeout=60)[0])


def test_image_trains_then_serves_what_it_trained(trained):
    paths, log = trained
    # The project's metric regexes, as SageMaker would apply them to what the container prints.
    for definition in METRIC_DEFINITIONS:
        assert re.search(definition["Regex"], log), definition["Name"]
    (version,) = ModelStore(paths.model).versions()
    version.verify()
    # The job published the CTranslate2 export, and CTranslate2 runs in the image.
    assert version.export_problem() is None
    with container(IMAGE) as name:
        ct2 = subprocess.run(["buildah", "run", "--isolation", "chroot", name, "--", "python3", "-c",
                              "import ctranslate2; print(ctranslate2.__version__, ctranslate2.get_cuda_device_count())"],
                             capture_output=True, text=True, timeout=120)
    assert ct2.returncode == 0, ct2.stderr[-2000:]
    print(f"CTranslate2 in the image: version and CUDA devices {ct2.stdout.strip()}")
    with serving_in(IMAGE, paths.model) as (url, output):
        assert requests.get(url + "/ping", timeout=5).status_code == 200
        answer = requests.post(url + "/invocations", json={"instances": [{"data": "The small dog sees a red car."}]},
                               timeout=60)
        assert answer.status_code == 200 and isinstance(answer.json()["predictions"][0]["target"], str)
        lines = requests.post(url + "/invocations", data=json.dumps({"source": "A cat."}) + "\n", timeout=60,
                              headers={"Content-Type": "application/jsonlines"})
        assert lines.status_code == 200 and "target" in json.loads(lines.text.splitlines()[0])
    assert version.id in output[0]
    assert f"{version.id}: engine ctranslate2 on cpu" in output[0]


@needs_serve_image
def test_the_serve_only_image_serves_the_export_without_pytorch_and_refuses_a_version_without_one(trained, tmp_path):
    paths, _ = trained
    with container(SERVE_IMAGE) as name:
        torch = subprocess.run(["buildah", "run", "--isolation", "chroot", name, "--", "python3", "-c", "import torch"],
                               capture_output=True, text=True, timeout=120)
    assert torch.returncode != 0 and "No module named 'torch'" in torch.stderr
    with serving_in(SERVE_IMAGE, paths.model) as (url, _):
        answer = requests.post(url + "/invocations", json={"instances": [{"data": "The small dog sees a red car."}]},
                               timeout=60)
        assert answer.status_code == 200 and isinstance(answer.json()["predictions"][0]["target"], str)
    (version,) = ModelStore(paths.model).versions()
    no_export = tmp_path / "store"
    shutil.copytree(version.path, no_export / version.path.name)
    shutil.rmtree(no_export / version.path.name / "ctranslate2")
    with serving_in(SERVE_IMAGE, no_export) as (url, output):
        assert requests.get(url + "/ping", timeout=5).status_code == 503
    assert f"refusing to serve {version.id}" in output[0] and "CTranslate2" in output[0]
