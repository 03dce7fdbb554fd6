"""Amazon Translate's API through boto3's own `translate` client, its endpoint_url pointed at a real
`s2s serve`: translation, languages, terminologies over the store's glossaries, the modelled
exceptions, and SigV4 keys checked as AWS checks them."""
import json
from datetime import datetime, timedelta, timezone

import boto3
import botocore.auth
import pytest
import requests
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from documents.formats import DOCX_TYPE
from serve.amazon_api import CONTENT_TYPE, TARGET_PREFIX
from serve.auth import add_key, add_sigv4_key
from tests.serve.test_app import APPLES, DOG
from tests.serve.test_gunicorn import serving
from tests.serve.test_terms import ANIMALS, _copy_store

# One attempt: a test that sees a retry would hide a server that answered 5xx to bad input.
NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})


def _client(url: str, key: str = "anything", secret: str = "anything"):
    return boto3.client("translate", endpoint_url=url, region_name="eu-west-1", aws_access_key_id=key,
                        aws_secret_access_key=secret, config=NO_RETRIES)


@pytest.fixture(scope="module")
def server(store, tmp_path_factory):
    # Terminologies are written into the store: a copy of the demo's.
    copy = _copy_store(store, tmp_path_factory.mktemp("amazon_store"))
    with serving(copy) as server:
        yield server


@pytest.fixture(scope="module")
def translate(server):
    return _client(server.url)


def _code(error: pytest.ExceptionInfo) -> str:
    return error.value.response["Error"]["Code"]


def test_translate_text_matches_the_servers_own_api(translate, translated):
    answer = translate.translate_text(Text=DOG, SourceLanguageCode="en", TargetLanguageCode="de")
    assert answer["TranslatedText"] == translated(DOG)
    assert (answer["SourceLanguageCode"], answer["TargetLanguageCode"]) == ("en", "de")
    assert "AppliedTerminologies" not in answer and answer["ResponseMetadata"]["RequestId"]
    auto = translate.translate_text(Text=APPLES, SourceLanguageCode="auto", TargetLanguageCode="de")
    assert auto["SourceLanguageCode"] == "en" and auto["TranslatedText"] == translated(APPLES)


def test_list_languages_pages_and_names_in_the_display_language(translate):
    everything = translate.list_languages()
    assert everything["Languages"] == [{"LanguageName": "German", "LanguageCode": "de"},
                                       {"LanguageName": "English", "LanguageCode": "en"}]
    assert "NextToken" not in everything
    first = translate.list_languages(MaxResults=1, DisplayLanguageCode="de")
    assert first["Languages"] == [{"LanguageName": "Deutsch", "LanguageCode": "de"}]
    second = translate.list_languages(MaxResults=1, DisplayLanguageCode="de", NextToken=first["NextToken"])
    assert second["Languages"] == [{"LanguageName": "Englisch", "LanguageCode": "en"}] and "NextToken" not in second


def test_terminologies_import_apply_list_page_get_and_delete(translate, server):
    imported = translate.import_terminology(Name="animals", MergeStrategy="OVERWRITE", Description="our words",
                                            TerminologyData={"File": ANIMALS.encode(), "Format": "CSV"})
    properties = imported["TerminologyProperties"]
    assert (properties["Name"], properties["Description"], properties["SourceLanguageCode"],
            properties["TargetLanguageCodes"], properties["TermCount"], properties["Directionality"],
            properties["Format"]) == ("animals", "our words", "en", ["de"], 3, "UNI", "CSV")
    assert isinstance(properties["CreatedAt"], datetime)
    translate.import_terminology(Name="more", MergeStrategy="OVERWRITE",
                                 TerminologyData={"File": b"en\tde\ncar\tVroomel\n", "Format": "TSV"})
    # At once, through the same worker or not, the terminology applies.
    applied = translate.translate_text(Text=DOG, SourceLanguageCode="en", TargetLanguageCode="de",
                                       TerminologyNames=["animals"])
    (terminology,) = applied["AppliedTerminologies"]
    assert terminology["Name"] == "animals"
    for term in terminology["Terms"]:
        assert term["TargetText"] in applied["TranslatedText"]
    assert {"SourceText": "dog", "TargetText": "Zorbix"} in terminology["Terms"]

    pages = list(translate.get_paginator("list_terminologies").paginate(PaginationConfig={"PageSize": 1}))
    assert [p["Name"] for page in pages for p in page["TerminologyPropertiesList"]] == ["animals", "more"]
    got = translate.get_terminology(Name="animals")
    assert got["TerminologyProperties"]["TermCount"] == 3
    csv = requests.get(got["TerminologyDataLocation"]["Location"], timeout=10)
    assert csv.status_code == 200 and "dog,Zorbix" in csv.text

    translate.delete_terminology(Name="more")
    with pytest.raises(translate.exceptions.ResourceNotFoundException):
        translate.get_terminology(Name="more")
    with pytest.raises(translate.exceptions.ResourceNotFoundException):
        translate.delete_terminology(Name="more")
    with pytest.raises(translate.exceptions.ResourceNotFoundException):
        translate.translate_text(Text=DOG, SourceLanguageCode="en", TargetLanguageCode="de",
                                 TerminologyNames=["more"])


@pytest.mark.parametrize("call,exception,message", [
    (dict(Text=DOG, SourceLanguageCode="en", TargetLanguageCode="fr"), "UnsupportedLanguagePairException",
     "Unsupported language pair: en to fr"),
    (dict(Text="a" * 10_001, SourceLanguageCode="en", TargetLanguageCode="de"), "TextSizeLimitExceededException",
     "text size is 10001 bytes"),
    # 3,400 characters of 3 bytes each: under the characters, over the bytes.
    (dict(Text="€" * 3_400, SourceLanguageCode="en", TargetLanguageCode="de"), "TextSizeLimitExceededException",
     "10200 bytes"),
    (dict(Text=DOG, SourceLanguageCode="en", TargetLanguageCode="de", Settings={"Formality": "FORMAL"}),
     "InvalidRequestException", "Settings.Formality (FORMAL)"),
    (dict(Text=DOG, SourceLanguageCode="en", TargetLanguageCode="de", Settings={"Profanity": "MASK"}),
     "InvalidRequestException", "Settings.Profanity (MASK)"),
    (dict(Text="12345 !!!", SourceLanguageCode="auto", TargetLanguageCode="de"),
     "DetectedLanguageLowConfidenceException", "give SourceLanguageCode"),
    (dict(Text=DOG, SourceLanguageCode="en", TargetLanguageCode="de", TerminologyNames=["nope"]),
     "ResourceNotFoundException", "no terminology 'nope'"),
])
def test_bad_requests_raise_the_modelled_exception(translate, call, exception, message):
    with pytest.raises(getattr(translate.exceptions, exception)) as raised:
        translate.translate_text(**call)
    assert message in raised.value.response["Error"]["Message"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] < 500


def test_bad_terminologies_and_list_parameters_are_invalid_parameter_values(translate):
    for call in (dict(Name="x", MergeStrategy="OVERWRITE", TerminologyData={"File": b"not,a\nterm", "Format": "TMX"}),
                 dict(Name="x", MergeStrategy="OVERWRITE", TerminologyData={"File": b"en,de\n,Hund\n", "Format": "CSV"}),
                 dict(Name="x", MergeStrategy="OVERWRITE", EncryptionKey={"Type": "KMS", "Id": "k"},
                      TerminologyData={"File": ANIMALS.encode(), "Format": "CSV"})):
        with pytest.raises(translate.exceptions.InvalidParameterValueException):
            translate.import_terminology(**call)
    with pytest.raises(translate.exceptions.InvalidParameterValueException):
        translate.list_terminologies(NextToken="not-one-of-ours")
    with pytest.raises(translate.exceptions.UnsupportedDisplayLanguageCodeException):
        translate.list_languages(DisplayLanguageCode="xx")


def test_raw_requests_that_boto3_would_not_send_get_clear_errors(server):
    def post(target: str, body: str):
        return requests.post(server.url + "/", data=body, timeout=60,
                             headers={"X-Amz-Target": target, "Content-Type": CONTENT_TYPE})

    for target, body, kind in (
            (TARGET_PREFIX + "TranslateText", "{", "SerializationException"),
            (TARGET_PREFIX + "TranslateText", "[]", "SerializationException"),
            (TARGET_PREFIX + "TranslateText", '{"Text": 3, "SourceLanguageCode": "en", "TargetLanguageCode": "de"}',
             "InvalidRequestException"),
            (TARGET_PREFIX + "TranslateText", '{"SourceLanguageCode": "en", "TargetLanguageCode": "de"}',
             "InvalidRequestException"),
            (TARGET_PREFIX + "TranslateText", '{"Text": "", "SourceLanguageCode": "en", "TargetLanguageCode": "de"}',
             "InvalidRequestException"),
            (TARGET_PREFIX + "TranslateText",
             '{"Text": "\\ud800", "SourceLanguageCode": "en", "TargetLanguageCode": "de"}', "InvalidRequestException"),
            (TARGET_PREFIX + "ImportTerminology",
             '{"Name": "x", "MergeStrategy": "OVERWRITE", "TerminologyData": {"File": "%%%", "Format": "CSV"}}',
             "SerializationException"),
            (TARGET_PREFIX + "CreateParallelData", "{}", "UnknownOperationException")):
        answer = post(target, body)
        assert answer.status_code == 400 and answer.json()["__type"] == kind, (body, answer.text)
        assert answer.json()["message"]


def test_sigv4_keys_verify_the_secret_the_date_and_the_body(store, tmp_path, translated, monkeypatch):
    keys = tmp_path / "keys.json"
    key_id, secret = add_sigv4_key(keys, "boto", per_minute=0)
    bearer = add_key(keys, "bearer")
    assert oct(keys.stat().st_mode & 0o777) == "0o600"
    with serving(store, "--api-keys", str(keys)) as server:
        answer = _client(server.url, key_id, secret).translate_text(Text=DOG, SourceLanguageCode="en",
                                                                   TargetLanguageCode="de")
        assert answer["TranslatedText"] == translated(DOG)
        with pytest.raises(ClientError) as wrong:
            _client(server.url, key_id, secret[:-1] + "x").list_languages()
        assert _code(wrong) == "InvalidSignatureException"
        with pytest.raises(ClientError) as unknown:
            _client(server.url, "S2SNOSUCHKEY00000000", secret).list_languages()
        assert _code(unknown) == "UnrecognizedClientException"
        # The bearer key of /v1 is no SigV4 secret.
        with pytest.raises(ClientError) as not_sigv4:
            _client(server.url, "bearer", bearer).list_languages()
        assert _code(not_sigv4) == "UnrecognizedClientException"

        # A client whose clock is 20 minutes slow signs with a date the server refuses.
        class SlowClock(datetime):
            @classmethod
            def now(cls, tz=None):
                return datetime.now(tz) - timedelta(minutes=20)

            @classmethod
            def utcnow(cls):
                return datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=20)

        with monkeypatch.context() as clock:
            clock.setattr(botocore.auth.datetime, "datetime", SlowClock)
            with pytest.raises(ClientError) as old:
                _client(server.url, key_id, secret).list_languages()
        assert _code(old) == "InvalidSignatureException" and "Signature expired" in str(old.value)

        # A body changed after signing.
        body = json.dumps({"Text": DOG, "SourceLanguageCode": "en", "TargetLanguageCode": "de"})
        signed = AWSRequest("POST", server.url + "/", data=body,
                            headers={"X-Amz-Target": TARGET_PREFIX + "TranslateText", "Content-Type": CONTENT_TYPE})
        botocore.auth.SigV4Auth(Credentials(key_id, secret), "translate", "eu-west-1").add_auth(signed)
        untouched = requests.post(server.url + "/", data=body, headers=dict(signed.headers), timeout=60)
        assert untouched.status_code == 200, untouched.text
        tampered = requests.post(server.url + "/", data=body.replace("small", "large"), headers=dict(signed.headers),
                                 timeout=60)
        assert tampered.status_code == 403 and tampered.json()["__type"] == "InvalidSignatureException"
        unsigned = requests.post(server.url + "/", data=body, timeout=60,
                                 headers={"X-Amz-Target": TARGET_PREFIX + "TranslateText"})
        assert unsigned.status_code == 403 and unsigned.json()["__type"] == "MissingAuthenticationTokenException"


def test_rate_limits_roles_and_the_payload_limit_with_keys(store, tmp_path):
    keys = tmp_path / "keys.json"
    key_id, secret = add_sigv4_key(keys, "slow", per_minute=2)
    reviewer = add_sigv4_key(keys, "editor", per_minute=0, role="reviewer")
    copy = _copy_store(store, tmp_path / "store")
    with serving(copy, "--api-keys", str(keys), "--max-payload-mb", "0.01") as server:
        client, editor = _client(server.url, key_id, secret), _client(server.url, *reviewer)
        # Changing the terminologies takes a reviewer's key; using them, any key.
        with pytest.raises(ClientError) as denied:
            client.import_terminology(Name="animals", MergeStrategy="OVERWRITE",
                                      TerminologyData={"File": ANIMALS.encode(), "Format": "CSV"})
        assert _code(denied) == "AccessDeniedException" and "role 'reviewer'" in str(denied.value)
        editor.import_terminology(Name="animals", MergeStrategy="OVERWRITE",
                                  TerminologyData={"File": ANIMALS.encode(), "Format": "CSV"})
        assert client.list_terminologies()["TerminologyPropertiesList"][0]["Name"] == "animals"
        with pytest.raises(client.exceptions.TooManyRequestsException):
            client.list_languages()
        # A body over --max-payload-mb: the model's size exceptions, 400s that boto3 does not retry.
        big = ("en,de\n" + "dog,Hund\n" * 2000).encode()
        with pytest.raises(editor.exceptions.LimitExceededException):
            editor.import_terminology(Name="big", MergeStrategy="OVERWRITE",
                                      TerminologyData={"File": big, "Format": "CSV"})


def test_translate_document_keeps_html_and_word_in_their_format(translate, translated):
    import io

    import docx

    page = f"<p>{DOG}</p><p>{APPLES}</p>".encode()
    answer = translate.translate_document(Document={"Content": page, "ContentType": "text/html"},
                                          SourceLanguageCode="en", TargetLanguageCode="de")
    assert answer["TranslatedDocument"]["Content"].decode() == f"<p>{translated(DOG)}</p><p>{translated(APPLES)}</p>"
    document = docx.Document()
    document.add_paragraph(DOG)
    data = io.BytesIO()
    document.save(data)
    word = translate.translate_document(Document={"Content": data.getvalue(), "ContentType": DOCX_TYPE},
                                        SourceLanguageCode="en", TargetLanguageCode="de")
    (paragraph,) = docx.Document(io.BytesIO(word["TranslatedDocument"]["Content"])).paragraphs
    assert paragraph.text == translated(DOG)
    with pytest.raises(translate.exceptions.LimitExceededException):
        translate.translate_document(Document={"Content": b"a " * 60_000, "ContentType": "text/plain"},
                                     SourceLanguageCode="en", TargetLanguageCode="de")
    for content_type, content in (("application/pdf", b"%PDF-1.4"), ("text/html", b"PK\x03\x04 cut")):
        with pytest.raises(translate.exceptions.InvalidRequestException):
            translate.translate_document(Document={"Content": content, "ContentType": content_type},
                                         SourceLanguageCode="en", TargetLanguageCode="de")
