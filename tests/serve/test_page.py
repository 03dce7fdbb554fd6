"""The translation page through Flask's test client: served with the right types, self-contained, and
off with `--no-page`. tests/browser drives it in a real browser."""
import re
from html.parser import HTMLParser

import pytest

from s2s_cli import build_parser
from serve.app import create_app
from serve.config import ServeConfig

PAGE_FILES = {"/static/base.css": "text/css", "/static/page.css": "text/css", "/static/api.js": "text/javascript",
              "/static/page.js": "text/javascript"}
# Any scheme that would make the browser reach another host.
EXTERNAL = re.compile(r"\b(?:https?|wss?|ftp):|url\(\s*['\"]?//|@import", re.IGNORECASE)


class _References(HTMLParser):
    """Every src and href in a document."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def _references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.urls


@pytest.fixture
def client(tmp_path):
    # An empty store: the page is static, and is served with no model loaded.
    return create_app(ServeConfig(store=tmp_path)).test_client()


def test_the_page_and_its_files_are_served_with_their_content_types(client):
    page = client.get("/")
    assert page.status_code == 200
    assert page.content_type == "text/html; charset=utf-8"
    assert '<html lang="en">' in page.text
    # The page's own files, by relative URLs (so that it also works behind a path prefix), and an inline icon.
    assert sorted(u for u in _references(page.text) if not u.startswith("data:")) == sorted(
        path.lstrip("/") for path in PAGE_FILES)
    for path, mimetype in PAGE_FILES.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.content_type == f"{mimetype}; charset=utf-8", path


def test_nothing_on_the_page_is_loaded_from_elsewhere(client):
    for path in ("/", *PAGE_FILES):
        response = client.get(path)
        assert EXTERNAL.findall(response.text) == [], path
        # The browser is told so too: it refuses anything from another origin.
        assert "default-src 'self'" in response.headers["Content-Security-Policy"], path
    for url in _references(client.get("/").text):
        assert url.startswith("data:") or not re.match(r"[a-z][a-z0-9+.-]*:|//", url, re.IGNORECASE), url


def test_only_the_pages_own_files_are_served(client):
    assert client.get("/static/index.html").status_code == 404
    assert client.get("/static/../page.py").status_code == 404


def test_no_page_leaves_the_api_alone(tmp_path):
    client = create_app(ServeConfig(store=tmp_path, page=False)).test_client()
    for path in ("/", *PAGE_FILES):
        response = client.get(path)
        # POST / is Amazon Translate's API (serve/amazon_api.py), so GET / is a method not allowed there.
        assert response.status_code == (405 if path == "/" else 404), path
        assert response.is_json and "<" not in response.get_data(as_text=True), path
    assert client.get("/v1/models").status_code == 200


@pytest.mark.parametrize("flags,page", [([], True), (["--no-page"], False)])
def test_s2s_serve_no_page_turns_the_page_off(monkeypatch, tmp_path, flags, page):
    import serve.server

    started = []
    monkeypatch.setattr(serve.server, "run_server", lambda config, server: started.append(config))
    args = build_parser().parse_args(["serve", "--store", str(tmp_path), *flags])
    args.func(args)
    (config,) = started
    assert config.page is page
