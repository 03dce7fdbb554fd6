"""Language identification for "auto": answers among the served languages only, refuses when it knows
none of them, gives no language to a text without letters, and answers the same from many threads."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from data_prep.errors import S2SError
from serve import language_id
from serve.language_id import LOW_CONFIDENCE, UNDETERMINED, Detected, identify

FOUR = ("en", "de", "fr", "cs")
SENTENCES = {
    "en": ["A man in a blue shirt is riding a bicycle down the street.", "Two dogs are playing in the snow.",
           "THE CHILDREN ARE WAITING FOR THE BUS."],
    "de": ["Ein Mann in einem blauen Hemd fährt mit dem Fahrrad die Straße entlang.",
           "Zwei Hunde spielen im Schnee.", "DIE KINDER WARTEN AUF DEN BUS."],
    "fr": ["Un homme en chemise bleue descend la rue à vélo.", "Deux chiens jouent dans la neige.",
           "LES ENFANTS ATTENDENT LE BUS."],
    "cs": ["Muž v modré košili jede na kole po ulici.", "Dva psi si hrají ve sněhu.", "DĚTI ČEKAJÍ NA AUTOBUS."],
}
LABELLED = [(language, text) for language, texts in SENTENCES.items() for text in texts]


@pytest.mark.parametrize("language,text", LABELLED)
def test_clear_sentences_are_identified_confidently(language, text):
    detected = identify(text, FOUR)
    assert detected.language == language
    assert LOW_CONFIDENCE <= detected.confidence <= 1


@pytest.mark.parametrize("text", SENTENCES["de"])
def test_answers_only_among_the_allowed_languages(text):
    assert identify(text, {"en", "fr"}).language in {"en", "fr"}
    assert identify(text, ["cs"]) == Detected("cs", 1.0)


@pytest.mark.parametrize("text", ["", "   \n", "12345", "3.14 + 2 = 5.14", "!!! ???", "🙂🎉👍", "@@"])
def test_text_without_letters_has_no_language(text):
    detected = identify(text, FOUR)
    assert detected == Detected(UNDETERMINED, 0.0)
    assert detected.confidence < LOW_CONFIDENCE


@pytest.mark.parametrize("word", ["Hotel", "Restaurant", "Taxi"])
def test_a_word_the_languages_share_is_low_confidence(word):
    assert identify(word, FOUR).confidence < LOW_CONFIDENCE


def test_codes_are_compared_in_lowercase():
    assert identify(SENTENCES["fr"][0], ["EN", "Fr", "DE"]).language == "fr"


def test_unknown_codes_are_left_out():
    assert identify(SENTENCES["de"][0], ["de", "en", "xx"]).language == "de"


@pytest.mark.parametrize("among", [["xx", "zz"], []])
def test_no_known_language_is_an_error_naming_them(among):
    with pytest.raises(S2SError, match=r"knows none of the languages \[" + ", ".join(f"'{c}'" for c in among)):
        identify("Bonjour tout le monde.", among)


def test_threads_identifying_different_sets_at_once_answer_as_one_thread_does(monkeypatch):
    sets = [frozenset(FOUR), frozenset({"en", "fr"}), frozenset({"de", "cs"}), frozenset({"fr", "cs", "de"}),
            frozenset({"en", "de"})]
    jobs = [(text, among) for among in sets for _, text in LABELLED] * 20
    serial = [identify(text, among) for text, among in jobs]
    # An empty cache, so that the threads also race to build the restricted identifiers.
    monkeypatch.setattr(language_id, "_restricted", {})
    start = threading.Barrier(8)

    def run(share: int) -> list[Detected]:
        start.wait()
        return [identify(text, among) for text, among in jobs[share::8]]

    with ThreadPoolExecutor(8) as pool:
        shares = list(pool.map(run, range(8)))
    for share, answers in enumerate(shares):
        assert answers == serial[share::8]
