"""What every route does with a request before translating it: read its body as UTF-8 JSON, check its
texts and fields against the server's limits, and check its API key. ApiError is the answer to a bad one."""
import json

from flask import current_app, g, request

from serve.auth import ApiKey, key_hash
from serve.config import ServeConfig


class ApiError(Exception):
    def __init__(self, status: int, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def serve_config() -> ServeConfig:
    return current_app.extensions["s2s.config"]


def json_body() -> dict:
    if not request.is_json:
        raise ApiError(415, f"expected Content-Type application/json, got {request.content_type or 'none'}")
    body = parse_json(text_body(), "the request body")
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return body


def text_body() -> str:
    """The body as text: UTF-8, whatever charset the client names (JSON is UTF-8 by definition)."""
    data = request.get_data()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ApiError(400, f"the request body is not valid UTF-8 (byte {e.start})") from None


def parse_json(text: str, where: str):
    try:
        return json.loads(text)
    except RecursionError:
        raise ApiError(400, f"{where} is nested too deeply to be read") from None
    except ValueError as e:
        raise ApiError(400, f"{where} is not valid JSON ({e})") from None


def check_texts(texts: list, field: str) -> list[str]:
    config = serve_config()
    if len(texts) > config.max_items:
        raise ApiError(413, f"{field}: {len(texts)} items; at most {config.max_items} per request")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ApiError(400, f"{field}[{i}] must be a string")
        if len(text) > config.max_item_chars:
            raise ApiError(413, f"{field}[{i}]: {len(text)} characters; at most {config.max_item_chars}")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            # JSON's \ud800 escapes can spell half a character, which is no text at all.
            raise ApiError(400, f"{field}[{i}] is not valid Unicode text: a lone surrogate "
                                f"{text[e.start]!r} at character {e.start}") from None
    return texts


def optional_field(body: dict, field: str, kind: type, default):
    # null reads as absent, as JSON APIs conventionally take it.
    value = default if body.get(field) is None else body[field]
    # bool is an int to Python, but `"beam_size": true` is a client bug worth naming.
    if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
        raise ApiError(400, f"field '{field}' must be {'a string' if kind is str else 'an integer' if kind is int else 'true or false'}")
    return value


def keys_required() -> bool:
    return current_app.extensions["s2s.keys"] is not None


def find_key(given: str) -> ApiKey | None:
    """The bearer key `given` is, if any."""
    return current_app.extensions["s2s.keys"].get(key_hash(given))


def admit(key: ApiKey) -> None:
    """Counts a request against the key's rate limit: ApiError 429 past it."""
    g.key = key.name
    wait = current_app.extensions["s2s.limiter"].retry_after(key)
    if wait:
        raise ApiError(429, f"rate limit of {key.per_minute} requests per minute exceeded for key {key.name!r}",
                       retry_after=wait)


def require_key():
    if not keys_required():
        return
    auth = request.headers.get("Authorization", "")
    given = auth[len("Bearer "):] if auth.startswith("Bearer ") else request.headers.get("X-API-Key")
    if not given:
        raise ApiError(401, "this server requires an API key: send it as 'Authorization: Bearer KEY' "
                            "or 'X-API-Key: KEY'")
    key = find_key(given)
    if key is None:
        raise ApiError(401, "invalid API key")
    admit(key)
