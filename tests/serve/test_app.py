"""The REST API through Flask's test client, on the model the demo published."""
import json

import pytest

from serve.app import create_app
from serve.config import ServeConfig


@pytest.fixture(scope="module")
def client(store):
    app = create_app(ServeConfig(store=store, max_payload_bytes=64 * 1024, max_items=8, max_item_chars=500))
    return app.test_client()


def _post(client, path, body, content_type="application/json"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(path, data=data, content_type=content_type)


def test_ping_is_healthy_with_a_model_loaded(client):
    response = client.get("/ping")
    assert response.status_code == 200 and response.json["loaded"]


def test_ping_is_unhealthy_without_a_model(tmp_path):
    response = create_app(ServeConfig(store=tmp_path)).test_client().get("/ping")
    assert response.status_code == 503


def test_translate_a_string_and_a_list(client):
    one = _post(client, "/v1/translate", {"q": "The small dog sees a red car.", "source": "en", "target": "de"})
    assert one.status_code == 200
    assert one.json["translations"] == ["Der kleine Hund sieht ein rotes Auto."]
    assert one.json["version"].startswith("en-de-") and one.json["bleu"] >= 80
    many = _post(client, "/v1/translate", {"q": ["The small dog sees a red car.", ""], "source": "en",
                                            "target": "de", "version": one.json["version"]})
    assert many.status_code == 200
    assert many.json["translations"] == ["Der kleine Hund sieht ein rotes Auto.", ""]


def test_models_lists_versions_with_scores_and_default(client):
    body = client.get("/v1/models").json
    (model,) = body["models"]
    assert model["default"] and model["loaded"] and model["bleu"] >= 80
    assert body["defaults"] == {"en-de": model["id"]}


def test_invocations_speaks_sagemaker_seq2seq(client):
    response = _post(client, "/invocations", {"instances": [{"data": "The small dog sees a red car."},
                                                            {"data": ""}]})
    assert response.status_code == 200
    assert response.json == {"predictions": [{"target": "Der kleine Hund sieht ein rotes Auto."},
                                             {"target": ""}]}


@pytest.mark.parametrize("path,body,content_type,status,message", [
    ("/v1/translate", "{not json", "application/json", 400, "not valid JSON"),
    ("/v1/translate", "[1, 2]", "application/json", 400, "must be a JSON object"),
    ("/v1/translate", {"source": "en", "target": "de"}, "application/json", 400, "missing field 'q'"),
    ("/v1/translate", {"q": 5, "source": "en", "target": "de"}, "application/json", 400, "q[0] must be a string"),
    ("/v1/translate", {"q": ["ok", 3], "source": "en", "target": "de"}, "application/json", 400,
     "q[1] must be a string"),
    ("/v1/translate", {"q": "hi", "target": "de"}, "application/json", 400, "missing field 'source'"),
    ("/v1/translate", {"q": "hi", "source": "de", "target": "en"}, "application/json", 404,
     "no version translates de->en"),
    ("/v1/translate", {"q": "hi", "source": "en", "target": "de", "version": "en-de-x"}, "application/json",
     404, "unknown version 'en-de-x'"),
    ("/v1/translate", {"q": "hi", "source": "en", "target": "de", "version": 7}, "application/json", 400,
     "'version' must be a string"),
    ("/v1/translate", "q=hi", "text/plain", 415, "expected Content-Type application/json"),
    ("/v1/translate", {"q": ["a"] * 9, "source": "en", "target": "de"}, "application/json", 413,
     "at most 8 per request"),
    ("/v1/translate", {"q": "a" * 501, "source": "en", "target": "de"}, "application/json", 413,
     "at most 500"),
    ("/v1/translate", {"q": "a" * 70000, "source": "en", "target": "de"}, "application/json", 413,
     "payload larger than 65536 bytes"),
    ("/invocations", {"instances": "hello"}, "application/json", 400, "missing field 'instances'"),
    ("/invocations", {"instances": [{"text": "hello"}]}, "application/json", 400,
     "instances[0] must be an object with a 'data' field"),
    ("/invocations", b"\xff\xfe", "application/json", 400, "not valid JSON"),
])
def test_bad_requests_get_json_errors_that_name_the_problem(client, path, body, content_type, status, message):
    response = _post(client, path, body, content_type)
    assert response.status_code == status
    assert message in response.json["error"]["message"]
    assert response.json["error"]["code"] == status


def test_unknown_route_and_method_are_json(client):
    assert client.get("/nope").json["error"]["code"] == 404
    assert client.get("/v1/translate").status_code == 405
