"""`s2s aws batch-translate` against a moto server over HTTP, and the container's side of a batch
transform for real: the image's own entrypoint (docker/serve) with the environment SageMaker sets
for batch, fed a file split into mini-batches as SageMaker splits it, one output line per input line."""
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import requests

from serve.local import free_port, wait_until_ready
from tests.conftest import REPO, run_s2s
from tests.launcher.test_aws import bucket  # noqa: F401 - a fixture
from tests.launcher.test_capture_deploy import training_job  # noqa: F401 - a fixture
from tests.serve.test_app import APPLES, DOG


def _model(training_job: str) -> str:  # noqa: F811
    deployed = run_s2s("aws", "deploy", "--endpoint", "s2s-batch-source", "--image", "i", "--role",
                       "arn:aws:iam::123456789012:role/s2s", "--training-job", training_job, "--instance-type",
                       "ml.c5.xlarge", "--poll", "0.1")
    assert deployed.returncode == 0, deployed.stderr[-2000:]
    sagemaker = boto3.client("sagemaker")
    config = sagemaker.describe_endpoint(EndpointName="s2s-batch-source")["EndpointConfigName"]
    return sagemaker.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0]["ModelName"]


def test_a_batch_job_splits_lines_sends_many_a_request_and_assembles_lines(bucket, training_job, aws_requests):  # noqa: F811
    model = _model(training_job)
    result = run_s2s("aws", "batch-translate", "--endpoint", "s2s-batch-source", "--input", f"s3://{bucket}/in/",
                     "--output", f"s3://{bucket}/out/", "--format", "jsonlines", "--max-payload-mb", "4", "--poll", "0.1")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Completed" in result.stdout and f"s3://{bucket}/out/FILE.out" in result.stdout
    (job,) = aws_requests("SageMaker.CreateTransformJob")
    assert job["ModelName"] == model and job["BatchStrategy"] == "MultiRecord" and job["MaxPayloadInMB"] == 4
    assert job["TransformInput"] == {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                                     "S3Uri": f"s3://{bucket}/in/"}},
                                     "ContentType": "application/jsonlines", "SplitType": "Line"}
    assert job["TransformOutput"] == {"S3OutputPath": f"s3://{bucket}/out/", "Accept": "application/jsonlines",
                                      "AssembleWith": "Line"}
    assert job["Environment"] == {"SAGEMAKER_MAX_PAYLOAD_IN_MB": "4"}


@pytest.mark.parametrize("extra,message", [
    (["--input", "in/", "--output", "s3://b/out", "--model", "m"], "--input 'in/': expected s3://BUCKET/PREFIX"),
    (["--input", "s3://b/in", "--output", "s3://b/out", "--model", "m", "--max-payload-mb", "101"],
     "--max-payload-mb 101: SageMaker takes 1 to 100"),
    (["--input", "s3://b/in", "--output", "s3://b/out"], "give either --model or --endpoint"),
])
def test_batch_refusals_come_before_any_call(aws_requests, extra, message):
    result = run_s2s("aws", "batch-translate", *extra)
    assert result.returncode != 0 and message in result.stderr
    assert not aws_requests("SageMaker.CreateTransformJob")


def _mini_batches(lines: list[str], max_bytes: int) -> list[str]:
    """What SageMaker sends with SplitType Line and MultiRecord: as many whole lines a request as fit."""
    batches, current = [], ""
    for line in lines:
        record = line + "\n"
        if current and len((current + record).encode()) > max_bytes:
            batches.append(current)
            current = ""
        current += record
    return batches + ([current] if current else [])


@pytest.mark.parametrize("content_type", ["text/plain", "application/jsonlines"])
def test_the_containers_serve_answers_a_batch_line_for_line(store, translated, content_type):
    port = free_port()
    env = {**os.environ, "S2S_STORE": str(store), "SAGEMAKER_BIND_TO_PORT": str(port), "SAGEMAKER_BATCH": "true",
           "SAGEMAKER_MAX_PAYLOAD_IN_MB": "1", "SAGEMAKER_BATCH_STRATEGY": "MULTI_RECORD",
           "SAGEMAKER_MODEL_SERVER_WORKERS": "1", "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    process = subprocess.Popen([str(REPO / "docker" / "serve")], env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, process)
        parameters = requests.get(url + "/execution-parameters", timeout=10).json()
        assert parameters["BatchStrategy"] == "MULTI_RECORD" and parameters["MaxPayloadInMB"] == 1
        texts = [DOG, APPLES, "", "Hello.", DOG] * 600
        lines = texts if content_type == "text/plain" else [json.dumps({"source": t}) for t in texts]
        batches = _mini_batches(lines, 16_000)
        assert len(batches) > 1
        out = []
        for batch in batches:
            answer = requests.post(url + "/invocations", data=batch.encode(), timeout=120,
                                   headers={"Content-Type": content_type})
            assert answer.status_code == 200, answer.text[:300]
            out += answer.text.splitlines()
        if content_type == "application/jsonlines":
            out = [json.loads(line)["target"] for line in out]
        assert len(out) == len(texts)
        assert out[:5] == [translated(DOG), translated(APPLES), "", translated("Hello."), translated(DOG)]
        assert out == out[:5] * 600
    finally:
        process.terminate()
        process.wait(timeout=60)
