"""One SageMaker Data Capture line, parsed into the (source, translation, version) pairs it records.

An endpoint with a DataCaptureConfig (`s2s aws deploy --capture`) writes each sampled request
and its answer as one JSON line:

    {"captureData": {"endpointInput": {"observedContentType": "text/plain", "mode": "INPUT",
                                       "data": "...", "encoding": "CSV"},
                     "endpointOutput": {..., "mode": "OUTPUT"}},
     "eventMetadata": {"eventId": "...", "inferenceTime": "2026-11-23T13:40:02Z"}, "eventVersion": "0"}

`data` is the body as text when the endpoint config names its content type (encoding JSON or
CSV), and base64 otherwise. The bodies are /invocations' formats (serve/app.py invocations()).
A line that cannot be read raises BadLine with its reason.
"""
import base64
import binascii
import json
from dataclasses import dataclass

# Why a capture line was skipped.
NOT_JSON = "not_json"
MISSING_FIELD = "missing_field"
UNKNOWN_ENCODING = "unknown_encoding"
BAD_BASE64 = "bad_base64"
UNKNOWN_CONTENT_TYPE = "unknown_content_type"
BAD_BODY = "bad_body"
ERROR_ANSWER = "error_answer"
COUNT_MISMATCH = "count_mismatch"


@dataclass(frozen=True)
class CapturedPair:
    source: str
    translation: str
    # The version named by the answer (this project's {"q": ...} format), else None.
    version: str | None
    # FILE:LINE of the capture line.
    where: str = ""


class BadLine(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason


def _field(record, path: str):
    value = record
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise BadLine(MISSING_FIELD, f"no {path}")
        value = value[key]
    return value


def _string(record, path: str) -> str:
    value = _field(record, path)
    if not isinstance(value, str):
        raise BadLine(MISSING_FIELD, f"{path} is {type(value).__name__}, not a string")
    return value


def _mimetype(record: dict, side: str) -> str:
    content_type = _string(record, f"captureData.{side}.observedContentType")
    return content_type.split(";")[0].strip().lower()


def _text(record: dict, side: str) -> str:
    """The body of one side (endpointInput or endpointOutput), decoded."""
    path = f"captureData.{side}"
    data = _string(record, f"{path}.data")
    encoding = _string(record, f"{path}.encoding")
    if encoding == "BASE64":
        try:
            text = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as e:
            raise BadLine(BAD_BASE64, f"{path}.data is not base64 of UTF-8 text ({e})") from None
    elif encoding in ("JSON", "CSV"):
        text = data
    else:
        raise BadLine(UNKNOWN_ENCODING, f"{path}.encoding {encoding!r}: expected JSON, CSV or BASE64")
    return text


def _json(text: str, what: str):
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as e:
        raise BadLine(BAD_BODY, f"the {what} is not valid JSON ({e})") from None


def _strings(values, what: str) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise BadLine(BAD_BODY, f"{what}: expected a list of strings")
    return values


def _json_pairs(request: str, answer: str) -> tuple[list[str], list[str], str | None]:
    body, reply = _json(request, "request"), _json(answer, "answer")
    if not isinstance(body, dict) or not isinstance(reply, dict):
        raise BadLine(BAD_BODY, "the request and the answer must be JSON objects")
    if "q" in body:
        q = body["q"]
        version = reply.get("version")
        if not isinstance(version, str):
            raise BadLine(BAD_BODY, "the answer to a {\"q\": ...} request has no string 'version'")
        return _strings([q] if isinstance(q, str) else q, "q"), _strings(reply.get("translations"),
                                                                         "translations"), version
    instances, predictions = body.get("instances"), reply.get("predictions")
    if not isinstance(instances, list) or not isinstance(predictions, list):
        raise BadLine(BAD_BODY, "expected {\"instances\": [...]} answered by {\"predictions\": [...]}, "
                                "or {\"q\": ...} answered by {\"translations\": [...]}")
    sources = _strings([i.get("data") if isinstance(i, dict) else None for i in instances], "instances[].data")
    targets = _strings([p.get("target") if isinstance(p, dict) else None for p in predictions],
                       "predictions[].target")
    return sources, targets, None


def _text_lines(text: str) -> list[str]:
    """The server's own split of a text/plain body: one text per line, the last newline optional."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def _text_pairs(request: str, answer: str) -> tuple[list[str], list[str], None]:
    return _text_lines(request), _text_lines(answer), None


def _jsonlines(text: str, key: str, what: str) -> list[str]:
    values = []
    # The server skips blank request lines, and answers only the others.
    for number, line in enumerate((line for line in text.splitlines() if line.strip()), 1):
        record = _json(line, f"{what} line {number}")
        if not isinstance(record, dict) or not isinstance(record.get(key), str):
            raise BadLine(BAD_BODY, f"{what} line {number}: expected an object with a string '{key}'")
        values.append(record[key])
    return values


def _jsonlines_pairs(request: str, answer: str) -> tuple[list[str], list[str], None]:
    return _jsonlines(request, "source", "request"), _jsonlines(answer, "target", "answer"), None


_PAIRS = {"application/json": _json_pairs, "text/plain": _text_pairs,
          "application/jsonlines": _jsonlines_pairs, "application/x-jsonlines": _jsonlines_pairs}


def parse_line(line: bytes) -> list[CapturedPair]:
    """The translations one capture line records; BadLine says why there are none to be had."""
    try:
        record = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise BadLine(NOT_JSON, f"not a JSON line ({e})") from None
    if not isinstance(record, dict):
        raise BadLine(NOT_JSON, "not a JSON object")
    request_type, answer_type = _mimetype(record, "endpointInput"), _mimetype(record, "endpointOutput")
    if request_type not in _PAIRS:
        raise BadLine(UNKNOWN_CONTENT_TYPE, f"request content type {request_type!r}: /invocations takes "
                                            f"{', '.join(_PAIRS)}")
    request, answer = _text(record, "endpointInput"), _text(record, "endpointOutput")
    # The server answers a refused request with a JSON error, whatever the request's type.
    if answer_type == "application/json" and answer.lstrip().startswith("{"):
        reply = _json(answer, "answer")
        if isinstance(reply, dict) and "error" in reply:
            raise BadLine(ERROR_ANSWER, f"the endpoint answered an error: {json.dumps(reply['error'])[:200]}")
    sources, translations, version = _PAIRS[request_type](request, answer)
    if len(sources) != len(translations):
        raise BadLine(COUNT_MISMATCH, f"{len(sources)} texts in the request, {len(translations)} in the answer")
    return [CapturedPair(s, t, version) for s, t in zip(sources, translations)]
