"""`s2s aws api`: API Gateway in front of an endpoint, as a CloudFormation template: a REST API with one
route, POST /translate, that takes an API key; a usage plan that throttles and caps each key; and a
Lambda function (launcher/api_handler.py, carried inline) that invokes the endpoint."""
import contextlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from data_prep.errors import S2SError

HANDLER = Path(__file__).with_name("api_handler.py")
# CloudFormation's limit for a function's inline code.
MAX_INLINE_CODE = 4096
QUOTA_PERIODS = ("DAY", "WEEK", "MONTH")
STAGE = "prod"
_ENDPOINT = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")


@dataclass(frozen=True)
class ApiConfig:
    endpoint: str
    # Requests a second per key, in bursts of up to `burst`; and at most `quota` a `quota_period`.
    rate: float = 10.0
    burst: int = 20
    quota: int = 10_000
    quota_period: str = "DAY"

    def __post_init__(self):
        if not _ENDPOINT.fullmatch(self.endpoint):
            raise S2SError(f"--endpoint {self.endpoint!r}: a SageMaker endpoint name is 1 to 63 letters, digits "
                           f"and hyphens")
        if self.rate <= 0 or self.burst < 1 or self.quota < 1:
            raise S2SError("--rate must be above 0, and --burst and --quota at least 1")
        if self.quota_period not in QUOTA_PERIODS:
            raise S2SError(f"--quota-period {self.quota_period!r}: use {', '.join(QUOTA_PERIODS)}")


def _ref(name: str) -> dict:
    return {"Ref": name}


def template(config: ApiConfig) -> dict:
    code = HANDLER.read_text(encoding="utf-8")
    if len(code.encode("utf-8")) > MAX_INLINE_CODE:
        raise S2SError(f"{HANDLER}: {len(code.encode())} bytes, over CloudFormation's {MAX_INLINE_CODE} for inline "
                       f"code")
    endpoint_arn = {"Fn::Sub": f"arn:${{AWS::Partition}}:sagemaker:${{AWS::Region}}:${{AWS::AccountId}}:"
                               f"endpoint/{config.endpoint.lower()}"}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"s2s: API Gateway and Lambda in front of the SageMaker endpoint {config.endpoint}",
        "Resources": {
            "FunctionRole": {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
                "ManagedPolicyArns": [
                    {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}],
                "Policies": [{"PolicyName": "invoke-endpoint", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "sagemaker:InvokeEndpoint", "Resource": endpoint_arn}]}}]}},
            "Function": {"Type": "AWS::Lambda::Function", "Properties": {
                "Runtime": "python3.12", "Handler": "index.handler", "Timeout": 28, "MemorySize": 256,
                "Role": {"Fn::GetAtt": ["FunctionRole", "Arn"]}, "Code": {"ZipFile": code},
                "Environment": {"Variables": {"ENDPOINT_NAME": config.endpoint}}}},
            "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {
                "Name": f"s2s-{config.endpoint}", "Description": f"Translation by the endpoint {config.endpoint}",
                "BinaryMediaTypes": []}},
            "TranslateResource": {"Type": "AWS::ApiGateway::Resource", "Properties": {
                "RestApiId": _ref("Api"), "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                "PathPart": "translate"}},
            "TranslateMethod": {"Type": "AWS::ApiGateway::Method", "Properties": {
                "RestApiId": _ref("Api"), "ResourceId": _ref("TranslateResource"), "HttpMethod": "POST",
                "AuthorizationType": "NONE", "ApiKeyRequired": True,
                "Integration": {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST",
                                "Uri": {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/"
                                                   "2015-03-31/functions/${Function.Arn}/invocations"}}}},
            "InvokePermission": {"Type": "AWS::Lambda::Permission", "Properties": {
                "FunctionName": _ref("Function"), "Action": "lambda:InvokeFunction",
                "Principal": "apigateway.amazonaws.com",
                "SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
                                         "${Api}/*/POST/translate"}}},
            "Deployment": {"Type": "AWS::ApiGateway::Deployment", "DependsOn": ["TranslateMethod"],
                           "Properties": {"RestApiId": _ref("Api"), "StageName": STAGE}},
            "UsagePlan": {"Type": "AWS::ApiGateway::UsagePlan", "DependsOn": ["Deployment"], "Properties": {
                "UsagePlanName": f"s2s-{config.endpoint}",
                "ApiStages": [{"ApiId": _ref("Api"), "Stage": STAGE}],
                "Throttle": {"RateLimit": config.rate, "BurstLimit": config.burst},
                "Quota": {"Limit": config.quota, "Period": config.quota_period}}},
            "ApiKey": {"Type": "AWS::ApiGateway::ApiKey", "DependsOn": ["Deployment"], "Properties": {
                "Name": f"s2s-{config.endpoint}-key", "Enabled": True}},
            "UsagePlanKey": {"Type": "AWS::ApiGateway::UsagePlanKey", "Properties": {
                "KeyId": _ref("ApiKey"), "KeyType": "API_KEY", "UsagePlanId": _ref("UsagePlan")}},
        },
        "Outputs": {
            "TranslateUrl": {"Description": "POST texts here, with the header x-api-key",
                             "Value": {"Fn::Sub": f"https://${{Api}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/"
                                                  f"{STAGE}/translate"}},
            "ApiKeyId": {"Description": "aws apigateway get-api-key --include-value --api-key ID gives the key",
                         "Value": _ref("ApiKey")},
        },
    }


def write_template(config: ApiConfig, path: Path) -> str:
    text = json.dumps(template(config), indent=2) + "\n"
    Path(path).write_text(text, encoding="utf-8")
    return text


def deploy_stack(cloudformation, name: str, body: str, poll_s: float = 15.0) -> dict:
    """Creates the stack (IAM capability acknowledged: it makes the function's role), waits for it, and
    returns its outputs."""
    from botocore.exceptions import WaiterError

    cloudformation.create_stack(StackName=name, TemplateBody=body, Capabilities=["CAPABILITY_IAM"])
    # A stack that fails stops the waiter; its status and reason are read and said below either way.
    with contextlib.suppress(WaiterError):
        cloudformation.get_waiter("stack_create_complete").wait(
            StackName=name, WaiterConfig={"Delay": poll_s, "MaxAttempts": 120})
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    if stack["StackStatus"].endswith("FAILED") or "ROLLBACK" in stack["StackStatus"]:
        raise S2SError(f"stack {name}: {stack['StackStatus']}: {stack.get('StackStatusReason', 'no reason given')}")
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
