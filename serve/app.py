"""The Flask app: this project's /v1 API and SageMaker's /ping and /invocations."""
import logging

from flask import Blueprint, Flask, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from data_prep.errors import S2SError
from seq2seq.store import ModelStore, VersionNotFound
from serve.config import ServeConfig
from serve.registry import Registry

logger = logging.getLogger(__name__)

api = Blueprint("api", __name__, url_prefix="/v1")
sagemaker = Blueprint("sagemaker", __name__)


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _registry() -> Registry:
    return current_app.extensions["s2s.registry"]


def _config() -> ServeConfig:
    return current_app.extensions["s2s.config"]


def _json_body() -> dict:
    if not request.is_json:
        raise ApiError(415, f"expected Content-Type application/json, got {request.content_type or 'none'}")
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "the request body is not valid JSON")
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return body


def _check_texts(texts: list, field: str) -> list[str]:
    config = _config()
    if len(texts) > config.max_items:
        raise ApiError(413, f"{field}: {len(texts)} items; at most {config.max_items} per request")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ApiError(400, f"{field}[{i}] must be a string")
        if len(text) > config.max_item_chars:
            raise ApiError(413, f"{field}[{i}]: {len(text)} characters; at most {config.max_item_chars}")
    return texts


def _required_str(body: dict, field: str) -> str:
    value = body.get(field)
    if value is None:
        raise ApiError(400, f"missing field '{field}'")
    if not isinstance(value, str) or not value:
        raise ApiError(400, f"field '{field}' must be a non-empty string")
    return value


@api.post("/translate")
def translate():
    body = _json_body()
    q = body.get("q")
    if q is None:
        raise ApiError(400, "missing field 'q': the text, or a list of texts, to translate")
    texts = _check_texts([q] if isinstance(q, str) else q if isinstance(q, list) else [None], "q")
    version_id = body.get("version")
    if version_id is not None and not isinstance(version_id, str):
        raise ApiError(400, "field 'version' must be a string")
    version = _registry().resolve(_required_str(body, "source"), _required_str(body, "target"), version_id)
    translations = _registry().translator(version).translate(texts)
    return jsonify(translations=translations, version=version.id, bleu=version.bleu)


@api.get("/models")
def models():
    registry = _registry()
    store = registry.store
    defaults = {"-".join(pair): store.default_for(*pair).id for pair in store.pairs()}
    return jsonify(
        models=[{"id": v.id, "source": v.pair[0], "target": v.pair[1], "bleu": v.bleu,
                 "chrf": v.info["test"]["chrf"], "test_set": v.info["test"]["name"],
                 "created": v.info["created"], "default": defaults.get("-".join(v.pair)) == v.id,
                 "loaded": v.id in registry.loaded}
                for v in store.versions()],
        defaults=defaults)


@sagemaker.get("/ping")
def ping():
    loaded = _registry().loaded
    if not loaded:
        return jsonify(status="no model loaded"), 503
    return jsonify(status="ok", loaded=loaded)


@sagemaker.post("/invocations")
def invocations():
    """SageMaker's built-in seq2seq format: {"instances": [{"data": ...}]} -> {"predictions": [{"target": ...}]}."""
    body = _json_body()
    instances = body.get("instances")
    if not isinstance(instances, list):
        raise ApiError(400, "missing field 'instances': expected {\"instances\": [{\"data\": \"text\"}, ...]}")
    for i, instance in enumerate(instances):
        if not isinstance(instance, dict) or "data" not in instance:
            raise ApiError(400, f"instances[{i}] must be an object with a 'data' field")
    texts = _check_texts([instance["data"] for instance in instances], "instances[].data")
    registry = _registry()
    translations = registry.translator(registry.invocations()).translate(texts)
    return jsonify(predictions=[{"target": t} for t in translations])


def _error(status: int, message: str):
    return jsonify(error={"code": status, "message": message}), status


def create_app(config: ServeConfig) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.max_payload_bytes
    registry = Registry(ModelStore(config.store), config.version)
    if config.preload:
        registry.preload()
    app.extensions["s2s.registry"] = registry
    app.extensions["s2s.config"] = config
    app.register_blueprint(api)
    app.register_blueprint(sagemaker)

    @app.errorhandler(ApiError)
    def api_error(e: ApiError):
        return _error(e.status, str(e))

    @app.errorhandler(VersionNotFound)
    def not_found(e: VersionNotFound):
        return _error(404, str(e))

    @app.errorhandler(S2SError)
    def bad_input(e: S2SError):
        return _error(400, str(e))

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        if e.code == 413:
            return _error(413, f"payload larger than {config.max_payload_bytes} bytes")
        return _error(e.code or 500, e.description or e.name)

    @app.errorhandler(Exception)
    def internal_error(e: Exception):
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return _error(500, "internal error; the server log has the details")

    return app
