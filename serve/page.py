"""The translation page at `/`: plain HTML, CSS and JS from serve/static, a client of /v1 like any
script. No build step and nothing loaded from elsewhere, so it works offline."""
from pathlib import Path

from flask import Blueprint, Response, send_from_directory

STATIC = Path(__file__).parent / "static"
# This page's files; base.css and api.js are shared with the review page, whose blueprint serves them too.
ASSETS = ("base.css", "page.css", "api.js", "page.js")
# Types named here: Python guesses types from the system's tables, and some (Windows' registry) call
# JavaScript text/plain.
TYPES = {".css": "text/css", ".js": "text/javascript"}

# The browser may load from and connect to this server alone: a stray external reference then fails
# in the browser tests instead of working only while online, or sending a user's text elsewhere.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'none'")

page = Blueprint("page", __name__)


@page.get("/")
def index():
    return send_from_directory(STATIC, "index.html")


# Only this page's files: serve/static also holds other pages', which their own blueprints serve.
@page.get(f"/static/<any({', '.join(ASSETS)}):name>")
def asset(name: str):
    return send_asset(name)


def send_asset(name: str) -> Response:
    """A file of serve/static, with its type."""
    return send_from_directory(STATIC, name, mimetype=TYPES[Path(name).suffix])


@page.after_request
def restrict_origins(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response
