"""`s2s evaluate`: translate a test set and score it with sacreBLEU."""
import logging
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from data_prep.corpus import data_set_name, file_sha256, read_parallel
from data_prep.errors import S2SError
from seq2seq.scoring import Scores, score
from seq2seq.translator import Translator

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TestResult:
    name: str
    source_sha256: str
    reference_sha256: str
    scores: Scores


def evaluate(translator: Translator, source: Path, reference: Path, name: str | None = None) -> TestResult:
    """Translates `source` and scores it against `reference` (plain or .gz)."""
    pairs = list(read_parallel(source, reference))
    if not pairs:
        raise S2SError(f"{source}: the test set is empty")
    sources = [src for src, _ in pairs]
    references = [ref.strip() for _, ref in pairs]
    hypotheses = list(tqdm(translator.translate_stream(iter(sources)), total=len(sources), unit="sent",
                           desc=f"translating {source.name}", leave=False, disable=None))
    result = TestResult(name=name or data_set_name(source), source_sha256=file_sha256(source),
                        reference_sha256=file_sha256(reference), scores=score(hypotheses, references))
    logger.info("%s: BLEU %.2f chrF %.2f on %d sentences", result.name, result.scores.bleu,
                result.scores.chrf, result.scores.sentences)
    return result
