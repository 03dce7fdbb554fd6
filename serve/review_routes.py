"""The review page at /review and its API under /v1/review, on with `s2s serve --review-db`.

The page is static and open, like the translation page; everything it reads or writes goes
through /v1/review/*, which takes API keys with the reviewer role only: no key is a 401,
another role's key a 403. Reviewers are known by their key's name.
"""
import dataclasses
import logging
from functools import partial

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request, send_from_directory

from review.db import VERDICTS, Item, ReviewDb, UnknownItem
from review.sample import SampleConfig, Sampler
from serve.auth import ApiKey
from serve.config import ServeConfig
from serve.page import CONTENT_SECURITY_POLICY, STATIC, send_asset
from serve.request_checks import ApiError, check_texts, json_body, require_key

logger = logging.getLogger(__name__)

review = Blueprint("review", __name__)

REVIEWER = "reviewer"
QUEUE_LIMIT, MAX_QUEUE_LIMIT = 20, 200
_OPEN = ("review.page", "review.asset")


def _db() -> ReviewDb:
    return current_app.extensions["s2s.review_db"]


def _reviewer() -> str:
    return g.key


@review.before_request
def require_reviewer():
    if request.endpoint in _OPEN:
        return
    require_key()  # 401 without a valid key, 429 over its rate
    keys: dict[str, ApiKey] = current_app.extensions["s2s.keys"]
    key = next(k for k in keys.values() if k.name == g.key)
    if key.role != REVIEWER:
        raise ApiError(403, f"API key {key.name!r} has the role {key.role!r}; reviewing needs a key with the "
                            f"role {REVIEWER!r} (s2s keys add NAME --role {REVIEWER})")


@review.after_request
def restrict_origins(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


@review.get("/review")
def page():
    return send_from_directory(STATIC, "review.html")


@review.get("/static/<any('base.css', 'review.css', 'api.js', 'review.js'):name>")
def asset(name: str):
    return send_asset(name)


def _item(item: Item) -> dict:
    return dataclasses.asdict(item)


def _progress() -> dict:
    return dataclasses.asdict(_db().progress(_reviewer()))


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    value = request.args.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ApiError(400, f"query parameter '{name}' must be a whole number, not {value!r}") from None
    if not low <= number <= high:
        raise ApiError(400, f"query parameter '{name}' must be between {low} and {high}, not {number}")
    return number


@review.get("/v1/review/queue")
def queue():
    """Items with no verdict yet, oldest first, after item `after`; and the reviewer's progress."""
    limit = _int_arg("limit", QUEUE_LIMIT, 1, MAX_QUEUE_LIMIT)
    after = _int_arg("after", 0, 0, 2 ** 63 - 1)
    return jsonify(items=[_item(i) for i in _db().queue(limit, after)], progress=_progress())


def _verdict(body: dict) -> tuple[str, str | None]:
    unknown = sorted(set(body) - {"verdict", "correction"})
    if unknown:
        raise ApiError(400, f"unknown field '{unknown[0]}'; a review has 'verdict' and, for 'edit', 'correction'")
    verdict = body.get("verdict")
    if verdict not in VERDICTS:
        raise ApiError(400, f"field 'verdict' must be one of {', '.join(VERDICTS)}"
                            + ("" if verdict is None else f", not {verdict!r}"))
    correction = body.get("correction")
    if verdict != "edit":
        if correction is not None:
            raise ApiError(400, f"field 'correction' goes with the verdict 'edit' only, not {verdict!r}")
        return verdict, None
    if not isinstance(correction, str):
        raise ApiError(400, "the verdict 'edit' needs field 'correction': the corrected translation, a string")
    if not correction.strip():
        raise ApiError(400, "field 'correction' is blank; a blank translation is not a correction")
    return verdict, check_texts([correction], "correction")[0]


@review.post("/v1/review/items/<int:item_id>")
def save(item_id: int):
    """Records the reviewer's verdict on an item: {"verdict": "good" | "edit" | "bad", "correction": "..."}."""
    verdict, correction = _verdict(json_body())
    db = _db()
    try:
        db.save(item_id, _reviewer(), verdict, correction)
    except UnknownItem as e:
        raise ApiError(404, str(e)) from None
    return jsonify(item=_item(db.item(item_id)), progress=_progress())


@review.post("/v1/review/undo")
def undo():
    """Undoes this reviewer's latest review; the item is as it was before it."""
    db = _db()
    undone = db.undo(_reviewer())
    if undone is None:
        raise ApiError(409, f"nothing to undo: reviewer {_reviewer()!r} has no review left to undo")
    return jsonify(undone=dataclasses.asdict(undone), item=_item(db.item(undone.item_id)), progress=_progress())


def _sample(sampler: Sampler, response: Response) -> Response:
    if request.endpoint != "api.translate" or response.status_code != 200:
        return response
    # The request has been answered: nothing here may turn that answer into an error.
    try:
        answer = response.get_json()
        q = request.get_json(silent=True)["q"]
        engine = current_app.extensions["s2s.registry"].engines.get(answer["version"], {}).get("engine", "unknown")
        sampler.offer([q] if isinstance(q, str) else q, answer["translations"], answer["version"], engine)
    except Exception:
        logger.exception("could not sample %s for review", request.path)
    return response


def register_review(app: Flask, config: ServeConfig) -> None:
    """Turns the review page, its API and the sampling of requests on, as `config` asks."""
    if config.review_db is None:
        return
    db = ReviewDb(config.review_db)
    app.extensions["s2s.review_db"] = db
    app.register_blueprint(review)
    if config.review_sample:
        sampler = Sampler(db, SampleConfig(config.review_sample))
        app.extensions["s2s.review_sampler"] = sampler
        app.after_request(partial(_sample, sampler))
