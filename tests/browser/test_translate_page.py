"""The translation page at `/` in chromium, against the real server: what it shows is what /v1 answers."""
import json

import pytest
import requests

from pipeline.demo import DEMO_SENTENCES
from tests.browser.conftest import MAX_ITEM_CHARS, PLAYWRIGHT_MISSING, SECOND_VERSION
from tests.serve.test_app import DOG, _copy_version
from tests.serve.test_gunicorn import serving

expect = pytest.importorskip("playwright.sync_api", reason=PLAYWRIGHT_MISSING).expect

TEXT = "  ".join(DEMO_SENTENCES)
# The page's own order, which a keyboard user tabs through.
FOCUS_ORDER = ["pair", "version", "glossary", "source", "alternatives", "translate", "target", "copy", "document",
               "translate-document"]


def _api_translate(url: str, key: str | None = None, **body) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return requests.post(url + "/v1/translate", json={"source": "en", "target": "de", **body}, headers=headers,
                         timeout=60)


def _models(url: str, key: str | None = None) -> list[dict]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = requests.get(url + "/v1/models", headers=headers, timeout=10)
    response.raise_for_status()
    return response.json()["models"]


def _default(models: list[dict]) -> dict:
    (default,) = [m for m in models if m["default"] and (m["source"], m["target"]) == ("en", "de")]
    return default


def _open(tab, url: str):
    tab.goto(url)
    # The version picker fills once /v1/models has answered.
    expect(tab.get_by_label("Version", exact=True).locator("option")).not_to_have_count(0)


def _translate_by_click(tab, text: str) -> dict:
    """Types `text`, presses Translate, and returns the body the page posted."""
    tab.get_by_label("Text", exact=True).fill(text)
    with tab.expect_request("**/v1/translate") as sent:
        tab.get_by_role("button", name="Translate", exact=True).click()
    return sent.value.post_data_json


def test_page_lists_the_pair_and_versions_with_their_scores(tab, server):
    models = _models(server.url)
    default = _default(models)
    assert len(models) == 2
    _open(tab, server.url)
    expect(tab.get_by_label("Language pair", exact=True).locator("option")).to_have_text(["en → de"])
    # The default first, then by test BLEU.
    expect(tab.get_by_label("Version", exact=True).locator("option")).to_have_text(
        [f"{m['id']} · BLEU {m['bleu']:.2f}{' (default)' if m['default'] else ''}"
         for m in sorted(models, key=lambda m: (not m["default"], -m["bleu"]))])
    expect(tab.get_by_label("Version", exact=True)).to_have_value(default["id"])
    expect(tab.locator("#version-info")).to_have_text(
        f"Scores on the test set “{default['test_set']}”: BLEU {default['bleu']:.2f}, chrF {default['chrf']:.2f}.")


def test_a_versions_review_bleu_shows_when_the_api_gives_one(tab, server):
    def with_review_bleu(route):
        answer = route.fetch().json()
        for model in answer["models"]:
            model["review_bleu"] = 35.1
        route.fulfill(json=answer)

    tab.route("**/v1/models", with_review_bleu)
    _open(tab, server.url)
    default = _default(_models(server.url))
    expect(tab.get_by_label("Version", exact=True).locator("option").first).to_have_text(
        f"{default['id']} · BLEU {default['bleu']:.2f} · review 35.10 (default)")
    expect(tab.locator("#version-info")).to_contain_text("on reviewed translations: BLEU 35.10")


def test_a_sentence_typed_into_the_box_is_translated_as_the_api_translates_it(tab, server):
    default = _default(_models(server.url))
    _open(tab, server.url)
    sent = _translate_by_click(tab, TEXT)
    assert sent == {"q": TEXT, "source": "en", "target": "de", "version": default["id"]}
    answer = _api_translate(server.url, q=TEXT).json()
    expect(tab.get_by_label("Translation", exact=True)).to_have_value(answer["translations"][0])
    assert answer["translations"][0].strip()
    expect(tab.get_by_role("status")).to_have_text(f"Translated by {answer['version']} (BLEU {answer['bleu']:.2f}).")
    expect(tab.get_by_role("alert")).to_have_text("")
    expect(tab.locator("#alt-list")).to_be_hidden()


def test_a_chosen_version_translates(tab, server):
    _open(tab, server.url)
    tab.get_by_label("Version", exact=True).select_option(SECOND_VERSION)
    second = next(m for m in _models(server.url) if m["id"] == SECOND_VERSION)
    expect(tab.locator("#version-info")).to_contain_text(f"BLEU {second['bleu']:.2f}")
    assert _translate_by_click(tab, TEXT)["version"] == SECOND_VERSION
    answer = _api_translate(server.url, q=TEXT, version=SECOND_VERSION).json()
    expect(tab.get_by_role("status")).to_have_text(f"Translated by {SECOND_VERSION} (BLEU {answer['bleu']:.2f}).")
    expect(tab.get_by_label("Translation", exact=True)).to_have_value(answer["translations"][0])


def test_alternatives_show_and_a_screenshot_is_saved(tab, server, screenshots):
    _open(tab, server.url)
    tab.get_by_label("Alternatives", exact=True).select_option("2")
    sent = _translate_by_click(tab, TEXT)
    assert sent["alternatives"] == 2
    answer = _api_translate(server.url, q=TEXT, alternatives=2).json()
    expect(tab.get_by_label("Translation", exact=True)).to_have_value(answer["translations"][0])
    alternatives = tab.get_by_role("list", name="Alternative translations").get_by_role("listitem")
    expect(alternatives).to_have_text(answer["alternatives"][0])
    assert len(answer["alternatives"][0]) == 2
    screenshot = screenshots / "page.png"
    tab.screenshot(path=screenshot, full_page=True)
    assert screenshot.read_bytes().startswith(b"\x89PNG") and screenshot.stat().st_size < 200_000


def test_bad_input_shows_the_error_and_the_page_still_works(tab, server):
    _open(tab, server.url)
    error = tab.get_by_role("alert")
    # An empty text is never sent: the API would answer it with an empty translation.
    posted = []
    tab.on("request", lambda request: posted.append(request.url) if "/v1/translate" in request.url else None)
    tab.get_by_role("button", name="Translate", exact=True).click()
    expect(error).to_have_text("Nothing to translate: type a text in the Text box.")
    expect(tab.get_by_label("Text", exact=True)).to_be_focused()
    assert posted == []

    too_long = ("The small dog sees a red car. " * 10)[:MAX_ITEM_CHARS + 1]
    refused = _api_translate(server.url, q=too_long)
    assert refused.status_code == 413
    _translate_by_click(tab, too_long)
    expect(error).to_have_text(refused.json()["error"]["message"])
    expect(tab.get_by_label("Translation", exact=True)).to_have_value("")

    _translate_by_click(tab, DEMO_SENTENCES[0])
    expect(tab.get_by_label("Translation", exact=True)).to_have_value(
        _api_translate(server.url, q=DEMO_SENTENCES[0]).json()["translations"][0])
    expect(error).to_have_text("")


@pytest.fixture(scope="module")
def keyed_server(store, tmp_path_factory):
    from serve.auth import add_key

    keys = tmp_path_factory.mktemp("page_keys") / "keys.json"
    key = add_key(keys, "page", per_minute=0)
    with serving(store, "--api-keys", str(keys)) as running:
        yield running, key


def test_with_api_keys_the_page_asks_for_one_and_sends_it(tab, keyed_server):
    server, key = keyed_server
    no_key = requests.get(server.url + "/v1/models", timeout=10)
    assert no_key.status_code == 401
    tab.goto(server.url)
    error = tab.get_by_role("alert")
    key_field = tab.get_by_label("API key", exact=True)
    expect(error).to_have_text(no_key.json()["error"]["message"])
    expect(key_field).to_be_focused()

    key_field.fill("s2s_not_a_key")
    key_field.press("Enter")
    expect(error).to_have_text("invalid API key")
    expect(tab.get_by_label("Version", exact=True).locator("option")).to_have_count(0)

    key_field.fill(key)
    key_field.press("Enter")
    expect(tab.get_by_label("Version", exact=True)).to_have_value(_default(_models(server.url, key))["id"])
    expect(error).to_have_text("")
    tab.get_by_label("Text", exact=True).fill(TEXT)
    with tab.expect_request("**/v1/translate") as sent:
        tab.get_by_role("button", name="Translate", exact=True).click()
    assert sent.value.headers["authorization"] == f"Bearer {key}"
    expect(tab.get_by_label("Translation", exact=True)).to_have_value(
        _api_translate(server.url, key, q=TEXT).json()["translations"][0])

    # The key lasts as long as the tab: a reload does not ask again.
    tab.reload()
    expect(tab.get_by_label("Version", exact=True).locator("option")).not_to_have_count(0)
    expect(key_field).to_be_hidden()


@pytest.fixture(scope="module")
def glossary_server(store, tmp_path_factory):
    """`s2s serve` on a copy of the demo's version with a glossary for en -> de and one for en -> fr."""
    from seq2seq.versions.glossaries import GlossaryStore

    (original,) = [p for p in store.iterdir() if (p / "version.json").is_file()]
    copy = tmp_path_factory.mktemp("glossary_store")
    _copy_version(original, copy, original.name, json.loads((original / "version.json").read_text())["test"]["bleu"])
    files = tmp_path_factory.mktemp("term_files")
    for name, text in (("animals", "en,de\ndog,Zorbix\ncar,Vroomel\n"), ("french", "en,fr\ndog,chien\n")):
        (files / f"{name}.csv").write_text(text, encoding="utf-8")
        GlossaryStore(copy).import_file(name, files / f"{name}.csv")
    with serving(copy) as running:
        yield running


def test_a_chosen_glossary_is_sent_and_its_applied_terms_are_listed(tab, glossary_server):
    url = glossary_server.url
    _open(tab, url)
    picker = tab.get_by_label("Glossary", exact=True)
    # The en -> fr glossary does not fit the pair.
    expect(picker.locator("option")).to_have_text(["none", "animals · 2 entries"])
    expect(picker).to_have_value("")
    picker.select_option("animals")
    sent = _translate_by_click(tab, DOG)
    assert sent["terminology"] == "animals"
    answer = _api_translate(url, q=DOG, version=sent["version"], terminology="animals").json()
    expect(tab.get_by_label("Translation", exact=True)).to_have_value(answer["translations"][0])
    applied = tab.get_by_role("list", name="Terms applied").get_by_role("listitem")
    expect(applied).to_have_text([f"{t['source']} → {t['target']}" for t in answer["applied_terms"][0]])
    assert {t["target"] for t in answer["applied_terms"][0]} == {"Zorbix", "Vroomel"}
    expect(tab.get_by_role("list", name="Terms missed")).to_be_hidden()
    expect(tab.get_by_role("status")).to_contain_text("Glossary animals: 2 applied, 0 missed.")

    # Back to none: nothing about terms is sent or shown.
    picker.select_option("")
    sent = _translate_by_click(tab, DOG)
    assert "terminology" not in sent
    expect(tab.get_by_role("list", name="Terms applied")).to_be_hidden()


def test_missed_terms_are_listed_apart(tab, glossary_server):
    def one_missed(route):
        answer = route.fetch().json()
        answer["missed_terms"] = [[{"source": "car", "target": "Vroomel"}]]
        answer["applied_terms"] = [[{"source": "dog", "target": "Zorbix"}]]
        route.fulfill(json=answer)

    tab.route("**/v1/translate", one_missed)
    _open(tab, glossary_server.url)
    tab.get_by_label("Glossary", exact=True).select_option("animals")
    _translate_by_click(tab, DOG)
    expect(tab.get_by_role("list", name="Terms applied").get_by_role("listitem")).to_have_text(["dog → Zorbix"])
    expect(tab.get_by_role("list", name="Terms missed").get_by_role("listitem")).to_have_text(["car → Vroomel"])
    expect(tab.locator("#missed-hint")).to_be_visible()


def test_a_version_not_trained_for_terms_offers_no_glossary(tab, glossary_server):
    def untrained(route):
        answer = route.fetch().json()
        for model in answer["models"]:
            model["terms"] = {"trained": False}
        route.fulfill(json=answer)

    tab.route("**/v1/models", untrained)
    _open(tab, glossary_server.url)
    expect(tab.get_by_label("Glossary", exact=True).locator("option")).to_have_text(["none"])
    expect(tab.locator("#glossary-info")).to_have_text("This version was not trained to apply glossaries.")


def test_no_page_serves_no_page(tab, store):
    with serving(store, "--no-page") as server:
        for path in ("/", "/static/page.js", "/static/page.css"):
            # POST / is Amazon Translate's API, so GET / is a method not allowed there.
            assert tab.goto(server.url + path).status == (405 if path == "/" else 404), path
        assert requests.get(server.url + "/v1/models", timeout=10).status_code == 200


def _focused(tab) -> dict:
    return tab.evaluate("""() => {
        const style = getComputedStyle(document.activeElement);
        return {id: document.activeElement.id, outline: style.outlineStyle, width: style.outlineWidth};
    }""")


def test_the_page_works_from_the_keyboard_alone(tab, server):
    _open(tab, server.url)
    visited = []
    for _ in FOCUS_ORDER:
        tab.keyboard.press("Tab")
        focused = _focused(tab)
        # Where the focus is must be visible.
        assert focused["outline"] != "none" and focused["width"] != "0px", focused
        visited.append(focused["id"])
    assert visited == FOCUS_ORDER

    # Back from the last control to the text box: Shift+Tab walks the same order.
    for _ in range(len(FOCUS_ORDER) - 1 - FOCUS_ORDER.index("source")):
        tab.keyboard.press("Shift+Tab")
    assert _focused(tab)["id"] == "source"
    tab.keyboard.type(TEXT)
    tab.keyboard.press("Control+Enter")
    translation = _api_translate(server.url, q=TEXT).json()["translations"][0]
    expect(tab.get_by_label("Translation", exact=True)).to_have_value(translation)

    for _ in range(FOCUS_ORDER.index("copy") - FOCUS_ORDER.index("source")):
        tab.keyboard.press("Tab")
    assert _focused(tab)["id"] == "copy"
    tab.keyboard.press("Enter")
    expect(tab.get_by_role("status")).to_have_text("Translation copied.")
    assert tab.evaluate("navigator.clipboard.readText()") == translation


def test_copy_falls_back_without_the_clipboard_api(tab, server):
    # As on plain http to another host, which is no secure context.
    tab.add_init_script("Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined})")
    _open(tab, server.url)
    _translate_by_click(tab, DEMO_SENTENCES[0])
    target = tab.get_by_label("Translation", exact=True)
    expect(target).not_to_have_value("")
    tab.get_by_role("button", name="Copy", exact=True).click()
    expect(tab.get_by_role("status")).to_have_text("Translation copied.")
    assert tab.evaluate("() => navigator.clipboard") is None
    # The old way copies the selection: all of the translation.
    translation = target.input_value()
    assert target.evaluate("t => [t.selectionStart, t.selectionEnd]") == [0, len(translation)]
    reader = tab.context.new_page()
    reader.goto(server.url)
    assert reader.evaluate("navigator.clipboard.readText()") == translation


def test_a_document_is_picked_translated_and_downloaded_in_its_format(tab, server, tmp_path):
    _open(tab, server.url)
    tab.get_by_role("button", name="Translate document").click()
    expect(tab.get_by_role("alert")).to_have_text("No document chosen: pick a file first.")
    page = f"<h1>{DOG}</h1><p>The <b>small</b> dog.</p>".encode()
    tab.get_by_label("File", exact=True).set_input_files(files=[{"name": "page.html", "mimeType": "text/html",
                                                                "buffer": page}])
    with tab.expect_request("**/v1/documents") as sent:
        tab.get_by_role("button", name="Translate document").click()
    assert sent.value.headers["content-type"].startswith("multipart/form-data")
    link = tab.get_by_role("link", name="Download page.de.html")
    expect(link).to_be_visible()
    expect(link).to_be_focused()
    with tab.expect_download() as download:
        link.click()
    expected = requests.post(server.url + "/v1/documents", data={"source": "en", "target": "de"},
                             files={"file": ("page.html", page)}, timeout=60).content
    assert download.value.suggested_filename == "page.de.html"
    assert open(download.value.path(), "rb").read() == expected and b"<b>" in expected
    # A file the server refuses: its message, and no stale link.
    tab.get_by_label("File", exact=True).set_input_files(files=[{"name": "lies.docx", "mimeType": "text/html",
                                                                "buffer": b"<p>not Word</p>"}])
    tab.get_by_role("button", name="Translate document").click()
    expect(tab.get_by_role("alert")).to_contain_text("lies.docx: its extension says Word (.docx)")
    expect(tab.get_by_role("link", name="Download page.de.html")).to_be_hidden()
