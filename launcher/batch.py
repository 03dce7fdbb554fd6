"""`s2s aws batch-translate`: a SageMaker batch transform job over files in S3, one text per line.

SageMaker splits each input file into lines (SplitType Line), sends them to the container's
/invocations in requests of as many lines as fit MaxPayloadInMB (BatchStrategy MultiRecord), and
joins the answers line by line (AssembleWith Line) into FILE.out under the output prefix: one
translation per input line, in order (tests/launcher/test_batch.py runs the container's side).
"""
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from data_prep.errors import S2SError
from launcher.status import follow
from launcher.training import split_s3_uri

# /invocations' content types for a file of lines: plain text, or JSON lines of {"source": text}.
CONTENT_TYPES = {"text": "text/plain", "jsonlines": "application/jsonlines"}
# SageMaker's bounds on a batch request, and the container's own default limit (serve/config.py).
MAX_PAYLOAD_MB = 100
DEFAULT_PAYLOAD_MB = 6


@dataclass(frozen=True)
class BatchConfig:
    model: str
    input_uri: str
    output_uri: str
    format: str = "text"
    instance_type: str = "ml.c5.xlarge"
    instance_count: int = 1
    max_payload_mb: int = DEFAULT_PAYLOAD_MB

    def __post_init__(self):
        for flag, uri in (("--input", self.input_uri), ("--output", self.output_uri)):
            if not uri.startswith("s3://") or not split_s3_uri(uri)[0]:
                raise S2SError(f"{flag} {uri!r}: expected s3://BUCKET/PREFIX")
        if self.format not in CONTENT_TYPES:
            raise S2SError(f"--format {self.format!r}: use {' or '.join(CONTENT_TYPES)}")
        if not 1 <= self.max_payload_mb <= MAX_PAYLOAD_MB:
            raise S2SError(f"--max-payload-mb {self.max_payload_mb}: SageMaker takes 1 to {MAX_PAYLOAD_MB}")
        if self.instance_count < 1:
            raise S2SError(f"--instance-count {self.instance_count}: at least 1")


def model_of_endpoint(sagemaker, endpoint: str) -> str:
    """The model an endpoint serves now, to run a batch job with the same version."""
    config = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    variants = sagemaker.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]
    return variants[0]["ModelName"]


def start_batch(config: BatchConfig, sagemaker) -> str:
    """Creates the transform job; returns its name."""
    name = f"s2s-batch-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"
    content_type = CONTENT_TYPES[config.format]
    sagemaker.create_transform_job(
        TransformJobName=name, ModelName=config.model, BatchStrategy="MultiRecord",
        MaxPayloadInMB=config.max_payload_mb,
        # The container reads its payload limit from this, as SageMaker sets it for batch.
        Environment={"SAGEMAKER_MAX_PAYLOAD_IN_MB": str(config.max_payload_mb)},
        TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": config.input_uri}},
                        "ContentType": content_type, "SplitType": "Line"},
        TransformOutput={"S3OutputPath": config.output_uri, "Accept": content_type, "AssembleWith": "Line"},
        TransformResources={"InstanceType": config.instance_type, "InstanceCount": config.instance_count})
    return name


def follow_batch(sagemaker, name: str, report: Callable[[str], None], poll_s: float = 30.0) -> dict:
    """Reports status changes until the job ends; a failure is an error with SageMaker's reason."""
    return follow(lambda: sagemaker.describe_transform_job(TransformJobName=name), "TransformJobStatus", "Completed",
                  ("Failed", "Stopped"), f"batch job {name}", report, poll_s)
