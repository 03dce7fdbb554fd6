"""`s2s review import-capture`: SageMaker Data Capture lines, written as SageMaker writes them, read
into the review queue from a local directory and from S3 (a moto server over HTTP)."""
import base64
import json
from pathlib import Path

import boto3
import pytest

from review.capture import CAPTURE_ENCODINGS, ImportConfig, import_capture
from review.db import ReviewDb
from tests.conftest import run_s2s

VERSION = "en-de-20261121-224142-315ab7d1"
# How SageMaker stores a body it is told to store as text (JsonContentTypes / CsvContentTypes).
TEXT_ENCODING = {"application/json": "JSON", "application/jsonlines": "JSON", "application/x-jsonlines": "JSON",
                 "text/plain": "CSV"}


def _side(body: str | bytes, content_type: str, mode: str, encoding: str) -> dict:
    if encoding == "BASE64":
        raw = body if isinstance(body, bytes) else body.encode("utf-8")
        data = base64.b64encode(raw).decode("ascii")
    else:
        data = body
    return {"observedContentType": content_type, "mode": mode, "data": data, "encoding": encoding}


def capture_line(request: str | bytes | dict, request_type: str, answer: str | bytes | dict, answer_type: str,
                 encoding: str = "text", event: str = "4651a1bf-4b00-4248-a309-4a18b11e4277") -> str:
    """One line as SageMaker writes it: `encoding` "text" is what the endpoint config asks for
    (JSON or CSV by content type), or else JSON, CSV or BASE64 for both sides."""

    def side(body, content_type, mode):
        chosen = TEXT_ENCODING[content_type.split(";")[0]] if encoding == "text" else encoding
        return _side(json.dumps(body) if isinstance(body, dict) else body, content_type, mode, chosen)

    return json.dumps({"captureData": {"endpointInput": side(request, request_type, "INPUT"),
                                       "endpointOutput": side(answer, answer_type, "OUTPUT")},
                       "eventMetadata": {"eventId": event, "inferenceTime": "2026-11-23T13:40:02Z"},
                       "eventVersion": "0"})


def write_capture(root: Path, lines: list[str], hour: str = "13", name: str = "40-02-123-abcd.jsonl") -> Path:
    """Laid out as SageMaker lays it out: ENDPOINT/VARIANT/yyyy/mm/dd/hh/*.jsonl."""
    path = root / "s2s-en-de" / "AllTraffic" / "2026" / "11" / "23" / hour / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def queued(db_path: Path) -> list[tuple[str, str, str, str, str]]:
    return [(i.source, i.translation, i.version, i.engine, i.origin) for i in ReviewDb(db_path).queue(1000)]


# Each /invocations format (serve/app.py invocations()), with what it records.
FORMATS = {
    "sagemaker-seq2seq": (
        {"instances": [{"data": "The small dog sees a red car."}, {"data": "Today my mother buys apples."}]},
        "application/json",
        {"predictions": [{"target": "Der kleine Hund sieht ein rotes Auto."},
                         {"target": "Heute kauft meine Mutter Äpfel."}]},
        "application/json",
        [("The small dog sees a red car.", "Der kleine Hund sieht ein rotes Auto.", None),
         ("Today my mother buys apples.", "Heute kauft meine Mutter Äpfel.", None)]),
    "own-format-list": (
        {"q": ["The dog sleeps.", "The cat “reads”."], "source": "en", "target": "de", "scores": True},
        "application/json; charset=utf-8",
        {"translations": ["Der Hund schläft.", "Die Katze „liest“."], "version": "en-de-20261122-000000-aaaaaaaa",
         "bleu": 86.18, "scores": [0.3, 0.4]},
        "application/json",
        [("The dog sleeps.", "Der Hund schläft.", "en-de-20261122-000000-aaaaaaaa"),
         ("The cat “reads”.", "Die Katze „liest“.", "en-de-20261122-000000-aaaaaaaa")]),
    "own-format-string": (
        {"q": "The dog sleeps.", "source": "en", "target": "de"}, "application/json",
        {"translations": ["Der Hund schläft."], "version": "en-de-20261122-000000-aaaaaaaa", "bleu": 86.18},
        "application/json",
        [("The dog sleeps.", "Der Hund schläft.", "en-de-20261122-000000-aaaaaaaa")]),
    "text-plain": (
        "The dog sleeps.\r\nThe cat reads.\n", "text/plain",
        "Der Hund schläft.\nDie Katze liest.\n", "text/plain; charset=utf-8",
        [("The dog sleeps.", "Der Hund schläft.", None), ("The cat reads.", "Die Katze liest.", None)]),
    "text-plain-no-final-newline": (
        "The dog sleeps.", "text/plain", "Der Hund schläft.\n", "text/plain; charset=utf-8",
        [("The dog sleeps.", "Der Hund schläft.", None)]),
    "jsonlines": (
        '{"source": "The dog sleeps."}\n\n{"source": "The cat reads."}\n', "application/jsonlines",
        '{"target": "Der Hund schläft."}\n{"target": "Die Katze liest."}\n', "application/jsonlines",
        [("The dog sleeps.", "Der Hund schläft.", None), ("The cat reads.", "Die Katze liest.", None)]),
    "x-jsonlines": (
        '{"source": "The dog sleeps."}\n', "application/x-jsonlines",
        '{"target": "Der Hund schläft."}\n', "application/x-jsonlines",
        [("The dog sleeps.", "Der Hund schläft.", None)]),
}


@pytest.mark.parametrize("encoding", ["text", "BASE64"])
@pytest.mark.parametrize("name", FORMATS)
def test_every_content_type_and_encoding_pairs_requests_with_answers(tmp_path, name, encoding):
    request, request_type, answer, answer_type, expected = FORMATS[name]
    write_capture(tmp_path / "capture", [capture_line(request, request_type, answer, answer_type, encoding)])
    db = tmp_path / "review.db"
    result = import_capture(ImportConfig(str(tmp_path / "capture"), version=VERSION, engine="ctranslate2"),
                            ReviewDb(db), s3_client=lambda: pytest.fail("a local directory needs no S3 client"))
    assert result.read.skipped == {}
    # The answer's own version wins over --version, which fills in only where the answer names none.
    assert queued(db) == [(source, translation, version or VERSION, "ctranslate2", "capture")
                          for source, translation, version in expected]
    assert result.added == len(expected)


def test_the_capture_content_types_are_those_invocations_takes():
    from serve.app import JSONLINES

    assert set(CAPTURE_ENCODINGS) == {"application/json", "text/plain", *JSONLINES}


def test_bad_lines_are_counted_named_and_skipped(tmp_path):
    seq2seq = ({"instances": [{"data": "The dog."}]}, "application/json",
               {"predictions": [{"target": "Der Hund."}]}, "application/json")
    good = capture_line(*seq2seq)
    missing_output = json.loads(good)
    del missing_output["captureData"]["endpointOutput"]
    bad_base64 = json.loads(capture_line(*seq2seq, encoding="BASE64"))
    bad_base64["captureData"]["endpointInput"]["data"] = "%%% not base64 %%%"
    lines = [
        good,                                                                                    # 1
        '{"captureData": {"endpointInput": ',                                                    # 2 not_json
        json.dumps(missing_output),                                                              # 3 missing_field
        json.dumps(bad_base64),                                                                  # 4 bad_base64
        capture_line({"instances": [{"data": "One."}, {"data": "Two."}]}, "application/json",
                     {"predictions": [{"target": "Eins."}]}, "application/json"),                # 5 count_mismatch
        capture_line(b"\x93NUMPY", "application/x-npy", "Der Hund.", "text/plain", encoding="BASE64"),  # 6
        capture_line("The dog.", "text/plain", "Der Hund.", "text/plain", encoding="GZIP"),      # 7 unknown_encoding
        capture_line("x" * 20 + "\n", "text/plain",
                     {"error": {"code": 413, "message": "lines[0]: 20 characters; at most 10"}},
                     "application/json"),                                                        # 8 error_answer
        capture_line("{not json\n", "application/jsonlines", '{"target": "?"}\n',
                     "application/jsonlines"),                                                   # 9 bad_body
        capture_line(b"\xff\xfe", "text/plain", b"\xff", "text/plain", encoding="BASE64"),       # 10 bad_base64
        "",
        capture_line("The cat reads.\n", "text/plain", "Die Katze liest.\n", "text/plain"),    # 12
    ]
    path = write_capture(tmp_path / "capture", lines)
    db = tmp_path / "review.db"
    result = run_s2s("review", "import-capture", str(tmp_path / "capture"), "--review-db", str(db),
                     "--version", VERSION)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "read 1 capture file, 11 lines: 2 translations, 2 new in the review queue, 9 lines skipped" \
        in result.stdout
    expected = {"not_json": [2], "missing_field": [3], "bad_base64": [4, 10], "count_mismatch": [5],
                "unknown_content_type": [6], "unknown_encoding": [7], "error_answer": [8], "bad_body": [9]}
    for reason, numbers in expected.items():
        assert f"  {reason}: {len(numbers)}\n" in result.stdout
        for number in numbers:
            assert f"    {path}:{number}: " in result.stdout
    assert "no captureData.endpointOutput" in result.stdout
    assert "2 texts in the request, 1 in the answer" in result.stdout
    assert "'application/x-npy'" in result.stdout and "'GZIP'" in result.stdout
    assert queued(db) == [("The dog.", "Der Hund.", VERSION, "unknown", "capture"),
                          ("The cat reads.", "Die Katze liest.", VERSION, "unknown", "capture")]


def test_only_the_first_few_bad_lines_of_a_reason_are_named(tmp_path):
    path = write_capture(tmp_path / "capture", ["not json"] * 7)
    result = run_s2s("review", "import-capture", str(tmp_path / "capture"), "--review-db",
                     str(tmp_path / "review.db"), "--version", VERSION)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "  not_json: 7\n" in result.stdout
    named = [line for line in result.stdout.splitlines() if line.startswith(f"    {path}:")]
    assert [line.split(":")[1] for line in named] == ["1", "2", "3"]


def test_a_version_is_required_when_the_capture_names_none(tmp_path):
    own = capture_line({"q": "The dog.", "source": "en", "target": "de"}, "application/json",
                       {"translations": ["Der Hund."], "version": VERSION, "bleu": 86.18}, "application/json")
    plain = capture_line("The cat.\n", "text/plain", "Die Katze.\n", "text/plain")
    path = write_capture(tmp_path / "capture", [own, plain, plain])
    db = tmp_path / "review.db"
    refused = run_s2s("review", "import-capture", str(tmp_path / "capture"), "--review-db", str(db))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert f"{path}:2: the capture does not say which model version translated it" in refused.stderr
    assert "pass --version VERSION_ID" in refused.stderr
    # Nothing is queued, not even the pair whose version was known.
    assert queued(db) == []

    named = run_s2s("review", "import-capture", str(tmp_path / "capture"), "--review-db", str(db),
                    "--version", "en-de-other", "--engine", "sockeye")
    assert named.returncode == 0, named.stderr[-3000:]
    assert queued(db) == [("The dog.", "Der Hund.", VERSION, "sockeye", "capture"),
                          ("The cat.", "Die Katze.", "en-de-other", "sockeye", "capture")]


def test_a_directory_is_read_recursively_and_a_second_import_adds_nothing_new(tmp_path):
    capture = tmp_path / "capture"
    write_capture(capture, [capture_line("The dog.\n", "text/plain", "Der Hund.\n", "text/plain")], hour="13")
    write_capture(capture, [capture_line("The cat.\n\n", "text/plain", "Die Katze.\n\n", "text/plain")], hour="14")
    (capture / "s2s-en-de" / "notes.txt").write_text("not a capture file\n")
    db = tmp_path / "review.db"
    first = run_s2s("review", "import-capture", str(capture), "--review-db", str(db), "--version", VERSION)
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stdout.startswith("read 2 capture files, 2 lines: 2 translations, 2 new in the review queue, "
                                   "0 lines skipped, 1 empty text left out\n")
    again = run_s2s("review", "import-capture", str(capture), "--review-db", str(db), "--version", VERSION)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "2 translations, 0 new in the review queue" in again.stdout
    assert sorted(q[0] for q in queued(db)) == ["The cat.", "The dog."]


@pytest.fixture
def capture_bucket(aws_env):
    s3 = boto3.client("s3")
    name = "s2s-capture-tests"
    s3.create_bucket(Bucket=name)
    return name


def test_capture_is_read_from_s3_under_the_prefix_only(capture_bucket, tmp_path):
    s3 = boto3.client("s3")
    day = "AllTraffic/2026/11/23/13"
    for key, line in {
        f"capture/s2s-en-de/{day}/40-02-123-a.jsonl": capture_line("The dog.\n", "text/plain", "Der Hund.\n",
                                                                     "text/plain", encoding="BASE64"),
        f"capture/s2s-en-de/{day}/41-00-456-b.jsonl": capture_line({"instances": [{"data": "The cat."}]},
                                                                     "application/json",
                                                                     {"predictions": [{"target": "Die Katze."}]},
                                                                     "application/json"),
        # Another endpoint whose name starts the same, and a file that is not capture.
        f"capture/s2s-en-de-2/{day}/40-02-123-c.jsonl": capture_line("Other.\n", "text/plain", "Andere.\n",
                                                                       "text/plain"),
        f"capture/s2s-en-de/{day}/notes.txt": "not a capture file",
    }.items():
        s3.put_object(Bucket=capture_bucket, Key=key, Body=(line + "\n").encode())
    db = tmp_path / "review.db"
    for uri in (f"s3://{capture_bucket}/capture/s2s-en-de", f"s3://{capture_bucket}/capture/s2s-en-de/"):
        result = run_s2s("review", "import-capture", uri, "--review-db", str(db), "--version", VERSION)
        assert result.returncode == 0, result.stderr[-3000:]
        assert result.stdout.startswith("read 2 capture files, 2 lines: 2 translations")
    assert sorted(queued(db)) == [("The cat.", "Die Katze.", VERSION, "unknown", "capture"),
                                  ("The dog.", "Der Hund.", VERSION, "unknown", "capture")]


@pytest.mark.parametrize("source,message", [
    ("s3://", "'s3://': expected s3://BUCKET or s3://BUCKET/PREFIX"),
    ("s3://s2s-no-such-bucket/capture", "s3://s2s-no-such-bucket/capture: there is no bucket 's2s-no-such-bucket'"),
    ("s3://s2s-capture-tests/nothing-here", "s3://s2s-capture-tests/nothing-here: no .jsonl capture files there"),
    ("gs://s2s-capture-tests/capture",
     "'gs://s2s-capture-tests/capture': capture is read from an s3:// URI or a local directory"),
    ("no/such/dir", "no/such/dir: no such file or directory"),
])
def test_a_bad_source_is_a_clear_error(capture_bucket, tmp_path, source, message):
    result = run_s2s("review", "import-capture", source, "--review-db", str(tmp_path / "review.db"),
                     "--version", VERSION)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"s2s review: error: {message}" in result.stderr
