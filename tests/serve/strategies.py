"""Hypothesis strategies for request bodies, the malformed ones above all: the property tests
(tests/serve/test_fuzz.py) run a fixed budget of them, bench/fuzz.py many more."""
import base64
import json
from urllib.parse import urlencode

from hypothesis import strategies as st

# This project's routes, LibreTranslate's, and Amazon Translate's operations ("amazon:" and the
# operation: POST / with its X-Amz-Target; http_request says how each is sent).
OWN_ROUTES = ("/v1/translate", "/invocations", "/v1/documents?source=en&target=de&name=upload")
LIBRETRANSLATE_ROUTES = ("/translate", "/detect", "/translate_file")
AMAZON = "amazon:"
AMAZON_ROUTES = tuple(AMAZON + operation for operation in (
    "TranslateText", "TranslateDocument", "ListLanguages", "ImportTerminology", "GetTerminology", "ListTerminologies",
    "DeleteTerminology", "NoSuchOperation"))
ROUTES = OWN_ROUTES + LIBRETRANSLATE_ROUTES + AMAZON_ROUTES
CONTENT_TYPES = (
    "application/json", "application/json; charset=utf-8", "application/json; charset=latin-1",
    "text/plain", "text/plain; charset=utf-16", "application/jsonlines", "application/x-jsonlines",
    "application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded",
    "application/octet-stream", "", "*/*", "application/json;;;", "text/plain; charset=nonsense",
)
FIELDS = ("q", "source", "target", "version", "beam_size", "alternatives", "scores", "instances", "data",
          "glossary", "terminology", "format", "api_key")
AMAZON_FIELDS = ("Text", "Document", "SourceLanguageCode", "TargetLanguageCode", "TerminologyNames", "Settings", "Name",
                 "MergeStrategy", "TerminologyData", "Description", "MaxResults", "NextToken",
                 "DisplayLanguageCode", "TerminologyDataFormat")


def http_request(route: str, content_type: str) -> tuple[str, dict]:
    """The path and headers that send a request to `route`."""
    headers = {"Content-Type": content_type} if content_type else {}
    if route.startswith(AMAZON):
        return "/", {**headers, "X-Amz-Target": "AWSShineFrontendService_20170701." + route.removeprefix(AMAZON)}
    return route, headers

# Every JSON value: deep, wide, huge numbers, NaN and infinities, any text.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=10**20, max_value=10**60)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=10), children, max_size=6),
    max_leaves=30)

# Text a JSON body can carry: escapes of every kind, lone surrogates among them.
escapes = st.sampled_from(["\\ud800", "\\udfff", "\\ud83d\\ude00", "\\u0000", "\\u202e", "\\n", "\\t", "\\\"",
                           "\\\\", "\\/", "\\b", "\\f", "\\u00e9", "\\uffff", "\\ud800\\u0041"])
escaped_strings = st.lists(st.text(alphabet=st.characters(blacklist_characters='"\\'), max_size=8) | escapes,
                           max_size=8).map(lambda parts: '"' + "".join(parts) + '"')
invalid_escapes = st.sampled_from(['"\\x41"', '"\\u12"', '"\\ud800\\u"', '"\\', '"abc', '"\\U0001F600"'])


def _request_with(field: str, raw_value: str) -> str:
    """A request that is valid but for one field, given as raw JSON text."""
    fields = {"q": '"The small dog sees a red car."', "source": '"en"', "target": '"de"'}
    fields[field] = raw_value
    return "{" + ", ".join(f'"{key}": {value}' for key, value in fields.items()) + "}"


# Glossaries: terms of any text (placeholders, markers of the private-use area, no words at all), any
# values, escapes that spell half a character, names that exist or do not.
terms = st.text(max_size=12) | st.sampled_from(["dog", "Dog", "DOG", "car", "⟦0⟧", "\ue000", "+", "a b", " ", ""])
# Glossaries whose terms are words of texts_with_terms, so that many requests apply some, and any others.
matching_glossaries = st.dictionaries(st.sampled_from(["dog", "Dog", "car", "red car", "small dog", "sees", "⟦0⟧"]),
                                      st.sampled_from(["Zorbix", "zorbix van", "⟦1⟧", "\ue001", "a.b"])
                                      | st.text(min_size=1, max_size=12), max_size=4)
glossaries = matching_glossaries | st.dictionaries(terms, terms | json_values, max_size=8)
raw_glossaries = st.lists(st.tuples(escaped_strings | invalid_escapes, escaped_strings | invalid_escapes),
                          max_size=4).map(lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}")
texts_with_terms = st.lists(st.sampled_from(["The", "small", "dog", "Dog", "DOG", "sees", "a", "red", "car", ".",
                                             "⟦0⟧", "\ue000", "\n", "  "]), max_size=12).map(" ".join)


def _with_terms(q: str, glossary: dict | None, terminology, alternatives: int = 0) -> str:
    body = {"q": q, "source": "en", "target": "de", "glossary": glossary, "terminology": terminology,
            "alternatives": alternatives or None}
    return json.dumps({k: v for k, v in body.items() if v is not None or k in ("q", "source", "target")})


json_bodies = st.one_of(
    st.builds(_with_terms, texts_with_terms, glossaries | st.none(),
              st.none() | st.sampled_from(["animals", "nope", ""]) | json_values, st.sampled_from([0, 1])),
    st.builds(lambda raw: _request_with("glossary", raw), raw_glossaries),
    json_values.map(json.dumps),
    st.builds(_request_with, st.sampled_from(FIELDS), json_values.map(json.dumps)),
    st.builds(_request_with, st.sampled_from(FIELDS), escaped_strings | invalid_escapes),
    st.builds(lambda value: json.dumps({"instances": [{"data": value}]}), json_values),
    st.builds(lambda raw: '{"instances": [{"data": ' + raw + "}]}", escaped_strings | invalid_escapes),
    st.integers(min_value=1, max_value=200_000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(min_value=1, max_value=200_000).map(lambda depth: '{"q": ' + "[" * depth),
    st.integers(min_value=4000, max_value=20_000).map(
        lambda digits: '{"q": "a", "source": "en", "target": "de", "beam_size": ' + "9" * digits + "}"),
)


def _amazon_with(field: str, raw_value: str) -> str:
    """An Amazon request that is valid but for one field, given as raw JSON text."""
    fields = {"Text": '"The small dog sees a red car."', "SourceLanguageCode": '"en"', "TargetLanguageCode": '"de"',
              "Name": '"fuzzed"', "MergeStrategy": '"OVERWRITE"',
              "TerminologyData": json.dumps({"File": base64.b64encode(b"en,de\ndog,Zorbix\n").decode(),
                                             "Format": "CSV"})}
    fields[field] = raw_value
    return "{" + ", ".join(f'"{key}": {value}' for key, value in fields.items()) + "}"


# Term files of any bytes and any claimed format, base64 or not.
terminology_data = st.builds(
    lambda data, fmt, encode, direction: json.dumps({"File": base64.b64encode(data).decode() if encode else
                                                     data.decode("latin-1"), "Format": fmt,
                                                     "Directionality": direction}),
    st.binary(max_size=200) | st.text(max_size=80).map(lambda t: ("en,de\n" + t).encode("utf-8", "surrogatepass")),
    st.sampled_from(["CSV", "TSV", "TMX", "XLSX", ""]), st.booleans(), st.sampled_from(["UNI", "MULTI", "BOTH"]))
# Documents of any bytes (HTML, text, a zip) under any content type.
documents = st.builds(
    lambda data, content_type: json.dumps({"Content": base64.b64encode(data).decode(), "ContentType": content_type}),
    st.binary(max_size=300) | st.text(max_size=200).map(lambda t: f"<p>{t}</p>".encode("utf-8", "surrogatepass"))
    | st.sampled_from([b"PK\x03\x04" + b"\0" * 40, b"<p>The <b>small</b> dog.</p>", b"<!DOCTYPE x [<!ENTITY a 'b'>]>"]),
    st.sampled_from(["text/html", "text/plain", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                     "application/pdf", ""]))
amazon_bodies = st.one_of(
    st.builds(lambda raw: _amazon_with("Document", raw), documents),
    st.builds(_amazon_with, st.sampled_from(AMAZON_FIELDS), json_values.map(json.dumps)),
    st.builds(_amazon_with, st.sampled_from(AMAZON_FIELDS), escaped_strings | invalid_escapes),
    st.builds(lambda raw: _amazon_with("TerminologyData", raw), terminology_data),
    st.builds(lambda settings: _amazon_with("Settings", json.dumps(settings)),
              st.dictionaries(st.sampled_from(["Formality", "Profanity", "Brevity", "Other"]), json_values,
                              max_size=3)),
)
# LibreTranslate's clients send forms, in the body or the query string.
form_bodies = st.dictionaries(st.sampled_from(FIELDS), st.text(max_size=30) | st.sampled_from(["en", "de", "auto"]),
                              max_size=6).map(urlencode)

jsonlines_bodies = st.lists(json_bodies | escaped_strings.map(lambda raw: '{"source": ' + raw + "}")
                            | st.text(max_size=30), max_size=5).map("\n".join)
text_bodies = st.text(max_size=200)

bodies = st.one_of(
    st.binary(max_size=300),
    json_bodies.map(lambda text: text.encode("utf-8", "surrogatepass")),
    amazon_bodies.map(lambda text: text.encode("utf-8", "surrogatepass")),
    form_bodies.map(str.encode),
    jsonlines_bodies.map(lambda text: text.encode("utf-8", "surrogatepass")),
    text_bodies.map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.builds(lambda text, encoding: text.encode(encoding, "replace"), text_bodies,
              st.sampled_from(["utf-16", "latin-1", "cp1252"])),
)
requests_ = st.tuples(st.sampled_from(ROUTES), st.sampled_from(CONTENT_TYPES), bodies)
