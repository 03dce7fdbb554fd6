"""`s2s aws train` and `s2s aws tune`: SageMaker training and tuning jobs with the s2s image.

Uses the sagemaker SDK 3.x (`ModelTrainer`, `HyperparameterTuner`) on the user's machine.
Hyperparameters are checked here with the same parser the container uses, so a typo fails
in a second on the laptop rather than minutes later on an instance.
"""
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from data_prep.errors import S2SError
from seq2seq.training.hyperparameters import parse_hyperparameters
from seq2seq.training.metrics import METRIC_DEFINITIONS

logger = logging.getLogger(__name__)

# "model": a published version, or an earlier job's model.tar.gz, to fine-tune from (SageMaker's
# incremental training; the container's `init_from` hyperparameter picks among several versions).
CHANNELS = ("train", "validation", "test", "model")
TERMINAL = ("Completed", "Failed", "Stopped")
# What `s2s aws tune` maximises, and the ranges it searches.
TUNING_OBJECTIVE = "validation:bleu"


@dataclass(frozen=True)
class TrainJobConfig:
    image: str
    role: str
    # s3://bucket/prefix: the model artefact goes under it, and local channels are uploaded there.
    output_path: str
    # channel name -> a local file or directory, or an s3:// URI
    channels: dict[str, str]
    hyperparameters: dict[str, str] = field(default_factory=dict)
    instance_type: str = "ml.g5.xlarge"
    instance_count: int = 1
    max_run_s: int = 24 * 3600
    # Managed spot training: needs a checkpoint URI, and max_wait_s >= max_run_s.
    spot: bool = False
    checkpoint_s3_uri: str | None = None
    max_wait_s: int | None = None
    base_job_name: str = "s2s"

    def __post_init__(self):
        if "train" not in self.channels:
            raise S2SError("a training job needs a 'train' channel (--channel train=PATH_OR_S3_URI)")
        unknown = sorted(set(self.channels) - set(CHANNELS))
        if unknown:
            raise S2SError(f"unknown channel(s) {', '.join(unknown)}; the channels are {', '.join(CHANNELS)}")
        if not self.output_path.startswith("s3://"):
            raise S2SError(f"--output-path must be an s3:// URI, not {self.output_path!r}")
        if self.spot:
            if not self.checkpoint_s3_uri:
                raise S2SError("spot training needs --checkpoint-s3-uri, so that an interrupted job resumes")
            if self.max_wait_s is None or self.max_wait_s < self.max_run_s:
                raise S2SError(f"spot training needs --max-wait at least --max-run ({self.max_run_s} s)")
        # The container's own check, here: an unknown or invalid hyperparameter fails now.
        parse_hyperparameters(self.hyperparameters)


def split_s3_uri(uri: str) -> tuple[str, str]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return bucket, prefix.rstrip("/")


def upload_channel(s3, local: Path, destination: str) -> str:
    """Uploads a file or a directory's files under `destination` (s3://...); returns that URI."""
    if not local.exists():
        raise S2SError(f"channel data {local}: no such file or directory")
    files = [local] if local.is_file() else sorted(p for p in local.rglob("*") if p.is_file())
    if not files:
        raise S2SError(f"channel data {local}: the directory is empty")
    bucket, prefix = split_s3_uri(destination)
    for path in files:
        key = f"{prefix}/{path.relative_to(local) if local.is_dir() else path.name}"
        logger.info("uploading %s to s3://%s/%s", path, bucket, key)
        s3.upload_file(str(path), bucket, key)
    return destination


def channel_uris(config: TrainJobConfig, s3) -> dict[str, str]:
    """Every channel as an S3 URI, uploading the local ones under OUTPUT_PATH/inputs/STAMP/."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return {name: source if source.startswith("s3://")
            else upload_channel(s3, Path(source), f"{config.output_path.rstrip('/')}/inputs/{stamp}/{name}")
            for name, source in config.channels.items()}


def model_trainer(config: TrainJobConfig):
    from sagemaker.train import ModelTrainer
    from sagemaker.train.configs import CheckpointConfig, Compute, MetricDefinition, OutputDataConfig, StoppingCondition

    trainer = ModelTrainer(
        training_image=config.image, role=config.role, base_job_name=config.base_job_name,
        compute=Compute(instance_type=config.instance_type, instance_count=config.instance_count,
                        enable_managed_spot_training=config.spot),
        stopping_condition=StoppingCondition(max_runtime_in_seconds=config.max_run_s,
                                             max_wait_time_in_seconds=config.max_wait_s if config.spot else None),
        checkpoint_config=CheckpointConfig(s3_uri=config.checkpoint_s3_uri) if config.checkpoint_s3_uri else None,
        output_data_config=OutputDataConfig(s3_output_path=config.output_path),
        hyperparameters=dict(config.hyperparameters))
    return trainer.with_metric_definitions([MetricDefinition(name=d["Name"], regex=d["Regex"])
                                            for d in METRIC_DEFINITIONS])


def _input_data(uris: dict[str, str]) -> list:
    from sagemaker.train.configs import InputData

    return [InputData(channel_name=name, data_source=uri) for name, uri in uris.items()]


def start_training(config: TrainJobConfig, s3) -> str:
    """Starts the job; returns its name."""
    trainer = model_trainer(config)
    trainer.train(input_data_config=_input_data(channel_uris(config, s3)), wait=False, logs=False)
    return trainer._latest_training_job.training_job_name  # the SDK keeps the job it started here


def follow_training(sagemaker, job_name: str, report: Callable[[str], None], poll_s: float = 30.0) -> dict:
    """Reports each status change until the job ends; returns its description. A failed or
    stopped job is an error that carries SageMaker's reason."""
    seen = 0
    while True:
        job = sagemaker.describe_training_job(TrainingJobName=job_name)
        transitions = job.get("SecondaryStatusTransitions") or [
            {"Status": job["TrainingJobStatus"], "StatusMessage": job.get("SecondaryStatus", "")}]
        for transition in transitions[seen:]:
            report(f"{job_name}: {transition['Status']}: {transition.get('StatusMessage', '')}".rstrip(": "))
        seen = len(transitions)
        if job["TrainingJobStatus"] in TERMINAL:
            report(f"{job_name}: {job['TrainingJobStatus']}")
            break
        time.sleep(poll_s)
    if job["TrainingJobStatus"] != "Completed":
        raise S2SError(f"training job {job_name} {job['TrainingJobStatus'].lower()}: "
                       f"{job.get('FailureReason', 'no reason given')}")
    return job


@dataclass(frozen=True)
class TuneConfig:
    max_jobs: int = 20
    max_parallel_jobs: int = 2
    learning_rate: tuple[float, float] = (1e-4, 1e-3)
    num_layers: tuple[int, int] = (2, 6)
    model_sizes: tuple[int, ...] = (256, 512)
    dropout: tuple[float, float] = (0.0, 0.3)


def start_tuning(config: TrainJobConfig, tune: TuneConfig, s3) -> str:
    """A Bayesian tuning job maximising validation BLEU; returns its name."""
    from sagemaker.core.parameter import CategoricalParameter, ContinuousParameter, IntegerParameter
    from sagemaker.train.tuner import HyperparameterTuner

    tuned = {"learning_rate", "num_layers", "model_size", "dropout"}
    fixed = sorted(tuned & set(config.hyperparameters))
    if fixed:
        raise S2SError(f"{', '.join(fixed)} are tuned; leave them out of the hyperparameters")
    tuner = HyperparameterTuner(
        model_trainer=model_trainer(config), objective_metric_name=TUNING_OBJECTIVE, objective_type="Maximize",
        strategy="Bayesian", max_jobs=tune.max_jobs, max_parallel_jobs=tune.max_parallel_jobs,
        metric_definitions=METRIC_DEFINITIONS, base_tuning_job_name=config.base_job_name,
        hyperparameter_ranges={
            "learning_rate": ContinuousParameter(*tune.learning_rate, scaling_type="Logarithmic"),
            "num_layers": IntegerParameter(*tune.num_layers),
            "model_size": CategoricalParameter([str(size) for size in tune.model_sizes]),
            "dropout": ContinuousParameter(*tune.dropout),
        })
    tuner.tune(inputs=_input_data(channel_uris(config, s3)), wait=False)
    return tuner.latest_tuning_job.hyper_parameter_tuning_job_name
