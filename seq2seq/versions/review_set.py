"""A review test set (`s2s publish --review-test FILE.tsv`): source<TAB>target lines that people
corrected, scored beside the original test set, so that a fine-tuned version shows what it gained
on them and the promotion gate what it lost on the original."""
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from data_prep.corpus import data_set_name, file_sha256, read_tsv
from data_prep.errors import S2SError
from seq2seq.engines.choice import ModelFiles
from seq2seq.engines.translator import DecodeOptions
from seq2seq.versions.evaluate import TestResult, evaluate, open_scored
from seq2seq.versions.version import Version

logger = logging.getLogger(__name__)


def _score(model: ModelFiles, score_key: str, source: Path, reference: Path, name: str,
           options: DecodeOptions) -> TestResult:
    return evaluate(open_scored(model, score_key), source, reference, name, options)


@dataclass(frozen=True)
class ReviewSet:
    tsv: Path
    pairs: tuple[tuple[str, str], ...]

    @classmethod
    def load(cls, tsv: Path) -> "ReviewSet":
        """Reads the whole file first, so that a malformed line stops `s2s publish` before any scoring."""
        pairs = tuple(read_tsv(Path(tsv)))
        if not pairs:
            raise S2SError(f"{tsv}: the review test set is empty; give source<TAB>target lines")
        return cls(Path(tsv), pairs)

    def score(self, model: ModelFiles, score_key: str, baseline: Version | None, options: DecodeOptions) -> dict:
        """What version.json records under "review_test": the model's BLEU and chrF with the engine and
        precision of its headline score and its decoding `options`, and those of the `baseline` version
        (the one it was fine-tuned from) on its own headline engine and options, to show the change."""
        name = data_set_name(self.tsv)
        with tempfile.TemporaryDirectory(prefix="s2s-review-") as tmp:
            # The two sides as evaluate() reads a test set, so that both sets are scored alike.
            source, reference = Path(tmp) / "source", Path(tmp) / "reference"
            source.write_text("".join(src + "\n" for src, _ in self.pairs), encoding="utf-8")
            reference.write_text("".join(trg + "\n" for _, trg in self.pairs), encoding="utf-8")
            result = _score(model, score_key, source, reference, name, options)
            record = {"name": name, "sha256": file_sha256(self.tsv), "engine": score_key,
                      "bleu": result.scores.bleu, "chrf": result.scores.chrf, "sentences": result.scores.sentences}
            if baseline is not None:
                key = baseline.info["test"].get("engine", "sockeye-float32")
                base = _score(baseline.model_files(), key, source, reference, name, baseline.decoding)
                record["baseline"] = {"version": baseline.id, "engine": key, "bleu": base.scores.bleu,
                                      "chrf": base.scores.chrf}
        return record
