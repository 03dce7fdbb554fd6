"""LibreTranslate's API, through the clients people run against LibreTranslate (libretranslatepy, and
deep-translator's LibreTranslator), and through raw HTTP where LibreTranslate's behaviour matters more
than a client's, against a real `s2s serve`."""
import urllib.error

import pytest
import requests
from deep_translator import LibreTranslator
from deep_translator.exceptions import AuthorizationException
from libretranslatepy import LibreTranslateAPI

from serve.auth import add_key
from tests.serve.test_app import APPLES, DOG
from tests.serve.test_gunicorn import serving


@pytest.fixture(scope="module")
def server(store):
    with serving(store) as server:
        yield server


def test_libretranslatepy_translates_detects_and_lists_languages(server, translated):
    client = LibreTranslateAPI(server.url)
    assert client.translate(DOG, "en", "de") == translated(DOG)
    (found,) = client.detect(APPLES)
    assert found["language"] == "en" and 0 <= found["confidence"] <= 100
    assert client.languages() == [{"code": "en", "name": "English", "targets": ["de"]},
                                  {"code": "de", "name": "German", "targets": []}]


def test_deep_translators_client_sends_everything_in_the_query_string(server, translated):
    # It sends its fields in the query string of a POST, and insists on some key even where none is needed.
    client = LibreTranslator(source="en", target="de", api_key="unused", custom_url=server.url + "/")
    assert client.translate(DOG) == translated(DOG)
    assert client.translate_batch([DOG, APPLES]) == [translated(DOG), translated(APPLES)]


def test_a_json_list_with_auto_and_alternatives_gets_libretranslates_answer(server, translated):
    answer = requests.post(server.url + "/translate", json={"q": [DOG, APPLES], "source": "auto", "target": "de",
                                                            "alternatives": 2}, timeout=60).json()
    # Alternatives widen the version's beam when it is narrower than they need (as Argos Translate's does):
    # the translations are /v1's with as many alternatives.
    v1 = requests.post(server.url + "/v1/translate", json={"q": [DOG, APPLES], "source": "en", "target": "de",
                                                           "alternatives": 2}, timeout=60).json()
    assert answer["translatedText"] == v1["translations"]
    # One detection for the request, as LibreTranslate gives; the store has one source, so it is sure.
    assert answer["detectedLanguage"] == [{"confidence": 100.0, "language": "en"}] * 2
    for translation, alternatives in zip(answer["translatedText"], answer["alternatives"]):
        assert len(alternatives) <= 2 and translation not in alternatives
        assert len(set(alternatives)) == len(alternatives)
    single = requests.post(server.url + "/translate", json={"q": DOG, "source": "en", "target": "de"}, timeout=60)
    assert single.json() == {"translatedText": translated(DOG)}  # no detection or alternatives unasked
    # Text with no letters goes back as it came, its language undetermined.
    emoji = requests.post(server.url + "/translate", data={"q": "😀 123", "source": "auto", "target": "de"},
                          timeout=60).json()
    assert emoji == {"translatedText": "😀 123", "detectedLanguage": {"confidence": 0.0, "language": "und"}}


def test_form_bodies_lose_their_carriage_returns_as_in_libretranslate(server, translated):
    answer = requests.post(server.url + "/translate", data={"q": f"{DOG}\r\n{APPLES}", "source": "en",
                                                            "target": "de"}, timeout=60).json()
    assert answer["translatedText"] == f"{translated(DOG)}\n{translated(APPLES)}"


@pytest.mark.parametrize("method,path,fields,status,message", [
    ("post", "/translate", {"source": "en", "target": "de"}, 400, "Invalid request: missing q parameter"),
    ("post", "/translate", {"q": DOG, "target": "de"}, 400, "Invalid request: missing source parameter"),
    ("post", "/translate", {"q": DOG, "source": "en"}, 400, "Invalid request: missing target parameter"),
    ("post", "/translate", {"q": DOG, "source": "zz", "target": "de"}, 400, "zz is not supported"),
    ("post", "/translate", {"q": DOG, "source": "en", "target": "zz"}, 400, "zz is not supported"),
    ("post", "/translate", {"q": DOG, "source": "de", "target": "en"}, 400,
     "English (en) is not available as a target language from German (de)"),
    ("post", "/translate", {"q": DOG, "source": "en", "target": "de", "alternatives": "two"}, 400,
     "Invalid request: alternatives parameter is not a number"),
    ("post", "/translate", {"q": DOG, "source": "en", "target": "de", "alternatives": "40"}, 400,
     "Invalid request: alternatives parameter must be <= "),
    ("post", "/translate", {"q": "a" * 10_001, "source": "en", "target": "de"}, 400,
     "Invalid request: request (10001) exceeds text limit (10000)"),
    ("post", "/translate", {"q": DOG, "source": "en", "target": "de", "format": "pdf"}, 400,
     "pdf format is not supported"),
    ("post", "/detect", {}, 400, "Invalid request: missing q parameter"),
    ("post", "/translate_file", {"source": "en", "target": "de"}, 400, "Invalid request: missing file parameter"),
    ("get", "/translate", {}, 405, "method is not allowed"),
    ("post", "/languages", {}, 405, "method is not allowed"),
])
def test_errors_have_libretranslates_shape_status_and_message(server, method, path, fields, status, message):
    response = getattr(requests, method)(server.url + path, data=fields, timeout=60)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_a_json_body_that_is_not_an_object_or_holds_non_strings_is_refused(server):
    for body, message in (([DOG], "Invalid JSON format"), ({"q": [DOG, 3], "source": "en", "target": "de"},
                                                          "q[1] must be a string"),
                          ({"q": DOG, "source": ["en"], "target": "de"}, "source parameter must be a string")):
        response = requests.post(server.url + "/translate", json=body, timeout=60)
        assert response.status_code == 400 and message in response.json()["error"], response.text


def test_settings_spec_and_health(server):
    settings = requests.get(server.url + "/frontend/settings", timeout=10).json()
    assert settings["charLimit"] == 10_000 and settings["keyRequired"] is False
    assert settings["language"] == {"source": {"code": "en", "name": "English"},
                                    "target": {"code": "de", "name": "German"}}
    spec = requests.get(server.url + "/spec", timeout=10).json()
    assert spec["swagger"] == "2.0" and {"/translate", "/detect", "/languages"} <= set(spec["paths"])
    assert requests.get(server.url + "/health", timeout=10).json() == {"status": "ok"}


def test_api_keys_are_s2s_keys_with_their_rate_limits(store, tmp_path, translated):
    keys = tmp_path / "keys.json"
    key = add_key(keys, "lt-client", per_minute=3)
    with serving(store, "--api-keys", str(keys)) as server:
        assert LibreTranslateAPI(server.url, api_key=key).translate(DOG, "en", "de") == translated(DOG)
        with pytest.raises(urllib.error.HTTPError) as refused:
            LibreTranslateAPI(server.url, api_key="s2s_not-a-key").translate(DOG, "en", "de")
        assert refused.value.code == 403 and b"Invalid API key" in refused.value.read()
        with pytest.raises(AuthorizationException):
            LibreTranslator(source="en", target="de", api_key="s2s_not-a-key", custom_url=server.url + "/").translate(DOG)
        missing = requests.post(server.url + "/translate", data={"q": DOG, "source": "en", "target": "de"}, timeout=60)
        assert missing.status_code == 400 and "api_key" in missing.json()["error"]
        # /languages stays open, as in LibreTranslate; the key's 3 a minute are spent by now.
        assert requests.get(server.url + "/languages", timeout=10).status_code == 200
        assert requests.get(server.url + "/frontend/settings", timeout=10).json()["keyRequired"] is True
        answers = [requests.post(server.url + "/detect", data={"q": DOG, "api_key": key}, timeout=60)
                   for _ in range(3)]
        assert answers[-1].status_code == 429 and answers[-1].json()["error"].startswith("Slowdown: rate limit")


def test_html_and_files_as_libretranslate_takes_them(server, translated):
    answer = requests.post(server.url + "/translate", json={"q": f"<p>{DOG}</p>", "source": "en", "target": "de",
                                                            "format": "html"}, timeout=60).json()
    assert answer == {"translatedText": f"<p>{translated(DOG)}</p>"}
    upload = requests.post(server.url + "/translate_file", data={"source": "en", "target": "de"},
                           files={"file": ("notes.txt", f"{DOG}\n{APPLES}\n".encode())}, timeout=60)
    url = upload.json()["translatedFileUrl"]
    assert url.startswith(server.url + "/download_file/") and url.endswith(".notes.de.txt")
    download = requests.get(url, timeout=60)
    assert download.status_code == 200 and download.text == f"{translated(DOG)}\n{translated(APPLES)}\n"
    assert 'filename=notes.de.txt' in download.headers["Content-Disposition"]
    gone = requests.get(server.url + "/download_file/" + "0" * 32 + ".notes.de.txt", timeout=10)
    assert gone.status_code == 404 and "expired" in gone.json()["error"]
    lying = requests.post(server.url + "/translate_file", data={"source": "en", "target": "de"},
                          files={"file": ("notes.docx", b"<p>not Word</p>")}, timeout=60)
    assert lying.status_code == 400 and "its extension says Word" in lying.json()["error"]
    settings = requests.get(server.url + "/frontend/settings", timeout=10).json()
    assert settings["filesTranslation"] is True and ".docx" in settings["supportedFilesFormat"]
