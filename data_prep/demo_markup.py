"""A tagged test set from demo sentences, for measuring how well inline markup is placed: words whose
German the demo lexicon gives are wrapped in inline HTML tags (`b`, `i`, `a href`, `span`), one or
two a sentence, sometimes nested (a tag around an adjective and its noun, another around the noun).

Each tag carries `data-k`, so that it can be found in the translation; a tag is placed right when
its element there holds the lexicon's German for each word it held (nouns in either number,
adjectives by their stem, verbs in either person) and no more words than it held.
"""
import html
import random
import re
from dataclasses import dataclass

from data_prep import demo_lexicon as lex

TAGS = (("b", ""), ("i", ""), ("a", ' href="https://example.com/"'), ("span", ' class="term"'))


def german_forms() -> dict[str, tuple[str, ...]]:
    """Each single English word of the lexicon, lower-cased, with the German forms (or stems) it may take."""
    forms: dict[str, set[str]] = {}
    for gender in (lex.MASCULINE, lex.FEMININE, lex.NEUTER):
        for singular, plural, german, german_plural in gender:
            for english in (singular, plural):
                forms.setdefault(english, set()).update((german, german_plural))
    for english, stem in lex.ADJECTIVES:
        # A stem's final e is the ending's own (müde, müden): the stem without it matches every form.
        forms.setdefault(english, set()).add(stem[:-1] if stem.endswith("e") else stem)
    for plural, singular, german, german_plural in lex.VERBS:
        if " " not in plural:
            for english in (plural, singular):
                forms.setdefault(english, set()).update((german, german_plural))
    return {english: tuple(sorted(german)) for english, german in forms.items()}


@dataclass(frozen=True)
class Tagged:
    """One tagged word or pair of words: the tag's key, and the English words it wraps."""
    key: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class TaggedSentence:
    html: str
    plain: str
    tags: tuple[Tagged, ...]


_WORD = re.compile(r"[A-Za-z]+")


def tag_sentence(sentence: str, rng: random.Random, counter: list[int]) -> TaggedSentence | None:
    """The sentence with one or two of its lexicon words tagged (a pair nested one time in four), or None
    when it has none."""
    forms = german_forms()
    words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(sentence) if m.group().lower() in forms]
    if not words:
        return None
    chosen = sorted(rng.sample(words, min(len(words), rng.choice((1, 2)))))
    opens: dict[int, list[str]] = {}
    closes: dict[int, list[str]] = {}
    tags = []

    def wrap(start: int, end: int, covered: tuple[str, ...]) -> None:
        name, attributes = rng.choice(TAGS)
        counter[0] += 1
        key = str(counter[0])
        opens.setdefault(start, []).append(f'<{name}{attributes} data-k="{key}">')
        closes.setdefault(end, []).insert(0, f"</{name}>")
        tags.append(Tagged(key, covered))

    nested = False
    if len(chosen) == 2 and rng.random() < 0.25:
        (s1, e1, w1), (s2, e2, w2) = chosen
        if not _WORD.search(sentence[e1:s2]) and s2 - e1 == 1:  # adjacent words: an outer tag around both
            wrap(s1, e2, (w1, w2))
            wrap(s2, e2, (w2,))
            nested = True
    if not nested:
        for start, end, word in chosen:
            wrap(start, end, (word,))
    out, pos = [], 0
    for i in sorted(set(opens) | set(closes)):
        out.append(html.escape(sentence[pos:i], quote=False))
        out += closes.get(i, []) + opens.get(i, [])
        pos = i
    out.append(html.escape(sentence[pos:], quote=False))
    return TaggedSentence("".join(out), sentence, tuple(tags))


def tagged_set(sentences: list[str], seed: int = 7) -> list[TaggedSentence]:
    rng = random.Random(seed)
    counter = [0]
    return [t for t in (tag_sentence(s, rng, counter) for s in sentences) if t is not None]


def translated(tagged: Tagged, text: str) -> bool:
    """Whether the German of each word a tag held is in the translation at all."""
    forms = german_forms()
    found = _WORD_DE.findall(text)
    return all(any(any(word.lower().startswith(f.lower()) for f in forms[english.lower()]) for word in found)
               for english in tagged.words)


def placed(tagged: Tagged, element_text: str) -> bool:
    """Whether a tag's element in the translation holds the German of each word it held, and no more words."""
    forms = german_forms()
    found = _WORD_DE.findall(element_text)
    if not found or len(found) > len(tagged.words):
        return False
    return all(any(any(word.lower().startswith(f.lower()) for f in forms[english.lower()]) for word in found)
               for english in tagged.words)


_WORD_DE = re.compile(r"\w+")
