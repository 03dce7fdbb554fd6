"""Tests in a real browser: Debian's chromium driven by Playwright, against the real server (`s2s serve`
under gunicorn) on the demo store. Without chromium or Playwright they are skipped, with the reason shown."""
import json
import os
from pathlib import Path

import pytest

from tests.serve.test_app import _copy_version
from tests.serve.test_gunicorn import serving

# Debian's package; Playwright's own browser download needs the internet, so it is not used.
CHROMIUM = "/usr/bin/chromium"
PLAYWRIGHT_MISSING = "browser tests need Playwright: `make install-dev` installs it (the dev extra)"
# Small, so that the tests can send a text over the limit; the server under test runs with it.
MAX_ITEM_CHARS = 200
# A copy of the demo's version with a lower test BLEU, so that the picker has a version besides the default.
SECOND_VERSION = "en-de-second"
# Translating on 2 busy cores can take longer than Playwright's 5 s default.
TIMEOUT_MS = 30_000


@pytest.fixture(scope="session")
def browser():
    """A Playwright Browser: headless chromium, shared by every browser test."""
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.skip(PLAYWRIGHT_MISSING)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM}: `make install-dev` installs it when run "
                    f"as root (apt-get install -y chromium)")
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def server(store, tmp_path_factory):
    """`s2s serve` under gunicorn on the demo store plus SECOND_VERSION, with texts limited to MAX_ITEM_CHARS."""
    (original,) = [p for p in store.iterdir() if (p / "version.json").is_file()]
    bleu = json.loads((original / "version.json").read_text())["test"]["bleu"]
    copy = tmp_path_factory.mktemp("page_store")
    _copy_version(original, copy, original.name, bleu)
    _copy_version(original, copy, SECOND_VERSION, round(bleu - 10, 2))
    with serving(copy, "--max-item-chars", str(MAX_ITEM_CHARS)) as running:
        yield running


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where the tests save their screenshots: $S2S_SCREENSHOTS (`docs/screenshots` retakes the README's),
    else a temporary directory, so that a test run leaves the working tree as it was."""
    directory = Path(os.environ["S2S_SCREENSHOTS"]) if os.environ.get("S2S_SCREENSHOTS") \
        else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def tab(browser):
    """A fresh page in its own context (own storage), allowed to use the clipboard."""
    context = browser.new_context(viewport={"width": 800, "height": 720},
                                  permissions=["clipboard-read", "clipboard-write"])
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()
