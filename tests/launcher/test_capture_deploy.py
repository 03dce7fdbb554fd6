"""`s2s aws deploy --capture`: the endpoint config carries SageMaker Data Capture, read back through
AWS's own API from a moto server over HTTP."""
import uuid

import boto3
import pytest

from tests.conftest import run_s2s

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/s2s:abc"
ROLE = "arn:aws:iam::123456789012:role/s2s"
# /invocations' content types (serve/app.py), stored as text rather than base64.
JSON_TYPES = ["application/json", "application/jsonlines", "application/x-jsonlines"]
CSV_TYPES = ["text/plain"]


@pytest.fixture
def training_job(aws_env):
    """A finished training job to deploy (moto completes one at once)."""
    name = f"s2s-capture-job-{uuid.uuid4().hex[:8]}"
    sagemaker = boto3.client("sagemaker")
    sagemaker.create_training_job(
        TrainingJobName=name, RoleArn=ROLE,
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        OutputDataConfig={"S3OutputPath": "s3://s2s-tests/out"}, StoppingCondition={"MaxRuntimeInSeconds": 3600},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10})
    return name


def _deploy(endpoint: str, job: str, *extra: str):
    return run_s2s("aws", "deploy", "--endpoint", endpoint, "--image", IMAGE, "--role", ROLE, "--training-job", job,
                   "--instance-type", "ml.c5.xlarge", "--poll", "0.1", *extra)


def _endpoint_config(endpoint: str) -> dict:
    sagemaker = boto3.client("sagemaker")
    return sagemaker.describe_endpoint_config(
        EndpointConfigName=sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"])


@pytest.mark.parametrize("extra,percent", [([], 100), (["--capture-percent", "30"], 30)])
def test_deploy_with_capture_turns_on_data_capture_of_requests_and_answers(training_job, extra, percent):
    endpoint = f"s2s-capture-{percent}"
    result = _deploy(endpoint, training_job, "--capture", "s3://s2s-capture-tests/capture/", *extra)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{endpoint}: InService" in result.stdout
    assert _endpoint_config(endpoint)["DataCaptureConfig"] == {
        "EnableCapture": True, "InitialSamplingPercentage": percent,
        "DestinationS3Uri": "s3://s2s-capture-tests/capture",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"JsonContentTypes": JSON_TYPES, "CsvContentTypes": CSV_TYPES}}


def test_deploy_without_capture_captures_nothing(training_job):
    result = _deploy("s2s-no-capture", training_job)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not _endpoint_config("s2s-no-capture").get("DataCaptureConfig")


@pytest.mark.parametrize("extra,message", [
    (["--capture", "my-bucket/capture"], "--capture 'my-bucket/capture': expected s3://BUCKET/PREFIX"),
    (["--capture", "s3://"], "--capture 's3://': expected s3://BUCKET/PREFIX"),
    (["--capture", "s3://My_Bucket/capture"], "--capture 's3://My_Bucket/capture': expected s3://BUCKET/PREFIX"),
    (["--capture", "s3://s2s-capture-tests/" + "x" * 500],
     "--capture: the URI has 523 characters; SageMaker takes 512 at most"),
    (["--capture", "s3://s2s-capture-tests/c", "--capture-percent", "0"],
     "--capture-percent 0: the share of requests captured is 1 to 100"),
    (["--capture", "s3://s2s-capture-tests/c", "--capture-percent", "101"],
     "--capture-percent 101: the share of requests captured is 1 to 100"),
    (["--capture-percent", "50"], "--capture-percent needs --capture s3://BUCKET/PREFIX"),
])
def test_bad_capture_options_are_refused_before_calling_aws(training_job, aws_requests, extra, message):
    result = _deploy("s2s-capture-refused", training_job, *extra)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"s2s aws: error: {message}" in result.stderr
    assert aws_requests("SageMaker.CreateModel") == [] and aws_requests("SageMaker.CreateEndpointConfig") == []
