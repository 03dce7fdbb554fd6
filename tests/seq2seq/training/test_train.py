import signal
import tempfile
from pathlib import Path

import pytest

from data_prep.corpus import CorpusSpec
from data_prep.errors import S2SError
from data_prep.prepare import PrepareConfig, prepare
from data_prep.subwords import SubwordConfig
from seq2seq.engines.translator import Translator
from seq2seq.training.stopping import TrainingInterrupted, stop_on_sigterm
from seq2seq.training.train import TrainConfig, train
from seq2seq.versions.evaluate import evaluate
from seq2seq.versions.run_dir import RunDir
from seq2seq.versions.store import ModelStore, publish
from tests.conftest import run_s2s


def _prepare(small_corpus, tmp_path, subwords: SubwordConfig = SubwordConfig(vocab_size=400), dev_size: int = 20):
    """The small corpus, prepared into tmp_path/prepared, without term annotation (these tests train;
    tests/data_prep/test_term_annotation.py tests annotation, and the demo trains with it)."""
    spec = CorpusSpec(name="demo", source=small_corpus["train"][0], target=small_corpus["train"][1])
    prepare(PrepareConfig(corpora=(spec,), source_lang="en", target_lang="de", output=tmp_path / "prepared",
                          dev_size=dev_size, test_size=20, subwords=subwords, terms=None))


@pytest.fixture(scope="module")
def prepared(small_corpus, tmp_path_factory) -> Path:
    """The small corpus prepared once for the tests that only train from it (training reads it, never writes)."""
    tmp = tmp_path_factory.mktemp("train_prepared")
    _prepare(small_corpus, tmp)
    return tmp / "prepared"


def test_separate_vocabularies_train_translate_and_publish(small_corpus, tmp_path):
    _prepare(small_corpus, tmp_path, SubwordConfig(vocab_size=400, model_type="bpe", joint=False))
    summary = train(TrainConfig(prepared=tmp_path / "prepared", output=tmp_path / "run", dev_sentences=10,
                                sockeye_args=("--max-updates", "10", "--checkpoint-interval", "10")))
    assert "--shared-vocab" not in summary["sockeye_args"]
    args = summary["sockeye_args"]
    tying = [args[i + 1] for i, a in enumerate(args) if a == "--weight-tying-type"]
    assert tying[-1] == "trg_softmax"  # the last one given wins
    translator = Translator(tmp_path / "run" / "model", tmp_path / "run")
    assert not translator.subwords.joint
    (translation,) = translator.translate(["The dog sees a cat."])
    assert isinstance(translation, str)
    result = evaluate(translator, tmp_path / "prepared" / "test.source", tmp_path / "prepared" / "test.target")
    version = publish(tmp_path / "run", tmp_path / "store", {"sockeye-float32": result})
    assert {"sentencepiece.source.model", "sentencepiece.target.model"} <= set(version.info["files"])
    ModelStore(tmp_path / "store").get(version.id).verify()


def test_unknown_sockeye_option_is_a_clear_error(prepared, tmp_path):
    with pytest.raises(S2SError, match="Sockeye rejected the training options"):
        train(TrainConfig(prepared=prepared, output=tmp_path / "run",
                          sockeye_args=("--no-such-option",)))


def test_training_needs_a_prepared_directory(tmp_path):
    with pytest.raises(S2SError, match="not a prepared directory"):
        train(TrainConfig(prepared=tmp_path, output=tmp_path / "run"))


def test_early_stopping_watches_validation_bleu(tmp_path):
    from data_prep.prepared_dir import PreparedDir
    from seq2seq.training.train import sockeye_arguments
    from seq2seq.versions.run_dir import RunDir

    config = TrainConfig(prepared=tmp_path, output=tmp_path / "run", preset="tiny", early_stopping=3)
    args = sockeye_arguments(config, PreparedDir(tmp_path), RunDir(tmp_path / "run"), shared_vocab=True)
    assert args[args.index("--optimized-metric") + 1] == "bleu"
    assert args[args.index("--max-num-checkpoint-not-improved") + 1] == "3"


def test_best_checkpoints_are_averaged_and_the_better_model_kept(small_corpus, tmp_path):
    _prepare(small_corpus, tmp_path, dev_size=30)
    summary = train(TrainConfig(prepared=tmp_path / "prepared", output=tmp_path / "run", dev_sentences=30,
                                average=3, sockeye_args=("--max-updates", "30", "--checkpoint-interval", "10")))
    elapsed = [c["elapsed_s"] for c in summary["checkpoints"]]
    assert 0 < elapsed[0] < elapsed[1] < elapsed[2]
    averaging = summary["averaging"]
    assert sorted(averaging["averaged_checkpoints"]) == ["params.00001", "params.00002", "params.00003"]
    # Scored on CTranslate2, converted for the purpose: the tiny preset converts.
    assert averaging["scored_with"] == "ctranslate2"
    assert averaging["published"] == ("average" if averaging["average_dev_bleu"] > averaging[
        "best_checkpoint_dev_bleu"] else "best checkpoint")
    best = tmp_path / "run" / "model" / "params.best"
    assert best.is_symlink() == (averaging["published"] == "best checkpoint")
    assert not (tmp_path / "run" / "model" / "params.average").exists()
    (translation,) = Translator(tmp_path / "run" / "model", tmp_path / "run").translate(["A dog."])
    assert isinstance(translation, str)


def test_train_cli_runs_one_process_per_requested_gpu_under_torchrun(prepared, tmp_path):
    elastic_before = set(Path(tempfile.gettempdir()).glob("torchelastic_*"))
    result = run_s2s("train", str(prepared), "--output", str(tmp_path / "run"), "--processes", "2",
                     "--max-updates", "10", "--checkpoint-interval", "10", "--batch-size", "256")
    assert result.returncode == 0, result.stderr[-4000:]
    # torchrun's agent made its directory in the run's own temporary folder, and it went with it.
    assert set(Path(tempfile.gettempdir()).glob("torchelastic_*")) <= elastic_before
    assert "--nproc_per_node=2" in result.stderr
    assert result.stdout.startswith(f"trained 10 updates into {tmp_path / 'run'}; last validation BLEU ")
    summary = RunDir(tmp_path / "run").read_summary()
    assert "--dist" in summary["sockeye_args"]
    # No --preset: auto, which is tiny on a CPU, logged and recorded with its reason.
    assert summary["preset"] == "tiny" and summary["preset_reason"].startswith("auto: no GPU")
    assert "preset tiny (auto: no GPU" in result.stderr
    # Each process trained: the second logs under Sockeye's secondary-worker folder.
    assert (tmp_path / "run" / "model" / "secondary_worker_logs" / "1.log").is_file()


def test_a_failing_training_process_reads_as_its_reason_on_the_command_line(prepared, tmp_path):
    result = run_s2s("train", str(prepared), "--output", str(tmp_path / "run"), "--processes", "2",
                     "--no-such-option")
    assert result.returncode == 1
    # The workers' own reason, not only torchrun's exit code.
    assert result.stderr.splitlines()[-1].startswith(
        "s2s train: error: Sockeye rejected the training options ('--no-such-option', '--dist')")


def test_out_of_gpu_memory_in_training_reads_as_itself(prepared, tmp_path, monkeypatch):
    import torch
    from sockeye import train as sockeye_train

    def out_of_memory(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(sockeye_train, "train", out_of_memory)
    with pytest.raises(S2SError, match=r"^out of GPU memory: lower batch_size.*\(CUDA out of memory. Tried to"):
        train(TrainConfig(prepared=prepared, output=tmp_path / "run"))


def test_train_cli_refuses_a_process_count_below_one(tmp_path):
    result = run_s2s("train", str(tmp_path), "--output", str(tmp_path / "run"), "--processes", "0")
    assert result.returncode == 1
    assert result.stderr.strip() == "s2s train: error: training processes per host must be at least 1, not 0"


def test_stopping_on_sigterm_leaves_sockeye_and_the_signal_handler_as_they_were(tmp_path):
    from sockeye import training

    trainer, handler = training.EarlyStoppingTrainer, signal.getsignal(signal.SIGTERM)
    with stop_on_sigterm() as stop:
        assert training.EarlyStoppingTrainer is not trainer and not stop.asked()
        signal.raise_signal(signal.SIGTERM)
        assert stop.asked() and stop.agreed(device=None)
    assert training.EarlyStoppingTrainer is trainer and signal.getsignal(signal.SIGTERM) is handler
    # torchrun's workers are asked through a file instead.
    with stop_on_sigterm(tmp_path / "stop") as stop:
        assert not stop.asked()
        (tmp_path / "stop").touch()
        assert stop.asked()
        stop.raise_if_stopped()  # asked, but training has not stopped yet
        stop.stopped_at = 7
        with pytest.raises(TrainingInterrupted, match="stopped by SIGTERM at update 7, with the training state saved"):
            stop.raise_if_stopped()


def test_bfloat16_training_runs_every_forward_pass_under_bfloat16_autocast(prepared, tmp_path, monkeypatch):
    import torch

    entered = []
    autocast = torch.autocast

    def recording_autocast(device_type, dtype=None, **kwargs):
        entered.append((device_type, dtype))
        return autocast(device_type, dtype=dtype, **kwargs)

    monkeypatch.setattr(torch, "autocast", recording_autocast)
    autocast_class, grad_scaler = torch.cuda.amp.autocast, torch.cuda.amp.GradScaler
    summary = train(TrainConfig(prepared=prepared, output=tmp_path / "run", dev_sentences=10,
                                precision="bfloat16", average=1,
                                sockeye_args=("--max-updates", "12", "--checkpoint-interval", "6",
                                              "--batch-size", "256")))
    assert summary["precision"] == "bfloat16" and summary["updates"] == 12
    # One for Sockeye's trace of the model, then one per training batch.
    assert entered == [("cpu", torch.bfloat16)] * (1 + 12)
    assert (torch.cuda.amp.autocast, torch.cuda.amp.GradScaler) == (autocast_class, grad_scaler)  # put back
    # The weights stay float32, and the model translates.
    (translation,) = Translator(tmp_path / "run" / "model", tmp_path / "run").translate(["The dog sees a cat."])
    assert isinstance(translation, str)
    entered.clear()
    train(TrainConfig(prepared=prepared, output=tmp_path / "run32", dev_sentences=10,
                      precision="float32", average=1, sockeye_args=("--max-updates", "6", "--batch-size", "256")))
    assert entered == []


def test_tf32_that_sockeye_turns_on_for_training_is_off_again_afterwards(prepared, tmp_path, monkeypatch):
    """On a GPU Sockeye enables TF32 for the whole process; a model scored after training in the
    same process (the SageMaker job) must be translated in float32, as `s2s evaluate` does."""
    import torch
    from sockeye import utils

    init_device = utils.init_device
    seen = []

    def init_device_as_on_a_gpu(args):
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
        seen.append(torch.backends.cuda.matmul.allow_tf32)
        return init_device(args)

    monkeypatch.setattr(utils, "init_device", init_device_as_on_a_gpu)
    assert torch.backends.cuda.matmul.allow_tf32 is False
    train(TrainConfig(prepared=prepared, output=tmp_path / "run", dev_sentences=10, average=1,
                      sockeye_args=("--max-updates", "4", "--checkpoint-interval", "4", "--batch-size", "256")))
    assert seen == [True]
    assert torch.backends.cuda.matmul.allow_tf32 is False
