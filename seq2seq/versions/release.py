"""Publishing a finished training run: convert it for CTranslate2, score it on the test set with
every engine, and publish the version. `s2s publish`, the SageMaker job and the demo do this."""
import logging
import tempfile
from pathlib import Path

from data_prep.errors import S2SError
from data_prep.prepared_dir import PreparedDir
from seq2seq.engines.choice import ModelFiles
from seq2seq.engines.ct2_convert import convert
from seq2seq.engines.translator import SOCKEYE_DECODING
from seq2seq.versions.decoding import CHOSEN, DEFAULT_BUDGET, SOCKEYE_MODE, check_budget, options_from, sockeye_only
from seq2seq.versions.decoding_choice import choose
from seq2seq.versions.evaluate import TestResult, engine_runs, evaluate_engines
from seq2seq.versions.lineage import check_test_set, find_parent
from seq2seq.versions.review_set import ReviewSet
from seq2seq.versions.run_dir import RunDir
from seq2seq.versions.store import publish
from seq2seq.versions.term_test import TermsTest, require_trained
from seq2seq.versions.version import EXPORT_DIR, Version

logger = logging.getLogger(__name__)


def _decoding(model: ModelFiles, summary: dict, mode: str, budget: float) -> dict:
    """The version's decoding record: options chosen on the run's dev set (seq2seq/versions/decoding.py),
    or Sockeye's, and why."""
    if mode == SOCKEYE_MODE:
        return sockeye_only("asked for (--decoding sockeye)")
    if model.export_dir is None or model.export_problem:
        return sockeye_only("no CTranslate2 export to choose on")
    prepared = PreparedDir(Path(summary["prepared"]))
    dev_source, dev_target = prepared.text("dev", "source"), prepared.text("dev", "target")
    if not (dev_source.is_file() and dev_target.is_file()):
        return sockeye_only(f"no dev set at {prepared.root}")
    return choose(model, dev_source, dev_target, budget)


def release(run_dir: Path, store: Path, test_source: Path, test_target: Path,
            name: str | None = None, review_test: Path | None = None,
            terms_test: Path | None = None, decoding: str = CHOSEN,
            budget: float = DEFAULT_BUDGET) -> tuple[Version, dict[str, TestResult]]:
    """Publishes the run as a version scored on the test set, on `review_test` (a TSV) and with the
    glossary of `terms_test` (a term file; seq2seq/versions/term_test.py) when given; returns it and
    its scores, the headline first. Its decoding options are chosen on the run's dev set within
    `budget`, unless `decoding` is "sockeye"; every score is with them. A model the converter refuses
    is published without an export, with the reason. A fine-tuned run must be scored on its parent's
    test set."""
    check_budget(budget)
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
        chosen = _decoding(model, summary, decoding, budget)
        options = options_from(chosen)
        results = evaluate_engines(model, test_source, test_target, name, options)
        if options != SOCKEYE_DECODING:  # the test BLEU before the choice, on the headline engine
            (before,) = evaluate_engines(model, test_source, test_target, name, SOCKEYE_DECODING,
                                         engine_runs(model)[:1]).values()
            chosen["sockeye"]["test_bleu"] = before.scores.bleu
        headline = next(iter(results))
        review = review_set.score(model, headline, find_parent(summary, store), options) if review_set else None
        term_use = terms.score_model(model, headline, test_source, options) if terms else None
        version = publish(run_dir, store, results, export, refused, review, term_use, chosen)
    return version, results
