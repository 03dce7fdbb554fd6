"""How many workers `s2s serve` starts, and how many threads each decodes with."""
import os
import subprocess
import sys

import pytest

import serve.config
from s2s_cli import build_parser
from tests.conftest import REPO


@pytest.fixture
def gpus(monkeypatch, tmp_path):
    """A driver folder with `count` GPUs in it."""
    def show(count: int):
        folder = tmp_path / f"gpus{count}"
        folder.mkdir()
        for i in range(count):
            (folder / f"0000:0{i}:00.0").mkdir()
        monkeypatch.setattr(serve.config, "NVIDIA_GPUS", folder)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return show


def _serve_args(*flags):
    import serve.server

    started = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(serve.server, "run_server", lambda config, server: started.append((config, server)))
        args = build_parser().parse_args(["serve", "--store", "models", *flags])
        args.func(args)
    return started[0]


def test_without_a_gpu_there_is_a_worker_per_core_each_decoding_with_one_thread(gpus, monkeypatch):
    gpus(0)
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    config, server = _serve_args()
    assert (server.workers, config.threads) == (6, 1)
    # Fewer workers share the cores among them.
    config, server = _serve_args("--workers", "2")
    assert (server.workers, config.threads) == (2, 3)


def test_with_a_gpu_one_worker_decodes(gpus, monkeypatch):
    gpus(2)
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert serve.config.gpu_count() == 2
    config, server = _serve_args()
    assert (server.workers, config.threads) == (1, 6)
    # GPUs hidden from CUDA are not counted.
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert serve.config.gpu_count() == 0


def test_sagemakers_worker_count_overrides_the_default(gpus, monkeypatch):
    gpus(0)
    monkeypatch.setenv("SAGEMAKER_MODEL_SERVER_WORKERS", "3")
    _, server = _serve_args()
    assert server.workers == 3


def test_sockeye_on_the_cpu_decodes_with_the_threads_it_is_given(store):
    # torch's thread count is process-wide, so this runs in a process of its own.
    code = ("import torch; from seq2seq.engines.choice import open_translator; from seq2seq.versions.store import ModelStore; "
            "from seq2seq.engines.translator import DecodeConfig; "
            f"v = ModelStore({str(store)!r}).default_for('en', 'de'); "
            "t, _ = open_translator(v.model_files(), 'sockeye', DecodeConfig(threads=1)); "
            "t.translate(['A dog.']); print(torch.get_num_threads())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "1"
