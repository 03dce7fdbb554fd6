import re

from data_prep import demo_lexicon as lex
from data_prep.demo_corpus import DemoCorpusConfig, generate, write_demo_corpus


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
