"""`s2s evaluate`: translate a test set and score it with sacreBLEU."""
import logging
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from data_prep.corpus import data_set_name, file_sha256, read_parallel
from data_prep.errors import S2SError
from seq2seq.scoring import Scores, score
from seq2seq.translator import DecodeConfig, DecodeOptions, Translator

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TestResult:
    name: str
    source_sha256: str
    reference_sha256: str
    scores: Scores


def evaluate(translator: Translator, source: Path, reference: Path, name: str | None = None,
             options: DecodeOptions = DecodeOptions()) -> TestResult:
    """Translates `source` and scores it against `reference` (plain or .gz)."""
    pairs = list(read_parallel(source, reference))
    if not pairs:
        raise S2SError(f"{source}: the test set is empty")
    sources = [src for src, _ in pairs]
    references = [ref.strip() for _, ref in pairs]
    hypotheses = list(tqdm(translator.translate_stream(iter(sources), options), total=len(sources), unit="sent",
                           desc=f"translating {source.name}", leave=False, disable=None))
    result = TestResult(name=name or data_set_name(source), source_sha256=file_sha256(source),
                        reference_sha256=file_sha256(reference), scores=score(hypotheses, references))
    logger.info("%s: BLEU %.2f chrF %.2f on %d sentences", result.name, result.scores.bleu,
                result.scores.chrf, result.scores.sentences)
    return result


def evaluate_with_int8(model_dir: Path, subword_dir: Path, source: Path, reference: Path,
                       name: str | None = None) -> tuple[TestResult, TestResult]:
    """Scores a model as trained and quantised to int8, so that a version records what int8
    serving would cost in BLEU."""
    results = []
    for dtype in ("float32", "int8"):
        results.append(evaluate(Translator(model_dir, subword_dir, DecodeConfig(dtype=dtype)), source, reference, name))
    logger.info("int8 changes test BLEU by %+.2f", results[1].scores.bleu - results[0].scores.bleu)
    return results[0], results[1]
