"""The Flask app: this project's /v1 API, SageMaker's /ping, /invocations and
/execution-parameters, and /healthz, /readyz and /metrics for operators."""
import json
import logging
import os
import time
from dataclasses import replace

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from data_prep.errors import S2SError
from documents.formats import translated_name
from seq2seq.engines.translator import DecodeOptions
from seq2seq.versions.decoding import beam_for, options_record
from seq2seq.versions.glossaries import GlossaryNotFound
from seq2seq.versions.version import VersionNotFound
from serve import amazon_api, libretranslate_api, observability
from serve.auth import RateLimiter, read_key_file, sigv4_keys
from serve.batcher import QueueFull
from serve.cache import LruCache
from serve.config import MIB, ServeConfig
from serve.downloads import Downloads
from serve.page import page
from serve.registry import Registry
from serve.request_checks import (ApiError, check_texts, json_body, optional_field, parse_json, require_key,
                                  serve_config, text_body)
from serve.review_routes import register_review
from serve.served_version import ServedVersion, TranslationTimeout
from serve.terminology import GlossaryCache, glossary_pair, term_request
from serve.translating import registry, resolve, translate_file, translate_markup
from serve.translating import translate as translate_texts

logger = logging.getLogger(__name__)

api = Blueprint("api", __name__, url_prefix="/v1")
sagemaker = Blueprint("sagemaker", __name__)
operations = Blueprint("operations", __name__)

JSONLINES = ("application/jsonlines", "application/x-jsonlines")
# Seconds a client is told to wait when the server is overloaded.
RETRY_AFTER_S = 1


def _options(body: dict, served: ServedVersion) -> tuple[DecodeOptions, bool]:
    """The version's decoding options with a request's beam size and alternatives, checked against the
    server's bounds; and whether to return scores."""
    max_beam = serve_config().max_beam_size
    alternatives = optional_field(body, "alternatives", int, 0)
    beam_size = optional_field(body, "beam_size", int, min(beam_for(served.options, alternatives), max_beam))
    if not 1 <= beam_size <= max_beam:
        raise ApiError(400, f"field 'beam_size' must be between 1 and {max_beam}, not {beam_size}")
    if not 0 <= alternatives < beam_size:
        raise ApiError(400, f"field 'alternatives' must be between 0 and beam_size - 1 ({beam_size - 1}), "
                            f"not {alternatives}")
    options = replace(served.options, beam_size=beam_size, nbest=alternatives + 1)
    return options, optional_field(body, "scores", bool, False)


def _terms_answer(terms) -> list[dict]:
    return [{"source": term.source, "target": term.target} for term in terms]


def _own_format(body: dict, pair_required: bool):
    """This project's request: {"q": text or [texts], "source", "target", "version", "beam_size",
    "alternatives", "scores", "glossary", "terminology"}; answered with translations, the version and its
    BLEU, and with a glossary, the terms applied and missed in each text."""
    q = body.get("q")
    if q is None:
        raise ApiError(400, "missing field 'q': the text, or a list of texts, to translate")
    texts = check_texts([q] if isinstance(q, str) else q if isinstance(q, list) else [None], "q")
    version_id = optional_field(body, "version", str, None)
    source, target = optional_field(body, "source", str, None), optional_field(body, "target", str, None)
    for field, value in (("source", source), ("target", target)):
        if (pair_required or source or target) and not value:
            raise ApiError(400, f"missing field '{field}': the {field} language code, e.g. \"en\"")
    served = resolve(source, target, version_id)
    options, with_scores = _options(body, served)
    terms = term_request(body, serve_config().max_glossary_entries)
    text_format = optional_field(body, "format", str, "text")
    if text_format == "html":
        if options.nbest > 1 or with_scores:
            raise ApiError(400, "'alternatives' and 'scores' come with \"format\": \"text\", not html")
        # Markup kept, and a glossary applied inside it; the terms applied are not listed for html.
        return jsonify(translations=translate_markup(texts, served, options, terms), version=served.version.id,
                       bleu=served.version.bleu)
    if text_format != "text":
        raise ApiError(400, f"field 'format' must be \"text\" or \"html\", not {text_format!r}; documents go to "
                            f"/v1/documents")
    results = translate_texts(texts, served, options, terms)
    answer = {"translations": [r.translation for r in results], "version": served.version.id,
              "bleu": served.version.bleu}
    if options.nbest > 1:
        answer["alternatives"] = [r.alternatives for r in results]
    if with_scores:
        answer["scores"] = [r.score for r in results]
    if terms is not None:
        answer["applied_terms"] = [_terms_answer(r.applied) for r in results]
        answer["missed_terms"] = [_terms_answer(r.missed) for r in results]
    return jsonify(answer)


api.before_request(require_key)


@api.post("/translate")
def translate():
    return _own_format(json_body(), pair_required=True)


@api.post("/documents")
def documents():
    """A document in, the document translated out, in its format: multipart/form-data with a `file` and the
    fields `source`, `target` (and `version`, `terminology`); or the file as the body, the fields in the
    query string with its `name`."""
    upload = request.files.get("file")
    fields = request.form if upload is not None else request.args
    if upload is not None:
        data, name = upload.read(), upload.filename or "document"
    elif request.mimetype == "multipart/form-data":
        raise ApiError(400, "missing field 'file': the document to translate")
    else:
        data, name = request.get_data(), fields.get("name") or "document"
    for field in ("source", "target"):
        if not fields.get(field):
            raise ApiError(400, f"missing field '{field}': the {field} language code, e.g. \"en\"")
    served = resolve(fields["source"], fields["target"], fields.get("version") or None)
    terms = term_request({"terminology": fields["terminology"]}, serve_config().max_glossary_entries) \
        if fields.get("terminology") else None
    out, fmt = translate_file(data, name, served, terms=terms)
    response = Response(out, content_type=fmt.content_type)
    response.headers["Content-Disposition"] = \
        f'attachment; filename="{translated_name(name, fmt, served.version.pair[1])}"'
    response.headers["X-S2S-Version"] = served.version.id
    return response


@api.get("/glossaries/<name>.csv")
def glossary_csv(name: str):
    """A glossary as a CSV term file (Amazon Translate's GetTerminology points here)."""
    try:
        text = registry().glossary_store.export_csv(name)
    except GlossaryNotFound as e:
        raise ApiError(404, str(e)) from None
    return Response(text, mimetype="text/csv")


@api.get("/models")
def models():
    store = registry()
    snapshot = store.snapshot
    defaults = {"-".join(pair): v.id for pair, v in snapshot.defaults().items()}
    engines = store.engines
    glossaries = store.glossaries
    pairs = sorted({v.pair for v in snapshot.versions})
    return jsonify(
        models=[{"id": v.id, "source": v.pair[0], "target": v.pair[1], "bleu": v.bleu,
                 "chrf": v.info["test"]["chrf"], "scores": v.scores, "test_set": v.info["test"]["name"],
                 "review_bleu": v.review_bleu, "terms": v.terms,
                 "decoding": {"options": options_record(v.decoding),
                              **{key: value for key, value in v.info.get("decoding", {}).items()
                                 if key in ("mode", "dev", "why")}},
                 "created": v.info["created"], "default": defaults.get("-".join(v.pair)) == v.id,
                 "loaded": v.id in engines, **({"engine": engines[v.id]} if v.id in engines else {})}
                for v in snapshot.versions],
        defaults=defaults, refused=store.refused,
        # Each glossary with the served language pairs it applies to (its own, or theirs but for regions).
        glossaries=[{"name": gl.name, "languages": list(gl.languages), "directionality": gl.directionality,
                     "entry_count": gl.entry_count, "sha256": gl.sha256, "imported": gl.imported,
                     "pairs": ["-".join(pair) for pair in pairs if glossary_pair(gl, pair)]}
                    for gl in glossaries.served.values()],
        refused_glossaries=glossaries.problems)


@sagemaker.get("/ping")
def ping():
    return readyz()


@sagemaker.get("/execution-parameters")
def execution_parameters():
    """What SageMaker batch transform should send: several records per request, within our limits."""
    config = serve_config()
    return jsonify(MaxConcurrentTransforms=current_app.extensions["s2s.workers"], BatchStrategy="MULTI_RECORD",
                   MaxPayloadInMB=max(1, config.max_payload_bytes // MIB))


@sagemaker.post("/invocations")
def invocations():
    """SageMaker's requests, by content type:
    - application/json: {"instances": [{"data": text}]} -> {"predictions": [{"target": text}]}
      (the built-in seq2seq algorithm's format), or this project's {"q": ...} request;
    - text/plain: one sentence per line -> one translation per line;
    - application/jsonlines: one {"source": text} per line -> one {"target": text} per line."""
    mimetype = request.mimetype
    if mimetype == "application/json":
        body = json_body()
        if "q" in body:
            return _own_format(body, pair_required=False)
        instances = body.get("instances")
        if not isinstance(instances, list):
            raise ApiError(400, "missing field 'instances': expected {\"instances\": [{\"data\": \"text\"}, ...]}, "
                                "or this project's {\"q\": ...}")
        for i, instance in enumerate(instances):
            if not isinstance(instance, dict) or "data" not in instance:
                raise ApiError(400, f"instances[{i}] must be an object with a 'data' field")
        results = translate_texts(check_texts([instance["data"] for instance in instances], "instances[].data"),
                             resolve(None, None, None))
        return jsonify(predictions=[{"target": r.translation} for r in results])
    if mimetype == "text/plain":
        lines = text_body().split("\n")
        if lines[-1] == "":
            lines.pop()
        results = translate_texts(check_texts([line.removesuffix("\r") for line in lines], "lines"),
                             resolve(None, None, None))
        return Response("".join(r.translation + "\n" for r in results), mimetype="text/plain")
    if mimetype in JSONLINES:
        texts = []
        for number, line in enumerate(text_body().splitlines(), 1):
            if not line.strip():
                continue
            record = parse_json(line, f"line {number}")
            if not isinstance(record, dict) or not isinstance(record.get("source"), str):
                raise ApiError(400, f"line {number} must be an object with a string 'source' field")
            texts.append(record["source"])
        results = translate_texts(check_texts(texts, "lines"), resolve(None, None, None))
        return Response("".join(json.dumps({"target": r.translation}, ensure_ascii=False) + "\n" for r in results),
                        mimetype=mimetype)
    raise ApiError(415, f"unsupported Content-Type {request.content_type or 'none'}; send application/json, "
                        f"text/plain or application/jsonlines")


@operations.get("/healthz")
def healthz():
    # Which worker process answered: operators (and the tests) can tell a replaced worker by it.
    return jsonify(status="alive", pid=os.getpid())


@operations.get("/readyz")
def readyz():
    loaded = registry().loaded
    if not loaded:
        return jsonify(status="no model loaded"), 503
    return jsonify(status="ok", loaded=loaded)


@operations.get("/metrics")
def metrics():
    body, content_type = observability.exposition()
    return Response(body, content_type=content_type)


def _error(status: int, message: str, retry_after: int | None = None):
    """An error in the shape of the API the request was for."""
    if libretranslate_api.is_libretranslate_path(request.path):
        return libretranslate_api.error(status, message, retry_after)
    if amazon_api.is_amazon_request():
        return amazon_api.error(status, message, retry_after)
    response = jsonify(error={"code": status, "message": message})
    response.status_code = status
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _register_errors(app: Flask, config: ServeConfig) -> None:
    @app.errorhandler(ApiError)
    def api_error(e: ApiError):
        return _error(e.status, str(e), e.retry_after)

    @app.errorhandler(VersionNotFound)
    def not_found(e: VersionNotFound):
        return _error(404, str(e))

    @app.errorhandler(QueueFull)
    def overloaded(e: QueueFull):
        return _error(503, f"{e}; retry after {RETRY_AFTER_S} s", RETRY_AFTER_S)

    @app.errorhandler(TranslationTimeout)
    def timed_out(e: TranslationTimeout):
        return _error(503, str(e), RETRY_AFTER_S)

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


def _register_observability(app: Flask) -> None:
    @app.before_request
    def start_clock():
        g.started = time.perf_counter()

    @app.after_request
    def record(response: Response):
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        route = request.url_rule.rule if request.url_rule else "unmatched"
        version = g.get("version", "")
        observability.REQUESTS.labels(route, str(response.status_code), version).inc()
        observability.LATENCY.labels(route).observe(seconds)
        observability.log_access(method=request.method, path=request.path, status=response.status_code,
                                 ms=round(seconds * 1000, 2), version=version or None, items=g.get("items"),
                                 bytes_in=request.content_length, key=g.get("key"),
                                 remote=request.remote_addr)
        return response


def create_app(config: ServeConfig, workers: int = 1) -> Flask:
    """`workers` is the number of processes serving, for /execution-parameters."""
    # No app-wide /static: serve/static holds the pages' files, and each page's blueprint serves them only
    # while that page is on.
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = config.max_payload_bytes
    app.extensions["s2s.config"] = config
    keys = read_key_file(config.api_keys) if config.api_keys else None
    # Bearer keys by hash (/v1, LibreTranslate's API), SigV4 keys by access key id (Amazon Translate's).
    app.extensions["s2s.keys"] = {key.sha256: key for key in keys if key.sha256} if keys is not None else None
    app.extensions["s2s.sigv4_keys"] = sigv4_keys(keys or [])
    app.extensions["s2s.limiter"] = RateLimiter()
    app.extensions["s2s.cache"] = LruCache(config.cache_size)
    app.extensions["s2s.glossaries"] = GlossaryCache()
    app.extensions["s2s.workers"] = workers
    app.extensions["s2s.downloads"] = Downloads(config.files_dir, config.files_keep_s)
    app.extensions["s2s.registry"] = Registry(config)
    for blueprint in (api, sagemaker, operations, libretranslate_api.libretranslate, amazon_api.amazon):
        app.register_blueprint(blueprint)
    if config.page:
        app.register_blueprint(page)
    register_review(app, config)
    _register_errors(app, config)
    _register_observability(app)
    return app
