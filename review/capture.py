"""SageMaker endpoint Data Capture, read into (source, translation, version) pairs for review.

An endpoint with a DataCaptureConfig (`s2s aws deploy --capture`) writes each sampled request
and its answer as one JSON line to DESTINATION/ENDPOINT/VARIANT/yyyy/mm/dd/hh/*.jsonl:

    {"captureData": {"endpointInput": {"observedContentType": "text/plain", "mode": "INPUT",
                                       "data": "...", "encoding": "CSV"},
                     "endpointOutput": {..., "mode": "OUTPUT"}},
     "eventMetadata": {"eventId": "...", "inferenceTime": "2026-11-23T13:40:02Z"}, "eventVersion": "0"}

`data` is the body as text when the endpoint config names its content type (encoding JSON or
CSV), and base64 otherwise. The bodies are /invocations' formats (serve/app.py invocations()).
A line that cannot be read is skipped and counted under its reason, with where it was.
"""
import base64
import binascii
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from data_prep.errors import S2SError
from review.db import NewItem, ReviewDb

logger = logging.getLogger(__name__)

# How `s2s aws deploy --capture` asks SageMaker to store each /invocations content type: as
# text (JSON or CSV; SageMaker has no other text class, and text/plain is not JSON) rather
# than base64. The parser below reads every encoding either way.
CAPTURE_ENCODINGS = {
    "application/json": "JSON",
    "application/jsonlines": "JSON",
    "application/x-jsonlines": "JSON",
    "text/plain": "CSV",
}
# The share of requests captured when `--capture-percent` is not given.
DEFAULT_CAPTURE_PERCENT = 100

# Why a capture line was skipped.
NOT_JSON = "not_json"
MISSING_FIELD = "missing_field"
UNKNOWN_ENCODING = "unknown_encoding"
BAD_BASE64 = "bad_base64"
UNKNOWN_CONTENT_TYPE = "unknown_content_type"
BAD_BODY = "bad_body"
ERROR_ANSWER = "error_answer"
COUNT_MISMATCH = "count_mismatch"

# Locations listed per reason in a report; the count has them all.
EXAMPLES_PER_REASON = 3
CAPTURE_ORIGIN = "capture"
UNKNOWN_ENGINE = "unknown"


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


@dataclass
class Skipped:
    count: int = 0
    # "FILE:LINE: detail" for the first few.
    examples: list[str] = field(default_factory=list)


@dataclass
class CaptureRead:
    """What reading a capture found: its pairs, each with its version, and the lines skipped."""
    files: int = 0
    lines: int = 0
    pairs: list[CapturedPair] = field(default_factory=list)
    # Captured texts that were empty: nothing to review, and not an error.
    blank: int = 0
    skipped: dict[str, Skipped] = field(default_factory=dict)

    def skip(self, reason: str, where: str) -> None:
        entry = self.skipped.setdefault(reason, Skipped())
        entry.count += 1
        if len(entry.examples) < EXAMPLES_PER_REASON:
            entry.examples.append(where)


@dataclass(frozen=True)
class CaptureFile:
    name: str
    read: Callable[[], bytes]


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


def _local_files(path: Path) -> list[CaptureFile]:
    if not path.exists():
        raise S2SError(f"{path}: no such file or directory")
    found = [path] if path.is_file() else sorted(p for p in path.rglob("*.jsonl") if p.is_file())
    return [CaptureFile(str(p), p.read_bytes) for p in found]


def _aws(uri: str, bucket: str, call: Callable[[], object]):
    """`call`'s result; AWS's refusal (no bucket, no permission, no credentials) as an error naming `uri`."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call()
    except ClientError as e:
        if e.response["Error"]["Code"] == "NoSuchBucket":
            raise S2SError(f"{uri}: there is no bucket {bucket!r} (or not in this region)") from None
        raise S2SError(f"{uri}: AWS: {e}") from None
    except BotoCoreError as e:
        raise S2SError(f"{uri}: AWS: {e}") from None


def _s3_files(uri: str, s3) -> list[CaptureFile]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    if not bucket:
        raise S2SError(f"{uri!r}: expected s3://BUCKET or s3://BUCKET/PREFIX")
    prefix = prefix.rstrip("/")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    keys = _aws(uri, bucket, lambda: [o["Key"] for page in pages for o in page.get("Contents", [])])
    # A prefix is a folder: s3://b/capture/ep must not take in s3://b/capture/ep-2/.
    keys = sorted(k for k in keys if k.endswith(".jsonl") and (not prefix or k == prefix
                                                               or k.startswith(prefix + "/")))

    def capture_file(key: str) -> CaptureFile:
        name = f"s3://{bucket}/{key}"
        return CaptureFile(name, lambda: _aws(name, bucket,
                                              lambda: s3.get_object(Bucket=bucket, Key=key)["Body"].read()))

    return [capture_file(key) for key in keys]


def capture_files(source: str, s3_client: Callable[[], object]) -> list[CaptureFile]:
    """The *.jsonl files under a local directory (recursively) or an s3:// URI; `s3_client` makes
    the boto3 client, only for a URI."""
    if source.startswith("s3://"):
        files = _s3_files(source, s3_client())
    elif "://" in source:
        raise S2SError(f"{source!r}: capture is read from an s3:// URI or a local directory")
    else:
        files = _local_files(Path(source))
    if not files:
        raise S2SError(f"{source}: no .jsonl capture files there (SageMaker writes them under "
                       "DESTINATION/ENDPOINT/VARIANT/yyyy/mm/dd/hh/)")
    return files


def _lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(data.split(b"\n"), 1):
        if line.strip():
            yield number, line


def read_capture(files: list[CaptureFile]) -> CaptureRead:
    """Every translation the capture files record; unreadable lines are counted, not fatal."""
    from tqdm import tqdm

    result = CaptureRead()
    for capture in tqdm(files, desc="capture files", unit="file", disable=None):
        result.files += 1
        for number, line in _lines(capture.read()):
            result.lines += 1
            try:
                pairs = parse_line(line)
            except BadLine as e:
                result.skip(e.reason, f"{capture.name}:{number}: {e}")
                continue
            kept = [replace(p, where=f"{capture.name}:{number}") for p in pairs if p.source.strip()]
            result.blank += len(pairs) - len(kept)
            result.pairs.extend(kept)
    logger.info("read %d capture files, %d lines: %d translations", result.files, result.lines, len(result.pairs))
    return result


def versions_filled(pairs: list[CapturedPair], version: str | None) -> list[CapturedPair]:
    """The pairs, each with the version the capture names or else `version`; an error when neither
    names one."""
    unnamed = [p for p in pairs if p.version is None]
    if unnamed and version is None:
        raise S2SError(f"{unnamed[0].where}: the capture does not say which model version translated it "
                       f"({len(unnamed)} translations like it; only answers to {{\"q\": ...}} requests name "
                       "their version): pass --version VERSION_ID, the version the endpoint served")
    return [p if p.version is not None else replace(p, version=version) for p in pairs]


@dataclass(frozen=True)
class ImportConfig:
    # A local directory (or one .jsonl file) or s3://BUCKET/PREFIX.
    source: str
    # The version of the answers that do not name theirs (every format but {"q": ...}).
    version: str | None = None
    # The capture does not record which engine translated; the endpoint's S2S_ENGINE, if known.
    engine: str = UNKNOWN_ENGINE


@dataclass(frozen=True)
class ImportResult:
    read: CaptureRead
    added: int  # new review items; a pair already queued from that version is not added twice


def import_capture(config: ImportConfig, db: ReviewDb, s3_client: Callable[[], object]) -> ImportResult:
    """Queues every translation the capture records for review; nothing is queued if the version
    of any is unknown."""
    read = read_capture(capture_files(config.source, s3_client))
    pairs = versions_filled(read.pairs, config.version)
    added = db.add([NewItem(p.source, p.translation, p.version, config.engine, CAPTURE_ORIGIN) for p in pairs])
    return ImportResult(read, added)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def summary(result: ImportResult) -> list[str]:
    """The report's lines: what was read and added, then each reason lines were skipped for."""
    read = result.read
    skipped = sum(s.count for s in read.skipped.values())
    lines = [f"read {_count(read.files, 'capture file')}, {_count(read.lines, 'line')}: "
             f"{_count(len(read.pairs), 'translation')}, {result.added} new in the review queue, "
             f"{_count(skipped, 'line')} skipped"
             + (f", {_count(read.blank, 'empty text')} left out" if read.blank else "")]
    for reason, entry in sorted(read.skipped.items()):
        lines.append(f"  {reason}: {entry.count}")
        lines.extend(f"    {example}" for example in entry.examples)
    return lines
