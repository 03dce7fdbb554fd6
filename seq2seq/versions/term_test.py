"""A terms test (`s2s evaluate --terms`, `s2s publish --terms-test FILE`): the term use rate, WMT
2021's exact-match term accuracy, of a model translating with a glossary, on the test sentences
that contain one of its terms. BLEU stays the score without a glossary; this is scored beside it."""
import logging
from dataclasses import dataclass
from pathlib import Path

from data_prep.corpus import data_set_name, file_sha256, read_lines
from data_prep.errors import S2SError
from data_prep.termbase import read_termbase
from data_prep.terms import Glossary, term_use
from seq2seq.engines.choice import ModelFiles
from seq2seq.engines.term_translation import translate_with_terms
from seq2seq.engines.translator import DecodeOptions, TextTranslator
from seq2seq.versions.evaluate import open_scored

logger = logging.getLogger(__name__)


def require_trained(name: str, terms: dict) -> None:
    """Refuses a model that was not trained to carry placeholders: its term use would measure nothing."""
    if not terms.get("trained"):
        why = f" ({terms['why']})" if terms.get("why") else ""
        raise S2SError(f"{name} was not trained to apply terms{why}, so it has no term use to score; train a model "
                       "on data that `s2s prepare` annotated with terms (its default, not --no-terms)")


@dataclass(frozen=True)
class TermsTest:
    """A term file's glossary for one language pair, read and checked before any translating."""
    file: Path
    sha256: str
    glossary: Glossary

    @classmethod
    def load(cls, path: Path, source_lang: str, target_lang: str) -> "TermsTest":
        path = Path(path)
        termbase = read_termbase(path)  # its errors name FILE:LINE
        try:
            glossary = Glossary.from_pairs(termbase.terms(source_lang, target_lang))
        except S2SError as e:
            raise S2SError(f"{path}: {e}") from None
        return cls(path, file_sha256(path), glossary)

    def score(self, translator: TextTranslator, source: Path, options: DecodeOptions = DecodeOptions()) -> dict:
        """What version.json records under "terms" → "term_use": the term file's name and sha256, its
        entries, the test set's, the sentences with terms, their term occurrences, hits, and the percent."""
        sentences = [s for s in read_lines(source) if self.glossary.find(s)]
        if not sentences:
            raise S2SError(f"{self.file}: none of its {len(self.glossary)} terms occurs in {source}; give terms "
                           "that the test set uses")
        outputs = translate_with_terms(translator, sentences, self.glossary, options)
        hits, total = term_use(sentences, [o.translation for o in outputs], self.glossary)
        record = {"file": self.file.name, "sha256": self.sha256, "entries": len(self.glossary),
                  "test": data_set_name(source), "source_sha256": file_sha256(source), "sentences": len(sentences),
                  "occurrences": total, "hits": hits, "percent": round(100 * hits / total, 2)}
        logger.info("%s: term use %.2f%% (%d of %d term occurrences) in %d sentences of %s", self.file.name,
                    record["percent"], hits, total, len(sentences), record["test"])
        return record

    def score_model(self, model: ModelFiles, score_key: str, source: Path, options: DecodeOptions) -> dict:
        """The record of `score`, translated with the engine and precision of `score_key` ("ctranslate2-int8",
        seq2seq/versions/evaluate.py score_key), which it names under "engine"."""
        return {**self.score(open_scored(model, score_key), source, options), "engine": score_key}
