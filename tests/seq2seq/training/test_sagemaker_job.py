"""The real `docker/train` entry point, run on a temporary /opt/ml tree."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data_prep.errors import S2SError
from seq2seq.training.hyperparameters import parse_hyperparameters
from seq2seq.training.metrics import METRIC_DEFINITIONS
from seq2seq.training.sagemaker_job import ROOT_ENV, SageMakerPaths
from seq2seq.training.train import failure_reason
from seq2seq.versions.run_dir import RunDir
from seq2seq.versions.store import ModelStore
from tests.conftest import REPO


def _tree(tmp_path, corpus, hyperparameters: dict, channels=("train", "validation", "test")) -> SageMakerPaths:
    paths = SageMakerPaths(tmp_path / "ml")
    paths.hyperparameters.parent.mkdir(parents=True)
    paths.hyperparameters.write_text(json.dumps(hyperparameters))
    splits = {"train": "train", "validation": "dev", "test": "test"}
    for channel in channels:
        directory = paths.channel(channel)
        directory.mkdir(parents=True)
        for path in corpus[splits[channel]]:
            shutil.copyfile(path, directory / f"corpus{path.suffix}")
    return paths


def _env(paths: SageMakerPaths) -> dict[str, str]:
    return dict(os.environ, **{ROOT_ENV: str(paths.root)},
                PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", PYTHONPATH=str(REPO))


def _run_train(paths: SageMakerPaths) -> subprocess.CompletedProcess:
    return subprocess.run([str(REPO / "docker" / "train")], env=_env(paths), capture_output=True, text=True,
                          timeout=600)


def test_train_entry_point_publishes_a_servable_version_and_prints_metrics(job_corpus, tmp_path):
    # SDK v3 sends JSON-encoded strings ("true"), v2 str() ("True"): both must work.
    paths = _tree(tmp_path, job_corpus, {"source_lang": "en", "target_lang": "de", "vocab_size": "400",
                                          "max_updates": "20", "checkpoint_interval": "10",
                                          "joint_vocab": "True", "sockeye_args": "--batch-size 512",
                                          "decoding": "sockeye"})
    result = _run_train(paths)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (version,) = ModelStore(paths.model).versions()
    version.verify()
    assert version.info["training"]["updates"] == 20
    # Sockeye's decoding, asked for: choosing on the dev set decodes it 26 times, which for a model of 20
    # updates (every sentence to its length bound) would take most of this test's time.
    assert version.info["decoding"]["mode"] == "sockeye"
    assert version.info["test"]["name"] == "corpus" and version.info["test"]["sentences"] == 20
    # The job publishes the CTranslate2 export, scored like the Sockeye model.
    assert version.export_problem() is None
    assert set(version.scores) == {"ctranslate2-float32", "sockeye-float32", "ctranslate2-int8"}
    assert {"manifest.json", "run.json", "lengths.png", "training_curve.png", "sockeye-log", "sockeye-metrics"} <= \
        {p.name for p in paths.output_data.iterdir()}
    assert not paths.failure.exists()
    log = result.stdout + result.stderr
    found = {d["Name"]: re.findall(d["Regex"], log) for d in METRIC_DEFINITIONS}
    assert len(found["validation:bleu"]) == 2 and len(found["train:perplexity"]) == 2
    assert float(found["test:bleu"][0]) == version.bleu
    assert all(found.values()), found


@pytest.mark.parametrize("hyperparameters,channels,reason", [
    ({"source_lang": "en", "target_lang": "de", "learning_rat": "0.1"}, ("train",),
     r"^unknown hyperparameter\(s\) learning_rat; the valid ones are: source_lang, .*learning_rate"),
    ({"source_lang": "en", "target_lang": "de", "max_updates": "many"}, ("train",),
     r"^bad hyperparameter max_updates='many': expected int"),
    ({"source_lang": "en", "target_lang": "de", "joint_vocab": "maybe"}, ("train",),
     r"^bad hyperparameter joint_vocab='maybe': expected bool"),
    ({"source_lang": "en", "target_lang": "de", "preset": "huge"}, ("train",),
     r"^bad hyperparameter preset='huge'; choose one of: auto, tiny, small-corpus, base$"),
    ({"source_lang": "en", "target_lang": "de", "decoding": "fast"}, ("train",),
     r"^bad hyperparameter decoding='fast'; choose one of: chosen, sockeye$"),
    ({"source_lang": "en", "target_lang": "de"}, (), r"^no training data: the train channel .* is missing or empty"),
    ({"source_lang": "en", "target_lang": "fr"}, ("train",), r"^channel train: corpus.en has no corpus.fr beside it"),
])
def test_failures_are_written_for_sagemaker_without_a_traceback(job_corpus, tmp_path, hyperparameters, channels,
                                                                reason):
    paths = _tree(tmp_path, job_corpus, hyperparameters, channels)
    result = _run_train(paths)
    assert result.returncode == 1
    text = paths.failure.read_text()
    assert re.search(reason, text), text
    assert "Traceback" not in text and len(text) <= 1024


def test_hyperparameters_are_typed():
    hp = parse_hyperparameters({"source_lang": "en", "target_lang": "de", "joint_vocab": "false",
                                "max_updates": "100", "learning_rate": "0.0005", "batch_size": "None"})
    assert hp.joint_vocab is False and hp.max_updates == 100 and hp.batch_size is None
    assert hp.sockeye_train_args() == ("--max-updates", "100", "--initial-learning-rate", "0.0005")
    assert parse_hyperparameters({"source_lang": "en", "target_lang": "de", "joint_vocab": True}).joint_vocab
    with pytest.raises(S2SError, match="missing hyperparameter source_lang"):
        parse_hyperparameters({"target_lang": "de"})


def test_tunable_hyperparameters_become_sockeye_options(tmp_path):
    import argparse

    from sockeye.arguments import add_train_cli_args

    hp = parse_hyperparameters({"source_lang": "en", "target_lang": "de", "num_layers": "3", "model_size": "256",
                                "dropout": "0.2"})
    args = hp.sockeye_train_args()
    assert args[:2] == ("--num-layers", "3:3")
    assert args[args.index("--transformer-feed-forward-num-hidden") + 1] == "1024"
    assert args.count("0.2") == 3
    # Sockeye's own parser takes them, after the preset's options.
    from seq2seq.training.presets import PRESETS

    parser = argparse.ArgumentParser()
    add_train_cli_args(parser)
    text = tmp_path / "dev.txt"
    text.write_text("a\n")
    parsed = parser.parse_args(["--prepared-data", str(tmp_path), "--validation-source", str(text),
                                "--validation-target", str(text),
                                "--output", "o", *PRESETS["tiny"].sockeye_args, *args])
    assert parsed.num_layers == (3, 3) and parsed.transformer_model_size == (256, 256)
    assert parsed.transformer_dropout_attention == (0.2, 0.2)


def test_out_of_gpu_memory_reads_as_itself():
    import torch

    reason = failure_reason(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert reason.startswith("out of GPU memory: lower batch_size")
    assert "Tried to allocate 2.00 GiB" in reason


def _sigterm_after_first_checkpoint(paths: SageMakerPaths) -> tuple[str, float]:
    """Starts the job, sends SIGTERM once checkpoint 1 is logged; returns its output and the seconds
    from the signal to the exit."""
    process = subprocess.Popen([str(REPO / "docker" / "train")], env=_env(paths), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    log = paths.checkpoints / "run" / "checkpoints.jsonl"
    deadline = time.monotonic() + 300
    while not log.is_file() and time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()[-3000:]
        time.sleep(0.1)
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 1, output[-3000:]
    return output, time.monotonic() - signalled


def _stopped_at(paths: SageMakerPaths) -> int:
    reason = paths.failure.read_text()
    match = re.match(r"stopped by SIGTERM at update (\d+), with the training state saved", reason)
    assert match, reason
    return int(match.group(1))


def _resume_to_the_end(paths: SageMakerPaths, stopped_at: int, updates: int) -> list[int]:
    """Runs the job again; checks that it resumed at `stopped_at` and published a loadable version
    of `updates` updates; returns the checkpoints the resumed run wrote."""
    assert RunDir(paths.checkpoints / "run").saved_update() == stopped_at
    paths.failure.unlink()
    result = _run_train(paths)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert "resuming the interrupted run" in log
    assert re.search(r"Found partial training in .*Resuming from saved state", log)
    (version,) = ModelStore(paths.model).versions()
    version.verify()
    assert version.info["training"]["updates"] == updates
    from seq2seq.engines.translator import Translator

    (translation,) = Translator(version.model_dir, version.path).translate(["The dog sees a cat."])
    assert translation.strip()
    return [int(n) for n in re.findall(r"checkpoint (\d+): train_perplexity", log)]


def test_sigterm_stops_at_the_next_update_and_a_restart_resumes_to_the_end(job_corpus, tmp_path):
    # Checkpoints every 40 updates: SIGTERM after the first must not wait for the second.
    paths = _tree(tmp_path, job_corpus, {"source_lang": "en", "target_lang": "de", "vocab_size": "400",
                                          "max_updates": "80", "checkpoint_interval": "40",
                                          "sockeye_args": "--batch-size 256", "decoding": "sockeye"})
    output, seconds = _sigterm_after_first_checkpoint(paths)
    stopped_at = _stopped_at(paths)
    assert 40 < stopped_at < 80, output[-3000:]
    assert f"stopping at update {stopped_at}; saving a checkpoint" in output
    assert seconds < 60
    assert not list(paths.model.glob("*"))  # nothing half-published

    checkpoints = _resume_to_the_end(paths, stopped_at, updates=80)
    # Checkpoint 2 is the one SIGTERM wrote; the resumed run goes on from it.
    assert checkpoints == [3]
    (version,) = ModelStore(paths.model).versions()
    assert [c["checkpoint"] for c in version.info["training"]["checkpoints"]] == [1, 2, 3]


def test_two_training_processes_on_cpu_with_gloo_stop_together_and_resume(job_corpus, tmp_path):
    paths = _tree(tmp_path, job_corpus, {"source_lang": "en", "target_lang": "de", "vocab_size": "400",
                                          "max_updates": "40", "checkpoint_interval": "20",
                                          "processes_per_host": "2", "sockeye_args": "--batch-size 256",
                                          "decoding": "sockeye"})
    output, seconds = _sigterm_after_first_checkpoint(paths)
    assert "--nproc_per_node=2" in output
    # SageMaker signals only the job; both workers agree on the update to stop at.
    stopped_at = _stopped_at(paths)
    assert 20 < stopped_at < 40, output[-3000:]
    assert output.count(f"stopping at update {stopped_at}; saving a checkpoint") == 2
    assert seconds < 60

    checkpoints = _resume_to_the_end(paths, stopped_at, updates=40)
    assert checkpoints == [3]
    (version,) = ModelStore(paths.model).versions()
    assert "--dist" in version.info["training"]["hyperparameters"]
