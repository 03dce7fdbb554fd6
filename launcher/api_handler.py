"""The Lambda function between API Gateway and a SageMaker endpoint (`s2s aws api`): it passes the
request's body and content type to the endpoint's /invocations and its answer back, and maps
failures to honest statuses. It runs on Lambda alone, with boto3 and the standard library: the
template carries this file's text inline, so it stays small (CloudFormation takes 4,096 bytes).
"""
import base64
import json
import os

MAX_BODY = 6 * 1024 * 1024  # SageMaker's payload limit for a real-time endpoint
TYPES = ("application/json", "text/plain", "application/jsonlines")


def _answer(status, body, content_type="application/json"):
    return {"statusCode": status, "headers": {"Content-Type": content_type}, "body": body}


def _error(status, message):
    return _answer(status, json.dumps({"error": {"code": status, "message": message}}))


def respond(event, invoke):
    """API Gateway's proxy event to an answer, through `invoke(content_type, body) -> (status, type, body)`."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    content_type = (headers.get("content-type") or "application/json").split(";")[0].strip()
    if content_type not in TYPES:
        return _error(415, f"unsupported Content-Type {content_type}; send one of {', '.join(TYPES)}")
    body = event.get("body") or ""
    data = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")
    if not data:
        return _error(400, "empty body: send the texts to translate")
    if len(data) > MAX_BODY:
        return _error(413, f"body of {len(data)} bytes; at most {MAX_BODY}")
    try:
        status, answer_type, answer = invoke(content_type, data)
    except TimeoutError:
        return _error(504, "the endpoint did not answer in time; send less text, or retry")
    except OSError as e:
        return _error(502, f"the endpoint could not be reached: {e}")
    if status >= 500:
        # The model's own failure, passed on as the gateway's: the client did nothing wrong.
        return _error(502, f"the endpoint failed ({status}): {answer[:300]}")
    return _answer(status, answer, answer_type)


def sagemaker_invoke(runtime, endpoint):
    """`invoke` through SageMaker: a container's own 4xx or 5xx comes back as its status and message."""
    from botocore.exceptions import ClientError, ReadTimeoutError

    def invoke(content_type, data):
        try:
            response = runtime.invoke_endpoint(EndpointName=endpoint, ContentType=content_type, Body=data)
        except ReadTimeoutError:
            raise TimeoutError from None
        except ClientError as e:
            error = e.response.get("Error", {})
            if error.get("Code") == "ModelError":
                return e.response.get("OriginalStatusCode", 500), "application/json", e.response.get(
                    "OriginalMessage", error.get("Message", ""))
            throttled = error.get("Code") in ("ThrottlingException", "TooManyRequestsException")
            return (429 if throttled else 502), "application/json", json.dumps(
                {"error": {"code": 429 if throttled else 502, "message": error.get("Message", str(e))}})
        return 200, response.get("ContentType", content_type), response["Body"].read().decode("utf-8")

    return invoke


def handler(event, context):
    import boto3
    from botocore.config import Config

    # Within API Gateway's 29 s: a late answer is a 504 from here, with a message, not the gateway's.
    runtime = boto3.client("sagemaker-runtime", config=Config(read_timeout=25, retries={"max_attempts": 1}))
    return respond(event, sagemaker_invoke(runtime, os.environ["ENDPOINT_NAME"]))
