import re

from data_prep import demo_lexicon as lex
from data_prep.demo_corpus import DemoCorpusConfig, decline_adjective, generate, write_demo_corpus


def test_same_seed_same_corpus_and_other_seed_differs():
    config = DemoCorpusConfig(seed=3, train=50, dev=5, test=5)
    first = list(generate(config))
    assert first == list(generate(config))
    assert first != list(generate(DemoCorpusConfig(seed=4, train=50, dev=5, test=5)))


def test_splits_are_disjoint_and_sized(tmp_path):
    paths = write_demo_corpus(tmp_path, DemoCorpusConfig(seed=1, train=300, dev=20, test=30))
    sources = {split: src.read_text(encoding="utf-8").splitlines() for split, (src, _) in paths.items()}
    assert [len(sources[s]) for s in ("train", "dev", "test")] == [300, 20, 30]
    assert not set(sources["test"]) & set(sources["train"])
    assert not set(sources["dev"]) & set(sources["train"])


def test_vocabulary_is_hundreds_of_words():
    pairs = list(generate(DemoCorpusConfig(seed=1, train=5000, dev=0, test=0)))
    english = {w.strip(".,").lower() for en, _ in pairs for w in en.split()}
    german = {w.strip(".,") for _, de in pairs for w in de.split()}
    assert len(english) > 400 and len(german) > 500


def test_grammar_agreement_and_word_order():
    pairs = list(generate(DemoCorpusConfig(seed=2, train=40000, dev=0, test=0)))
    # Case agreement: a masculine object takes "den", and the adjective after "ein" takes "-en".
    main_clauses = [(en, de) for en, de in pairs if "," not in de]
    objects = [de for en, de in main_clauses if en.endswith(" the dog.")]
    assert objects and all(de.endswith(" den Hund.") for de in objects)
    with_adjective = [de for en, de in main_clauses if re.search(r" an? [a-z]+ dog\.$", en)]
    assert with_adjective and all(re.search(r" einen [a-zäöüß]+en Hund\.$", de) for de in with_adjective)
    # Number agreement on the verb.
    assert any(de.startswith("Die Hunde sehen ") for en, de in pairs if en.startswith("The dogs see "))
    # A fronted adverbial puts the German verb second: "Heute sieht der ..." not "Heute der ...".
    verbs = {form for _, _, de_sg, de_pl in lex.VERBS for form in (de_sg, de_pl)}
    today = [de for en, de in pairs if en.startswith("Today ")]
    assert today and all(de.split()[1] in verbs for de in today)
    # "because" sends the finite verb to the end of the German clause.
    because = [de for en, de in pairs if " because " in en]
    assert because and all(de.rstrip(".").split()[-1] in verbs | {"ist", "sind"} for de in because)


# The adjective's ending by article, case and gender ("pl" for the plural), from a German
# grammar's tables rather than the generator's: weak after der/dieser, mixed after ein/mein,
# strong after a bare number (None), which carries no ending of its own.
_TEXTBOOK_ENDINGS = {
    **{(art, "nom", g): "e" for art in ("the", "this") for g in ("m", "f", "n")},
    **{(art, "acc", g): e for art in ("the", "this") for g, e in (("m", "en"), ("f", "e"), ("n", "e"))},
    **{(art, c, "pl"): "en" for art in ("the", "this", "my") for c in ("nom", "acc")},
    **{(art, "nom", g): e for art in ("a", "my") for g, e in (("m", "er"), ("f", "e"), ("n", "es"))},
    **{(art, "acc", g): e for art in ("a", "my") for g, e in (("m", "en"), ("f", "e"), ("n", "es"))},
    **{(None, c, "pl"): "e" for c in ("nom", "acc")},
}
_ARTICLE_WORDS = {
    ("the", "nom", "m"): "der", ("the", "nom", "f"): "die", ("the", "nom", "n"): "das",
    ("the", "acc", "m"): "den", ("the", "acc", "f"): "die", ("the", "acc", "n"): "das",
    ("this", "nom", "m"): "dieser", ("this", "nom", "f"): "diese", ("this", "nom", "n"): "dieses",
    ("this", "acc", "m"): "diesen", ("this", "acc", "f"): "diese", ("this", "acc", "n"): "dieses",
    ("a", "nom", "m"): "ein", ("a", "nom", "f"): "eine", ("a", "nom", "n"): "ein",
    ("a", "acc", "m"): "einen", ("a", "acc", "f"): "eine", ("a", "acc", "n"): "ein",
    ("my", "nom", "m"): "mein", ("my", "nom", "f"): "meine", ("my", "nom", "n"): "mein",
    ("my", "acc", "m"): "meinen", ("my", "acc", "f"): "meine", ("my", "acc", "n"): "mein",
    **{("the", c, "pl"): "die" for c in ("nom", "acc")},
    **{("this", c, "pl"): "diese" for c in ("nom", "acc")},
    **{("my", c, "pl"): "meine" for c in ("nom", "acc")},
    **{(None, c, "pl"): num for c in ("nom", "acc") for _, num in lex.NUMBERS},
}
_E_STEMS = [de for _, de in lex.ADJECTIVES if de.endswith("e")]


def _expected_form(stem, ending):
    # German writes one e where a stem ending in e meets an ending beginning with e.
    if stem[-1] == "e" and ending[0] == "e":
        return stem + ending[1:]
    return stem + ending


def test_every_adjective_declines_like_the_textbook_in_every_form():
    assert "müde" in _E_STEMS and "leise" in _E_STEMS  # the case the rule is about
    for _, stem in lex.ADJECTIVES:
        for (article, case, gender), ending in _TEXTBOOK_ENDINGS.items():
            expected = _expected_form(stem, ending)
            assert decline_adjective(stem, article, case, gender) == expected, (stem, article, case, gender)


def test_declension_spot_checks():
    assert decline_adjective("müde", "the", "nom", "m") == "müde"  # der müde Fisch
    assert decline_adjective("müde", "a", "acc", "m") == "müden"  # einen müden Fisch
    assert decline_adjective("müde", "a", "nom", "m") == "müder"  # ein müder Fisch
    assert decline_adjective("müde", "my", "nom", "n") == "müdes"  # mein müdes Paket
    assert decline_adjective("leise", "a", "nom", "n") == "leises"  # ein leises Paket
    assert decline_adjective("leise", "the", "acc", "pl") == "leisen"  # die leisen Pakete
    assert decline_adjective("leise", None, "nom", "pl") == "leise"  # zwei leise Pakete
    assert decline_adjective("klein", "a", "nom", "m") == "kleiner"  # ein kleiner Fisch
    assert decline_adjective("klein", "this", "acc", "m") == "kleinen"  # diesen kleinen Fisch
    assert decline_adjective("klein", None, "acc", "pl") == "kleine"  # drei kleine Fische


def test_default_corpus_declines_every_adjective_after_an_article_correctly():
    pairs = list(generate(DemoCorpusConfig()))
    assert len(pairs) == 12000 + 200 + 500
    # Every adjective form that may follow each article word, by the textbook rule above.
    allowed = {}
    for (article, case, gender), ending in _TEXTBOOK_ENDINGS.items():
        word = _ARTICLE_WORDS[(article, case, gender)]
        allowed.setdefault(word, set()).update(_expected_form(stem, ending) for _, stem in lex.ADJECTIVES)
    seen = set()
    for _, de in pairs:
        words = de.rstrip(".").replace(",", "").split()
        for before, word in zip(words, words[1:]):
            if before.lower() in allowed and word[0].islower():
                assert word in allowed[before.lower()], de
                seen.add(word)
    # A stem ending in e never doubles its e before the ending ("müdee", "leisees").
    doubled = re.compile(r"\b(?:%s)e" % "|".join(_E_STEMS))
    assert not [de for _, de in pairs if doubled.search(de)]
    # Not vacuous: both e-stems appear with each of their endings.
    assert {f"{stem[:-1]}{ending}" for stem in _E_STEMS for ending in ("e", "en", "er", "es")} <= seen
