"""The review page and /v1/review/* through Flask's test client: keys and roles, bad bodies, the review flow."""
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_prep.errors import S2SError
from review.db import NewItem, ReviewDb
from serve.app import create_app
from serve.auth import add_key
from serve.config import ServeConfig
from tests.serve.strategies import CONTENT_TYPES, bodies, json_values


@pytest.fixture
def server(tmp_path):
    return _server(tmp_path)


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """One app for all of hypothesis's examples, which run inside one test."""
    return _server(tmp_path_factory.mktemp("review_fuzz"))


def _server(tmp_path):
    """An app on an empty store (the review routes need no model), with two reviewers and a translator."""
    keys = tmp_path / "keys.json"
    names = {"alice": add_key(keys, "alice", role="reviewer"), "bob": add_key(keys, "bob", role="reviewer"),
             "tina": add_key(keys, "tina")}
    db = ReviewDb(tmp_path / "review.db")
    db.add([NewItem(f"source {i}", f"Quelle {i}", "en-de-1", "ctranslate2", "add") for i in range(5)])
    app = create_app(ServeConfig(store=tmp_path / "store", api_keys=keys, review_db=db.path, max_item_chars=100))
    return app.test_client(), {name: {"Authorization": f"Bearer {key}"} for name, key in names.items()}, db


def _save(client, headers, item_id, body, content_type="application/json"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(f"/v1/review/items/{item_id}", data=data, content_type=content_type, headers=headers)


def test_the_page_and_its_files_are_served_without_a_key(server):
    client, _, _ = server
    page = client.get("/review")
    assert page.status_code == 200 and b'<script src="static/review.js"' in page.data
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    for name, kind in (("review.js", "javascript"), ("review.css", "css")):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200 and kind in response.content_type


@pytest.mark.parametrize("method,path", [("get", "/v1/review/queue"), ("post", "/v1/review/undo"),
                                         ("post", "/v1/review/items/1")])
def test_the_api_takes_reviewer_keys_only(server, method, path):
    client, headers, _ = server
    none = getattr(client, method)(path)
    assert none.status_code == 401 and "requires an API key" in none.json["error"]["message"]
    wrong = getattr(client, method)(path, headers={"Authorization": "Bearer s2s_nope"})
    assert wrong.status_code == 401 and wrong.json["error"]["message"] == "invalid API key"
    translator = getattr(client, method)(path, headers=headers["tina"])
    assert translator.status_code == 403
    assert translator.json["error"]["message"] == ("API key 'tina' has the role 'translate'; reviewing needs a key "
                                                  "with the role 'reviewer' (s2s keys add NAME --role reviewer)")


def test_the_queue_lists_unreviewed_items_with_progress(server):
    client, headers, _ = server
    answer = client.get("/v1/review/queue?limit=2", headers=headers["alice"])
    assert answer.status_code == 200
    assert [(i["source"], i["translation"], i["version"], i["verdict"]) for i in answer.json["items"]] == \
        [("source 0", "Quelle 0", "en-de-1", None), ("source 1", "Quelle 1", "en-de-1", None)]
    assert answer.json["progress"] == {"reviewed": 0, "total": 5, "today": 0}
    after = answer.json["items"][-1]["id"]
    rest = client.get(f"/v1/review/queue?after={after}", headers=headers["alice"]).json["items"]
    assert [i["source"] for i in rest] == ["source 2", "source 3", "source 4"]


@pytest.mark.parametrize("query,message", [
    ("limit=abc", "query parameter 'limit' must be a whole number, not 'abc'"),
    ("limit=0", "query parameter 'limit' must be between 1 and 200, not 0"),
    ("limit=201", "query parameter 'limit' must be between 1 and 200, not 201"),
    ("after=-1", "query parameter 'after' must be between 0 and"),
])
def test_bad_queue_queries_are_named(server, query, message):
    client, headers, _ = server
    answer = client.get(f"/v1/review/queue?{query}", headers=headers["alice"])
    assert answer.status_code == 400 and answer.json["error"]["message"].startswith(message)


@pytest.mark.parametrize("body,content_type,status,message", [
    ("{oops", "application/json", 400, "the request body is not valid JSON"),
    (b"{\"verdict\": \"\xff\"}", "application/json", 400, "the request body is not valid UTF-8 (byte 13)"),
    ("[1]", "application/json", 400, "the request body must be a JSON object"),
    ("null", "application/json", 400, "the request body must be a JSON object"),
    ("[" * 100_000, "application/json", 400, "nested too deeply"),
    ({}, "application/json", 400, "field 'verdict' must be one of good, edit, bad"),
    ({"verdict": "fine"}, "application/json", 400, "field 'verdict' must be one of good, edit, bad, not 'fine'"),
    ({"verdict": 1}, "application/json", 400, "field 'verdict' must be one of good, edit, bad, not 1"),
    ({"verdict": ["good"]}, "application/json", 400, "field 'verdict' must be one of good, edit, bad, not ['good']"),
    ({"verdict": "edit"}, "application/json", 400, "the verdict 'edit' needs field 'correction'"),
    ({"verdict": "edit", "correction": 5}, "application/json", 400, "the verdict 'edit' needs field 'correction'"),
    ({"verdict": "edit", "correction": " \n"}, "application/json", 400, "field 'correction' is blank"),
    ({"verdict": "good", "correction": "x"}, "application/json", 400,
     "field 'correction' goes with the verdict 'edit' only, not 'good'"),
    ({"verdict": "good", "note": "x"}, "application/json", 400, "unknown field 'note'"),
    ('{"verdict": "edit", "correction": "a\\ud800"}', "application/json", 400,
     "correction[0] is not valid Unicode text: a lone surrogate"),
    ({"verdict": "edit", "correction": "x" * 101}, "application/json", 413,
     "correction[0]: 101 characters; at most 100"),
    ("verdict=good", "application/x-www-form-urlencoded", 415, "expected Content-Type application/json"),
])
def test_every_malformed_review_is_a_json_error_naming_the_problem(server, body, content_type, status, message):
    client, headers, db = server
    item_id = db.queue(1)[0].id
    answer = _save(client, headers["alice"], item_id, body, content_type)
    assert answer.status_code == status
    assert message in answer.json["error"]["message"], answer.json
    assert db.reviews() == []


def test_an_unknown_item_is_a_404(server):
    client, headers, db = server
    answer = _save(client, headers["alice"], 999, {"verdict": "good"})
    assert answer.status_code == 404 and "no review item 999" in answer.json["error"]["message"]
    assert client.post("/v1/review/items/x", headers=headers["alice"]).status_code == 404


def test_rate_edit_undo_and_progress(server):
    client, headers, db = server
    first, second, third = (item.id for item in db.queue(3))
    good = _save(client, headers["alice"], first, {"verdict": "good"})
    assert good.status_code == 200 and good.json["item"]["verdict"] == "good"
    edit = _save(client, headers["alice"], second, {"verdict": "edit", "correction": "Zweite Quelle"})
    assert (edit.json["item"]["correction"], edit.json["item"]["reviewer"]) == ("Zweite Quelle", "alice")
    bad = _save(client, headers["bob"], third, {"verdict": "bad"})
    assert bad.json["progress"] == {"reviewed": 3, "total": 5, "today": 1}
    queue = client.get("/v1/review/queue", headers=headers["alice"]).json
    assert [i["source"] for i in queue["items"]] == ["source 3", "source 4"]
    assert queue["progress"] == {"reviewed": 3, "total": 5, "today": 2}

    undone = client.post("/v1/review/undo", headers=headers["alice"])
    assert undone.status_code == 200
    assert (undone.json["undone"]["item_id"], undone.json["undone"]["verdict"]) == (second, "edit")
    assert undone.json["item"]["verdict"] is None
    assert undone.json["progress"] == {"reviewed": 2, "total": 5, "today": 1}
    assert db.item(third).verdict == "bad" and db.item(first).verdict == "good"
    client.post("/v1/review/undo", headers=headers["alice"])
    nothing = client.post("/v1/review/undo", headers=headers["alice"])
    assert nothing.status_code == 409 and "reviewer 'alice' has no review left to undo" in \
        nothing.json["error"]["message"]


def test_review_db_without_api_keys_is_refused(tmp_path):
    with pytest.raises(S2SError, match="--review-db needs --api-keys: reviewers are known by their keys"):
        ServeConfig(store=tmp_path, review_db=tmp_path / "review.db")


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_a_sample_rate_out_of_range_is_refused(tmp_path, rate):
    with pytest.raises(S2SError, match=rf"--review-sample must be between 0 \(off\) and 1, not {rate}"):
        ServeConfig(store=tmp_path, api_keys=tmp_path / "k.json", review_db=tmp_path / "r.db", review_sample=rate)


def test_sampling_without_a_review_db_is_refused(tmp_path):
    with pytest.raises(S2SError, match="--review-sample needs --review-db"):
        ServeConfig(store=tmp_path, review_sample=0.5)


def test_without_review_db_there_are_no_review_routes(tmp_path):
    client = create_app(ServeConfig(store=tmp_path)).test_client()
    assert client.get("/review").status_code == 404
    assert client.get("/v1/review/queue").status_code == 404


review_bodies = st.one_of(
    bodies,
    st.fixed_dictionaries({"verdict": json_values | st.sampled_from(["good", "edit", "bad"])},
                          optional={"correction": json_values | st.text(max_size=300)}).map(
        lambda body: json.dumps(body).encode()),
)


@settings(max_examples=300, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(route=st.sampled_from(["/v1/review/items/1", "/v1/review/items/999", "/v1/review/items/x", "/v1/review/undo"]),
       content_type=st.sampled_from(CONTENT_TYPES), body=review_bodies,
       query=st.dictionaries(st.sampled_from(["limit", "after", "x"]), st.text(max_size=12), max_size=2))
def test_fuzzed_review_requests_get_a_2xx_or_a_json_4xx(shared_server, route, content_type, body, query):
    """The review routes under the same fuzzing as /v1/translate (tests/serve/test_fuzz.py)."""
    client, headers, _ = shared_server
    answers = [client.post(route, data=body, content_type=content_type, headers=headers["alice"]),
               client.get("/v1/review/queue", query_string=query, headers=headers["alice"])]
    for response in answers:
        assert response.status_code < 500, (route, content_type, body[:200], response.get_data()[:300])
        if response.status_code >= 400:
            error = response.get_json()["error"]
            assert error["code"] == response.status_code and error["message"].strip()

