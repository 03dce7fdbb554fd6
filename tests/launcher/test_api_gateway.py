"""`s2s aws api`: the CloudFormation template (cfn-lint, and what it asks of API Gateway), its stack in moto,
and the Lambda handler as a function against a real `s2s serve` standing in for the endpoint."""
import base64
import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest
import requests

from launcher.api_gateway import HANDLER, MAX_INLINE_CODE
from launcher.api_handler import respond, sagemaker_invoke
from tests.conftest import run_s2s
from tests.serve.test_app import DOG
from tests.serve.test_gunicorn import serving


def test_the_template_passes_cfn_lint_and_throttles_and_caps_each_key(tmp_path):
    out = run_s2s("aws", "api", "--endpoint", "s2s-test", "-o", str(tmp_path / "api.json"), "--rate", "5",
                  "--burst", "10", "--quota", "1000", "--quota-period", "WEEK")
    assert out.returncode == 0, out.stderr
    lint = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(tmp_path / "api.json")],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    resources = json.loads((tmp_path / "api.json").read_text())["Resources"]
    plan = resources["UsagePlan"]["Properties"]
    assert plan["Throttle"] == {"RateLimit": 5.0, "BurstLimit": 10} and plan["Quota"] == {"Limit": 1000, "Period": "WEEK"}
    assert resources["TranslateMethod"]["Properties"]["ApiKeyRequired"] is True
    assert resources["Function"]["Properties"]["Code"]["ZipFile"] == HANDLER.read_text()
    assert len(HANDLER.read_bytes()) <= MAX_INLINE_CODE
    policy = resources["FunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]
    assert policy["Action"] == "sagemaker:InvokeEndpoint" and "endpoint/s2s-test" in policy["Resource"]["Fn::Sub"]


@pytest.mark.parametrize("arguments,message", [
    (["--endpoint", "bad_name"], "a SageMaker endpoint name is 1 to 63 letters"),
    (["--endpoint", "e", "--rate", "0"], "--rate must be above 0"),
])
def test_bad_api_settings_are_refused(arguments, message, tmp_path):
    out = run_s2s("aws", "api", *arguments, "-o", str(tmp_path / "t.json"))
    assert out.returncode != 0 and message in out.stderr


def test_deploy_creates_the_stack_in_moto(aws_env, tmp_path):
    out = run_s2s("aws", "api", "--endpoint", "s2s-live", "-o", str(tmp_path / "api.json"), "--deploy", "--poll", "0.1")
    assert out.returncode == 0, out.stderr
    assert "stack s2s-api-s2s-live created" in out.stdout and "/prod/translate" in out.stdout
    gateway = boto3.client("apigateway")
    (api,) = [a for a in gateway.get_rest_apis()["items"] if a["name"] == "s2s-s2s-live"]
    (resource,) = [r for r in gateway.get_resources(restApiId=api["id"])["items"] if r.get("pathPart") == "translate"]
    method = gateway.get_method(restApiId=api["id"], resourceId=resource["id"], httpMethod="POST")
    assert method["apiKeyRequired"] is True and method["methodIntegration"]["type"] == "AWS_PROXY"
    (function,) = [f for f in boto3.client("lambda").list_functions()["Functions"]
                   if f["FunctionName"].startswith("s2s-api-s2s-live-Function")]
    assert function["Environment"]["Variables"] == {"ENDPOINT_NAME": "s2s-live"}
    # moto's CloudFormation makes no usage plan, API key or usage plan key (docs/aws.md says so): the template's
    # are checked above, by cfn-lint and by reading them.


def _http_invoke(url: str, timeout: float = 60):
    """The endpoint's /invocations contract, over HTTP to a real `s2s serve`."""
    def invoke(content_type, data):
        request = urllib.request.Request(url + "/invocations", data=data, headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return answer.status, answer.headers["Content-Type"], answer.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers["Content-Type"], e.read().decode()
    return invoke


def _event(body: str, content_type: str = "application/json", encoded: bool = False) -> dict:
    return {"headers": {"Content-Type": content_type}, "isBase64Encoded": encoded,
            "body": base64.b64encode(body.encode()).decode() if encoded else body}


@pytest.fixture(scope="module")
def endpoint(store):
    with serving(store) as server:
        yield server.url


def test_the_handler_passes_requests_and_answers_through(endpoint, translated):
    answer = respond(_event(json.dumps({"instances": [{"data": DOG}]})), _http_invoke(endpoint))
    assert answer["statusCode"] == 200 and json.loads(answer["body"]) == {"predictions": [{"target": translated(DOG)}]}
    lines = respond(_event(f"{DOG}\n\n", "text/plain", encoded=True), _http_invoke(endpoint))
    assert lines["statusCode"] == 200 and lines["body"] == f"{translated(DOG)}\n\n"


def test_the_handler_maps_failures_to_honest_statuses(endpoint):
    model_4xx = respond(_event('{"instances": [{"nope": 1}]}'), _http_invoke(endpoint))
    assert model_4xx["statusCode"] == 400 and "instances[0] must be an object with a 'data' field" in model_4xx["body"]
    for event, status, message in ((_event("x", "application/pdf"), 415, "unsupported Content-Type"),
                                   (_event(""), 400, "empty body")):
        answer = respond(event, _http_invoke(endpoint))
        assert answer["statusCode"] == status and message in json.loads(answer["body"])["error"]["message"]
    # An endpoint that takes the connection and never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        slow = respond(_event(json.dumps({"instances": [{"data": DOG}]})),
                       _http_invoke(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.5))
    assert slow["statusCode"] == 504 and "did not answer in time" in slow["body"]
    gone = respond(_event(json.dumps({"instances": [{"data": DOG}]})), _http_invoke("http://127.0.0.1:9"))
    assert gone["statusCode"] == 502 and "could not be reached" in gone["body"]


def test_the_handler_invokes_sagemaker_through_boto3(aws_env):
    requests.post(f"{aws_env}/moto-api/static/sagemaker/endpoint-results", timeout=5,
                  json={"results": [{"Body": json.dumps({"predictions": [{"target": "Der Hund."}]}),
                                     "ContentType": "application/json"}], "region": "us-east-1"})
    invoke = sagemaker_invoke(boto3.client("sagemaker-runtime"), "s2s-live")
    answer = respond(_event(json.dumps({"instances": [{"data": "The dog."}]})), invoke)
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["predictions"] == [{"target": "Der Hund."}]
