"""Term pairs mined from a parallel corpus itself, for teaching a model to apply terms when the user
has no term base: eflomal's word alignments, both directions intersected, keep the content words
that align one to one.

What is mined need not be terminology: the model learns the skill "carry the placeholder that
stands for a term", and any reliably aligned content word teaches it as well as a real term would.
"""
import logging
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from data_prep.errors import S2SError

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"\w+|[^\w\s]")
# Words in more than this share of a side's sentences are function words (articles, prepositions),
# whose alignment is the least reliable and which nobody puts in a glossary. A count of the most
# frequent words instead left out the demo's place nouns (im Park, im Garten: 2.6% of sentences
# each), and a model never trained on a placeholder after "im" dropped it there (89% term use).
FUNCTION_WORD_SHARE = 0.1
MIN_LETTERS = 3


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class TermPair:
    """One aligned word pair of a sentence pair, as character spans of the source and the target."""
    source: Span
    target: Span


def tokens(text: str) -> list[re.Match]:
    return list(_TOKEN.finditer(text))


def _links(line: str) -> set[tuple[int, int]]:
    return {(int(i), int(j)) for i, j in (link.split("-") for link in line.split())}


def _frequent(sentences: list[list[re.Match]]) -> set[str]:
    in_sentences = Counter(word for sentence in sentences for word in {m.group().casefold() for m in sentence})
    return {word for word, n in in_sentences.items() if n > FUNCTION_WORD_SHARE * len(sentences)}


def _content(match: re.Match, frequent: set[str]) -> bool:
    word = match.group()
    return word.isalpha() and len(word) >= MIN_LETTERS and word.casefold() not in frequent


def mine_term_pairs(sources: list[str], targets: list[str]) -> list[list[TermPair]]:
    """Per sentence pair, its one-to-one aligned content words (those in both directions' alignments)."""
    try:
        import eflomal
    except ImportError:
        raise S2SError("mining term pairs needs eflomal (pip install eflomal), or give a term base "
                       "(--termbase), or turn term annotation off (--no-terms)") from None
    if len(sources) != len(targets):
        raise S2SError(f"{len(sources)} source lines but {len(targets)} target lines")
    source_tokens = [tokens(s) for s in sources]
    target_tokens = [tokens(t) for t in targets]
    with tempfile.TemporaryDirectory(prefix="s2s-align-") as tmp:
        forward, reverse = Path(tmp) / "fwd", Path(tmp) / "rev"
        eflomal.Aligner().align([" ".join(m.group().casefold() for m in s) for s in source_tokens],
                                [" ".join(m.group().casefold() for m in t) for t in target_tokens],
                                links_filename_fwd=str(forward), links_filename_rev=str(reverse), quiet=True)
        fwd_lines = forward.read_text(encoding="utf-8").splitlines()
        rev_lines = reverse.read_text(encoding="utf-8").splitlines()
    frequent_source, frequent_target = _frequent(source_tokens), _frequent(target_tokens)
    pairs = []
    for s_tok, t_tok, fwd, rev in zip(source_tokens, target_tokens, fwd_lines, rev_lines):
        both = _links(fwd) & _links(rev)
        per_source, per_target = Counter(i for i, _ in both), Counter(j for _, j in both)
        found = [TermPair(Span(s_tok[i].start(), s_tok[i].end()), Span(t_tok[j].start(), t_tok[j].end()))
                 for i, j in sorted(both)
                 if per_source[i] == 1 and per_target[j] == 1
                 and _content(s_tok[i], frequent_source) and _content(t_tok[j], frequent_target)]
        pairs.append(found)
    logger.info("mined %d term pairs in %d of %d sentence pairs", sum(map(len, pairs)),
                sum(1 for p in pairs if p), len(pairs))
    return pairs
