"""A disk that fills up: one line that says so and where, nothing half-written left behind, and
a store that goes on listing and serving what it had. The disk is a small tmpfs the test mounts."""
import json
import shutil
import subprocess
from contextlib import contextmanager

import pytest

from seq2seq.training.sagemaker_job import SageMakerPaths
from seq2seq.versions.store import ModelStore
from tests.conftest import run_s2s
from tests.seq2seq.training.test_sagemaker_job import _run_train, _tree


@contextmanager
def small_disk(path, kilobytes: int):
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kilobytes}k", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}): the disk-full tests need root")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def _one_line_disk_full(stderr: str, command: str, where) -> None:
    (line,) = stderr.strip().splitlines()[-1:]
    assert line.startswith(f"s2s {command}: error: disk full:") and str(where) in line, stderr[-2000:]
    assert "Traceback" not in stderr


# Small enough to fail in cleaning, in encoding, and in Sockeye's binarization (whose writer,
# PyTorch's, does not say why it failed).
@pytest.mark.parametrize("kilobytes", [300, 3000, 5000])
def test_prepare_on_a_full_disk(demo, tmp_path, kilobytes):
    corpus = demo[0] / "corpus"
    with small_disk(tmp_path / "disk", kilobytes) as disk:
        result = run_s2s("prepare", "--source", str(corpus / "train.en"), "--target", str(corpus / "train.de"),
                         "--source-lang", "en", "--target-lang", "de", "--vocab-size", "500",
                         "--output", str(disk / "prepared"))
        assert result.returncode == 1
        _one_line_disk_full(result.stderr, "prepare", disk / "prepared")
        assert list(disk.iterdir()) == []


def test_publish_on_a_full_disk_leaves_the_store_listing_and_serving(demo, store, tmp_path):
    from serve.app import create_app
    from serve.config import ServeConfig

    used = sum(p.stat().st_size for p in store.rglob("*") if p.is_file()) // 1024
    with small_disk(tmp_path / "disk", used + 600) as disk:
        shutil.copytree(store, disk / "models")
        # Sockeye's decoding: choosing on the dev set is not what runs out of disk.
        result = run_s2s("publish", str(demo[0] / "run"), "--store", str(disk / "models"), "--decoding", "sockeye")
        assert result.returncode == 1
        _one_line_disk_full(result.stderr, "publish", disk / "models")
        (version,) = ModelStore(disk / "models").versions()
        version.verify()
        assert sorted(p.name for p in (disk / "models").iterdir()) == sorted(p.name for p in store.iterdir())
        listed = run_s2s("models", "list", "--store", str(disk / "models"), "--json")
        assert [v["id"] for v in json.loads(listed.stdout)] == [version.id]
        client = create_app(ServeConfig(store=disk / "models", reload_interval_s=0)).test_client()
        answer = client.post("/v1/translate", json={"q": "The small dog sees a red car.", "source": "en",
                                                    "target": "de"})
        assert answer.status_code == 200 and answer.json["version"] == version.id


def test_sagemaker_job_on_a_full_disk_writes_why_and_publishes_nothing(job_corpus, tmp_path):
    paths = _tree(tmp_path, job_corpus, {"source_lang": "en", "target_lang": "de", "vocab_size": "400",
                                          "max_updates": "10", "checkpoint_interval": "10",
                                          "sockeye_args": "--batch-size 512", "decoding": "sockeye"})
    with small_disk(paths.model, 500):
        result = _run_train(paths)
        assert result.returncode == 1, result.stdout[-2000:]
        reason = SageMakerPaths(paths.root).failure.read_text()
        assert reason.startswith("disk full: no space left on the device while writing") and str(paths.model) in reason
        assert list(paths.model.iterdir()) == []
