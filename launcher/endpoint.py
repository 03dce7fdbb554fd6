"""`s2s aws deploy` and `s2s aws translate`: a SageMaker endpoint serving the s2s image.

The model artefact is either a training job's (its model.tar.gz holds the store layout the
job published into /opt/ml/model) or a published version from a local store, packed the
same way: the version directory at the archive's root.
"""
import json
import logging
import re
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from data_prep.errors import S2SError
from launcher.training import split_s3_uri
from review.capture import CAPTURE_ENCODINGS, DEFAULT_CAPTURE_PERCENT
from seq2seq.versions.store import ModelStore

logger = logging.getLogger(__name__)

# S3's rules for a bucket name, and SageMaker's longest DestinationS3Uri.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_MAX_CAPTURE_URI = 512


@dataclass(frozen=True)
class DeployConfig:
    endpoint: str
    image: str
    role: str
    # One of these is the model: a finished training job, or a version in a local store.
    training_job: str | None = None
    version_dir: Path | None = None
    # Where a local version's model.tar.gz is uploaded (s3://bucket/prefix).
    upload_to: str | None = None
    instance_type: str = "ml.g5.xlarge"
    instance_count: int = 1
    environment: dict[str, str] = field(default_factory=dict)
    # Data Capture: requests and answers are written under s3://bucket/prefix (None: off).
    capture_uri: str | None = None
    # The share of requests captured (DEFAULT_CAPTURE_PERCENT when not given).
    capture_percent: int | None = None

    def __post_init__(self):
        if (self.training_job is None) == (self.version_dir is None):
            raise S2SError("give either --training-job or --version-dir")
        if self.version_dir is not None and not (self.upload_to or "").startswith("s3://"):
            raise S2SError("--version-dir needs --upload-to s3://bucket/prefix for its model.tar.gz")
        if self.capture_uri is not None:
            bucket = split_s3_uri(self.capture_uri)[0] if self.capture_uri.startswith("s3://") else ""
            if not _BUCKET.fullmatch(bucket):
                raise S2SError(f"--capture {self.capture_uri!r}: expected s3://BUCKET/PREFIX with a valid bucket "
                               "name (3 to 63 lowercase letters, digits, dots and hyphens)")
            if len(self.capture_uri) > _MAX_CAPTURE_URI:
                raise S2SError(f"--capture: the URI has {len(self.capture_uri)} characters; SageMaker takes "
                               f"{_MAX_CAPTURE_URI} at most")
        if self.capture_percent is not None:
            if self.capture_uri is None:
                raise S2SError("--capture-percent needs --capture s3://BUCKET/PREFIX")
            if not 1 <= self.capture_percent <= 100:
                raise S2SError(f"--capture-percent {self.capture_percent}: the share of requests captured is 1 to 100")


def data_capture_config(config: DeployConfig) -> dict:
    """SageMaker's DataCaptureConfig: requests and answers, /invocations' content types stored as text."""
    percent = DEFAULT_CAPTURE_PERCENT if config.capture_percent is None else config.capture_percent
    return {"EnableCapture": True, "InitialSamplingPercentage": percent,
            "DestinationS3Uri": config.capture_uri.rstrip("/"),
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {
                "JsonContentTypes": [t for t, encoding in CAPTURE_ENCODINGS.items() if encoding == "JSON"],
                "CsvContentTypes": [t for t, encoding in CAPTURE_ENCODINGS.items() if encoding == "CSV"]}}


def pack_version(version_dir: Path, archive: Path) -> str:
    """model.tar.gz of a verified version, laid out as a store; returns the version id."""
    (version,) = [v for v in ModelStore(version_dir.parent).versions() if v.path == version_dir] or [None]
    if version is None:
        raise S2SError(f"{version_dir}: not a published version (no version.json)")
    version.verify()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(version_dir, arcname=version_dir.name)
    return version.id


def model_data_url(config: DeployConfig, sagemaker, s3) -> str:
    if config.training_job:
        job = sagemaker.describe_training_job(TrainingJobName=config.training_job)
        if job["TrainingJobStatus"] != "Completed":
            raise S2SError(f"training job {config.training_job} is {job['TrainingJobStatus']}, not Completed")
        return job["ModelArtifacts"]["S3ModelArtifacts"]
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "model.tar.gz"
        version_id = pack_version(config.version_dir.resolve(), archive)
        bucket, prefix = split_s3_uri(config.upload_to)
        key = f"{prefix}/{version_id}/model.tar.gz".lstrip("/")
        logger.info("uploading %s to s3://%s/%s", archive, bucket, key)
        s3.upload_file(str(archive), bucket, key)
    return f"s3://{bucket}/{key}"


def _endpoint_exists(sagemaker, name: str) -> bool:
    try:
        sagemaker.describe_endpoint(EndpointName=name)
        return True
    except sagemaker.exceptions.ClientError as e:
        if "Could not find endpoint" in str(e) or e.response["Error"]["Code"] == "ValidationException":
            return False
        raise


def deploy(config: DeployConfig, sagemaker, s3) -> str:
    """Creates a model and an endpoint config (with Data Capture when asked), then creates the endpoint
    or updates it to them; returns the model name."""
    name = f"{config.endpoint}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=config.role,
                           PrimaryContainer={"Image": config.image, "ModelDataUrl": model_data_url(config, sagemaker, s3),
                                             "Environment": dict(config.environment)})
    capture = {"DataCaptureConfig": data_capture_config(config)} if config.capture_uri else {}
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": config.instance_count,
        "InstanceType": config.instance_type}], **capture)
    if _endpoint_exists(sagemaker, config.endpoint):
        sagemaker.update_endpoint(EndpointName=config.endpoint, EndpointConfigName=name)
    else:
        sagemaker.create_endpoint(EndpointName=config.endpoint, EndpointConfigName=name)
    return name


def follow_endpoint(sagemaker, endpoint: str, report: Callable[[str], None], poll_s: float = 30.0) -> None:
    """Reports status changes until the endpoint is in service; a failure is an error with SageMaker's reason."""
    last = None
    while True:
        description = sagemaker.describe_endpoint(EndpointName=endpoint)
        status = description["EndpointStatus"]
        if status != last:
            report(f"{endpoint}: {status}")
            last = status
        if status == "InService":
            return
        if status in ("Failed", "OutOfService"):
            raise S2SError(f"endpoint {endpoint} {status}: {description.get('FailureReason', 'no reason given')}")
        time.sleep(poll_s)


def translate(runtime, endpoint: str, texts: list[str]) -> list[str]:
    """Translations from the endpoint, in SageMaker seq2seq's JSON format."""
    response = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="application/json",
                                       Accept="application/json",
                                       Body=json.dumps({"instances": [{"data": t} for t in texts]}))
    body = response["Body"].read().decode("utf-8")
    try:
        return [p["target"] for p in json.loads(body)["predictions"]]
    except (ValueError, KeyError, TypeError) as e:
        raise S2SError(f"endpoint {endpoint} answered something other than predictions: {body[:500]}") from e
