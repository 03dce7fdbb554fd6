"""Amazon Translate's API over this server's versions and glossaries, so that boto3's `translate`
client works with `endpoint_url` pointed at the server (docs/amazon-translate.md).

The protocol is botocore's service model for translate 2017-07-01 in its JSON 1.1 form: POST to
the root path, the operation in X-Amz-Target, JSON in and out, errors as {"__type", "message"} with
the status the model gives each exception, so that boto3 raises the modelled exception. Bad input
is never a 5xx, which boto3 would retry. With SigV4 keys configured, every request must be signed
by one (serve/sigv4.py), and changing a terminology takes a key with the reviewer role; without
keys, any signature or none is accepted, as /v1 then takes any request.
"""
import base64
import binascii
import json
import uuid
from dataclasses import replace
from datetime import datetime

from flask import Blueprint, Response, current_app, request

from data_prep.errors import S2SError
from data_prep.termbase import DIRECTIONALITIES, UNI
from documents.formats import DOCX_TYPE
from seq2seq.versions.glossaries import MAX_NAME_CHARS, Glossary, GlossaryNotFound
from serve.auth import ApiKey
from serve.language_id import LOW_CONFIDENCE, identify
from serve.language_names import language_name
from serve.request_checks import ApiError, admit, check_texts, keys_required, serve_config
from serve.sigv4 import SignatureError, SignedRequest, verify
from serve.terminology import term_request
from serve.translating import registry, resolve, served_pairs, translate, translate_file

amazon = Blueprint("amazon", __name__)

TARGET_PREFIX = "AWSShineFrontendService_20170701."
CONTENT_TYPE = "application/x-amz-json-1.1"
# Amazon's limits: TranslateText's text in UTF-8 bytes, the results of a list call, terminologies a request.
MAX_TEXT_BYTES = 10_000
MAX_RESULTS = 500
MAX_TERMINOLOGIES = 1
DISPLAY_LANGUAGES = ("de", "en", "es", "fr", "it", "ja", "ko", "pt", "zh", "zh-TW")
TERMINOLOGY_FORMATS = {"CSV": ".csv", "TSV": ".tsv", "TMX": ".tmx"}
SETTINGS = ("Formality", "Profanity", "Brevity")
# TranslateDocument's content types, with the extension each is read as, and its size limit.
DOCUMENT_TYPES = {"text/html": ".html", "text/plain": ".txt", DOCX_TYPE: ".docx"}
MAX_DOCUMENT_BYTES = 100 * 1024
# The operations that change the store's terminologies, and the role a key needs for them: reviewers
# curate what the models say, corrections and terms alike.
WRITES = ("ImportTerminology", "DeleteTerminology")
WRITER = "reviewer"
# The exception for an error of another part of the server, by status.
EXCEPTION_OF_STATUS = {400: "InvalidRequestException", 404: "ResourceNotFoundException",
                       413: "TextSizeLimitExceededException", 429: "TooManyRequestsException",
                       503: "ServiceUnavailableException"}


class AmazonError(Exception):
    """A modelled exception: its __type, status and message, and any fields the model gives it."""

    def __init__(self, type_: str, message: str, status: int = 400, **fields):
        super().__init__(message)
        self.type, self.status, self.fields = type_, status, fields


def is_amazon_request() -> bool:
    return request.path == "/" and request.method == "POST"


def _exception_of(status: int) -> str:
    return EXCEPTION_OF_STATUS.get(status, "InternalServerException" if status >= 500 else "InvalidRequestException")


def error(status: int, message: str, retry_after: int | None = None) -> Response:
    """An error of another part of the server (a full queue, a timeout) as the nearest modelled one."""
    if status == 413:
        # A body over the server's payload limit: the model's size exceptions are 400s.
        too_large = ("LimitExceededException" if request.headers.get("X-Amz-Target", "").endswith("ImportTerminology")
                     else "TextSizeLimitExceededException")
        return _answer({"__type": too_large, "message": f"{message} (`s2s serve --max-payload-mb`)"}, 400)
    return _answer({"__type": _exception_of(status), "message": message}, status)


def _answer(body: dict, status: int = 200) -> Response:
    response = Response(json.dumps(body), status=status, content_type=CONTENT_TYPE)
    # boto3 reports it as ResponseMetadata's RequestId.
    response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
    return response


@amazon.errorhandler(AmazonError)
def modelled_error(e: AmazonError):
    return _answer({"__type": e.type, "message": str(e), **e.fields}, e.status)


@amazon.errorhandler(SignatureError)
def signature_error(e: SignatureError):
    return _answer({"__type": e.code, "message": e.message}, e.status)


def _authenticate() -> ApiKey | None:
    """The key that signed the request; None when the server has no keys, and accepts any signature or none."""
    if not keys_required():
        return None
    signed = SignedRequest(request.method, request.path, request.query_string,
                           {name.lower(): value for name, value in request.headers.items()}, request.get_data())
    key = verify(signed, current_app.extensions["s2s.sigv4_keys"])
    try:
        admit(key)
    except ApiError as e:
        raise AmazonError("TooManyRequestsException", str(e), 429) from None
    return key


def _body() -> dict:
    try:
        body = json.loads(request.get_data())
    except (ValueError, RecursionError):
        raise AmazonError("SerializationException", "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise AmazonError("SerializationException", "the request body must be a JSON object")
    return body


def _field(body: dict, name: str, kind: type, required: bool = False, exception: str = "InvalidRequestException"):
    value = body.get(name)
    if value is None:
        if required:
            raise AmazonError(exception, f"1 validation error detected: Value null at '{name}' failed to satisfy "
                                         f"constraint: Member must not be null")
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise AmazonError(exception, f"{name} must be {'a string' if kind is str else 'an integer' if kind is int else kind.__name__}")
    return value


def _page(body: dict, items: list) -> tuple[list, dict]:
    """One page of `items` for NextToken and MaxResults, and the NextToken of the next page if any."""
    size = _field(body, "MaxResults", int, exception="InvalidParameterValueException")
    size = MAX_RESULTS if size is None else size
    if not 1 <= size <= MAX_RESULTS:
        raise AmazonError("InvalidParameterValueException", f"MaxResults must be between 1 and {MAX_RESULTS}, "
                                                            f"not {size}")
    token = _field(body, "NextToken", str, exception="InvalidParameterValueException")
    start = 0
    if token:
        if not token.isdigit() or int(token) >= len(items):
            raise AmazonError("InvalidParameterValueException", f"NextToken {token[:40]!r} is not one this "
                                                                f"server gave, or its list has changed since")
        start = int(token)
    end = start + size
    return items[start:end], ({"NextToken": str(end)} if end < len(items) else {})


def _pair(source: str, target: str, text: str) -> tuple[str, str]:
    """The pair to translate, the source detected when it is "auto"."""
    pairs = served_pairs()
    if source == "auto":
        sources = [s for s, t in pairs if t == target]
        if not sources:
            raise AmazonError("UnsupportedLanguagePairException", f"Unsupported language pair: auto to {target}: "
                              f"this server translates nothing into {target}", SourceLanguageCode=source,
                              TargetLanguageCode=target)
        found = identify(text, sources)
        if found.confidence < LOW_CONFIDENCE:
            raise AmazonError("DetectedLanguageLowConfidenceException",
                              f"the source language was detected as {found.language} with a confidence of "
                              f"{found.confidence:.2f}, under {LOW_CONFIDENCE}; give SourceLanguageCode",
                              DetectedLanguageCode=found.language)
        source = found.language
    if (source, target) not in pairs:
        served = ", ".join(f"{s} to {t}" for s, t in pairs) or "none yet"
        raise AmazonError("UnsupportedLanguagePairException", f"Unsupported language pair: {source} to {target}. "
                          f"This server translates {served}", SourceLanguageCode=source, TargetLanguageCode=target)
    return source, target


def _terminology(body: dict) -> str | None:
    names = _field(body, "TerminologyNames", list)
    if not names:
        return None
    if len(names) > MAX_TERMINOLOGIES or not isinstance(names[0], str):
        raise AmazonError("InvalidRequestException", f"TerminologyNames must hold {MAX_TERMINOLOGIES} terminology "
                                                     f"name, as Amazon Translate applies one a request")
    name = names[0]
    # Imported, replaced or deleted a moment ago, perhaps through another worker: the store's glossaries are
    # checked now (a directory listing; a glossary is read again only when its file changed).
    glossaries = registry().refresh_glossaries()
    if name not in glossaries.served and name not in glossaries.problems:
        raise AmazonError("ResourceNotFoundException", f"The resource you are looking for has not been found: "
                                                       f"no terminology {name!r} on this server", 404)
    return name


def _refuse_settings(body: dict) -> None:
    settings = _field(body, "Settings", dict) or {}
    for name, value in settings.items():
        if value is not None:
            raise AmazonError("InvalidRequestException",
                              f"Settings.{name} ({value}) is not something this server can honour: its models "
                              f"translate without {', '.join(s.lower() for s in SETTINGS)} settings; leave "
                              f"Settings out")


def translate_text(body: dict) -> dict:
    text = _field(body, "Text", str, required=True)
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_TEXT_BYTES:
        raise AmazonError("TextSizeLimitExceededException", f"Input text size exceeds limit. Max length of request "
                                                            f"text allowed is {MAX_TEXT_BYTES} bytes while in this "
                                                            f"request the text size is {size} bytes")
    if len(text) > serve_config().max_item_chars:
        raise AmazonError("TextSizeLimitExceededException", f"Input text size exceeds this server's limit of "
                                                            f"{serve_config().max_item_chars} characters "
                                                            f"(`s2s serve --max-item-chars`): {len(text)} characters")
    if not text:
        raise AmazonError("InvalidRequestException", "Text must hold at least 1 character")
    check_texts([text], "Text")
    _refuse_settings(body)
    source, target = _pair(_field(body, "SourceLanguageCode", str, required=True),
                              _field(body, "TargetLanguageCode", str, required=True), text)
    name = _terminology(body)
    served = resolve(source, target)
    terms = term_request({"terminology": name}, serve_config().max_glossary_entries) if name else None
    try:
        (result,) = translate([text], served, replace(served.options, nbest=1), terms)
    except ApiError as e:  # a glossary the version cannot apply, say
        raise AmazonError(_exception_of(e.status), str(e), e.status) from None
    answer = {"TranslatedText": result.translation, "SourceLanguageCode": source, "TargetLanguageCode": target}
    if name:
        answer["AppliedTerminologies"] = [{"Name": name, "Terms": [{"SourceText": t.source, "TargetText": t.target}
                                                                   for t in result.applied]}]
    return answer


def translate_document(body: dict) -> dict:
    """Amazon's TranslateDocument: HTML, plain text or Word, up to 100 KB, in its own format."""
    document = _field(body, "Document", dict, required=True)
    content_type = _field(document, "ContentType", str, required=True)
    if content_type not in DOCUMENT_TYPES:
        raise AmazonError("InvalidRequestException", f"Document.ContentType {content_type[:80]!r}: use one of "
                                                     f"{', '.join(DOCUMENT_TYPES)}")
    try:
        data = base64.b64decode(_field(document, "Content", str, required=True), validate=True)
    except (binascii.Error, ValueError):
        raise AmazonError("SerializationException", "Document.Content is not base64") from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise AmazonError("LimitExceededException", f"Document.Content is {len(data):,} bytes; the limit is "
                                                    f"{MAX_DOCUMENT_BYTES:,} (100 KB)")
    _refuse_settings(body)
    source = _field(body, "SourceLanguageCode", str, required=True)
    if source == "auto":
        raise AmazonError("InvalidRequestException", "TranslateDocument needs the document's SourceLanguageCode; "
                                                     "auto is TranslateText's")
    source, target = _pair(source, _field(body, "TargetLanguageCode", str, required=True), "")
    name = _terminology(body)
    served = resolve(source, target)
    terms = term_request({"terminology": name}, serve_config().max_glossary_entries) if name else None
    try:
        out, fmt = translate_file(data, f"document{DOCUMENT_TYPES[content_type]}", served, terms=terms)
    except S2SError as e:
        raise AmazonError("InvalidRequestException", str(e)) from None
    except ApiError as e:  # a glossary the version cannot apply, say
        raise AmazonError(_exception_of(e.status), str(e), e.status) from None
    answer = {"TranslatedDocument": {"Content": base64.b64encode(out).decode("ascii")},
              "SourceLanguageCode": source, "TargetLanguageCode": target}
    if name:
        # Which terms a document used is not tracked: the terminology is named, its terms not listed.
        answer["AppliedTerminologies"] = [{"Name": name, "Terms": []}]
    return answer


def list_languages(body: dict) -> dict:
    display = _field(body, "DisplayLanguageCode", str) or "en"
    if display not in DISPLAY_LANGUAGES:
        raise AmazonError("UnsupportedDisplayLanguageCodeException", f"DisplayLanguageCode {display!r}: use one of "
                          f"{', '.join(DISPLAY_LANGUAGES)}", DisplayLanguageCode=display)
    codes = sorted({code for pair in served_pairs() for code in pair})
    page, more = _page(body, codes)
    return {"Languages": [{"LanguageName": language_name(code, display), "LanguageCode": code} for code in page],
            "DisplayLanguageCode": display, **more}


def _properties(glossary: Glossary) -> dict:
    imported = datetime.fromisoformat(glossary.imported).timestamp()
    fmt = next((f for f, suffix in TERMINOLOGY_FORMATS.items() if glossary.source_file.lower().endswith(suffix)),
               "CSV")
    languages = glossary.languages
    return {"Name": glossary.name, "Description": glossary.description,
            "Arn": f"arn:aws:translate:s2s:000000000000:terminology/{glossary.name}/LATEST",
            "SourceLanguageCode": languages[0], "TargetLanguageCodes": list(languages[1:]),
            "TermCount": glossary.entry_count, "CreatedAt": imported, "LastUpdatedAt": imported,
            "Directionality": glossary.directionality, "Format": fmt, "SkippedTermCount": 0}


def _name(body: dict) -> str:
    name = _field(body, "Name", str, required=True, exception="InvalidParameterValueException")
    if not name or len(name) > MAX_NAME_CHARS or not all(c.isascii() and (c.isalnum() or c in "-_") for c in name):
        raise AmazonError("InvalidParameterValueException", f"Name {name[:60]!r}: use 1 to {MAX_NAME_CHARS} letters, "
                                                            f"digits, '_' or '-'")
    return name


def _glossary(name: str) -> Glossary:
    try:
        return registry().glossary_store.get(name)
    except GlossaryNotFound:
        raise AmazonError("ResourceNotFoundException", f"The resource you are looking for has not been found: no "
                                                       f"terminology {name!r} on this server", 404) from None


def import_terminology(body: dict) -> dict:
    name = _name(body)
    strategy = _field(body, "MergeStrategy", str, required=True, exception="InvalidParameterValueException")
    if strategy != "OVERWRITE":
        raise AmazonError("InvalidParameterValueException", f"MergeStrategy {strategy!r}: OVERWRITE is the only one")
    for unsupported in ("EncryptionKey", "Tags"):
        if body.get(unsupported):
            raise AmazonError("InvalidParameterValueException", f"{unsupported} is not supported by this server: "
                              f"its terminologies live in its model store, unencrypted and untagged; leave "
                              f"{unsupported} out")
    description = _field(body, "Description", str, exception="InvalidParameterValueException") or ""
    data = _field(body, "TerminologyData", dict, required=True, exception="InvalidParameterValueException")
    fmt = _field(data, "Format", str, required=True, exception="InvalidParameterValueException")
    if fmt not in TERMINOLOGY_FORMATS:
        raise AmazonError("InvalidParameterValueException", f"TerminologyData.Format {fmt!r}: use CSV, TSV or TMX")
    directionality = _field(data, "Directionality", str, exception="InvalidParameterValueException") or UNI
    if directionality not in DIRECTIONALITIES:
        raise AmazonError("InvalidParameterValueException", f"TerminologyData.Directionality {directionality!r}: use "
                                                            f"{' or '.join(DIRECTIONALITIES)}")
    encoded = _field(data, "File", str, required=True, exception="InvalidParameterValueException")
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise AmazonError("SerializationException", "TerminologyData.File is not base64") from None
    try:
        glossary = registry().glossary_store.import_data(name, content, f"{name}{TERMINOLOGY_FORMATS[fmt]}",
                                                         directionality, description)
    except S2SError as e:
        raise AmazonError("InvalidParameterValueException", str(e)) from None
    except OSError as e:
        raise AmazonError("InternalServerException", f"the server cannot write to its model store ({e.strerror}); "
                                                     f"its operator can give it write access", 500) from None
    registry().refresh_glossaries()
    return {"TerminologyProperties": _properties(glossary)}


def get_terminology(body: dict) -> dict:
    glossary = _glossary(_name(body))
    fmt = _field(body, "TerminologyDataFormat", str, exception="InvalidParameterValueException")
    if fmt not in (None, "CSV"):
        raise AmazonError("InvalidParameterValueException", f"TerminologyDataFormat {fmt!r}: this server gives "
                                                            f"terminologies back as CSV")
    # Amazon gives a presigned S3 URL; this server gives its own route, which takes the same keys as /v1.
    location = f"{request.host_url}v1/glossaries/{glossary.name}.csv"
    return {"TerminologyProperties": _properties(glossary),
            "TerminologyDataLocation": {"RepositoryType": "s2s", "Location": location}}


def list_terminologies(body: dict) -> dict:
    store = registry().glossary_store
    page, more = _page(body, store.names())
    found = []
    for name in page:
        try:
            found.append(_properties(store.get(name)))
        except S2SError:
            continue  # deleted or damaged since it was listed: GetTerminology names the problem
    return {"TerminologyPropertiesList": found, **more}


def delete_terminology(body: dict) -> dict:
    name = _name(body)
    try:
        registry().glossary_store.delete(name)
    except GlossaryNotFound:
        raise AmazonError("ResourceNotFoundException", f"The resource you are looking for has not been found: no "
                                                       f"terminology {name!r} on this server", 404) from None
    registry().refresh_glossaries()
    return {}


OPERATIONS = {"TranslateText": translate_text, "TranslateDocument": translate_document,
              "ListLanguages": list_languages,
              "ImportTerminology": import_terminology, "GetTerminology": get_terminology,
              "ListTerminologies": list_terminologies, "DeleteTerminology": delete_terminology}


@amazon.post("/")
def dispatch():
    key = _authenticate()
    target = request.headers.get("X-Amz-Target", "")
    name = target.removeprefix(TARGET_PREFIX) if target.startswith(TARGET_PREFIX) else None
    operation = OPERATIONS.get(name)
    if operation is None:
        raise AmazonError("UnknownOperationException", f"X-Amz-Target {target[:80]!r}: this server speaks "
                          f"{', '.join(TARGET_PREFIX + name for name in OPERATIONS)}")
    if name in WRITES and key is not None and key.role != WRITER:
        raise AmazonError("AccessDeniedException", f"{name} changes the server's terminologies, which takes a key "
                          f"with the role {WRITER!r} (s2s keys add NAME --sigv4 --role {WRITER}); key {key.name!r} "
                          f"has the role {key.role!r}", 403)
    return _answer(operation(_body()))
