"""The REST API through Flask's test client, on the model the demo published."""
import hashlib
import json
import os
import shutil

import pytest

from serve.app import create_app
from serve.config import ServeConfig

# The demo's sentences. What they become is not fixed here: `_alone` and the `translated` fixture say.
DOG = "The small dog sees a red car."
APPLES = "Today my mother buys three green apples."


@pytest.fixture(scope="module")
def client(store):
    app = create_app(ServeConfig(store=store, max_payload_bytes=64 * 1024, max_items=8, max_item_chars=500))
    return app.test_client()


def _post(client, path, body, content_type="application/json"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(path, data=data, content_type=content_type)


def _alone(client, text: str, **fields) -> str:
    """`text` translated by itself through `client`: what it must become inside a longer request too."""
    response = _post(client, "/v1/translate", {"q": text, "source": "en", "target": "de", **fields})
    assert response.status_code == 200, response.json
    (translation,) = response.json["translations"]
    return translation


def test_ping_and_readyz_are_healthy_with_a_model_loaded(client):
    for path in ("/ping", "/readyz"):
        response = client.get(path)
        assert response.status_code == 200 and response.json["loaded"]
    assert client.get("/healthz").json == {"status": "alive", "pid": os.getpid()}


def test_ping_and_readyz_are_unhealthy_without_a_model(tmp_path):
    client = create_app(ServeConfig(store=tmp_path)).test_client()
    assert client.get("/ping").status_code == 503
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200


def test_translate_a_string_and_a_list(client, translated):
    one = _post(client, "/v1/translate", {"q": DOG, "source": "en", "target": "de"})
    assert one.status_code == 200
    (translation,) = one.json["translations"]
    assert translation.strip() and translation != DOG
    assert translation == translated(DOG)
    assert one.json["version"].startswith("en-de-") and one.json["bleu"] >= 80
    many = _post(client, "/v1/translate", {"q": [DOG, ""], "source": "en", "target": "de",
                                            "version": one.json["version"]})
    assert many.status_code == 200
    assert many.json["translations"] == [translation, ""]


def test_models_lists_versions_with_scores_and_default(client):
    body = client.get("/v1/models").json
    (model,) = body["models"]
    assert model["default"] and model["loaded"] and model["bleu"] >= 80
    assert model["review_bleu"] is None  # published without --review-test
    assert body["defaults"] == {"en-de": model["id"]}


def test_invocations_speaks_sagemaker_seq2seq(client):
    response = _post(client, "/invocations", {"instances": [{"data": DOG}, {"data": ""}]})
    assert response.status_code == 200
    assert response.json == {"predictions": [{"target": _alone(client, DOG)}, {"target": ""}]}


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
    ("/invocations", b"\xff\xfe", "application/json", 400, "not valid UTF-8 (byte 0)"),
    ("/invocations", b"ok\n\xff\xfe", "text/plain", 400, "not valid UTF-8 (byte 3)"),
    ("/invocations", '{"source": "a"}\n{"source": ', "application/jsonlines", 400, "line 2 is not valid JSON"),
    ("/invocations", '{"text": "a"}', "application/jsonlines", 400, "line 1 must be an object with a string 'source'"),
    ("/invocations", "a\n" * 9, "text/plain", 413, "lines: 9 items; at most 8"),
    ("/invocations", "<a/>", "application/xml", 415, "unsupported Content-Type application/xml"),
    ("/invocations", {"q": "hi", "version": "nope"}, "application/json", 404, "unknown version 'nope'"),
    ("/v1/translate", {"q": "hi", "source": "en", "target": "de", "beam_size": 11}, "application/json", 400,
     "'beam_size' must be between 1 and 10"),
    ("/v1/translate", {"q": "hi", "source": "en", "target": "de", "beam_size": True}, "application/json", 400,
     "'beam_size' must be an integer"),
    ("/v1/translate", {"q": "hi", "source": "en", "target": "de", "beam_size": 2, "alternatives": 2},
     "application/json", 400, "'alternatives' must be between 0 and beam_size - 1 (1)"),
    ("/v1/translate", {"q": "hi", "source": "en", "target": "de", "scores": "yes"}, "application/json", 400,
     "'scores' must be true or false"),
])
def test_bad_requests_get_json_errors_that_name_the_problem(client, path, body, content_type, status, message):
    response = _post(client, path, body, content_type)
    assert response.status_code == status
    assert message in response.json["error"]["message"]
    assert response.json["error"]["code"] == status


def test_unknown_route_and_method_are_json(client):
    assert client.get("/nope").json["error"]["code"] == 404
    assert client.get("/v1/translate").status_code == 405


def test_paragraphs_are_split_into_sentences_and_keep_their_layout(client):
    dog, apples = _alone(client, DOG), _alone(client, APPLES)
    text = f"  {DOG}  {APPLES}\n\n{DOG}\r\n"
    response = _post(client, "/v1/translate", {"q": [text, "   "], "source": "en", "target": "de"})
    assert response.json["translations"] == [f"  {dog}  {apples}\n\n{dog}\r\n", "   "]


@pytest.mark.parametrize("engine", ["ctranslate2", "sockeye"])
def test_text_with_no_subwords_and_null_options_are_answered(store, engine):
    """Found by bench/fuzz.py: control characters, which SentencePiece drops, left CTranslate2 a
    sentence with no subwords (500), and `"beam_size": null` reached a comparison (500)."""
    client = create_app(ServeConfig(store=store, engine=engine)).test_client()
    dog = _alone(client, DOG)
    response = _post(client, "/v1/translate", {"q": ["\b\f", DOG, "\x12"], "source": "en", "target": "de",
                                                "alternatives": 1})
    assert response.status_code == 200
    # The form feed is whitespace around the sentence, and stays.
    assert response.json["translations"] == ["\f", dog, ""]
    assert len(response.json["alternatives"][1]) == 1
    response = _post(client, "/v1/translate", {"q": DOG, "source": "en", "target": "de", "beam_size": None,
                                                "alternatives": None, "scores": None, "version": None})
    assert response.status_code == 200 and response.json["translations"] == [dog]


def test_alternatives_and_scores(client):
    response = _post(client, "/v1/translate", {"q": [DOG, ""], "source": "en", "target": "de", "beam_size": 4,
                                                "alternatives": 2, "scores": True})
    body = response.json
    # Asking for alternatives and scores leaves the best translation as it is.
    assert body["translations"] == [_alone(client, DOG, beam_size=4), ""]
    first, empty = body["alternatives"]
    assert len(first) == 2 and body["translations"][0] not in first and len(set(first)) == 2
    assert body["scores"][0] > 0 and body["scores"][1] == 0.0
    plain = _post(client, "/v1/translate", {"q": DOG, "source": "en", "target": "de"}).json
    assert "alternatives" not in plain and "scores" not in plain


def test_alternatives_widen_a_narrower_beam_when_no_beam_size_is_given(client, store):
    from seq2seq.versions.store import ModelStore

    beam = ModelStore(store).default_for("en", "de").decoding.beam_size
    wide = _post(client, "/v1/translate", {"q": DOG, "source": "en", "target": "de", "alternatives": beam})
    assert wide.status_code == 200
    assert wide.json["translations"] == [_alone(client, DOG, beam_size=beam + 1)]
    assert 0 < len(wide.json["alternatives"][0]) <= beam
    # Up to the server's largest beam, and no further.
    refused = _post(client, "/v1/translate", {"q": DOG, "source": "en", "target": "de", "alternatives": 10})
    assert refused.status_code == 400
    assert "'alternatives' must be between 0 and beam_size - 1 (9)" in refused.json["error"]["message"]


def test_input_longer_than_the_model_takes_is_split_not_truncated(store):
    # One "sentence" of some 380 subwords, beyond the model's 200: it is split at its clauses, each
    # translated as it would be alone, and none cut off. (What the model makes of a lowercase clause
    # differs between machines; that each is translated whole does not.)
    clause, last = "the small dog sees a red car;", "today my mother buys three green apples."
    long = " ".join([clause] * 40 + [last])
    client = create_app(ServeConfig(store=store, max_item_chars=2000, cache_size=0)).test_client()
    clause_de, last_de = _alone(client, clause), _alone(client, last)
    assert clause_de.strip() and last_de.strip()
    (translation,) = _post(client, "/v1/translate", {"q": long, "source": "en", "target": "de"}).json["translations"]
    assert translation == " ".join([clause_de] * 40 + [last_de])


def test_invocations_content_types(client):
    dog, apples = _alone(client, DOG), _alone(client, APPLES)
    plain = _post(client, "/invocations", f"{DOG}\n\n{APPLES}\n", "text/plain")
    assert plain.status_code == 200 and plain.mimetype == "text/plain"
    assert plain.get_data(as_text=True) == f"{dog}\n\n{apples}\n"
    lines = _post(client, "/invocations", json.dumps({"source": DOG}) + "\n\n" + json.dumps({"source": ""}) + "\n",
                  "application/jsonlines")
    assert lines.status_code == 200 and lines.mimetype == "application/jsonlines"
    assert [json.loads(line) for line in lines.get_data(as_text=True).splitlines()] == [{"target": dog},
                                                                                       {"target": ""}]
    own = _post(client, "/invocations", {"q": [DOG], "alternatives": 1, "beam_size": 2})
    assert own.json["translations"] == [_alone(client, DOG, beam_size=2)] and len(own.json["alternatives"][0]) == 1


def test_execution_parameters_and_metrics(client):
    assert client.get("/execution-parameters").json == {"MaxConcurrentTransforms": 1, "BatchStrategy": "MULTI_RECORD",
                                                        "MaxPayloadInMB": 1}
    _post(client, "/v1/translate", {"q": DOG, "source": "en", "target": "de"})
    _post(client, "/v1/translate", "{", "application/json")
    metrics = client.get("/metrics").get_data(as_text=True)
    version = client.get("/v1/models").json["defaults"]["en-de"]
    assert f's2s_requests_total{{route="/v1/translate",status="200",version="{version}"}}' in metrics
    assert 's2s_requests_total{route="/v1/translate",status="400",version=""}' in metrics
    for name in ("s2s_request_seconds_bucket", "s2s_batch_sentences_bucket", "s2s_queue_wait_seconds_bucket",
                 "s2s_queue_depth", "s2s_cache_lookups_total"):
        assert name in metrics


def test_a_request_that_outlives_the_timeout_gets_503(store):
    client = create_app(ServeConfig(store=store, request_timeout_s=1e-6, cache_size=0)).test_client()
    response = _post(client, "/v1/translate", {"q": APPLES, "source": "en", "target": "de"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert "did not finish within" in response.json["error"]["message"]


def test_api_keys_guard_v1_only_with_rate_limits(store, tmp_path):
    from serve.auth import add_key

    keys = tmp_path / "keys.json"
    key = add_key(keys, "alice", per_minute=2)
    client = create_app(ServeConfig(store=store, api_keys=keys)).test_client()
    body = {"q": DOG, "source": "en", "target": "de"}
    missing = _post(client, "/v1/translate", body)
    assert missing.status_code == 401 and "requires an API key" in missing.json["error"]["message"]
    wrong = client.post("/v1/translate", json=body, headers={"X-API-Key": "s2s_wrong"})
    assert wrong.status_code == 401 and wrong.json["error"]["message"] == "invalid API key"
    assert client.post("/v1/translate", json=body, headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert client.get("/v1/models", headers={"X-API-Key": key}).status_code == 200
    limited = client.post("/v1/translate", json=body, headers={"X-API-Key": key})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert "rate limit of 2 requests per minute exceeded for key 'alice'" in limited.json["error"]["message"]
    # SageMaker's routes stay open.
    assert client.get("/ping").status_code == 200
    assert _post(client, "/invocations", {"instances": [{"data": DOG}]}).status_code == 200


def _copy_version(source, store, new_id, bleu):
    """A copy of a published version under a new id and test BLEU, moved into `store` atomically."""
    hidden = store / f".{new_id}.partial"
    shutil.copytree(source, hidden)
    for path in hidden.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    info = json.loads((hidden / "version.json").read_text())
    info.update(id=new_id, created="2099-01-01T00:00:00+00:00")
    info["test"]["bleu"] = bleu
    (hidden / "version.json").write_text(json.dumps(info))
    hidden.rename(store / new_id)
    return store / new_id


def test_hot_reload_serves_new_versions_and_refuses_tampered_ones(store, tmp_path):
    (original,) = [p for p in store.iterdir() if (p / "version.json").is_file()]
    copy = tmp_path / "store"
    copy.mkdir()
    _copy_version(original, copy, original.name, json.loads((original / "version.json").read_text())["test"]["bleu"])
    app = create_app(ServeConfig(store=copy, reload_interval_s=0))
    client, registry = app.test_client(), app.extensions["s2s.registry"]
    body = {"q": DOG, "source": "en", "target": "de"}
    assert _post(client, "/v1/translate", body).json["version"] == original.name

    tampered = _copy_version(original, copy, "en-de-tampered", 99.0)
    (tampered / "model" / "params.best").write_bytes(b"not the trained weights")
    better = _copy_version(original, copy, "en-de-better", 95.0)
    assert registry.refresh()
    assert "params.best" in registry.refused["en-de-tampered"]
    assert _post(client, "/v1/translate", body).json["version"] == "en-de-better"
    pinned = _post(client, "/v1/translate", dict(body, version="en-de-tampered"))
    assert pinned.status_code == 404 and "is not served" in pinned.json["error"]["message"]
    assert client.get("/v1/models").json["refused"].keys() == {"en-de-tampered"}

    from seq2seq.versions.store import ModelStore

    ModelStore(copy).promote(original.name, force=True)
    assert registry.refresh() and not registry.refresh()
    assert _post(client, "/v1/translate", body).json["version"] == original.name
    shutil.rmtree(better)
    assert registry.refresh() and "en-de-better" not in registry.loaded

    # Files that match their sha256 but load on no engine: refused too, and the previous default stays.
    broken = _copy_version(original, copy, "en-de-broken", 99.0)
    info = json.loads((broken / "version.json").read_text())
    for rel in ("model/params.best", "ctranslate2/model.bin"):
        (broken / rel).write_bytes(b"garbage")
        info["files"][rel] = hashlib.sha256(b"garbage").hexdigest()
    (broken / "version.json").write_text(json.dumps(info))
    ModelStore(copy).promote("en-de-broken")
    assert registry.refresh()
    assert registry.refused["en-de-broken"].startswith("failed to load")
    assert _post(client, "/v1/translate", body).json["version"] == original.name


@pytest.mark.alone  # idle for 0.2 s means unused, and a busy machine can stall a test that long
def test_a_version_no_longer_default_is_unloaded_when_idle_and_loaded_again_when_pinned(store, tmp_path,
                                                                                         translated):
    import time

    (original,) = [p for p in store.iterdir() if (p / "version.json").is_file()]
    copy = tmp_path / "store"
    copy.mkdir()
    bleu = json.loads((original / "version.json").read_text())["test"]["bleu"]
    _copy_version(original, copy, original.name, bleu)
    app = create_app(ServeConfig(store=copy, reload_interval_s=0, unload_after_s=0.2))
    client, registry = app.test_client(), app.extensions["s2s.registry"]
    body = {"q": DOG, "source": "en", "target": "de"}
    _copy_version(original, copy, "en-de-newer", bleu + 1)
    assert registry.refresh() and set(registry.loaded) == {original.name, "en-de-newer"}
    assert _post(client, "/v1/translate", dict(body, version=original.name)).status_code == 200
    assert registry.unload_idle() == []  # just used: kept for now
    time.sleep(0.3)
    assert registry.unload_idle() == [original.name] and registry.loaded == ["en-de-newer"]
    pinned = _post(client, "/v1/translate", dict(body, version=original.name))
    assert pinned.status_code == 200 and pinned.json["translations"] == [translated(DOG)]
    assert set(registry.loaded) == {original.name, "en-de-newer"}
