"""`s2s serve --review-sample`: successful /v1/translate texts queued for review, never at a request's expense."""
import json
import time

import pytest

from review.db import ReviewDb
from review.sample import SampleConfig, Sampler
from serve.app import create_app
from serve.auth import add_key
from serve.config import ServeConfig
from tests.review.lock import write_locked

DOG, APPLES = "The small dog sees a red car.", "Today my mother buys three green apples."


def _app(store, tmp_path, rate: float):
    keys = tmp_path / "keys.json"
    key = add_key(keys, "client")
    config = ServeConfig(store=store, api_keys=keys, review_db=tmp_path / "review.db", review_sample=rate)
    app = create_app(config)
    return app, {"Authorization": f"Bearer {key}"}, ReviewDb(config.review_db)


def _translate(client, headers, q):
    return client.post("/v1/translate", data=json.dumps({"q": q, "source": "en", "target": "de"}),
                       content_type="application/json", headers=headers)


def test_rate_one_queues_every_text_of_successful_requests(store, tmp_path):
    app, headers, db = _app(store, tmp_path, 1.0)
    client = app.test_client()
    answer = _translate(client, headers, [DOG, "", APPLES])
    assert answer.status_code == 200
    assert _translate(client, headers, 5).status_code == 400
    app.extensions["s2s.review_sampler"].join()
    items = db.queue(10)
    assert [(i.source, i.translation, i.origin) for i in items] == [
        (DOG, answer.json["translations"][0], "sample"), (APPLES, answer.json["translations"][2], "sample")]
    engine = app.extensions["s2s.registry"].engines[answer.json["version"]]["engine"]
    assert {(i.version, i.engine) for i in items} == {(answer.json["version"], engine)}


def test_rate_zero_queues_nothing(store, tmp_path):
    keys = tmp_path / "keys.json"
    key = add_key(keys, "client")
    app = create_app(ServeConfig(store=store, api_keys=keys, review_db=tmp_path / "review.db"))
    client = app.test_client()
    for _ in range(5):
        assert _translate(client, {"Authorization": f"Bearer {key}"}, [DOG, APPLES]).status_code == 200
    assert "s2s.review_sampler" not in app.extensions
    assert ReviewDb(tmp_path / "review.db").counts() == (0, 0)


@pytest.mark.alone  # the request is answered within 2 s
def test_a_locked_database_neither_fails_nor_delays_a_request(store, tmp_path):
    app, headers, db = _app(store, tmp_path, 1.0)
    client = app.test_client()
    assert _translate(client, headers, "warm-up").status_code == 200
    app.extensions["s2s.review_sampler"].join()
    with write_locked(db.path):
        started = time.monotonic()
        answer = _translate(client, headers, DOG)
        assert answer.status_code == 200 and time.monotonic() - started < 2
    app.extensions["s2s.review_sampler"].join()
    assert DOG in [i.source for i in db.queue(10)]


def test_each_text_is_drawn_on_its_own(tmp_path):
    draws = iter([0.1, 0.7, 0.4, 0.5])
    db = ReviewDb(tmp_path / "review.db")
    sampler = Sampler(db, SampleConfig(rate=0.5), draw=lambda: next(draws))
    sampler.offer(["a", "b", "c", "d"], ["A", "B", "C", "D"], "v1", "sockeye")
    sampler.join()
    assert [(i.source, i.translation) for i in db.queue(10)] == [("a", "A"), ("c", "C")]


def test_past_max_pending_samples_are_dropped_and_logged(tmp_path, caplog):
    db = ReviewDb(tmp_path / "review.db", busy_timeout_s=5)
    with write_locked(db.path):
        sampler = Sampler(db, SampleConfig(rate=1.0, max_pending=2))
        sampler.offer(["a"], ["A"], "v1", "sockeye")
        # The writer has taken "a" and waits on the lock; two more fill the queue, the rest are dropped.
        time.sleep(0.5)
        sampler.offer(["b", "c", "d", "e"], ["B", "C", "D", "E"], "v1", "sockeye")
    sampler.join()
    assert [i.source for i in db.queue(10)] == ["a", "b", "c"]
    assert sum("review sample dropped: 2 items already wait" in r.getMessage() for r in caplog.records) == 2


def test_s2s_serve_review_sample_queues_live_requests(store, tmp_path):
    import requests

    from tests.serve.test_gunicorn import serving

    keys, db_path = tmp_path / "keys.json", tmp_path / "review.db"
    key = add_key(keys, "client")
    with serving(store, "--api-keys", str(keys), "--review-db", str(db_path), "--review-sample", "1") as server:
        answer = requests.post(server.url + "/v1/translate", json={"q": [DOG, APPLES], "source": "en", "target": "de"},
                               headers={"Authorization": f"Bearer {key}"}, timeout=60)
        assert answer.status_code == 200
        # The worker writes samples on its own thread, a moment after the answer.
        deadline = time.monotonic() + 30
        while ReviewDb(db_path).counts()[1] < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    items = ReviewDb(db_path).queue(10)
    assert [(i.source, i.translation, i.origin) for i in items] == [
        (DOG, answer.json()["translations"][0], "sample"), (APPLES, answer.json()["translations"][1], "sample")]
