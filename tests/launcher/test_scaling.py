"""`s2s aws deploy --serverless|--autoscale|--async`, `s2s aws translate --async` and `s2s aws undeploy`
through the real CLI against a moto server over HTTP, read back through AWS's own API; and what moto
would let through refused by s2s before any call."""
import json
import shutil
import time

import boto3
import pytest
import requests

from tests.conftest import run_s2s
from tests.launcher.test_aws import IMAGE, ROLE, bucket  # noqa: F401 - a fixture
from tests.launcher.test_capture_deploy import training_job  # noqa: F401 - a fixture
from tests.serve.test_app import _copy_version


def _deploy(endpoint: str, *extra: str):
    return run_s2s("aws", "deploy", "--endpoint", endpoint, "--image", IMAGE, "--role", ROLE, "--poll", "0.1", *extra)


def _variant_and_container(endpoint: str) -> tuple[dict, dict, dict]:
    sagemaker = boto3.client("sagemaker")
    config = sagemaker.describe_endpoint_config(
        EndpointConfigName=sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"])
    (variant,) = config["ProductionVariants"]
    return config, variant, sagemaker.describe_model(ModelName=variant["ModelName"])["PrimaryContainer"]


def test_a_serverless_endpoint_has_memory_concurrency_one_worker_and_the_serverless_payload(training_job):  # noqa: F811
    result = _deploy("s2s-serverless", "--training-job", training_job, "--serverless", "2048,10,2")
    assert result.returncode == 0, result.stderr[-3000:]
    _, variant, container = _variant_and_container("s2s-serverless")
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 10, "ProvisionedConcurrency": 2}
    assert "InstanceType" not in variant
    assert container["Environment"] == {"SAGEMAKER_MODEL_SERVER_WORKERS": "1", "SAGEMAKER_MAX_PAYLOAD_IN_MB": "4"}


@pytest.mark.parametrize("extra,message", [
    (["--serverless", "2048", "--instance-type", "ml.g5.xlarge"], "drop --instance-type ml.g5.xlarge"),
    (["--serverless", "2048", "--capture", "s3://b-b-b/c"], "serverless endpoints have no Data Capture"),
    (["--serverless", "1000"], "memory 1000 MB; SageMaker takes 1024, 2048"),
    (["--serverless", "2048,300"], "concurrency 300; 1 to 200"),
    (["--serverless", "2048,4,5"], "provisioned concurrency 5; 1 to the maximum concurrency, 4"),
    (["--serverless", "big"], "expected MEMORY_MB[,MAX_CONCURRENCY[,PROVISIONED]]"),
    (["--serverless", "2048", "--async", "s3://b-b-b/out/"], "give one of --serverless and --async"),
    (["--autoscale", "3:1"], "MIN must be at least 1 and at most MAX"),
    (["--autoscale", "2:4"], "--instance-count 1 is outside --autoscale 2:4"),
    (["--autoscale", "1:2", "--no-wait"], "drop --no-wait"),
    (["--serverless", "2048,4", "--autoscale", "1:2"], "give it one, --serverless MEMORY_MB,MAX_CONCURRENCY,"),
    (["--serverless", "2048,4,1", "--autoscale", "1:8"], "over the maximum concurrency 4"),
    (["--async", "https://example.com/out"], "expected s3://BUCKET/PREFIX/ for the answers"),
])
def test_what_aws_would_refuse_late_is_refused_before_any_call(aws_requests, extra, message):
    result = _deploy("s2s-refused", "--training-job", "some-job", *extra)
    assert result.returncode == 1 and message in result.stderr, result.stderr[-2000:]
    assert not aws_requests("SageMaker.CreateModel")


def test_serverless_refuses_a_version_with_no_ctranslate2_export(bucket, store, tmp_path):  # noqa: F811
    (original,) = [p for p in store.iterdir() if (p / "version.json").is_file()]
    copy = _copy_version(original, tmp_path / "store", original.name, 90.0)
    shutil.rmtree(copy / "ctranslate2")
    result = _deploy("s2s-no-export", "--version-dir", str(copy), "--upload-to", f"s3://{bucket}/models",
                     "--serverless", "2048")
    assert result.returncode == 1 and "--serverless serves with CTranslate2 alone" in result.stderr


@pytest.mark.parametrize("extra,dimension,metric,target", [
    (["--instance-type", "ml.c5.xlarge", "--autoscale", "1:4"], "sagemaker:variant:DesiredInstanceCount",
     "SageMakerVariantInvocationsPerInstance", 70.0),
    (["--instance-type", "ml.c5.xlarge", "--instance-count", "2", "--autoscale", "2:6:150"],
     "sagemaker:variant:DesiredInstanceCount", "SageMakerVariantInvocationsPerInstance", 150.0),
])
def test_autoscaling_is_registered_on_the_variant(training_job, extra, dimension, metric, target):  # noqa: F811
    endpoint = f"s2s-scaled-{abs(hash(tuple(extra))) % 10_000}"
    result = _deploy(endpoint, "--training-job", training_job, *extra)
    assert result.returncode == 0, result.stderr[-3000:]
    scaling = boto3.client("application-autoscaling")
    resource = f"endpoint/{endpoint}/variant/AllTraffic"
    (registered,) = scaling.describe_scalable_targets(ServiceNamespace="sagemaker",
                                                      ResourceIds=[resource])["ScalableTargets"]
    minimum, maximum = (int(n) for n in extra[-1].split(":")[:2])
    assert (registered["ScalableDimension"], registered["MinCapacity"], registered["MaxCapacity"]) == (
        dimension, minimum, maximum)
    (policy,) = scaling.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=resource)["ScalingPolicies"]
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert policy["PolicyType"] == "TargetTrackingScaling" and tracking["TargetValue"] == target
    assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == metric


def test_a_serverless_endpoint_scales_its_provisioned_concurrency(training_job, aws_requests):  # noqa: F811
    # moto's Application Auto Scaling predates provisioned concurrency and refuses its dimension: what s2s sends,
    # the request AWS would receive, is what is checked.
    result = _deploy("s2s-serverless-scaled", "--training-job", training_job, "--serverless", "2048,10,2",
                     "--autoscale", "1:8")
    assert "DesiredProvisionedConcurrency" in result.stderr  # moto's refusal, read as an error
    sent = aws_requests("AnyScaleFrontendService.RegisterScalableTarget")
    assert sent and all(registered == {"ServiceNamespace": "sagemaker", "MinCapacity": 1, "MaxCapacity": 8,
                          "ResourceId": "endpoint/s2s-serverless-scaled/variant/AllTraffic",
                          "ScalableDimension": "sagemaker:variant:DesiredProvisionedConcurrency"}
                        for registered in sent)  # botocore may have retried it


def test_a_new_version_rolls_out_as_a_new_config_and_an_update(training_job, aws_requests):  # noqa: F811
    first = _deploy("s2s-rollout", "--training-job", training_job, "--instance-type", "ml.c5.xlarge")
    assert first.returncode == 0, first.stderr[-3000:]
    time.sleep(1.1)  # names are made to the second
    _deploy("s2s-rollout", "--training-job", training_job, "--instance-type", "ml.c5.xlarge")
    # moto has no UpdateEndpoint: the request AWS would receive is what is checked.
    (created_first, created_second) = aws_requests("SageMaker.CreateEndpointConfig")
    updates = aws_requests("SageMaker.UpdateEndpoint")  # botocore retries moto's 500
    assert updates and all(update == {"EndpointName": "s2s-rollout",
                                      "EndpointConfigName": created_second["EndpointConfigName"]} for update in updates)
    assert created_first["EndpointConfigName"] != created_second["EndpointConfigName"]
    assert not aws_requests("SageMaker.DeleteEndpoint")  # the endpoint kept serving meanwhile


def test_an_async_endpoint_answers_through_s3_and_undeploy_removes_everything(bucket, training_job):  # noqa: F811
    result = _deploy("s2s-async", "--training-job", training_job, "--instance-type", "ml.c5.xlarge",
                     "--async", f"s3://{bucket}/async-out/", "--autoscale", "1:2")
    assert result.returncode == 0, result.stderr[-3000:]
    config, _, _ = _variant_and_container("s2s-async")
    assert config["AsyncInferenceConfig"]["OutputConfig"]["S3OutputPath"] == f"s3://{bucket}/async-out/"
    # moto writes the answer it is told to where SageMaker would; the CLI's upload, wait and parsing are tested.
    requests.post(f"{boto3.client('s3').meta.endpoint_url}/moto-api/static/sagemaker/async-endpoint-results",
                  json={"results": [{"data": json.dumps({"predictions": [{"target": "Der Hund."}]})}],
                        "region": "us-east-1"}, timeout=5)
    translated = run_s2s("aws", "translate", "--endpoint", "s2s-async", "--async", f"s3://{bucket}/staging",
                         "--poll", "0.1", "The dog.")
    assert translated.returncode == 0 and translated.stdout == "Der Hund.\n", translated.stderr
    (request,) = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix="staging/requests/")["Contents"]
    sent = boto3.client("s3").get_object(Bucket=bucket, Key=request["Key"])["Body"].read()
    assert json.loads(sent) == {"instances": [{"data": "The dog."}]}

    sagemaker = boto3.client("sagemaker")
    gone = run_s2s("aws", "undeploy", "--endpoint", "s2s-async")
    assert gone.returncode == 0, gone.stderr
    assert "autoscaling removed" in gone.stdout and "deleted endpoint s2s-async" in gone.stdout
    assert gone.stdout.count("deleted endpoint config") == 1 and gone.stdout.count("deleted model") == 1
    # moto ignores NameContains: the names are checked here.
    assert not [c for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]
                if c["EndpointConfigName"].startswith("s2s-async-")]
    assert not [m for m in sagemaker.list_models()["Models"] if m["ModelName"].startswith("s2s-async-")]
    assert not boto3.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=["endpoint/s2s-async/variant/AllTraffic"])["ScalableTargets"]
    nothing = run_s2s("aws", "undeploy", "--endpoint", "s2s-async")
    assert nothing.returncode == 1 and "nothing to undeploy" in nothing.stderr
