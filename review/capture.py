"""SageMaker endpoint Data Capture imported for review: the capture files read from a local directory
or S3, each line parsed (capture_record.py), and the translations queued in the review database.

SageMaker writes the files to DESTINATION/ENDPOINT/VARIANT/yyyy/mm/dd/hh/*.jsonl. A line that cannot
be read is skipped and counted under its reason, with where it was.
"""
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from data_prep.errors import S2SError
from review.capture_record import BadLine, CapturedPair, parse_line
from review.db import NewItem, ReviewDb

logger = logging.getLogger(__name__)

# How `s2s aws deploy --capture` asks SageMaker to store each /invocations content type: as
# text (JSON or CSV; SageMaker has no other text class, and text/plain is not JSON) rather
# than base64. capture_record.py reads every encoding either way.
CAPTURE_ENCODINGS = {
    "application/json": "JSON",
    "application/jsonlines": "JSON",
    "application/x-jsonlines": "JSON",
    "text/plain": "CSV",
}
# The share of requests captured when `--capture-percent` is not given.
DEFAULT_CAPTURE_PERCENT = 100

# Locations listed per reason in a report; the count has them all.
EXAMPLES_PER_REASON = 3
CAPTURE_ORIGIN = "capture"
UNKNOWN_ENGINE = "unknown"


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
