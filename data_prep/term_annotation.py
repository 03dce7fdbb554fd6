"""Term annotation of training pairs: a share of the pairs has a term replaced by a placeholder on
both sides, so that the model learns to carry a placeholder from the source to its place in the
translation; at inference s2s puts a glossary's target term where the placeholder came out.

This is Dinu et al.'s (ACL 2019) train-by-replace with the term behind a placeholder: a tiny
model trained to copy the annotated target term itself did not learn to copy words it had never
seen (0 to 5% term use on the demo); carrying one reserved token it learns in 1,000 updates.
Term pairs come from the user's term base where it has them, else from the corpus's own word
alignments (data_prep/term_mining.py).
"""
import random
import re
from dataclasses import dataclass
from pathlib import Path

from data_prep.term_mining import Span, TermPair, mine_term_pairs
from data_prep.termbase import read_termbase
from data_prep.terms import PLACEHOLDERS, Glossary, with_placeholders


def _how_many(rng: random.Random, available: int) -> int:
    """Mostly one term, as glossaries mostly match, and sometimes up to ten, so that every placeholder
    is trained: at inference a sentence's n-th distinct term is ⟦n-1⟧."""
    draw = rng.random()
    wanted = 1 if draw < 0.6 else 2 if draw < 0.85 else rng.randint(3, len(PLACEHOLDERS))
    return min(wanted, available)


@dataclass(frozen=True)
class TermAnnotationConfig:
    # The share of training pairs with a term pair that are annotated (in place, not copied).
    ratio: float = 0.3
    # The user's terms (Amazon Translate's CSV, TSV or TMX), used before mined ones.
    termbase: Path | None = None
    seed: int = 1


@dataclass
class AnnotationCounts:
    pairs: int = 0
    with_candidates: int = 0
    annotated: int = 0
    terms: int = 0
    from_termbase: int = 0

    def as_dict(self) -> dict:
        return {"pairs": self.pairs, "pairs_with_term_pairs": self.with_candidates, "annotated_pairs": self.annotated,
                "annotated_terms": self.terms, "from_termbase": self.from_termbase}


def _termbase_pairs(glossary: Glossary, source: str, target: str) -> list[TermPair]:
    """The term base's terms found in the source whose target term is in the target, as spans."""
    found = []
    for match in glossary.find(source):
        hit = re.search(r"(?<!\w)" + re.escape(match.target) + r"(?!\w)", target, re.IGNORECASE)
        if hit:
            found.append(TermPair(Span(match.start, match.end), Span(hit.start(), hit.end())))
    return found


def _disjoint(pairs: list[TermPair]) -> list[TermPair]:
    kept: list[TermPair] = []
    for pair in pairs:
        if all(pair.source.end <= k.source.start or k.source.end <= pair.source.start for k in kept) and \
           all(pair.target.end <= k.target.start or k.target.end <= pair.target.start for k in kept):
            kept.append(pair)
    return kept


def annotate(sources: list[str], targets: list[str], config: TermAnnotationConfig,
             source_lang: str, target_lang: str) -> tuple[list[str], list[str], AnnotationCounts]:
    """Annotates `config.ratio` of the pairs that have term pairs; returns the new lists and counts."""
    rng = random.Random(config.seed)
    glossary = None
    if config.termbase is not None:
        glossary = Glossary.from_pairs(read_termbase(config.termbase).terms(source_lang, target_lang))
    mined = mine_term_pairs(sources, targets)
    counts = AnnotationCounts(pairs=len(sources))
    out_sources, out_targets = list(sources), list(targets)
    for k, (source, target) in enumerate(zip(sources, targets)):
        from_termbase = _termbase_pairs(glossary, source, target) if glossary else []
        candidates = _disjoint(from_termbase + mined[k])
        if not candidates:
            continue
        counts.with_candidates += 1
        if rng.random() >= config.ratio:
            continue
        preferred = [c for c in candidates if c in from_termbase] or candidates
        chosen = sorted(rng.sample(preferred, _how_many(rng, len(preferred))), key=lambda c: c.source.start)
        # Numbered in the source's order of first appearance, the same word with the same number, as
        # to_model numbers a sentence's terms at inference.
        number: dict[str, int] = {}
        for c in chosen:
            number.setdefault(source[c.source.start:c.source.end].casefold(), len(number))
        index = [number[source[c.source.start:c.source.end].casefold()] for c in chosen]
        out_sources[k] = with_placeholders(source, [(c.source.start, c.source.end, i) for c, i in zip(chosen, index)])
        out_targets[k] = with_placeholders(target, [(c.target.start, c.target.end, i) for c, i in zip(chosen, index)])
        counts.annotated += 1
        counts.terms += len(chosen)
        counts.from_termbase += sum(1 for c in chosen if c in from_termbase)
    return out_sources, out_targets, counts
