"""`s2s evaluate`: translate a test set and score it with sacreBLEU."""
import logging
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from data_prep.corpus import data_set_name, file_sha256, read_parallel
from data_prep.errors import S2SError
from seq2seq.engines.choice import CTRANSLATE2, SOCKEYE, ModelFiles, open_translator
from seq2seq.engines.translator import DecodeConfig, DecodeOptions, TextTranslator
from seq2seq.versions.scoring import Scores, score

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TestResult:
    name: str
    source_sha256: str
    reference_sha256: str
    scores: Scores


def evaluate(translator: TextTranslator, source: Path, reference: Path, name: str | None = None,
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


def score_key(engine: str, dtype: str) -> str:
    """How version.json names a score: "ctranslate2-int8"."""
    return f"{engine}-{dtype}"


def open_scored(model: ModelFiles, key: str) -> TextTranslator:
    """The model on the engine and precision of a score key (score_key); no engine's name has a "-"."""
    engine, dtype = key.split("-", 1)
    translator, _ = open_translator(model, engine, DecodeConfig(dtype=dtype))
    return translator


def engine_runs(model: ModelFiles) -> list[tuple[str, str]]:
    """Each engine and precision that can serve a model, the headline first: CTranslate2 in float32
    and int8 and Sockeye in float32 where the model has an export, else Sockeye in float32 and int8."""
    usable_export = model.export_dir is not None and model.export_problem is None
    return ([(CTRANSLATE2, "float32"), (SOCKEYE, "float32"), (CTRANSLATE2, "int8")] if usable_export
            else [(SOCKEYE, "float32"), (SOCKEYE, "int8")])


def evaluate_engines(model: ModelFiles, source: Path, reference: Path, name: str | None = None,
                     options: DecodeOptions = DecodeOptions(),
                     runs: list[tuple[str, str]] | None = None) -> dict[str, TestResult]:
    """Scores a model on each of `runs` (default: engine_runs), so that a version records what each
    gives. The first is the version's headline score."""
    results = {}
    for engine, dtype in runs or engine_runs(model):
        translator, _ = open_translator(model, engine, DecodeConfig(dtype=dtype))
        results[score_key(engine, dtype)] = evaluate(translator, source, reference, name, options)
    return results
