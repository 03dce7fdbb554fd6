"""Term annotation of training pairs: mined with eflomal on the demo corpus, or from a term base."""
import re

import pytest

from data_prep.term_annotation import TermAnnotationConfig, annotate
from data_prep.term_mining import mine_term_pairs
from data_prep.terms import PLACEHOLDERS, Glossary, mark, to_model

_PLACEHOLDER = re.compile("⟦[0-9]⟧")


@pytest.fixture(scope="module")
def demo_pairs(small_corpus):
    source, target = small_corpus["train"]
    return (source.read_text(encoding="utf-8").splitlines()[:600],
            target.read_text(encoding="utf-8").splitlines()[:600])


def test_mined_pairs_are_aligned_content_words(demo_pairs):
    """The demo's nouns are the clearest alignments: most mined pairs are a lexicon noun and its German."""
    from data_prep.demo_lexicon import FEMININE, MASCULINE, NEUTER

    nouns = {form: german for noun in MASCULINE + FEMININE + NEUTER
             for form, german in ((noun[0], noun[2]), (noun[1], noun[3]))}
    sources, targets = demo_pairs
    mined = mine_term_pairs(sources, targets)
    assert len(mined) == len(sources)
    noun_pairs = [(sources[k][p.source.start:p.source.end], targets[k][p.target.start:p.target.end])
                  for k, pairs in enumerate(mined) for p in pairs
                  if sources[k][p.source.start:p.source.end].lower() in nouns]
    assert len(noun_pairs) > 300
    right = sum(1 for en, de in noun_pairs if nouns[en.lower()] == de)
    assert right / len(noun_pairs) > 0.9
    # Function words (the most frequent) are never mined.
    assert not any(sources[k][p.source.start:p.source.end].lower() in {"the", "a", "this", "my"}
                   for k, pairs in enumerate(mined) for p in pairs)


def test_annotated_pairs_carry_the_same_placeholders_on_both_sides(demo_pairs):
    sources, targets = demo_pairs
    new_sources, new_targets, counts = annotate(sources, targets, TermAnnotationConfig(ratio=0.5), "en", "de")
    changed = [k for k in range(len(sources)) if new_sources[k] != sources[k]]
    assert counts.annotated == len(changed) > 0
    # About the share asked for, of the pairs that had something to annotate.
    assert 0.4 < counts.annotated / counts.with_candidates < 0.6
    for k in changed:
        in_source = _PLACEHOLDER.findall(new_sources[k])
        assert in_source and sorted(in_source) == sorted(_PLACEHOLDER.findall(new_targets[k]))
        # Numbered in order of first appearance in the source, as to_model numbers terms at inference.
        assert list(dict.fromkeys(in_source)) == list(PLACEHOLDERS[:len(set(in_source))])
    unchanged = [k for k in range(len(sources)) if k not in set(changed)]
    assert all(new_targets[k] == targets[k] for k in unchanged)
    assert counts.terms >= counts.annotated


def test_annotation_spaces_placeholders_as_inference_does(demo_pairs):
    """A source annotated for training reads exactly as to_model writes the same terms at inference."""
    sources, targets = demo_pairs
    new_sources, _, _ = annotate(sources, targets, TermAnnotationConfig(ratio=1.0), "en", "de")
    checked = 0
    for original, annotated in zip(sources, new_sources):
        if "⟦" not in annotated:
            continue
        # Rebuild the glossary from what was replaced: the words the placeholders stand for.
        pattern = re.escape(annotated)
        for placeholder in set(_PLACEHOLDER.findall(annotated)):
            pattern = pattern.replace(re.escape(placeholder), r"\s?(?P<t%s>\w+)\s?" % placeholder[1], 1)
            pattern = pattern.replace(re.escape(placeholder), r"\s?(?P=t%s)\s?" % placeholder[1])
        found = re.fullmatch(pattern, original)
        assert found, (original, annotated)
        glossary = Glossary.from_pairs({word: "X" + word for word in found.groupdict().values()})
        marked = mark(original, glossary.find(original))
        model_input, _ = to_model(marked.text, marked)
        if model_input == annotated:
            checked += 1
        else:  # the same word elsewhere in the sentence is matched too at inference
            assert model_input.count("⟦") > annotated.count("⟦"), (model_input, annotated)
    assert checked > 100


def test_a_term_base_is_used_before_mined_pairs(demo_pairs, tmp_path):
    sources, targets = demo_pairs
    termbase = tmp_path / "terms.csv"
    termbase.write_text("en,de\ndog,Hund\ndogs,Hunde\n", encoding="utf-8")
    with_dog = [k for k, s in enumerate(sources) if re.search(r"\bdogs?\b", s)]
    assert with_dog
    new_sources, new_targets, counts = annotate(sources, targets, TermAnnotationConfig(ratio=1.0, termbase=termbase),
                                                "en", "de")
    assert counts.from_termbase >= len(with_dog)
    for k in with_dog:
        assert not re.search(r"\bdogs?\b", new_sources[k]), new_sources[k]
        assert not re.search(r"\bHunde?\b", new_targets[k]), new_targets[k]


def test_ratio_zero_annotates_nothing(demo_pairs):
    sources, targets = demo_pairs
    new_sources, new_targets, counts = annotate(sources, targets, TermAnnotationConfig(ratio=0.0), "en", "de")
    assert (new_sources, new_targets, counts.annotated) == (sources, targets, 0)
    assert counts.with_candidates > 0


def _prepare_args(corpus, output) -> list[str]:
    return ["prepare", "--source", str(corpus["train"][0]), "--target", str(corpus["train"][1]),
            "--source-lang", "en", "--target-lang", "de", "--dev-source", str(corpus["dev"][0]),
            "--dev-target", str(corpus["dev"][1]), "--test-source", str(corpus["test"][0]),
            "--test-target", str(corpus["test"][1]), "--vocab-size", "800", "--output", str(output)]


def test_prepare_annotates_terms_by_default_and_records_it(small_corpus, tmp_path):
    import json

    import sentencepiece as spm

    from tests.conftest import run_s2s

    result = run_s2s(*_prepare_args(small_corpus, tmp_path / "p"))
    assert result.returncode == 0, result.stderr
    terms = json.loads((tmp_path / "p" / "manifest.json").read_text())["terms"]
    assert terms["trained"] is True and terms["method"] == "placeholders" and terms["ratio"] == 0.3
    assert 0.2 < terms["annotated_pairs"] / terms["pairs_with_term_pairs"] < 0.4
    sp = spm.SentencePieceProcessor(model_file=str(tmp_path / "p" / "sentencepiece.model"))
    assert all(p in sp.encode(f"a {p} b", out_type=str) for p in PLACEHOLDERS)
    # Only the training split is annotated: dev and test stay as given.
    assert "⟦" not in (tmp_path / "p" / "dev.source").read_text(encoding="utf-8")

    off = run_s2s(*_prepare_args(small_corpus, tmp_path / "off"), "--no-terms")
    assert off.returncode == 0, off.stderr
    record = json.loads((tmp_path / "off" / "manifest.json").read_text())["terms"]
    assert record["trained"] is False and "--no-terms" in record["why"]


def test_prepare_refuses_a_bad_term_base_or_ratio_before_any_work(small_corpus, tmp_path):
    from tests.conftest import run_s2s

    bad = tmp_path / "terms.csv"
    bad.write_text("en,de\ndog,Hund,Köter\n", encoding="utf-8")
    result = run_s2s(*_prepare_args(small_corpus, tmp_path / "p"), "--termbase", str(bad))
    assert result.returncode != 0
    assert f"{bad}:2" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "p").exists()
    wrong_pair = tmp_path / "fr.csv"
    wrong_pair.write_text("fr,de\nchien,Hund\n", encoding="utf-8")
    result = run_s2s(*_prepare_args(small_corpus, tmp_path / "p"), "--termbase", str(wrong_pair))
    assert result.returncode != 0 and str(wrong_pair) in result.stderr and "no en->de terms" in result.stderr
    result = run_s2s(*_prepare_args(small_corpus, tmp_path / "p"), "--term-ratio", "1.5")
    assert result.returncode != 0 and "--term-ratio" in result.stderr
