"""LibreTranslate's API over this server's versions, so that a client written for LibreTranslate
works by changing its URL (docs/libretranslate.md): POST /translate and /detect, GET /languages,
/frontend/settings, /spec and /health, read as LibreTranslate 1.9's libretranslate/app.py reads
them. Fields come from a JSON body when the request says JSON, else from the form body and the
query string together; errors are {"error": message} with its status codes and, where clients
match on them, its messages. An `api_key` is a key of `s2s keys`, with its rate limit.
"""
from dataclasses import replace

from flask import Blueprint, Response, current_app, jsonify, request, send_file

from documents.formats import FORMATS as FILE_FORMATS
from documents.formats import translated_name
from seq2seq.versions.decoding import beam_for
from serve.language_id import UNDETERMINED, identify
from serve.language_names import language_name
from serve.request_checks import ApiError, admit, check_texts, find_key, keys_required, parse_json, serve_config
from serve.request_checks import text_body as read_text_body
from serve.translating import resolve, served_pairs, translate, translate_file, translate_markup

libretranslate = Blueprint("libretranslate", __name__)

# The routes of this API: errors on them, a 404 or 405 among them, take its shape.
PATHS = frozenset(("/translate", "/detect", "/languages", "/frontend/settings", "/spec", "/health",
                   "/translate_file"))


def is_libretranslate_path(path: str) -> bool:
    return path in PATHS or path.startswith("/download_file/")
FORMATS = ("text", "html")


def error(status: int, message: str, retry_after: int | None = None) -> Response:
    # LibreTranslate words a rate limit "Slowdown: ...".
    response = jsonify(error=f"Slowdown: {message}" if status == 429 else message)
    response.status_code = status
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    # A 404 or 405 is answered before any route of the blueprint, whose after_request then never runs.
    return allow_browsers(response)


@libretranslate.after_request
def allow_browsers(response: Response) -> Response:
    """LibreTranslate's CORS headers: its clients include web pages on other origins."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
    response.headers["Access-Control-Allow-Methods"] = "GET, POST"
    return response


def _fields():
    if request.is_json:
        body = parse_json(read_text_body(), "the request body")
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid JSON format")
        return body
    return request.values


def _missing(name: str) -> ApiError:
    return ApiError(400, f"Invalid request: missing {name} parameter")


def _check_key(fields) -> None:
    if not keys_required():
        return
    given = fields.get("api_key")
    if not given:
        raise ApiError(400, "Please contact the server operator to get an API key: this server requires one, "
                            "sent as the api_key field")
    key = find_key(given) if isinstance(given, str) else None
    if key is None:
        raise ApiError(403, "Invalid API key")
    admit(key)


def _string(fields, name: str) -> str:
    value = fields.get(name)
    if not value:
        raise _missing(name)
    if not isinstance(value, str):
        raise ApiError(400, f"Invalid request: {name} parameter must be a string")
    return value.strip()


def _texts(fields) -> tuple[list[str], bool]:
    """The texts of `q` (a string, or a list of strings in a JSON body) and whether it was a list, checked
    against the server's limits with LibreTranslate's message."""
    q = fields.get("q")
    if not q:
        raise _missing("q")
    batch = isinstance(q, list)
    texts = q if batch else [q]
    if not request.is_json and isinstance(q, str):
        # As LibreTranslate does: a form's CRLF line ends become LF before the limits count them.
        texts = ["\n".join(q.splitlines())]
    config = serve_config()
    for size, limit in [(len(texts), config.max_items)] + [(len(t), config.max_item_chars)
                                                           for t in texts if isinstance(t, str)]:
        if size > limit:
            raise ApiError(400, f"Invalid request: request ({size}) exceeds text limit ({limit})")
    return check_texts(texts, "q"), batch


def _alternatives(fields) -> int:
    try:
        return max(0, int(fields.get("alternatives") or 0))
    except (TypeError, ValueError, OverflowError):
        raise ApiError(400, "Invalid request: alternatives parameter is not a number") from None


def _languages() -> dict[str, list[str]]:
    """Each language the store translates from or into, with the targets it translates into."""
    languages: dict[str, list[str]] = {}
    for source, target in served_pairs():
        languages.setdefault(source, []).append(target)
        languages.setdefault(target, [])
    return languages


def _check_pair(languages: dict[str, list[str]], source: str, target: str) -> None:
    for code in (source, target):
        if code not in languages:
            raise ApiError(400, f"{code} is not supported")
    if target not in languages[source]:
        raise ApiError(400, f"{language_name(target)} ({target}) is not available as a target language from "
                            f"{language_name(source)} ({source})")


def _detect(texts: list[str], sources: list[str]):
    # One language for the whole request, as LibreTranslate detects it: its answer names one source.
    return identify(" ".join(texts), sources)


@libretranslate.post("/translate")
def translate_route():
    fields = _fields()
    _check_key(fields)
    texts, batch = _texts(fields)
    source, target = _string(fields, "source"), _string(fields, "target")
    alternatives = _alternatives(fields)
    text_format = fields.get("format") or "text"
    if text_format not in FORMATS:
        raise ApiError(400, f"{text_format} format is not supported")
    languages = _languages()
    detected = None
    if source == "auto":
        sources = [s for s, targets in languages.items() if target in targets]
        if not sources:
            raise ApiError(400, f"{target} is not supported")
        detected = _detect(texts, sources)
        if detected.language == UNDETERMINED:
            # No letters to translate (emoji, digits): LibreTranslate sends such text back as it came.
            found = {"confidence": 0.0, "language": UNDETERMINED}
            return jsonify(translatedText=texts if batch else texts[0],
                           detectedLanguage=[found] * len(texts) if batch else found)
        source = detected.language
    _check_pair(languages, source, target)
    served = resolve(source, target)
    max_beam = serve_config().max_beam_size
    if beam_for(served.options, alternatives) > max_beam:
        raise ApiError(400, f"Invalid request: alternatives parameter must be <= {max_beam - 1}")
    if text_format == "html":
        # LibreTranslate gives no alternatives for html either.
        translations = translate_markup(texts, served)
        answer = {"translatedText": translations if batch else translations[0]}
        if detected is not None:
            found = {"confidence": round(detected.confidence * 100, 1), "language": detected.language}
            answer["detectedLanguage"] = [found] * len(texts) if batch else found
        if alternatives:
            answer["alternatives"] = [[] for _ in texts] if batch else []
        return jsonify(answer)
    results = translate(texts, served, replace(served.options, beam_size=beam_for(served.options, alternatives),
                                               nbest=alternatives + 1))
    answer = {"translatedText": [r.translation for r in results] if batch else results[0].translation}
    if detected is not None:
        found = {"confidence": round(detected.confidence * 100, 1), "language": detected.language}
        answer["detectedLanguage"] = [found] * len(texts) if batch else found
    if alternatives:
        # LibreTranslate's: distinct, and never the translation itself.
        unique = [[a for i, a in enumerate(r.alternatives) if a != r.translation and a not in r.alternatives[:i]]
                  for r in results]
        answer["alternatives"] = unique if batch else unique[0]
    return jsonify(answer)


@libretranslate.post("/detect")
def detect():
    fields = _fields()
    _check_key(fields)
    texts, _ = _texts(fields)
    sources = sorted({source for source, _ in served_pairs()})
    if not sources:
        raise ApiError(400, "no language can be detected: this server serves no model yet")
    found = _detect(texts, sources)
    return jsonify([{"confidence": round(found.confidence * 100, 1), "language": found.language}])


@libretranslate.get("/languages")
def languages():
    return jsonify([{"code": code, "name": language_name(code), "targets": targets}
                    for code, targets in _languages().items()])


@libretranslate.get("/frontend/settings")
def frontend_settings():
    pairs = served_pairs()
    source, target = pairs[0] if pairs else ("en", "en")
    return jsonify(charLimit=serve_config().max_item_chars, frontendTimeout=500, apiKeys=keys_required(),
                   keyRequired=keys_required(), suggestions=False, filesTranslation=True,
                   supportedFilesFormat=sorted(e for f in FILE_FORMATS.values() for e in f.extensions),
                   language={"source": {"code": source, "name": language_name(source)},
                             "target": {"code": target, "name": language_name(target)}})


@libretranslate.get("/health")
def health():
    return jsonify(status="ok")


@libretranslate.post("/translate_file")
def translate_file_route():
    """A file (multipart `file`), translated and kept for download: the answer is its URL."""
    fields = request.form
    _check_key(fields)
    upload = request.files.get("file")
    if upload is None:
        raise _missing("file")
    source, target = _string(fields, "source"), _string(fields, "target")
    data = upload.read()
    if not data:
        raise ApiError(400, "Invalid request: empty file")
    name = upload.filename or "document"
    languages = _languages()
    if source == "auto":
        raise ApiError(400, "Invalid request: give the file's source language; auto is for /translate")
    _check_pair(languages, source, target)
    out, fmt = translate_file(data, name, resolve(source, target))
    kept = current_app.extensions["s2s.downloads"].put(out, translated_name(name, fmt, target))
    return jsonify(translatedFileUrl=f"{request.host_url}download_file/{kept}")


@libretranslate.get("/download_file/<name>")
def download_file(name: str):
    path = current_app.extensions["s2s.downloads"].get(name)
    if path is None:
        raise ApiError(404, "Invalid filename: no such file, or it has expired")
    return send_file(path, as_attachment=True, download_name=name.split(".", 1)[1])


def _operation(summary: str, parameters: list[tuple[str, str, bool]], answer: str) -> dict:
    return {"summary": summary, "consumes": ["application/json", "application/x-www-form-urlencoded"],
            "parameters": [{"name": name, "in": "formData", "type": "string", "required": required,
                            "description": description} for name, description, required in parameters],
            "responses": {"200": {"description": answer},
                          "400": {"description": "Invalid request: {\"error\": message}"},
                          "403": {"description": "Invalid API key"},
                          "429": {"description": "Slowdown: the key's rate limit"}}}


KEY = ("api_key", "an API key of `s2s keys`, when the server requires one", False)


@libretranslate.get("/spec")
def spec():
    """A Swagger 2.0 description of the routes above, the form LibreTranslate's /spec takes."""
    return jsonify({
        "swagger": "2.0", "info": {"title": "s2s: LibreTranslate-compatible API", "version": "1"},
        "paths": {
            "/translate": {"post": _operation("Translate text", [
                ("q", "the text, or in a JSON body a list of texts", True),
                ("source", "the source language code, or auto", True), ("target", "the target language code", True),
                ("format", "text", False), ("alternatives", "how many alternative translations", False), KEY],
                '{"translatedText": ..., "detectedLanguage": ..., "alternatives": [...]}')},
            "/detect": {"post": _operation("Detect the language of a text", [("q", "the text", True), KEY],
                                           '[{"confidence": 0-100, "language": code}]')},
            "/languages": {"get": {"summary": "The languages served, each with its targets",
                                   "responses": {"200": {"description": '[{"code", "name", "targets"}]'}}}},
            "/frontend/settings": {"get": {"summary": "The limits and defaults a front end needs",
                                           "responses": {"200": {"description": "settings"}}}},
            "/health": {"get": {"summary": "Health check", "responses": {"200": {"description": '{"status": "ok"}'}}}},
        }})
