"""sacreBLEU scores, the only scores this project reports."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Scores:
    bleu: float
    chrf: float
    bleu_signature: str
    chrf_signature: str
    sentences: int


def score(hypotheses: list[str], references: list[str]) -> Scores:
    """Corpus BLEU and chrF of detokenized hypotheses against one reference each."""
    # Imported here: sacreBLEU takes 65 ms to import, and the command line and the server, which read
    # scores but never compute them, import this module.
    from sacrebleu.metrics import BLEU, CHRF

    bleu, chrf = BLEU(), CHRF()
    return Scores(
        bleu=round(bleu.corpus_score(hypotheses, [references]).score, 2),
        chrf=round(chrf.corpus_score(hypotheses, [references]).score, 2),
        bleu_signature=str(bleu.get_signature()),
        chrf_signature=str(chrf.get_signature()),
        sentences=len(hypotheses),
    )
