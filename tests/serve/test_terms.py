"""Custom terminology through the API (Flask's test client) on a copy of the demo's version: request checks,
named glossaries and hot reload, the refusal by a version not trained for terms, and what the answer claims
about each term, which must hold for any model."""
import json
import random
import re
import time

import pytest

from data_prep import demo_lexicon as lex
from data_prep.demo_corpus import DemoCorpusConfig, generate
from data_prep.termbase import MAX_TERM_BYTES
from data_prep.terms import Glossary
from seq2seq.versions.glossaries import GlossaryStore
from serve.app import create_app
from serve.config import ServeConfig
from tests.serve.test_app import DOG, _copy_version

ANIMALS = "en,de\ndog,Zorbix\ncar,Vroomel\nmother,Mamulka\n"
REGIONAL = "en-US,de-DE\ncar,Autolo\n"
FRENCH = "en,fr\ndog,chien\n"
# Matching a term and applying it take the demo model a few sentences' time each: a generous timeout.
TIMEOUT_S = 600


def _version_dir(store):
    (original,) = [p for p in store.iterdir() if (p / "version.json").is_file()]
    return original


def _copy_store(store, destination, **terms):
    """A store holding a copy of the demo's version; `terms` replaces its version.json's terms record."""
    original = _version_dir(store)
    destination.mkdir(parents=True, exist_ok=True)
    info = json.loads((original / "version.json").read_text())
    copy = _copy_version(original, destination, original.name, info["test"]["bleu"])
    if terms:
        # version.json holds the sha256 of every other file, not its own: the copy still verifies.
        assert "version.json" not in info["files"]
        info = json.loads((copy / "version.json").read_text())
        info["terms"] = terms
        (copy / "version.json").write_text(json.dumps(info))
    return destination


def _import(store, name, text, tmp_path, directionality="UNI"):
    path = tmp_path / f"{name}-{time.monotonic_ns()}.csv"
    path.write_text(text, encoding="utf-8")
    return GlossaryStore(store).import_file(name, path, directionality)


@pytest.fixture(scope="module")
def term_store(store, tmp_path_factory):
    copy = _copy_store(store, tmp_path_factory.mktemp("terms_store"))
    tmp = tmp_path_factory.mktemp("term_files")
    _import(copy, "animals", ANIMALS, tmp)
    _import(copy, "regional", REGIONAL, tmp)
    _import(copy, "french", FRENCH, tmp)
    return copy


@pytest.fixture(scope="module")
def app(term_store):
    return create_app(ServeConfig(store=term_store, reload_interval_s=0, request_timeout_s=TIMEOUT_S))


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def _translate(client, q, path="/v1/translate", **fields):
    body = {"q": q, **fields} if path == "/invocations" else {"q": q, "source": "en", "target": "de", **fields}
    return client.post(path, data=json.dumps(body), content_type="application/json")


def _ok(response) -> dict:
    assert response.status_code == 200, response.json
    return response.json


def _occurs(text: str, term: str) -> bool:
    """`term` in `text` as whole words, case as written."""
    return re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text) is not None


def check_terms(answer: dict) -> None:
    """Every applied target is in its translation and every missed one is not: true of any model."""
    for translation, applied, missed in zip(answer["translations"], answer["applied_terms"], answer["missed_terms"]):
        for term in applied:
            assert _occurs(translation, term["target"]), (translation, term)
        for term in missed:
            assert not _occurs(translation, term["target"]), (translation, term)


def _check_honest(answer: dict) -> None:
    """check_terms, and no placeholder left in a translation or an alternative."""
    check_terms(answer)
    for i, translation in enumerate(answer["translations"]):
        for output in [translation, *answer.get("alternatives", [[]] * len(answer["translations"]))[i]]:
            assert not re.search("⟦[0-9]⟧", output), output


def _targets(answer: dict, i: int = 0) -> dict[str, str]:
    """source -> target of text i's matched terms, applied or missed."""
    return {t["source"]: t["target"] for t in answer["applied_terms"][i] + answer["missed_terms"][i]}


@pytest.mark.parametrize("fields,message", [
    ({"glossary": ["dog", "Hund"]}, "field 'glossary' must be an object of source term -> target term"),
    ({"glossary": {"dog": 3}}, "glossary entry 'dog': the target term must be a string, not 3"),
    ({"glossary": {"dog": None}}, "glossary entry 'dog': the target term must be a string, not null"),
    ({"glossary": {"  ": "Hund"}}, "glossary entry '  ': the source term is empty"),
    ({"glossary": {"dog": " "}}, "glossary entry 'dog': the target term is empty"),
    ({"glossary": {f"w{i}": "x" for i in range(ServeConfig.max_glossary_entries + 1)}},
     "field 'glossary': 1,001 entries; at most 1,000 per request"),
    ({"glossary": {"dog": "ä" * (MAX_TERM_BYTES // 2 + 1)}},
     f"glossary entry 'dog': the target term is {MAX_TERM_BYTES + 2} bytes in UTF-8, over the limit of "
     f"{MAX_TERM_BYTES}"),
    ({"glossary": {"d" * (MAX_TERM_BYTES + 1): "Hund"}}, f"the source term is {MAX_TERM_BYTES + 1} bytes"),
    ({"glossary": {"Dog": "Hund", "dog": "Köter"}},
     "field 'glossary': glossary entries 'Dog' -> 'Hund' and 'dog' -> 'Köter' have the same source term"),
    ({"glossary": {"+++": "plus"}}, "glossary entry '+++' -> 'plus': the source term has no letters or digits"),
    ({"terminology": 7}, "field 'terminology' must be a string"),
    ({"terminology": "legal"}, "field 'terminology': no glossary 'legal' on this server; it has animals, french, "
                               "regional"),
    ({"terminology": "nope", "glossary": {"dog": "Zorbix"}}, "no glossary 'nope' on this server"),
])
def test_bad_glossaries_get_a_400_that_names_the_entry(client, fields, message):
    for path in ("/v1/translate", "/invocations"):
        response = _translate(client, DOG, path, **fields)
        assert response.status_code == 400, response.json
        assert message in response.json["error"]["message"], response.json


def test_a_lone_surrogate_in_a_term_is_named(client):
    body = '{"q": "a dog", "source": "en", "target": "de", "glossary": {"dog": "Hu\\ud800nd"}}'
    response = client.post("/v1/translate", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "glossary entry 'dog': the target term is not valid Unicode text" in response.json["error"]["message"]


def test_a_terminology_without_the_pair_is_refused_naming_its_pairs(client):
    response = _translate(client, DOG, terminology="french")
    assert response.status_code == 400
    assert response.json["error"]["message"] == ("field 'terminology': glossary 'french' has no en->de terms "
                                                 "(it is UNI with en->fr)")


def test_a_version_not_trained_for_terms_refuses_a_glossary(store, tmp_path, translated):
    untrained = _copy_store(store, tmp_path / "store", trained=False)
    _import(untrained, "animals", ANIMALS, tmp_path)
    client = create_app(ServeConfig(store=untrained, reload_interval_s=0)).test_client()
    version = _version_dir(untrained).name
    for fields in ({"glossary": {"dog": "Zorbix"}}, {"terminology": "animals"}, {"glossary": {}}):
        for path in ("/v1/translate", "/invocations"):
            response = _translate(client, DOG, path, **fields)
            assert response.status_code == 400, response.json
            message = response.json["error"]["message"]
            assert message.startswith(f"version {version} was not trained to apply terms"), message
            assert "`s2s prepare` annotated with terms (its default)" in message
            assert f"{version} was published without that annotation" in message
    # Without a glossary it translates as ever, and claims nothing about terms.
    plain = _ok(_translate(client, DOG))
    assert plain["translations"] == [translated(DOG)] and "applied_terms" not in plain and "missed_terms" not in plain
    assert client.get("/v1/models").json["models"][0]["terms"] == {"trained": False}


def test_inline_entries_win_over_the_named_glossary_ignoring_case(client):
    text = "The small dog sees a red car.  Today my mother buys three green apples."
    named = _ok(_translate(client, text, terminology="animals"))
    assert _targets(named) == {"dog": "Zorbix", "car": "Vroomel", "mother": "Mamulka"}
    merged = _ok(_translate(client, text, terminology="animals", glossary={"DOG": "blimp", "apples": "Grunzel"}))
    # The inline entry replaced the named one; the text's "dog" is lower case, so the target is as written.
    assert _targets(merged) == {"DOG": "blimp", "car": "Vroomel", "mother": "Mamulka", "apples": "Grunzel"}
    _check_honest(named)
    _check_honest(merged)
    for answer in (named, merged):
        assert answer["applied_terms"][0], answer  # a model trained for terms applies some


def test_a_glossary_with_regions_applies_to_the_pair_without(client):
    answer = _ok(_translate(client, "The small dog sees a red car.", terminology="regional"))
    assert _targets(answer) == {"car": "Autolo"}
    _check_honest(answer)


def test_no_glossary_no_terms_in_the_answer(client, translated):
    answer = _ok(_translate(client, DOG))
    assert answer["translations"] == [translated(DOG)] and "applied_terms" not in answer
    empty = _ok(_translate(client, [DOG, ""], glossary={"zebra": "Zebra"}))
    assert empty["translations"] == [translated(DOG), ""]
    assert empty["applied_terms"] == [[], []] and empty["missed_terms"] == [[], []]


def _noun_glossary() -> dict[str, str]:
    """Every noun of the demo, singular and plural, to an invented word the model has never seen."""
    rng = random.Random(3)
    glossary = {}
    for en_sg, en_pl, _, _ in lex.MASCULINE + lex.FEMININE + lex.NEUTER:
        word = "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(3)).capitalize() + "x"
        glossary[en_sg] = word
        if en_pl != en_sg:
            glossary[en_pl] = word + "en"
    return glossary


def _demo_sentences(n: int) -> list[str]:
    # A seed the demo's training corpus does not use: sentences the model may not have seen.
    return [en for en, _ in generate(DemoCorpusConfig(seed=4242, train=n, dev=0, test=0))]


def test_applied_and_missed_terms_are_honest_and_complete(client):
    glossary = _noun_glossary()
    texts = _demo_sentences(20) + ["  ".join(_demo_sentences(3)), "Dog dog DOG.\nThe dog."]
    answer = _ok(_translate(client, texts, glossary=glossary, alternatives=1, beam_size=3))
    _check_honest(answer)
    compiled = Glossary.from_pairs(glossary)
    for i, text in enumerate(texts):
        expected = {(m.source, m.target) for m in compiled.find(text)}
        reported = [(t["source"], t["target"]) for t in answer["applied_terms"][i] + answer["missed_terms"][i]]
        # Each matched term once, under applied or missed.
        assert sorted(reported) == sorted(expected), text


def test_matched_terms_are_applied_whatever_the_words_around_them(client):
    """The method's point: on the demo's sentences, a glossary of invented words for its nouns is applied at
    least 90% of the time. Which words the model puts around them is not asserted."""
    glossary = _noun_glossary()
    texts = _demo_sentences(20)
    answer = _ok(_translate(client, texts, glossary=glossary))
    _check_honest(answer)
    applied = sum(len(terms) for terms in answer["applied_terms"])
    matched = applied + sum(len(terms) for terms in answer["missed_terms"])
    assert matched >= 30  # two nouns or more a sentence
    assert applied / matched >= 0.9, list(zip(texts, answer["translations"], answer["missed_terms"]))


def test_the_target_takes_the_case_of_the_matched_text(client):
    texts = ["The small dog sees a red car.", "The small Dog sees a red car.", "The small DOG sees a red car."]
    answer = _ok(_translate(client, texts, glossary={"dog": "zorbix van"}))
    _check_honest(answer)
    for i, expected in enumerate(["zorbix van", "Zorbix Van", "ZORBIX VAN"]):
        assert answer["applied_terms"][i] == [{"source": "dog", "target": expected}], answer
        assert expected in answer["translations"][i]
        others = {"zorbix van", "Zorbix Van", "ZORBIX VAN"} - {expected}
        assert not any(other in answer["translations"][i] for other in others)


def test_the_cache_holds_across_glossaries(app, client, translated):
    cache = app.extensions["s2s.cache"]
    text = "My small dog sees the red car."
    first = _ok(_translate(client, text, glossary={"dog": "Zorbix"}))
    cached = len(cache)
    second = _ok(_translate(client, text, glossary={"dog": "Quaffel"}))
    # The same model input (the sentence with a placeholder) came from the cache...
    assert len(cache) == cached
    # ...and each glossary got its own term in it.
    assert first["applied_terms"] == [[{"source": "dog", "target": "Zorbix"}]]
    assert second["applied_terms"] == [[{"source": "dog", "target": "Quaffel"}]]
    assert "Zorbix" in first["translations"][0] and "Quaffel" not in first["translations"][0]
    assert "Quaffel" in second["translations"][0] and "Zorbix" not in second["translations"][0]
    assert first["translations"][0].replace("Zorbix", "Quaffel") == second["translations"][0]
    # The sentence without a glossary is another model input: the model's own translation.
    plain = _ok(_translate(client, text))
    assert plain["translations"][0] == translated(text) and "applied_terms" not in plain


def test_models_lists_glossaries_and_each_versions_terms(client, term_store):
    body = client.get("/v1/models").json
    glossaries = {g["name"]: g for g in body["glossaries"]}
    assert glossaries.keys() == {"animals", "regional", "french"}
    stored = GlossaryStore(term_store).get("animals")
    assert glossaries["animals"] == {"name": "animals", "languages": ["en", "de"], "directionality": "UNI",
                                     "entry_count": 3, "sha256": stored.sha256, "imported": stored.imported,
                                     "pairs": ["en-de"]}
    assert glossaries["regional"]["languages"] == ["en-US", "de-DE"] and glossaries["regional"]["pairs"] == ["en-de"]
    assert glossaries["french"]["pairs"] == []
    assert body["refused_glossaries"] == {}
    (model,) = body["models"]
    recorded = json.loads((_version_dir(term_store) / "version.json").read_text()).get("terms", {"trained": False})
    assert model["terms"] == recorded


def _wait_for(condition, timeout_s=20.0):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "hot reload did not pick the change up"
        time.sleep(0.05)


def test_hot_reload_picks_up_new_changed_and_deleted_glossaries(store, tmp_path):
    copy = _copy_store(store, tmp_path / "store")
    client = create_app(ServeConfig(store=copy, reload_interval_s=0.1, request_timeout_s=TIMEOUT_S)).test_client()

    def listed() -> dict[str, str]:
        return {g["name"]: g["sha256"] for g in client.get("/v1/models").json["glossaries"]}

    assert listed() == {}
    unknown = _translate(client, DOG, terminology="animals")
    assert unknown.status_code == 400 and "it has none" in unknown.json["error"]["message"]

    added = _import(copy, "animals", ANIMALS, tmp_path)
    _wait_for(lambda: listed() == {"animals": added.sha256})
    assert _targets(_ok(_translate(client, DOG, terminology="animals")))["dog"] == "Zorbix"

    changed = _import(copy, "animals", "en,de\ndog,Quaffel\n", tmp_path)
    _wait_for(lambda: listed() == {"animals": changed.sha256})
    answer = _ok(_translate(client, DOG, terminology="animals"))
    assert _targets(answer) == {"dog": "Quaffel"}
    _check_honest(answer)

    # A damaged file is not served, and says why.
    (copy / "glossaries" / "broken.json").write_text("{", encoding="utf-8")
    _wait_for(lambda: "broken" in client.get("/v1/models").json["refused_glossaries"])
    broken = _translate(client, DOG, terminology="broken")
    assert broken.status_code == 400 and "glossary 'broken' is not served" in broken.json["error"]["message"]

    GlossaryStore(copy).delete("animals")
    GlossaryStore(copy).delete("broken")
    _wait_for(lambda: listed() == {})
    gone = _translate(client, DOG, terminology="animals")
    assert gone.status_code == 400 and "no glossary 'animals'" in gone.json["error"]["message"]
