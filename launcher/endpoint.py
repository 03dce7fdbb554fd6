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
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from data_prep.errors import S2SError
from launcher.status import follow
from launcher.training import split_s3_uri
from review.capture import CAPTURE_ENCODINGS, DEFAULT_CAPTURE_PERCENT
from seq2seq.versions.store import ModelStore

logger = logging.getLogger(__name__)

# S3's rules for a bucket name, and SageMaker's longest DestinationS3Uri.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_MAX_CAPTURE_URI = 512


# Serverless endpoints (ServerlessConfig): memory in GB steps, concurrency, and their payload limit.
SERVERLESS_MEMORY_MB = tuple(range(1024, 6145, 1024))
MAX_SERVERLESS_CONCURRENCY = 200
SERVERLESS_PAYLOAD_MB = 4
DEFAULT_INSTANCE_TYPE = "ml.g5.xlarge"
# Instance families with accelerators, which a serverless endpoint has none of.
_ACCELERATED = re.compile(r"ml\.(g\d|p\d|inf\d|trn\d)")


@dataclass(frozen=True)
class Serverless:
    memory_mb: int
    max_concurrency: int = 5
    provisioned: int | None = None

    @classmethod
    def parse(cls, text: str) -> "Serverless":
        """`--serverless MEMORY_MB[,MAX_CONCURRENCY[,PROVISIONED]]`, checked as SageMaker checks it."""
        parts = text.split(",")
        try:
            numbers = [int(part) for part in parts]
        except ValueError:
            raise S2SError(f"--serverless {text!r}: expected MEMORY_MB[,MAX_CONCURRENCY[,PROVISIONED]], "
                           f"whole numbers, e.g. 2048,10") from None
        if not 1 <= len(numbers) <= 3:
            raise S2SError(f"--serverless {text!r}: expected MEMORY_MB[,MAX_CONCURRENCY[,PROVISIONED]]")
        serverless = cls(*numbers)
        if serverless.memory_mb not in SERVERLESS_MEMORY_MB:
            raise S2SError(f"--serverless: memory {serverless.memory_mb} MB; SageMaker takes "
                           f"{', '.join(map(str, SERVERLESS_MEMORY_MB))}")
        if not 1 <= serverless.max_concurrency <= MAX_SERVERLESS_CONCURRENCY:
            raise S2SError(f"--serverless: concurrency {serverless.max_concurrency}; 1 to {MAX_SERVERLESS_CONCURRENCY}")
        if serverless.provisioned is not None and not 1 <= serverless.provisioned <= serverless.max_concurrency:
            raise S2SError(f"--serverless: provisioned concurrency {serverless.provisioned}; 1 to the maximum "
                           f"concurrency, {serverless.max_concurrency}")
        return serverless

    def config(self) -> dict:
        config = {"MemorySizeInMB": self.memory_mb, "MaxConcurrency": self.max_concurrency}
        if self.provisioned is not None:
            config["ProvisionedConcurrency"] = self.provisioned
        return config


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
    # None: DEFAULT_INSTANCE_TYPE, or none at all for a serverless endpoint.
    instance_type: str | None = None
    instance_count: int = 1
    environment: dict[str, str] = field(default_factory=dict)
    serverless: Serverless | None = None
    # An asynchronous endpoint writes its answers under this s3:// URI (AsyncInferenceConfig).
    async_output: str | None = None
    # Data Capture: requests and answers are written under s3://bucket/prefix (None: off).
    capture_uri: str | None = None
    # The share of requests captured (DEFAULT_CAPTURE_PERCENT when not given).
    capture_percent: int | None = None

    def __post_init__(self):
        if (self.training_job is None) == (self.version_dir is None):
            raise S2SError("give either --training-job or --version-dir")
        if self.serverless:
            self._check_serverless()
        if self.async_output is not None and not _BUCKET.fullmatch(
                split_s3_uri(self.async_output)[0] if self.async_output.startswith("s3://") else ""):
            raise S2SError(f"--async {self.async_output!r}: expected s3://BUCKET/PREFIX/ for the answers")
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


    def _check_serverless(self) -> None:
        if self.instance_type:
            kind = "GPU " if _ACCELERATED.match(self.instance_type) else ""
            raise S2SError(f"--serverless has no instances: drop --instance-type {self.instance_type} (a serverless "
                           f"endpoint runs on {'CPUs, not a ' + kind + 'instance' if kind else 'memory you choose'})")
        if self.capture_uri:
            raise S2SError("--serverless endpoints have no Data Capture: drop --capture, or deploy on instances")
        if self.async_output:
            raise S2SError("--async endpoints run on instances: give one of --serverless and --async")
        if self.version_dir is not None:
            version = ModelStore(self.version_dir.parent).versions()
            found = next((v for v in version if v.path == self.version_dir), None)
            problem = found.export_problem() if found else None
            if problem:
                raise S2SError(f"--serverless serves with CTranslate2 alone, and {self.version_dir.name} cannot be: "
                               f"{problem}; publish it again with this s2s")

    def variant(self, model: str) -> dict:
        """The endpoint config's production variant."""
        variant = {"VariantName": VARIANT, "ModelName": model}
        if self.serverless:
            return {**variant, "ServerlessConfig": self.serverless.config()}
        return {**variant, "InitialInstanceCount": self.instance_count,
                "InstanceType": self.instance_type or DEFAULT_INSTANCE_TYPE}

    def container_environment(self) -> dict[str, str]:
        """A serverless endpoint runs one worker, within its payload limit, unless --env says otherwise."""
        if not self.serverless:
            return dict(self.environment)
        return {"SAGEMAKER_MODEL_SERVER_WORKERS": "1", "SAGEMAKER_MAX_PAYLOAD_IN_MB": str(SERVERLESS_PAYLOAD_MB),
                **self.environment}


VARIANT = "AllTraffic"


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
                                             "Environment": config.container_environment()})
    extra = {"DataCaptureConfig": data_capture_config(config)} if config.capture_uri else {}
    if config.async_output:
        extra["AsyncInferenceConfig"] = {"OutputConfig": {"S3OutputPath": config.async_output}}
    # A new config each time, then UpdateEndpoint: SageMaker moves traffic once the new one is healthy.
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[config.variant(name)], **extra)
    if _endpoint_exists(sagemaker, config.endpoint):
        sagemaker.update_endpoint(EndpointName=config.endpoint, EndpointConfigName=name)
    else:
        sagemaker.create_endpoint(EndpointName=config.endpoint, EndpointConfigName=name)
    return name


def follow_endpoint(sagemaker, endpoint: str, report: Callable[[str], None], poll_s: float = 30.0) -> None:
    """Reports status changes until the endpoint is in service; a failure is an error with SageMaker's reason."""
    follow(lambda: sagemaker.describe_endpoint(EndpointName=endpoint), "EndpointStatus", "InService",
           ("Failed", "OutOfService"), f"endpoint {endpoint}", report, poll_s)


def undeploy(sagemaker, endpoint: str) -> list[str]:
    """Deletes the endpoint and the endpoint configs and models that deploy made for it (named ENDPOINT-DATE-TIME);
    returns what it deleted. Autoscaling is removed first (launcher/scaling.py)."""
    made = re.compile(re.escape(endpoint) + r"-\d{8}-\d{6}")
    deleted = []
    if _endpoint_exists(sagemaker, endpoint):
        sagemaker.delete_endpoint(EndpointName=endpoint)
        deleted.append(f"endpoint {endpoint}")
    for kind, lister, key, name_key, delete in (
            ("endpoint config", sagemaker.list_endpoint_configs, "EndpointConfigs", "EndpointConfigName",
             lambda n: sagemaker.delete_endpoint_config(EndpointConfigName=n)),
            ("model", sagemaker.list_models, "Models", "ModelName", lambda n: sagemaker.delete_model(ModelName=n))):
        for page in _pages(lister, key, NameContains=endpoint):
            for item in page:
                if made.fullmatch(item[name_key]):
                    delete(item[name_key])
                    deleted.append(f"{kind} {item[name_key]}")
    if not deleted:
        raise S2SError(f"nothing to undeploy: no endpoint {endpoint}, and no endpoint config or model that "
                       f"`s2s aws deploy --endpoint {endpoint}` made")
    return deleted


def _pages(lister, key: str, **arguments):
    token = None
    while True:
        page = lister(**arguments, **({"NextToken": token} if token else {}))
        yield page[key]
        token = page.get("NextToken")
        if not token:
            return


def translate_async(runtime, s3, endpoint: str, texts: list[str], staging: str,
                    poll_s: float = 5.0, timeout_s: float = 3600.0) -> list[str]:
    """Translations from an asynchronous endpoint: the request is uploaded under `staging` (s3://...), the
    endpoint invoked with its location, and the answer fetched once SageMaker has written it."""
    bucket, prefix = split_s3_uri(staging)
    key = f"{prefix}/requests/{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.json".lstrip("/")
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps({"instances": [{"data": t} for t in texts]}).encode())
    answer = runtime.invoke_endpoint_async(EndpointName=endpoint, InputLocation=f"s3://{bucket}/{key}",
                                           ContentType="application/json", Accept="application/json")
    output, failure = answer["OutputLocation"], answer.get("FailureLocation")
    deadline = time.monotonic() + timeout_s
    while True:
        for location, failed in ((output, False), (failure, True)):
            body = _s3_text(s3, location) if location else None
            if body is not None:
                if failed:
                    raise S2SError(f"endpoint {endpoint} failed the request: {body[:500]}")
                return _predictions(endpoint, body)
        if time.monotonic() > deadline:
            raise S2SError(f"endpoint {endpoint}: no answer at {output} after {timeout_s:g} s")
        time.sleep(poll_s)


def _s3_text(s3, uri: str) -> str | None:
    bucket, key = split_s3_uri(uri)
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    except s3.exceptions.NoSuchKey:
        return None


def _predictions(endpoint: str, body: str) -> list[str]:
    try:
        return [p["target"] for p in json.loads(body)["predictions"]]
    except (ValueError, KeyError, TypeError) as e:
        raise S2SError(f"endpoint {endpoint} answered something other than predictions: {body[:500]}") from e


def translate(runtime, endpoint: str, texts: list[str]) -> list[str]:
    """Translations from the endpoint, in SageMaker seq2seq's JSON format."""
    response = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="application/json",
                                       Accept="application/json",
                                       Body=json.dumps({"instances": [{"data": t} for t in texts]}))
    return _predictions(endpoint, response["Body"].read().decode("utf-8"))
