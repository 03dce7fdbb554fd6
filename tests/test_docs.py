"""The documentation: the site builds with `mkdocs build --strict`, loads nothing from another
host, the README's links lead somewhere, and the architecture picture is the rendering of its
source."""
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
DOT_SOURCE = DOCS / "architecture.dot"
SVG = DOCS / "architecture.svg"

# An address on another host: http(s)://host/... or protocol-relative //host/...
REMOTE = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
# <link rel=...> values that make a browser fetch the target.
LOADING_RELS = {"stylesheet", "icon", "shortcut", "apple-touch-icon", "mask-icon", "manifest",
                "preload", "modulepreload", "prefetch", "preconnect", "dns-prefetch", "prerender"}
# Attributes that make a browser fetch their address, by tag.
LOADING_ATTRS = {"script": ("src",), "img": ("src", "srcset"), "source": ("src", "srcset"),
                 "iframe": ("src",), "embed": ("src",), "object": ("data",), "video": ("src", "poster"),
                 "audio": ("src",), "track": ("src",), "input": ("src",), "image": ("href", "xlink:href"),
                 "use": ("href", "xlink:href")}
CSS_URL = re.compile(r"""url\(\s*['"]?\s*((?:https?:)?//[^'")\s]+)""", re.IGNORECASE)
CSS_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?['"]?\s*((?:https?:)?//[^'")\s;]+)""", re.IGNORECASE)
# In JavaScript: module imports, dynamic imports, importScripts and fetch of an absolute address,
# and any string that is the absolute address of a script, style sheet, font or image, or of a CDN.
JS_LOADS = re.compile(
    r"""(?:\bimport\s*\(\s*|\bimportScripts\s*\(\s*|\bfetch\s*\(\s*|\bfrom\s*|\bimport\s+|\bsrc\s*=\s*)"""
    r"""['"`]((?:https?:)?//[^'"`\s]+)""")
JS_RESOURCE = re.compile(
    r"""['"`]((?:https?:)?//(?:[^'"`\s]+\.(?:m?js|css|woff2?|ttf|otf|eot|png|jpe?g|gif|svg|webp|ico)"""
    r"""|(?:unpkg\.com|cdn\.jsdelivr\.net|cdnjs\.cloudflare\.com|fonts\.googleapis\.com|fonts\.gstatic\.com)"""
    r"""/[^'"`\s]*))['"`]""", re.IGNORECASE)
# Material's bundle holds two loaders that never run on this site, and the test says why: Mermaid.js,
# fetched only for a page with a Mermaid diagram (test_material_cdn_loaders_stay_dormant checks there
# is none), and a ResizeObserver polyfill, fetched only by a browser without ResizeObserver (every
# current browser has had it since 2020). Any other address fails the test.
MATERIAL_DORMANT = re.compile(r"https://unpkg\.com/(?:mermaid@\d+/dist/mermaid\.min\.js|resize-observer-polyfill)")


def css_remote(text: str) -> list[str]:
    """Addresses on another host that CSS loads: url(...) and @import."""
    return CSS_URL.findall(text) + CSS_IMPORT.findall(text)


def js_remote(text: str) -> list[str]:
    """Addresses on another host that JavaScript loads, as far as a pattern can tell."""
    return sorted(set(JS_LOADS.findall(text) + JS_RESOURCE.findall(text) + css_remote(text)))


class _RemoteLoads(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        addresses = [attrs.get(name, "") for name in LOADING_ATTRS.get(tag, ()) if name != "srcset"]
        # srcset: "URL 1x, URL 2x"
        addresses += [candidate.split()[0] for candidate in attrs.get("srcset", "").split(",") if candidate.split()]
        if tag == "link" and LOADING_RELS & set(attrs.get("rel", "").lower().split()):
            addresses.append(attrs.get("href", ""))
        self.found += [f"<{tag}> {address.strip()}" for address in addresses if REMOTE.match(address)]
        self.found += [f"<{tag} style> {url}" for url in css_remote(attrs.get("style", ""))]
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.found += [f"<style> {url}" for url in css_remote(data)]


def html_remote(text: str) -> list[str]:
    """What an HTML page loads from another host; plain <a href> links are not loads."""
    parser = _RemoteLoads()
    parser.feed(text)
    parser.close()
    return parser.found


def remote_loads(site: Path) -> dict[str, list[str]]:
    """Every generated HTML, CSS and JavaScript file that loads something from another host."""
    scanners = {".html": html_remote, ".css": css_remote, ".js": js_remote, ".mjs": js_remote}
    found = {}
    for path in sorted(site.rglob("*")):
        scan = scanners.get(path.suffix)
        if not scan:
            continue
        hits = scan(path.read_text(encoding="utf-8", errors="replace"))
        if path.match("assets/javascripts/bundle.*.js"):
            hits = [hit for hit in hits if not MATERIAL_DORMANT.fullmatch(hit)]
        if hits:
            found[str(path.relative_to(site))] = hits
    return found


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config),
         "--site-dir", str(site)], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    built = mkdocs_build(ROOT / "mkdocs.yml", site)
    assert built.returncode == 0, f"mkdocs build --strict failed:\n{built.stdout}\n{built.stderr}"
    return site


def test_site_builds_strict_with_every_page(site):
    pages = sorted(path.stem for path in DOCS.glob("*.md"))
    assert pages, "docs/ has no pages"
    for page in pages:
        html = site / ("index.html" if page == "index" else f"{page}/index.html")
        assert html.is_file(), f"docs/{page}.md was not built into {html}"
    for image in ("serve.png", "soak.png", "screenshots/page.png", "screenshots/review.png", "architecture.svg"):
        assert (site / image).is_file(), f"docs/{image} is not in the site"


def test_site_loads_nothing_from_another_host(site):
    assert (found := remote_loads(site)) == {}, f"files that load from another host: {found}"
    # The pages do link to other sites in their text, which is fine and must not be counted.
    assert 'href="https://github.com/awslabs/sockeye"' in (site / "index.html").read_text(encoding="utf-8")


def test_material_cdn_loaders_stay_dormant(site):
    """Material fetches Mermaid.js from a CDN for a page with a Mermaid diagram, and a repository's
    facts from api.github.com when mkdocs.yml names a repo_url: neither may happen here."""
    with_diagram = [str(path.relative_to(site)) for path in site.rglob("*.html")
                    if re.search(r"""class=["'][^"']*\bmermaid\b""", path.read_text(encoding="utf-8"))]
    assert with_diagram == [], f"pages that would load Mermaid.js from unpkg.com: {with_diagram}"
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert not re.search(r"^\s*repo_url\s*:", config, re.MULTILINE), \
        "mkdocs.yml names a repo_url, so Material would fetch the repository's facts from api.github.com"


@pytest.mark.parametrize("content, kind", [
    ('<script src="https://cdn.example.com/a.js"></script>', html_remote),
    ('<link rel="stylesheet" href="//fonts.googleapis.com/css?family=Roboto">', html_remote),
    ('<link rel="icon" href="http://example.com/favicon.png">', html_remote),
    ('<link rel="preconnect" href="https://fonts.gstatic.com">', html_remote),
    ('<img src="https://example.com/a.png">', html_remote),
    ('<img srcset="a.png 1x, https://example.com/a@2x.png 2x">', html_remote),
    ('<div style="background: url(https://example.com/a.png)"></div>', html_remote),
    ("<style>@import 'https://example.com/a.css';</style>", html_remote),
    ('body { background: url("https://example.com/a.png") }', css_remote),
    ('@import url(https://fonts.googleapis.com/css?family=Roboto);', css_remote),
    ('import("https://cdn.example.com/m.js")', js_remote),
    ('importScripts("https://cdn.example.com/worker.js")', js_remote),
    ('e.src="https://example.com/tracker"', js_remote),
    ('load("https://cdn.jsdelivr.net/npm/katex")', js_remote),
    ('var font = "https://example.com/font.woff2"', js_remote),
    ('load("https://unpkg.com/mermaid@11/dist/mermaid.min.js")', js_remote),
])
def test_each_kind_of_remote_load_is_caught(content, kind):
    assert kind(content), f"not caught: {content}"


def test_links_and_local_loads_are_not_caught():
    assert html_remote('<a href="https://github.com/awslabs/sockeye">Sockeye</a>'
                       '<link rel="canonical" href="https://example.com/">'
                       '<script src="assets/javascripts/bundle.js"></script><img src="../serve.png">') == []
    assert css_remote('a { background: url("../img/a.png") } b { background: url(data:image/png;base64,AA) }') == []
    assert js_remote('/*! lunr https://lunrjs.com */ var ns = "http://www.w3.org/2000/svg"; load("assets/a.js")') == []


def _copy_docs(tmp_path: Path) -> Path:
    shutil.copytree(DOCS, tmp_path / "docs")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    return tmp_path / "mkdocs.yml"


@pytest.mark.parametrize("page, text, complaint", [
    ("orphan.md", "# A page the navigation leaves out\n", "orphan.md"),
    ("index.md", "\n[a page that is not there](missing.md)\n", "missing.md"),
    ("index.md", "\n[an anchor that is not there](install.md#no-such-section)\n", "no-such-section"),
    ("index.md", "\n![an image that is not there](missing.png)\n", "missing.png"),
])
def test_strict_build_fails_on_a_broken_link_or_a_page_missing_from_nav(tmp_path, page, text, complaint):
    config = _copy_docs(tmp_path)
    with open(tmp_path / "docs" / page, "a", encoding="utf-8") as f:
        f.write(text)
    built = mkdocs_build(config, tmp_path / "site")
    assert built.returncode != 0, f"mkdocs build --strict passed with {text!r} in {page}"
    assert complaint in built.stdout + built.stderr


def test_readme_links_lead_to_files():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    local = [target for target in targets if not REMOTE.match(target) and ":" not in target]
    assert "docs/architecture.svg" in local and "docs/index.md" in local
    missing = [target for target in local if not (ROOT / target).exists()]
    assert missing == [], f"README.md links to files that are not there: {missing}"


def svg_body(svg: str) -> list[str]:
    """An SVG's lines without comments (Graphviz writes its version and the graph's title there)."""
    return [line.rstrip() for line in re.sub(r"<!--.*?-->", "", svg, flags=re.DOTALL).splitlines()
            if line.strip()]


def test_svg_comparison_ignores_comments_only():
    svg = SVG.read_text(encoding="utf-8")
    assert svg_body(svg.replace("graphviz version", "graphviz version 99.0 of")) == svg_body(svg)
    assert svg_body(svg.replace("model store", "model shop")) != svg_body(svg)


def test_architecture_svg_is_the_rendering_of_its_source():
    dot = shutil.which("dot")
    if dot is None:
        pytest.skip("Graphviz's dot is not installed (make graphviz, or apt-get install -y graphviz), "
                    "so docs/architecture.svg cannot be rendered again to compare")
    rendered = subprocess.run([dot, "-Tsvg", str(DOT_SOURCE)], capture_output=True, text=True,
                              check=True, timeout=60).stdout
    assert svg_body(rendered) == svg_body(SVG.read_text(encoding="utf-8")), (
        "docs/architecture.svg is not the rendering of docs/architecture.dot; render it again with "
        "`dot -Tsvg docs/architecture.dot -o docs/architecture.svg` and commit both")
