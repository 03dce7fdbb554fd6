"""A synthetic English-to-German-like parallel corpus, generated from a seed.

The grammar has what makes translation more than word substitution: gender and case
agreement of articles and adjective endings, verb agreement in number, verb-second
inversion after a fronted adverbial, and verb-final order in subordinate clauses.
"""
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from data_prep import demo_lexicon as lex
from data_prep.errors import S2SError

SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class DemoCorpusConfig:
    seed: int = 1
    train: int = 12000
    dev: int = 200
    test: int = 500
    source_lang: str = "en"
    target_lang: str = "de"


@dataclass(frozen=True)
class _Noun:
    en_sg: str
    en_pl: str
    de_sg: str
    de_pl: str
    gender: str  # "m", "f" or "n"


_NOUNS = ([_Noun(*n, "m") for n in lex.MASCULINE] + [_Noun(*n, "f") for n in lex.FEMININE]
          + [_Noun(*n, "n") for n in lex.NEUTER])
_PLACES = [n for n in _NOUNS if n.en_sg in lex.PLACES]

# German determiners by (case, gender); "pl" is the plural of every gender.
_DETERMINERS = {
    "the": {("nom", "m"): "der", ("nom", "f"): "die", ("nom", "n"): "das", ("nom", "pl"): "die",
            ("acc", "m"): "den", ("acc", "f"): "die", ("acc", "n"): "das", ("acc", "pl"): "die"},
    "this": {("nom", "m"): "dieser", ("nom", "f"): "diese", ("nom", "n"): "dieses", ("nom", "pl"): "diese",
             ("acc", "m"): "diesen", ("acc", "f"): "diese", ("acc", "n"): "dieses", ("acc", "pl"): "diese"},
    "a": {("nom", "m"): "ein", ("nom", "f"): "eine", ("nom", "n"): "ein",
          ("acc", "m"): "einen", ("acc", "f"): "eine", ("acc", "n"): "ein"},
    "my": {("nom", "m"): "mein", ("nom", "f"): "meine", ("nom", "n"): "mein", ("nom", "pl"): "meine",
           ("acc", "m"): "meinen", ("acc", "f"): "meine", ("acc", "n"): "mein", ("acc", "pl"): "meine"},
}
_ENGLISH_PLURAL_DET = {"the": "the", "this": "these", "my": "my"}
# Adjective endings: weak after der/dieser, mixed after ein/mein (which show no gender),
# strong after a bare number (zwei, viele), which shows no case; None stands for no article.
_WEAK = {("nom", "m"): "e", ("nom", "f"): "e", ("nom", "n"): "e", ("acc", "m"): "en",
         ("acc", "f"): "e", ("acc", "n"): "e", ("nom", "pl"): "en", ("acc", "pl"): "en"}
_MIXED = {**_WEAK, ("nom", "m"): "er", ("nom", "n"): "es", ("acc", "n"): "es"}
_STRONG_PLURAL = {("nom", "pl"): "e", ("acc", "pl"): "e"}
_ADJ_ENDINGS = {"the": _WEAK, "this": _WEAK, "a": _MIXED, "my": _MIXED, None: _STRONG_PLURAL}


def decline_adjective(stem: str, article: str | None, case: str, gender: str) -> str:
    """The German adjective after `article` ("the", "this", "a", "my", or None after a number).

    `gender` is "m", "f", "n" or "pl". A stem's final e is the ending's own: müde, müden, müdes.
    """
    ending = _ADJ_ENDINGS[article][(case, gender)]
    return (stem[:-1] if stem.endswith("e") else stem) + ending


def _capitalise(text: str) -> str:
    return text[0].upper() + text[1:]


def _english_article(article: str, next_word: str) -> str:
    return "an" if article == "a" and next_word[0] in "aeiou" else article


def _noun_phrase(rng: random.Random, case: str) -> tuple[str, str, bool]:
    """Returns (English, German, is_plural)."""
    noun = rng.choice(_NOUNS)
    plural = rng.random() < 0.3
    adjective = rng.choice(lex.ADJECTIVES) if rng.random() < 0.4 else None
    en_noun, de_noun = (noun.en_pl, noun.de_pl) if plural else (noun.en_sg, noun.de_sg)
    if plural and rng.random() < 0.3:
        en_num, de_num = rng.choice(lex.NUMBERS)
        en = [en_num] + ([adjective[0]] if adjective else []) + [en_noun]
        de = [de_num] + ([decline_adjective(adjective[1], None, case, "pl")] if adjective else []) + [de_noun]
        return " ".join(en), " ".join(de), True
    article = rng.choice(["the", "this", "my"] if plural else ["the", "a", "this", "my"])
    key = (case, "pl" if plural else noun.gender)
    en = ([adjective[0]] if adjective else []) + [en_noun]
    de_adjective = [decline_adjective(adjective[1], article, *key)] if adjective else []
    de = [_DETERMINERS[article][key]] + de_adjective + [de_noun]
    en_article = _ENGLISH_PLURAL_DET[article] if plural else _english_article(article, en[0])
    return " ".join([en_article] + en), " ".join(de), plural


def _verb(rng: random.Random, plural: bool) -> tuple[str, str]:
    en_pl, en_sg, de_sg, de_pl = rng.choice(lex.VERBS)
    return (en_pl, de_pl) if plural else (en_sg, de_sg)


def _clause(rng: random.Random) -> tuple[str, str]:
    """A subordinate clause: German puts its finite verb last."""
    en_conj, de_conj = rng.choice(lex.CONJUNCTIONS)
    en_subj, de_subj, plural = _noun_phrase(rng, "nom")
    if rng.random() < 0.5:
        en_adj, de_adj = rng.choice(lex.ADJECTIVES)
        en_cop, de_cop = ("are", "sind") if plural else ("is", "ist")
        return f"{en_conj} {en_subj} {en_cop} {en_adj}", f", {de_conj} {de_subj} {de_adj} {de_cop}"
    en_verb, de_verb = _verb(rng, plural)
    en_obj, de_obj, _ = _noun_phrase(rng, "acc")
    return f"{en_conj} {en_subj} {en_verb} {en_obj}", f", {de_conj} {de_subj} {de_obj} {de_verb}"


def sentence_pair(rng: random.Random) -> tuple[str, str]:
    """One English sentence and its German translation."""
    en_subj, de_subj, plural = _noun_phrase(rng, "nom")
    en_verb, de_verb = _verb(rng, plural)
    en_obj, de_obj, _ = _noun_phrase(rng, "acc")
    if rng.random() < 0.3:
        en_adv, de_adv = rng.choice(lex.TIME_ADVERBS)
        en = f"{en_adv} {en_subj} {en_verb} {en_obj}"
        de = f"{de_adv} {de_verb} {de_subj} {de_obj}"
    else:
        en = _capitalise(f"{en_subj} {en_verb} {en_obj}")
        de = _capitalise(f"{de_subj} {de_verb} {de_obj}")
    if rng.random() < 0.25:
        place = rng.choice(_PLACES)
        en += f" in the {place.en_sg}"
        de += f" {'in der' if place.gender == 'f' else 'im'} {place.de_sg}"
    if rng.random() < 0.3:
        en_clause, de_clause = _clause(rng)
        en += f" {en_clause}"
        de += de_clause
    return en + ".", de + "."


def generate(config: DemoCorpusConfig) -> Iterator[tuple[str, str]]:
    """Distinct sentence pairs in a deterministic order, enough for every split."""
    rng = random.Random(config.seed)
    wanted = config.train + config.dev + config.test
    seen: set[str] = set()
    attempts = 0
    while len(seen) < wanted:
        attempts += 1
        if attempts > 20 * wanted:
            raise S2SError(f"demo corpus: could not draw {wanted} distinct sentences; ask for fewer")
        en, de = sentence_pair(rng)
        if en not in seen:
            seen.add(en)
            yield en, de


def write_demo_corpus(out_dir: Path, config: DemoCorpusConfig) -> dict[str, tuple[Path, Path]]:
    """Writes train/dev/test files as SPLIT.LANG; returns {split: (source, target)}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sizes = {"train": config.train, "dev": config.dev, "test": config.test}
    pairs = generate(config)
    paths = {}
    # Held-out splits are drawn first so that their size never depends on the train size.
    for split in ("test", "dev", "train"):
        src = out_dir / f"{split}.{config.source_lang}"
        trg = out_dir / f"{split}.{config.target_lang}"
        with open(src, "w", encoding="utf-8") as fs, open(trg, "w", encoding="utf-8") as ft:
            for _ in range(sizes[split]):
                en, de = next(pairs)
                fs.write(en + "\n")
                ft.write(de + "\n")
        paths[split] = (src, trg)
    return paths
