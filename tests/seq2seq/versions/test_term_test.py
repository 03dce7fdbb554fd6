"""Term use beside BLEU: `s2s evaluate --terms`, `s2s publish --terms-test`, `s2s models list`, and
the promotion gate on the term use rate. The demo model is trained to carry placeholders (`s2s prepare`
annotates terms by default); the glossary maps demo nouns to invented names that no training pair
has, so a hit is a term the model carried through, never a word it knew."""
import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from data_prep import demo_lexicon
from data_prep.corpus import file_sha256
from seq2seq.versions.gate import promotion_refusal
from seq2seq.versions.store import PROMOTE_TOLERANCE, TERM_USE_TOLERANCE, ModelStore
from seq2seq.versions.version import VERSION_JSON, Version
from tests.conftest import run_s2s

INVENTED = ("Kalozu", "Bertanvo", "Rixdulsen", "Pograzu", "Fenquami", "Tanmiber")


def _term_file(test_source: Path, path: Path) -> dict[str, str]:
    """The test set's most frequent demo nouns, each mapped to an invented name, written as a CSV."""
    lines = test_source.read_text(encoding="utf-8").splitlines()
    nouns = [n[0] for n in demo_lexicon.MASCULINE + demo_lexicon.FEMININE + demo_lexicon.NEUTER]
    counts = Counter({noun: sum(len(re.findall(rf"\b{noun}\b", line, re.I)) for line in lines) for noun in nouns})
    terms = {noun: name for (noun, _), name in zip(counts.most_common(len(INVENTED)), INVENTED)}
    path.write_text("en,de\n" + "".join(f"{s},{t}\n" for s, t in terms.items()), encoding="utf-8")
    return terms


def _expected(test_source: Path, terms: dict[str, str]) -> tuple[int, int]:
    """Sentences with a term and term occurrences, counted by regular expressions, not by the Glossary."""
    pattern = re.compile(r"\b(" + "|".join(terms) + r")\b", re.I)
    found = [len(pattern.findall(line)) for line in test_source.read_text(encoding="utf-8").splitlines()]
    return sum(n > 0 for n in found), sum(found)


@pytest.fixture(scope="module")
def terms_csv(demo, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("terms") / "terms.csv"
    return path, _term_file(demo[0] / "corpus" / "test.en", path)


@pytest.fixture(scope="module")
def published(demo, terms_csv, tmp_path_factory):
    """The demo run published with `--terms-test` into a store of its own, and what `s2s publish` printed."""
    store = tmp_path_factory.mktemp("terms_store") / "store"
    out = run_s2s("publish", str(demo[0] / "run"), "--store", str(store), "--terms-test", str(terms_csv[0]))
    assert out.returncode == 0, out.stderr
    (version,) = ModelStore(store).versions()
    return store, version, out.stdout


def test_the_demo_model_is_trained_for_terms(store):
    (version,) = ModelStore(store).versions()
    assert version.terms_trained, f"the demo model was not trained for terms: {version.terms}"


def test_evaluate_reports_term_use_beside_bleu_scored_without_the_glossary(demo, store, terms_csv, published):
    workdir, result = demo
    path, terms = terms_csv
    out = run_s2s("evaluate", "--store", str(store), "--source", str(workdir / "corpus" / "test.en"),
                  "--reference", str(workdir / "corpus" / "test.de"), "--terms", str(path))
    assert out.returncode == 0, out.stderr
    # BLEU is today's, translated without the glossary: with it, the invented names would cost BLEU.
    assert f"(500 sentences): BLEU {result['test_bleu']:.2f}" in out.stdout
    sentences, occurrences = _expected(workdir / "corpus" / "test.en", terms)
    printed = re.search(rf"^term use with terms.csv \({len(terms)} terms\) on the {sentences} sentences of test with "
                        rf"terms: (\d+\.\d\d)% \((\d+) of {occurrences} occurrences\)$", out.stdout, re.M)
    assert printed, out.stdout
    percent, hits = float(printed[1]), int(printed[2])
    assert percent == round(100 * hits / occurrences, 2)
    # No training pair has an invented name: each hit is a placeholder the model carried through (a
    # model not trained for terms scores 0; the demo model about 85).
    assert percent >= 50
    # One term use for one model: the published record of the same run on the same engine says the same.
    assert percent == published[1].terms["term_use"]["percent"]


def test_publish_records_the_term_use_with_the_headline_engine(demo, terms_csv, published):
    path, terms = terms_csv
    store, version, stdout = published
    version.verify()
    record = version.terms["term_use"]
    sentences, occurrences = _expected(demo[0] / "corpus" / "test.en", terms)
    assert version.terms_trained
    assert {k: record[k] for k in ("file", "sha256", "entries", "test", "source_sha256", "sentences", "occurrences",
                                   "engine")} == {
        "file": "terms.csv", "sha256": file_sha256(path), "entries": len(terms), "test": "test",
        "source_sha256": version.info["test"]["source_sha256"], "sentences": sentences, "occurrences": occurrences,
        "engine": version.info["test"]["engine"]}
    assert 0 < record["hits"] <= occurrences and record["percent"] == round(100 * record["hits"] / occurrences, 2)
    assert (f"term use with terms.csv ({len(terms)} terms) on the {sentences} sentences of test with terms: "
            f"{record['percent']:.2f}% ({record['hits']} of {occurrences} occurrences, {record['engine']})") in stdout
    listed = run_s2s("models", "list", "--store", str(store))
    assert f"term use {record['percent']:6.2f}% with terms.csv" in listed.stdout


def _untrained(path: Path) -> None:
    """Makes a version.json or run.json say that its model was not trained for terms. version.json is
    not among the files whose sha256 it records, so the version stays whole."""
    path.chmod(0o644)
    info = json.loads(path.read_text(encoding="utf-8"))
    info["terms"] = {"trained": False, "why": "term annotation turned off (--no-terms)"}
    path.write_text(json.dumps(info), encoding="utf-8")


def test_a_version_or_run_not_trained_for_terms_is_refused_before_any_translating(demo, store, terms_csv, tmp_path):
    workdir, _ = demo
    (version,) = ModelStore(store).versions()
    copy = tmp_path / "store"
    shutil.copytree(version.path, copy / version.id)
    _untrained(copy / version.id / VERSION_JSON)
    (untrained,) = ModelStore(copy).versions()
    untrained.verify()
    assert not untrained.terms_trained
    test = ["--source", str(workdir / "corpus" / "test.en"), "--reference", str(workdir / "corpus" / "test.de")]
    out = run_s2s("evaluate", "--store", str(copy), *test, "--terms", str(terms_csv[0]))
    assert out.returncode == 1
    assert (f"version {version.id} was not trained to apply terms (term annotation turned off (--no-terms))"
            in out.stderr)
    assert "BLEU" not in out.stdout
    # A run: publishing refuses it before converting or scoring anything, and publishes nothing.
    run = tmp_path / "run"
    run.mkdir()
    shutil.copyfile(workdir / "run" / "run.json", run / "run.json")
    _untrained(run / "run.json")
    out = run_s2s("publish", str(run), "--store", str(tmp_path / "new"), "--terms-test", str(terms_csv[0]),
                  "--test-source", test[1], "--test-target", test[3])
    assert out.returncode == 1 and f"the run {run} was not trained to apply terms" in out.stderr
    assert not (tmp_path / "new").exists()


def test_a_term_file_without_the_pair_or_without_test_terms_is_refused(demo, store, tmp_path):
    workdir, _ = demo
    test = ["--source", str(workdir / "corpus" / "test.en"), "--reference", str(workdir / "corpus" / "test.de")]
    french = tmp_path / "fr.csv"
    french.write_text("en,fr\ndog,chien\n", encoding="utf-8")
    out = run_s2s("evaluate", "--store", str(store), *test, "--terms", str(french))
    assert out.returncode == 1 and f"{french}: no en->de terms" in out.stderr
    unused = tmp_path / "unused.csv"
    unused.write_text("en,de\nzeppelin,Luftschiff\n", encoding="utf-8")
    out = run_s2s("evaluate", "--store", str(store), *test, "--terms", str(unused))
    assert out.returncode == 1 and f"{unused}: none of its 1 terms occurs in" in out.stderr


# The gate, on version records as version.json has them.
TEST = {"name": "test", "source_sha256": "a" * 64, "reference_sha256": "b" * 64, "chrf": 60.0}


def _term_use(percent: float, sha256: str = "c" * 64) -> dict:
    return {"file": "terms.csv", "sha256": sha256, "entries": 6, "test": "test", "source_sha256": "a" * 64,
            "sentences": 80, "occurrences": 90, "hits": round(90 * percent / 100), "percent": percent,
            "engine": "ctranslate2-float32"}


def _version(version_id: str, bleu: float = 40.0, term_use: dict | None = None,
             created: str = "2026-01-01T00:00:00+00:00") -> Version:
    info = {"id": version_id, "source_lang": "en", "target_lang": "de", "created": created,
            "test": dict(TEST, bleu=bleu),
            "terms": {"trained": True, **({"term_use": term_use} if term_use else {})}, "files": {}}
    return Version(Path(version_id), info)


def _refusal(version: Version, current: Version) -> str | None:
    return promotion_refusal(version, current, PROMOTE_TOLERANCE, TERM_USE_TOLERANCE)


def test_the_gate_refuses_a_term_use_drop_of_more_than_two_points_on_the_same_terms_test():
    assert TERM_USE_TOLERANCE == 2.0
    current = _version("current", term_use=_term_use(94.0))
    message = _refusal(_version("new", term_use=_term_use(91.5)), current)
    assert message == ("refusing to promote new: its term use rate with 'terms.csv' (sha256 cccccccccccc...) on test "
                       "is 91.50%, 2.50 points lower, more than 2.0 below the current default current (94.00% on the "
                       "same terms test); --force promotes it anyway")
    assert _refusal(_version("new", term_use=_term_use(92.5)), current) is None  # 1.5 lower
    # Exactly the tolerance passes, though 32.02 - 30.02 is a little over 2.0 in floats.
    assert _refusal(_version("new", term_use=_term_use(30.02)), _version("current", term_use=_term_use(32.02))) is None
    # A BLEU drop and a term use drop are both named.
    both = _refusal(_version("new", bleu=35.0, term_use=_term_use(80.0)), current)
    assert both.startswith("refusing to promote new: test BLEU 35.00 on test is 5.00 lower")
    assert "; and its term use rate with 'terms.csv'" in both and "is 80.00%, 14.00 points lower" in both


def test_the_gate_compares_term_use_only_on_the_same_terms_test():
    current = _version("current", term_use=_term_use(94.0))
    assert _refusal(_version("new", term_use=_term_use(50.0, sha256="d" * 64)), current) is None
    other_source = dict(_term_use(50.0), source_sha256="e" * 64)
    assert _refusal(_version("new", term_use=other_source), current) is None
    assert _refusal(_version("new"), current) is None
    assert _refusal(_version("new", term_use=_term_use(50.0)), _version("current")) is None


def test_promote_refuses_a_term_use_drop_unless_forced(tmp_path):
    # "good" is the default by its BLEU; "worse" is within the BLEU tolerance, not the term use one.
    for version in (_version("good", bleu=40.5, term_use=_term_use(94.0)),
                    _version("worse", term_use=_term_use(91.5), created="2026-01-02T00:00:00+00:00")):
        (tmp_path / version.id).mkdir()
        (tmp_path / version.id / VERSION_JSON).write_text(json.dumps(version.info), encoding="utf-8")
    refused = run_s2s("models", "promote", "worse", "--store", str(tmp_path))
    assert refused.returncode == 1
    assert "is 91.50%, 2.50 points lower" in refused.stderr and "(94.00% on the same terms test)" in refused.stderr
    assert ModelStore(tmp_path).default_for("en", "de").id == "good"
    forced = run_s2s("models", "promote", "worse", "--force", "--store", str(tmp_path))
    assert forced.returncode == 0, forced.stderr
    assert ModelStore(tmp_path).default_for("en", "de").id == "worse"
