"""`s2s aws train|tune|deploy|translate` through the real CLI, against a moto server over HTTP:
what AWS would receive, read back through AWS's own API."""
import io
import json
import tarfile

import boto3
import pytest
import requests

from seq2seq.training.metrics import METRIC_DEFINITIONS
from tests.conftest import run_s2s

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/s2s:abc"
ROLE = "arn:aws:iam::123456789012:role/s2s"


@pytest.fixture
def bucket(aws_env):
    s3 = boto3.client("s3")
    name = "s2s-tests"
    s3.create_bucket(Bucket=name)
    return name


def _job_options(bucket, *extra):
    return ["--image", IMAGE, "--role", ROLE, "--output-path", f"s3://{bucket}/out", *extra]


def test_train_sends_image_channels_string_hyperparameters_spot_and_metrics(bucket, aws_requests, small_corpus,
                                                                           tmp_path):
    local = tmp_path / "train"
    local.mkdir()
    for path in small_corpus["train"]:
        (local / f"corpus{path.suffix}").write_bytes(path.read_bytes())
    result = run_s2s("aws", "train", *_job_options(bucket), "--channel", f"train={local}",
                     "--channel", f"validation=s3://{bucket}/given/validation",
                     "--channel", f"model=s3://{bucket}/earlier/output/model.tar.gz",
                     "--hyperparameter", "source_lang=en", "--hyperparameter", "target_lang=de",
                     "--hyperparameter", "joint_vocab=true", "--hyperparameter", "max_updates=300",
                     "--spot", "--checkpoint-s3-uri", f"s3://{bucket}/checkpoints", "--max-run", "3600",
                     "--max-wait", "7200", "--instance-type", "ml.g5.2xlarge", "--poll", "0.1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Completed" in result.stdout and "model artefact: s3://" in result.stdout
    (job,) = aws_requests("SageMaker.CreateTrainingJob")
    assert job["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert job["RoleArn"] == ROLE
    assert job["HyperParameters"] == {"source_lang": "en", "target_lang": "de", "joint_vocab": "true",
                                      "max_updates": "300"}
    assert job["EnableManagedSpotTraining"] is True
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    assert job["CheckpointConfig"]["S3Uri"] == f"s3://{bucket}/checkpoints"
    assert job["ResourceConfig"]["InstanceType"] == "ml.g5.2xlarge"
    assert job["OutputDataConfig"]["S3OutputPath"] == f"s3://{bucket}/out"
    # The single list of metric regexes, which tests/seq2seq runs over a real job's log.
    assert job["AlgorithmSpecification"]["MetricDefinitions"] == METRIC_DEFINITIONS
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in job["InputDataConfig"]}
    assert channels["validation"] == f"s3://{bucket}/given/validation"
    assert channels["model"] == f"s3://{bucket}/earlier/output/model.tar.gz"
    assert channels["train"].startswith(f"s3://{bucket}/out/inputs/")
    prefix = channels["train"].split("/", 3)[3]
    uploaded = {o["Key"].rsplit("/", 1)[1] for o in boto3.client("s3").list_objects_v2(
        Bucket=bucket, Prefix=prefix)["Contents"]}
    assert uploaded == {"corpus.en", "corpus.de"}


@pytest.mark.parametrize("extra,message", [
    (["--hyperparameter", "source_lang=en", "--hyperparameter", "target_lang=de", "--hyperparameter", "lr=1"],
     "unknown hyperparameter"),
    (["--hyperparameter", "source_lang=en", "--hyperparameter", "target_lang=de", "--spot"],
     "spot training needs --checkpoint-s3-uri"),
    (["--hyperparameter", "target_lang=de"], "missing hyperparameter source_lang"),
    (["--hyperparameter", "source_lang"], "--hyperparameter 'source_lang': expected KEY=VALUE"),
])
def test_train_refuses_bad_input_before_calling_aws(bucket, aws_requests, extra, message):
    result = run_s2s("aws", "train", *_job_options(bucket), "--channel", f"train=s3://{bucket}/t", *extra)
    assert result.returncode == 1 and message in result.stderr
    assert "Traceback" not in result.stderr
    assert aws_requests("SageMaker.CreateTrainingJob") == []


def test_train_names_a_missing_local_channel(bucket, tmp_path):
    result = run_s2s("aws", "train", *_job_options(bucket), "--channel", f"train={tmp_path / 'nope'}",
                     "--hyperparameter", "source_lang=en", "--hyperparameter", "target_lang=de")
    assert result.returncode == 1 and "nope: no such file or directory" in result.stderr


def test_tune_is_bayesian_over_the_four_ranges_maximising_validation_bleu(bucket, aws_requests):
    result = run_s2s("aws", "tune", *_job_options(bucket), "--channel", f"train=s3://{bucket}/t",
                     "--hyperparameter", "source_lang=en", "--hyperparameter", "target_lang=de",
                     "--max-jobs", "6", "--max-parallel-jobs", "3")
    assert result.returncode == 0, result.stderr[-3000:]
    (job,) = aws_requests("SageMaker.CreateHyperParameterTuningJob")
    config = job["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Bayesian"
    assert config["HyperParameterTuningJobObjective"] == {"Type": "Maximize", "MetricName": "validation:bleu"}
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 6, "MaxParallelTrainingJobs": 3}
    ranges = config["ParameterRanges"]
    names = {r["Name"] for kind in ranges.values() for r in kind}
    assert names == {"learning_rate", "num_layers", "model_size", "dropout"}
    definition = job["TrainingJobDefinition"]
    assert definition["StaticHyperParameters"] == {"source_lang": "en", "target_lang": "de"}
    assert definition["AlgorithmSpecification"]["MetricDefinitions"] == METRIC_DEFINITIONS


def test_deploy_a_published_version_then_translate(bucket, store):
    (version_dir,) = [p for p in store.iterdir() if (p / "version.json").is_file()]
    result = run_s2s("aws", "deploy", "--endpoint", "s2s-test", "--image", IMAGE, "--role", ROLE,
                     "--version-dir", str(version_dir), "--upload-to", f"s3://{bucket}/models",
                     "--instance-type", "ml.c5.xlarge", "--env", "SAGEMAKER_MODEL_SERVER_WORKERS=2", "--poll", "0.1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "s2s-test: InService" in result.stdout
    sagemaker = boto3.client("sagemaker")
    endpoint = sagemaker.describe_endpoint(EndpointName="s2s-test")
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    (variant,) = config["ProductionVariants"]
    assert variant["InstanceType"] == "ml.c5.xlarge" and variant["InitialInstanceCount"] == 1
    model = sagemaker.describe_model(ModelName=variant["ModelName"])
    container = model["PrimaryContainer"]
    assert container["Image"] == IMAGE and container["Environment"] == {"SAGEMAKER_MODEL_SERVER_WORKERS": "2"}
    assert container["ModelDataUrl"] == f"s3://{bucket}/models/{version_dir.name}/model.tar.gz"
    # The archive unpacks into /opt/ml/model as a store: the version directory at its root.
    archive = boto3.client("s3").get_object(Bucket=bucket, Key=f"models/{version_dir.name}/model.tar.gz")["Body"]
    with tarfile.open(fileobj=io.BytesIO(archive.read())) as tar:
        assert f"{version_dir.name}/version.json" in tar.getnames()
        assert f"{version_dir.name}/model/params.best" in tar.getnames()

    # moto answers invocations with what it is told to; the CLI's request and parsing are what is tested.
    requests.post(f"{boto3.client('s3').meta.endpoint_url}/moto-api/static/sagemaker/endpoint-results", timeout=5,
                  json={"results": [{"Body": json.dumps({"predictions": [{"target": "Der Hund."}, {"target": ""}]}),
                                     "ContentType": "application/json"}], "region": "us-east-1"})
    translated = run_s2s("aws", "translate", "--endpoint", "s2s-test", input="The dog.\n\n")
    assert translated.returncode == 0, translated.stderr
    assert translated.stdout == "Der Hund.\n\n"


def test_aws_refusals_read_as_errors(bucket):
    result = run_s2s("aws", "deploy", "--endpoint", "e", "--image", IMAGE, "--role", ROLE, "--training-job", "j",
                     "--instance-type", "ml.nonsense")
    assert result.returncode == 1 and "s2s aws: error: AWS: " in result.stderr and "training-job/j" in result.stderr
    assert "Traceback" not in result.stderr


def test_deploy_needs_exactly_one_model_source(bucket):
    both = run_s2s("aws", "deploy", "--endpoint", "e", "--image", IMAGE, "--role", ROLE)
    assert both.returncode == 1 and "give either --training-job or --version-dir" in both.stderr
    unfinished = run_s2s("aws", "deploy", "--endpoint", "e", "--image", IMAGE, "--role", ROLE,
                         "--training-job", "no-such-job")
    assert unfinished.returncode != 0 and "no-such-job" in unfinished.stderr


def test_the_readmes_curl_command_sends_an_invocation(aws_env):
    """The walkthrough's curl line, pointed at moto instead of runtime.sagemaker.us-east-1.amazonaws.com."""
    import re
    import subprocess

    from tests.conftest import REPO

    readme = (REPO / "README.md").read_text()
    command = re.search(r"^curl --aws-sigv4 .*?invocations$", readme, re.S | re.M).group(0).replace("\\\n", " ")
    command = command.replace("https://runtime.sagemaker.us-east-1.amazonaws.com", aws_env)
    requests.post(f"{aws_env}/moto-api/static/sagemaker/endpoint-results", timeout=5,
                  json={"results": [{"Body": json.dumps({"predictions": [{"target": "Der kleine Hund."}]}),
                                     "ContentType": "application/json"}], "region": "us-east-1"})
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"predictions": [{"target": "Der kleine Hund."}]}
