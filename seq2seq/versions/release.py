"""Publishing a finished training run: convert it for CTranslate2, score it on the test set with
every engine, and publish the version. `s2s publish`, the SageMaker job and the demo do this."""
import logging
import tempfile
from pathlib import Path

from data_prep.errors import S2SError
from seq2seq.engines.choice import ModelFiles
from seq2seq.engines.ct2_convert import convert
from seq2seq.versions.evaluate import TestResult, evaluate_engines
from seq2seq.versions.lineage import check_test_set, find_parent
from seq2seq.versions.review_set import ReviewSet
from seq2seq.versions.run_dir import RunDir
from seq2seq.versions.store import publish
from seq2seq.versions.term_test import TermsTest, require_trained
from seq2seq.versions.version import EXPORT_DIR, Version

logger = logging.getLogger(__name__)


def release(run_dir: Path, store: Path, test_source: Path, test_target: Path,
            name: str | None = None, review_test: Path | None = None,
            terms_test: Path | None = None) -> tuple[Version, dict[str, TestResult]]:
    """Publishes the run as a version scored on the test set, on `review_test` (a TSV) and with the
    glossary of `terms_test` (a term file; seq2seq/versions/term_test.py) when given; returns it and
    its scores, the headline first. A model the converter refuses is published without an export,
    with the reason. A fine-tuned run must be scored on its parent's test set."""
    run = RunDir(run_dir)
    summary = run.read_summary()
    if "init_from" in summary:
        check_test_set(summary["init_from"]["test"], summary["init_from"]["version"], test_source, test_target)
    review_set = ReviewSet.load(review_test) if review_test else None
    terms = None
    if terms_test:
        require_trained(f"the run {run_dir}", summary.get("terms", {"trained": False}))
        terms = TermsTest.load(terms_test, summary["source_lang"], summary["target_lang"])
    with tempfile.TemporaryDirectory(prefix="s2s-export-") as tmp:
        export, refused = Path(tmp) / EXPORT_DIR, None
        export.mkdir()
        try:
            convert(run.model, export)
        except S2SError as e:
            logger.warning("publishing without a CTranslate2 export, to be translated by Sockeye: %s", e)
            export, refused = None, str(e)
        model = ModelFiles(name=str(run_dir), model_dir=run.model, subword_dir=run.root, export_dir=export,
                           export_problem=refused)
        results = evaluate_engines(model, test_source, test_target, name)
        review = review_set.score(model, next(iter(results)), find_parent(summary, store)) if review_set else None
        term_use = terms.score_model(model, next(iter(results)), test_source) if terms else None
        version = publish(run_dir, store, results, export, refused, review, term_use)
    return version, results
