"""SageMaker's training contract. The image runs `train`, which runs this module.

Inputs: hyperparameters.json and the channels `train` (required), `validation` and `test`
(optional) under /opt/ml/input. Each channel holds raw parallel text (`NAME.<source_lang>`
and `NAME.<target_lang>` pairs), TSV (`*.tsv`) or TMX (`*.tmx`) files, each optionally
`.gz`, or, for `train`, a directory written by `s2s prepare` (it has manifest.json). The
optional `model` channel holds a version to fine-tune (seq2seq/training/finetune.py).
Checkpoints go to /opt/ml/checkpoints, which SageMaker syncs to S3 and restores when a
(spot) job restarts: the job then reuses the prepared data and resumes training from the
last checkpoint. SIGTERM stops training at its next update, with a checkpoint saved.
Outputs: the published model version in /opt/ml/model (the model store layout, so the same
files serve), and the reports in /opt/ml/output/data. A failure writes its reason to
/opt/ml/output/failure and exits non-zero. Set S2S_SAGEMAKER_ROOT to use another root than
/opt/ml, as the tests do.
"""
import json
import logging
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from data_prep.corpus import CorpusSpec
from data_prep.errors import S2SError
from data_prep.exiting import exit_quickly
from data_prep.prepare import PrepareConfig, prepare
from data_prep.prepared_dir import PreparedDir
from data_prep.subwords import SubwordConfig
from seq2seq.training.hyperparameters import Hyperparameters, parse_hyperparameters
from seq2seq.training.launch import Cluster, processes_per_host, train_on
from seq2seq.training.metrics import log_metric
from seq2seq.training.train import TrainConfig, failure_reason
from seq2seq.versions.lineage import check_test_set, model_channel_version, scored_test_set, version_subwords
from seq2seq.versions.release import release
from seq2seq.versions.run_dir import RunDir
from seq2seq.versions.version import Version

logger = logging.getLogger(__name__)

ROOT_ENV = "S2S_SAGEMAKER_ROOT"
FAILURE_LIMIT = 1024  # SageMaker shows this many characters of the failure reason


@dataclass(frozen=True)
class SageMakerPaths:
    """The one place that names SageMaker's files."""
    root: Path

    @classmethod
    def from_env(cls) -> "SageMakerPaths":
        return cls(Path(os.environ.get(ROOT_ENV, "/opt/ml")))

    @property
    def hyperparameters(self) -> Path:
        return self.root / "input" / "config" / "hyperparameters.json"

    def channel(self, name: str) -> Path:
        return self.root / "input" / "data" / name

    @property
    def resource_config(self) -> Path:
        return self.root / "input" / "config" / "resourceconfig.json"

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def output_data(self) -> Path:
        return self.root / "output" / "data"

    @property
    def failure(self) -> Path:
        return self.root / "output" / "failure"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"


def _strip_gz(name: str) -> str:
    return name.removesuffix(".gz")


def channel_corpora(directory: Path, channel: str, source_lang: str, target_lang: str) -> tuple[CorpusSpec, ...]:
    """The corpora in a channel directory; every file must be recognised."""
    files = sorted(p for p in directory.rglob("*") if p.is_file() and not p.name.startswith("."))
    specs, partnered = [], set()
    for path in files:
        name = _strip_gz(path.name)
        label = str(path.relative_to(directory))
        if name.endswith(".tsv"):
            specs.append(CorpusSpec(name=f"{channel}/{label}", tsv=path))
        elif name.endswith(".tmx"):
            specs.append(CorpusSpec(name=f"{channel}/{label}", tmx=path))
        elif name.endswith(f".{source_lang}"):
            stem = name[: -len(source_lang)]
            partner = next((p for p in files if _strip_gz(p.name) == stem + target_lang and p.parent == path.parent),
                           None)
            if partner is None:
                raise S2SError(f"channel {channel}: {label} has no {stem}{target_lang} beside it")
            partnered.add(partner)
            specs.append(CorpusSpec(name=f"{channel}/{stem.rstrip('.')}", source=path, target=partner))
    strays = [p for p in files if p not in partnered and p not in {s.source or s.tsv or s.tmx for s in specs}]
    if strays:
        raise S2SError(f"channel {channel}: cannot use {strays[0].relative_to(directory)}; expected NAME.{source_lang} "
                       f"and NAME.{target_lang} pairs, *.tsv or *.tmx (optionally .gz), or a prepared directory")
    return tuple(specs)


def _single(specs: tuple[CorpusSpec, ...], channel: str) -> CorpusSpec | None:
    if len(specs) > 1:
        raise S2SError(f"channel {channel}: holds {len(specs)} corpora; give one")
    return specs[0] if specs else None


def prepared_data(paths: SageMakerPaths, hp: Hyperparameters, parent: Version | None = None) -> Path:
    """The train channel if it is already prepared; else the channels, prepared inside the job (with the
    subwords of the `parent` version, when fine-tuning one)."""
    train_channel = paths.channel("train")
    if not train_channel.is_dir() or not any(train_channel.iterdir()):
        raise S2SError(f"no training data: the train channel ({train_channel}) is missing or empty")
    if PreparedDir(train_channel).manifest.is_file():
        return train_channel
    corpora = channel_corpora(train_channel, "train", hp.source_lang, hp.target_lang)
    if not corpora:
        raise S2SError(f"no training data in the train channel ({train_channel})")
    held_out = {}
    for split, channel in (("dev", "validation"), ("test", "test")):
        directory = paths.channel(channel)
        if directory.is_dir():
            held_out[split] = _single(channel_corpora(directory, channel, hp.source_lang, hp.target_lang), channel)
    output = paths.checkpoints / "prepared"
    if PreparedDir(output).manifest.is_file():
        # A restarted job (spot training) must train on exactly the data it started with.
        logger.info("using the data prepared before the restart, in %s", output)
        return output
    prepare(PrepareConfig(
        corpora=corpora, source_lang=hp.source_lang, target_lang=hp.target_lang, output=output,
        dev=held_out.get("dev"), test=held_out.get("test"),
        subwords=SubwordConfig(vocab_size=hp.vocab_size, model_type=hp.subword_model_type, joint=hp.joint_vocab),
        subwords_from=version_subwords(parent) if parent else None,
        max_seq_len=hp.max_seq_len, dev_size=hp.dev_size, test_size=hp.test_size, seed=hp.seed,
        on_bad_line=hp.on_bad_line, force=True))
    return output


def run_job(paths: SageMakerPaths) -> Version | None:
    """Prepares (when needed), trains, evaluates on the test split and publishes into /opt/ml/model.
    With several hosts, all train and the first one evaluates and publishes."""
    raw = json.loads(paths.hyperparameters.read_text(encoding="utf-8")) if paths.hyperparameters.is_file() else {}
    hp = parse_hyperparameters(raw)
    logger.info("hyperparameters: %s", hp)
    with model_channel_version(paths.channel("model"), hp.init_from or None) as parent:
        return _train_and_publish(paths, hp, parent)


def _train_and_publish(paths: SageMakerPaths, hp: Hyperparameters, parent: Version | None) -> Version | None:
    cluster = Cluster.from_resource_config(paths.resource_config,
                                           processes_per_host(hp.processes_per_host))
    if len(cluster.hosts) > 1 and not PreparedDir(paths.channel("train")).manifest.is_file():
        # SentencePiece training is not reproducible byte for byte, so hosts preparing
        # the same text on their own would end up with different vocabularies.
        raise S2SError("training on several hosts needs a prepared train channel: run `s2s prepare` and "
                       "upload its output directory as the train channel")
    prepared = PreparedDir(prepared_data(paths, hp, parent))
    if parent:
        # Checked before training, not at publication: the job publishes on the prepared test split.
        check_test_set(scored_test_set(parent), parent.id, *prepared.test_split()[:2])
    run = RunDir(paths.checkpoints / "run")
    config = TrainConfig(prepared=prepared.root, output=run.root, preset=hp.preset,
                         sockeye_args=hp.sockeye_train_args(), seed=hp.seed, force=True, resume=True,
                         early_stopping=hp.early_stopping, average=hp.average_checkpoints, precision=hp.precision,
                         init_from=parent.path if parent else None)
    train_on(cluster, config)
    if not cluster.is_primary_host:
        logger.info("training finished; host %s leaves evaluation and publishing to %s",
                    cluster.current_host, cluster.hosts[0])
        return None
    version, results = release(run.root, paths.model, *prepared.test_split(), decoding=hp.decoding)
    result = next(iter(results.values()))
    log_metric("test:bleu", result.scores.bleu)
    log_metric("test:chrf", result.scores.chrf)
    log_metric("test:int8_bleu", next(r.scores.bleu for key, r in results.items() if key.endswith("-int8")))
    paths.output_data.mkdir(parents=True, exist_ok=True)
    for source in (prepared.manifest, prepared.lengths_plot, run.summary, run.curve, run.model / "log",
                   run.model / "metrics"):
        if source.is_file():
            shutil.copyfile(source, paths.output_data / (source.name if source.parent != run.model
                                                         else f"sockeye-{source.name}"))
    logger.info("published %s: test BLEU %.2f", version.id, result.scores.bleu)
    return version


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    paths = SageMakerPaths.from_env()
    try:
        run_job(paths)
        return 0
    except Exception as error:  # every failure must reach the failure file
        if not isinstance(error, S2SError):
            logger.exception("training job failed")
        reason = failure_reason(error)
    logger.error("training job failed: %s", reason)
    paths.failure.parent.mkdir(parents=True, exist_ok=True)
    paths.failure.write_text(reason[:FAILURE_LIMIT], encoding="utf-8")
    return 1


if __name__ == "__main__":
    exit_quickly(main())
