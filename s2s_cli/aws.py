"""`s2s aws`: push the image, launch training and tuning jobs, deploy and use endpoints (needs s2s[aws])."""
import argparse
import functools
import sys
from dataclasses import replace
from pathlib import Path

from data_prep.errors import S2SError


def _aws_errors(command):
    """AWS's refusals (bad instance type, missing permission, no credentials) read as errors, not tracebacks."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            command(args)
        except (BotoCoreError, ClientError) as e:
            raise S2SError(f"AWS: {e}") from e

    return run


def _client(service: str, region: str | None):
    try:
        import boto3
    except ImportError:
        raise S2SError("the AWS commands need boto3: pip install 's2s[aws]'") from None
    # AWS_ENDPOINT_URL, when set, points boto3 at another endpoint (a moto server in the tests).
    return boto3.client(service, region_name=region)


def _key_values(items: list[str], flag: str) -> dict[str, str]:
    values = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise S2SError(f"{flag} {item!r}: expected KEY=VALUE")
        values[key] = value
    return values


@_aws_errors
def cmd_push(args: argparse.Namespace) -> None:
    from launcher.push import PushConfig, push

    config = PushConfig(repository=args.repository, image=args.image,
                        build_args=_key_values(args.build_arg, "--build-arg"), tool=args.tool,
                        registry=args.registry)
    for reference in push(config, _client("ecr", args.region)):
        print(f"pushed {reference}")


def _train_job_config(args: argparse.Namespace):
    from launcher.training import TrainJobConfig

    return TrainJobConfig(
        image=args.image, role=args.role, output_path=args.output_path,
        channels=_key_values(args.channel, "--channel"),
        hyperparameters=_key_values(args.hyperparameter, "--hyperparameter"),
        instance_type=args.instance_type, instance_count=args.instance_count, max_run_s=args.max_run,
        spot=args.spot, checkpoint_s3_uri=args.checkpoint_s3_uri, max_wait_s=args.max_wait)


@_aws_errors
def cmd_train(args: argparse.Namespace) -> None:
    from launcher.training import follow_training, start_training

    job = start_training(_train_job_config(args), _client("s3", args.region))
    print(f"started training job {job}")
    if args.wait:
        description = follow_training(_client("sagemaker", args.region), job, print, args.poll)
        print(f"model artefact: {description['ModelArtifacts']['S3ModelArtifacts']}")


@_aws_errors
def cmd_tune(args: argparse.Namespace) -> None:
    from launcher.training import TUNING_OBJECTIVE, TuneConfig, start_tuning

    name = start_tuning(_train_job_config(args), TuneConfig(max_jobs=args.max_jobs,
                                                            max_parallel_jobs=args.max_parallel_jobs),
                        _client("s3", args.region))
    print(f"started tuning job {name}: Bayesian search maximising {TUNING_OBJECTIVE}")


@_aws_errors
def cmd_deploy(args: argparse.Namespace) -> None:
    from launcher.endpoint import DeployConfig, Serverless, deploy, follow_endpoint
    from launcher.scaling import Autoscale, apply_autoscale

    serverless = Serverless.parse(args.serverless) if args.serverless else None
    config = DeployConfig(endpoint=args.endpoint, image=args.image, role=args.role, training_job=args.training_job,
                          version_dir=args.version_dir, upload_to=args.upload_to, instance_type=args.instance_type,
                          instance_count=args.instance_count, environment=_key_values(args.env, "--env"),
                          capture_uri=args.capture, capture_percent=args.capture_percent, serverless=serverless,
                          async_output=args.async_output)
    autoscale = Autoscale.parse(args.autoscale) if args.autoscale else None
    if autoscale:
        autoscale.check(serverless, args.instance_count)
        if not args.wait:
            raise S2SError("--autoscale registers the endpoint once it is in service: drop --no-wait")
    sagemaker = _client("sagemaker", args.region)
    model = deploy(config, sagemaker, _client("s3", args.region))
    print(f"endpoint {args.endpoint}: model and endpoint config {model}"
          + (f", serverless {serverless.config()}" if serverless else ""))
    if args.wait:
        follow_endpoint(sagemaker, args.endpoint, print, args.poll)
    if autoscale:
        policy = apply_autoscale(_client("application-autoscaling", args.region), args.endpoint, autoscale, serverless)
        print(f"endpoint {args.endpoint}: autoscaling {autoscale.minimum} to {autoscale.maximum}, target "
              f"{policy['TargetValue']:g} {policy['PredefinedMetricSpecification']['PredefinedMetricType']}")


@_aws_errors
def cmd_undeploy(args: argparse.Namespace) -> None:
    from launcher.endpoint import undeploy
    from launcher.scaling import remove_autoscale

    if remove_autoscale(_client("application-autoscaling", args.region), args.endpoint):
        print(f"endpoint {args.endpoint}: autoscaling removed")
    for deleted in undeploy(_client("sagemaker", args.region), args.endpoint):
        print(f"deleted {deleted}")


@_aws_errors
def cmd_batch_translate(args: argparse.Namespace) -> None:
    from launcher.batch import BatchConfig, follow_batch, model_of_endpoint, start_batch

    if (args.model is None) == (args.endpoint is None):
        raise S2SError("give either --model or --endpoint (whose model then translates)")
    sagemaker = _client("sagemaker", args.region)
    # Checked before any call; an endpoint's model is looked up after.
    config = BatchConfig(model=args.model or "", input_uri=args.input, output_uri=args.output, format=args.format,
                         instance_type=args.instance_type, instance_count=args.instance_count,
                         max_payload_mb=args.max_payload_mb)
    if args.endpoint:
        config = replace(config, model=model_of_endpoint(sagemaker, args.endpoint))
    name = start_batch(config, sagemaker)
    print(f"started batch job {name} with model {config.model}")
    if args.wait:
        follow_batch(sagemaker, name, print, args.poll)
        print(f"translations: {config.output_uri.rstrip('/')}/FILE.out for each input file, one line per line")


@_aws_errors
def cmd_api(args: argparse.Namespace) -> None:
    from launcher.api_gateway import ApiConfig, deploy_stack, write_template

    config = ApiConfig(endpoint=args.endpoint, rate=args.rate, burst=args.burst, quota=args.quota,
                       quota_period=args.quota_period)
    output = args.output or Path(f"{args.endpoint}-api.json")
    body = write_template(config, output)
    print(f"wrote {output}: API Gateway (POST /translate with an API key, {config.rate:g} requests/s per key in "
          f"bursts of {config.burst}, {config.quota:,} a {config.quota_period.lower()}) and a Lambda function in "
          f"front of the endpoint {config.endpoint}")
    if args.deploy:
        stack = args.stack or f"s2s-api-{args.endpoint}"
        outputs = deploy_stack(_client("cloudformation", args.region), stack, body, args.poll)
        print(f"stack {stack} created")
        for key, value in outputs.items():
            print(f"{key}: {value}")


@_aws_errors
def cmd_translate(args: argparse.Namespace) -> None:
    from launcher.endpoint import translate, translate_async

    texts = args.text or [line.rstrip("\r\n") for line in sys.stdin]
    runtime = _client("sagemaker-runtime", args.region)
    if args.async_staging:
        translations = translate_async(runtime, _client("s3", args.region), args.endpoint, texts, args.async_staging,
                                       args.poll)
    else:
        translations = translate(runtime, args.endpoint, texts)
    for translation in translations:
        print(translation)


def _add_push(aws: argparse._SubParsersAction) -> None:
    q = aws.add_parser("push", help="build the image and push it to an ECR repository",
                       description="Build the image (docker when its engine answers, else buildah), create the "
                       "ECR repository if missing, log in with ECR's authorization token, and push the image "
                       "tagged with the git revision and 'latest'.")
    q.add_argument("--repository", default="s2s", help="ECR repository name (default: %(default)s)")
    q.add_argument("--region", help="AWS region (default: boto3's, e.g. $AWS_REGION)")
    q.add_argument("--image", help="push this local image instead of building one")
    q.add_argument("--build-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="passed to the build, e.g. BASE_IMAGE=... or PIP_CERT=... (repeatable)")
    q.add_argument("--tool", choices=("docker", "buildah"), help="build and push with this tool")
    q.add_argument("--registry", help="push to this registry host instead of the repository's own")
    q.set_defaults(func=cmd_push)


def _add_job_options(q: argparse.ArgumentParser) -> None:
    q.add_argument("--region", help="AWS region (default: boto3's, e.g. $AWS_REGION)")
    q.add_argument("--image", required=True, help="the image URI in ECR (what `s2s aws push` printed)")
    q.add_argument("--role", required=True, help="the SageMaker execution role ARN")
    q.add_argument("--output-path", required=True, help="s3://bucket/prefix for the model artefact "
                   "(local channels are uploaded under it too)")
    q.add_argument("--channel", action="append", default=[], metavar="NAME=PATH_OR_S3_URI",
                   help="train (required), validation, test, and model (a version or an earlier job's model.tar.gz to fine-tune from): a local file or directory, or an s3:// URI")
    q.add_argument("--hyperparameter", action="append", default=[], metavar="KEY=VALUE",
                   help="e.g. source_lang=en; checked here as the container would (repeatable)")
    q.add_argument("--instance-type", default="ml.g5.xlarge", help="(default: %(default)s)")
    q.add_argument("--instance-count", type=int, default=1, help="(default: %(default)s)")
    q.add_argument("--max-run", type=int, default=24 * 3600, help="seconds (default: %(default)s)")
    q.add_argument("--spot", action="store_true", help="managed spot training (needs --checkpoint-s3-uri "
                   "and --max-wait)")
    q.add_argument("--checkpoint-s3-uri", help="where /opt/ml/checkpoints is synced, for resuming")
    q.add_argument("--max-wait", type=int, help="seconds to wait for spot capacity plus run time")


def _add_jobs(aws: argparse._SubParsersAction) -> None:
    q = aws.add_parser("train", help="launch a SageMaker training job and stream its status",
                       description="Launch a training job with ModelTrainer: the image, role, instances, "
                       "hyperparameters (sent as strings), channels and output path; the metric definitions "
                       "are the project's own list. Streams the job's status until it ends.")
    _add_job_options(q)
    q.add_argument("--no-wait", dest="wait", action="store_false", help="start the job and return")
    q.add_argument("--poll", type=float, default=30.0, help="seconds between status checks (default: %(default)s)")
    q.set_defaults(func=cmd_train)

    q = aws.add_parser("tune", help="launch a Bayesian hyperparameter tuning job maximising validation BLEU",
                       description="A SageMaker tuning job (Bayesian) over learning_rate, num_layers, model_size "
                       "and dropout, maximising validation:bleu; the other hyperparameters stay fixed.")
    _add_job_options(q)
    q.add_argument("--max-jobs", type=int, default=20, help="training jobs in all (default: %(default)s)")
    q.add_argument("--max-parallel-jobs", type=int, default=2, help="(default: %(default)s)")
    q.set_defaults(func=cmd_tune)


def _add_endpoints(aws: argparse._SubParsersAction) -> None:
    from launcher.endpoint import DEFAULT_INSTANCE_TYPE
    from review.capture import DEFAULT_CAPTURE_PERCENT

    q = aws.add_parser("deploy", help="create or update an endpoint from a training job or a published version",
                       description="Create a model, an endpoint config and an endpoint (or update an existing "
                       "endpoint) from a training job's artefact, or from a local published version uploaded "
                       "as model.tar.gz.")
    q.add_argument("--endpoint", required=True, help="endpoint name")
    q.add_argument("--region", help="AWS region (default: boto3's)")
    q.add_argument("--image", required=True, help="the image URI in ECR")
    q.add_argument("--role", required=True, help="the SageMaker execution role ARN")
    q.add_argument("--training-job", help="deploy this training job's model artefact")
    q.add_argument("--version-dir", type=Path, help="deploy this published version (a directory in a store)")
    q.add_argument("--upload-to", help="s3://bucket/prefix for --version-dir's model.tar.gz")
    q.add_argument("--instance-type", help=f"(default: {DEFAULT_INSTANCE_TYPE}; none with --serverless)")
    q.add_argument("--instance-count", type=int, default=1, help="(default: %(default)s)")
    q.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                   help="container environment, e.g. SAGEMAKER_MODEL_SERVER_WORKERS=2 (repeatable)")
    q.add_argument("--serverless", metavar="MEMORY_MB[,MAX_CONCURRENCY[,PROVISIONED]]",
                   help="a serverless endpoint (nothing to pay while idle): memory 1024 to 6144 in steps of 1024, "
                   "concurrency 1 to 200 (default 5), provisioned concurrency up to it; one worker, payloads up to "
                   "4 MB; CTranslate2 only, no GPU, no --capture")
    q.add_argument("--autoscale", metavar="MIN:MAX[:TARGET]",
                   help="Application Auto Scaling by target tracking: instances on invocations per instance a minute "
                   "(default target 70), or a serverless endpoint's provisioned concurrency on its utilisation "
                   "(default 0.5)")
    q.add_argument("--async", dest="async_output", metavar="S3_URI",
                   help="an asynchronous endpoint, for long documents: answers are written under this s3:// URI "
                   "(`s2s aws translate --async` sends to it)")
    q.add_argument("--capture", metavar="S3_URI", help="turn on Data Capture: requests and answers are written "
                   "under s3://BUCKET/PREFIX/ENDPOINT/AllTraffic/yyyy/mm/dd/hh/, for `s2s review import-capture`")
    q.add_argument("--capture-percent", type=int, metavar="N",
                   help=f"the share of requests captured, 1 to 100 (default: {DEFAULT_CAPTURE_PERCENT})")
    q.add_argument("--no-wait", dest="wait", action="store_false", help="return without waiting for InService")
    q.add_argument("--poll", type=float, default=30.0, help="seconds between status checks (default: %(default)s)")
    q.set_defaults(func=cmd_deploy)

    q = aws.add_parser("translate", help="translate with an endpoint",
                       description="Send texts (arguments, or stdin one per line) to an endpoint's /invocations "
                       "and print one translation per line.")
    q.add_argument("--endpoint", required=True, help="endpoint name")
    q.add_argument("--region", help="AWS region (default: boto3's)")
    q.add_argument("--async", dest="async_staging", metavar="S3_URI",
                   help="the endpoint is asynchronous: upload the request under this s3:// URI, invoke, and wait "
                   "for the answer")
    q.add_argument("--poll", type=float, default=5.0, help="seconds between looks for an asynchronous answer "
                   "(default: %(default)s)")
    q.add_argument("text", nargs="*", help="texts to translate (default: stdin, one per line)")
    q.set_defaults(func=cmd_translate)

    from launcher.batch import CONTENT_TYPES, DEFAULT_PAYLOAD_MB

    q = aws.add_parser("batch-translate", help="translate files in S3 with a batch transform job",
                       description="Start a SageMaker batch transform job: every file under --input, one text a "
                       "line, translated into FILE.out under --output, one translation a line, in order; wait for "
                       "it with its status as it changes.")
    q.add_argument("--input", required=True, help="s3://BUCKET/PREFIX of the files to translate")
    q.add_argument("--output", required=True, help="s3://BUCKET/PREFIX for the translations")
    q.add_argument("--model", help="the SageMaker model (what `s2s aws deploy` made) to translate with")
    q.add_argument("--endpoint", help="translate with the model this endpoint serves now")
    q.add_argument("--format", choices=sorted(CONTENT_TYPES), default="text",
                   help="text: a text a line; jsonlines: a {\"source\": text} a line (default: %(default)s)")
    q.add_argument("--instance-type", default="ml.c5.xlarge", help="(default: %(default)s)")
    q.add_argument("--instance-count", type=int, default=1, help="(default: %(default)s)")
    q.add_argument("--max-payload-mb", type=int, default=DEFAULT_PAYLOAD_MB,
                   help="lines a request may hold, in MB, 1 to 100 (default: %(default)s)")
    q.add_argument("--region", help="AWS region (default: boto3's)")
    q.add_argument("--no-wait", dest="wait", action="store_false", help="start the job and return")
    q.add_argument("--poll", type=float, default=30.0, help="seconds between status checks (default: %(default)s)")
    q.set_defaults(func=cmd_batch_translate)

    from launcher.api_gateway import QUOTA_PERIODS, ApiConfig

    q = aws.add_parser("api", help="put API Gateway, with API keys and a usage plan, in front of an endpoint",
                       description="Write a CloudFormation template: a REST API in API Gateway (POST /translate, "
                       "which takes an API key), a usage plan that throttles and caps each key, an API key, and a "
                       "Lambda function that invokes the endpoint's /invocations and maps its errors to 4xx and "
                       "5xx. With --deploy, create the stack.")
    q.add_argument("--endpoint", required=True, help="the SageMaker endpoint to put behind the API")
    q.add_argument("--output", "-o", type=Path, help="the template's file (default: ENDPOINT-api.json)")
    q.add_argument("--rate", type=float, default=ApiConfig.rate, help="requests a second per key (default: %(default)s)")
    q.add_argument("--burst", type=int, default=ApiConfig.burst, help="burst per key (default: %(default)s)")
    q.add_argument("--quota", type=int, default=ApiConfig.quota, help="requests per key a period (default: %(default)s)")
    q.add_argument("--quota-period", choices=QUOTA_PERIODS, default=ApiConfig.quota_period,
                   help="(default: %(default)s)")
    q.add_argument("--deploy", action="store_true", help="create the stack too")
    q.add_argument("--stack", help="the stack's name (default: s2s-api-ENDPOINT)")
    q.add_argument("--region", help="AWS region (default: boto3's)")
    q.add_argument("--poll", type=float, default=15.0, help="seconds between status checks (default: %(default)s)")
    q.set_defaults(func=cmd_api)

    q = aws.add_parser("undeploy", help="remove an endpoint and what deploy made for it",
                       description="Delete the endpoint, its autoscaling, and the endpoint configs and models that "
                       "`s2s aws deploy --endpoint NAME` made (named NAME-DATE-TIME).")
    q.add_argument("--endpoint", required=True, help="endpoint name")
    q.add_argument("--region", help="AWS region (default: boto3's)")
    q.set_defaults(func=cmd_undeploy)


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("aws", help="push the image, train, tune, deploy and translate on SageMaker (needs s2s[aws])",
                       description="Commands for AWS, run from your machine with your AWS credentials "
                       "(boto3's usual chain: environment, ~/.aws, SSO). Install them with pip install 's2s[aws]'.")
    aws = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    _add_push(aws)
    _add_jobs(aws)
    _add_endpoints(aws)
