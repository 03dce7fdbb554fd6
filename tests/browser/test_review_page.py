"""The review page at /review in chromium, against a real `s2s serve --review-db`: driven by keys alone,
and what the reviewer did is what the database holds."""
import pytest

from pipeline.demo import DEMO_SENTENCES
from review.db import NewItem, ReviewDb
from serve.auth import add_key
from tests.browser.conftest import PLAYWRIGHT_MISSING
from tests.serve.test_gunicorn import serving

expect = pytest.importorskip("playwright.sync_api", reason=PLAYWRIGHT_MISSING).expect

PAIRS = [(DEMO_SENTENCES[0], "Der kleine Hund sieht ein rotes Auto."),
         (DEMO_SENTENCES[1], "Heute kauft meine Mutter drei grüne Birnen."),
         ("The old man reads a book.", "Der alte Mann liest ein Buch Buch.")]


@pytest.fixture(scope="module")
def review_server(store, tmp_path_factory):
    """`s2s serve` with a review database of PAIRS, a reviewer key and a translate key."""
    tmp = tmp_path_factory.mktemp("review_page")
    keys = tmp / "keys.json"
    reviewer, translator = add_key(keys, "rita", role="reviewer"), add_key(keys, "tom")
    db = ReviewDb(tmp / "review.db")
    db.add([NewItem(source, translation, "en-de-demo", "ctranslate2", "add") for source, translation in PAIRS])
    with serving(store, "--api-keys", str(keys), "--review-db", str(db.path)) as running:
        yield running, db, reviewer, translator


def _open(tab, url: str, key: str):
    """Opens the page and gives it the key with the keyboard, as a reviewer would."""
    tab.goto(url + "/review")
    key_field = tab.get_by_label("Reviewer API key")
    expect(key_field).to_be_focused()
    tab.keyboard.type(key)
    tab.keyboard.press("Enter")


def test_a_key_without_the_reviewer_role_is_refused_on_the_page(tab, review_server):
    server, _, _, translator = review_server
    _open(tab, server.url, translator)
    expect(tab.get_by_role("alert")).to_have_text("API key 'tom' has the role 'translate'; reviewing needs a key with "
                                                  "the role 'reviewer' (s2s keys add NAME --role reviewer)")
    expect(tab.get_by_label("Reviewer API key")).to_be_focused()


def test_review_by_keys_alone_rate_edit_save_next_and_undo(tab, review_server, screenshots):
    server, db, reviewer, _ = review_server
    _open(tab, server.url, reviewer)
    source, translation = tab.locator("#source"), tab.locator("#translation")
    progress = tab.locator("#progress")
    expect(source).to_have_text(PAIRS[0][0])
    expect(translation).to_have_text(PAIRS[0][1])
    expect(progress).to_have_text("0 of 3 reviewed · your count today (UTC): 0")
    expect(tab.locator("#meta")).to_contain_text("version en-de-demo")

    tab.keyboard.press("?")
    expect(tab.get_by_role("region", name="Keys")).to_be_visible()
    tab.keyboard.press("?")
    expect(tab.get_by_role("region", name="Keys")).to_be_hidden()

    tab.keyboard.press("1")
    expect(source).to_have_text(PAIRS[1][0])
    expect(progress).to_have_text("1 of 3 reviewed · your count today (UTC): 1")

    # Escape closes the editor and saves nothing.
    tab.keyboard.press("2")
    editor = tab.get_by_label("Corrected translation")
    expect(editor).to_be_focused()
    expect(editor).to_have_value(PAIRS[1][1])
    tab.keyboard.type(" oops")
    tab.keyboard.press("Escape")
    expect(editor).to_be_hidden()
    expect(source).to_have_text(PAIRS[1][0])

    tab.keyboard.press("2")
    expect(editor).to_have_value(PAIRS[1][1])
    for _ in range(len("Birnen.")):
        tab.keyboard.press("Backspace")
    tab.keyboard.type("Äpfel.")
    tab.screenshot(path=screenshots / "review.png", full_page=True)
    tab.keyboard.press("Enter")
    expect(source).to_have_text(PAIRS[2][0])
    expect(progress).to_have_text("2 of 3 reviewed · your count today (UTC): 2")

    tab.keyboard.press("k")
    expect(source).to_have_text(PAIRS[1][0])
    expect(tab.locator("#verdict")).to_have_text(
        "Verdict: needs an edit → Heute kauft meine Mutter drei grüne Äpfel.")
    tab.keyboard.press("j")
    expect(source).to_have_text(PAIRS[2][0])
    tab.keyboard.press("3")
    expect(tab.get_by_text("Nothing left to review.")).to_be_visible()
    expect(progress).to_have_text("3 of 3 reviewed · your count today (UTC): 3")

    tab.keyboard.press("u")
    expect(source).to_have_text(PAIRS[2][0])
    expect(tab.get_by_role("status")).to_have_text("Undone: bad on item 3.")
    expect(progress).to_have_text("2 of 3 reviewed · your count today (UTC): 2")
    # Focus stays where the keys work, and the browser shows it.
    assert tab.evaluate("document.activeElement.id") == "card"

    items = {item.source: item for item in db.reviewed()}
    assert {source: (item.reviewer, item.verdict, item.correction) for source, item in items.items()} == {
        PAIRS[0][0]: ("rita", "good", None),
        PAIRS[1][0]: ("rita", "edit", "Heute kauft meine Mutter drei grüne Äpfel.")}
    assert [item.source for item in db.queue(10)] == [PAIRS[2][0]]
    screenshot = screenshots / "review.png"
    assert screenshot.read_bytes().startswith(b"\x89PNG") and screenshot.stat().st_size < 200_000
