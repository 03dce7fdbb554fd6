"""The review loop of bench/loop.py, end to end on the demo through the real `s2s` commands, with a
short fine-tuning: each step's outcome is checked where it left it (the review database, the
exported files, the prepared data, the store and its promotions)."""
import json

import pytest

from bench.loop import REVIEWER, LoopConfig, Paths, run_loop
from data_prep.errors import S2SError
from review.db import ReviewDb
from seq2seq.versions.store import ModelStore

ITEMS, UPDATES, REPEAT = 60, 20, 5


@pytest.fixture(scope="module")
def loop(demo, tmp_path_factory):
    work = tmp_path_factory.mktemp("loop") / "work"
    config = LoopConfig(demo=demo[0], work=work, items=ITEMS, updates=UPDATES, checkpoint_interval=10, repeat=REPEAT)
    return config, Paths(work), run_loop(config)


@pytest.fixture(scope="module")
def references(demo) -> dict[str, str]:
    corpus = demo[0] / "corpus"
    sources, targets = ((corpus / f"dev.{side}").read_text(encoding="utf-8").splitlines() for side in ("en", "de"))
    return dict(zip(sources[:ITEMS], targets[:ITEMS]))


def _tsv(path) -> list[tuple[str, str]]:
    return [tuple(line.split("\t")) for line in path.read_text(encoding="utf-8").splitlines()]


def test_every_queued_sentence_was_reviewed_through_the_api_against_its_reference(loop, references):
    _, paths, result = loop
    db = ReviewDb(paths.db)
    assert db.counts() == (ITEMS, ITEMS) and result["review"]["queued"] == ITEMS
    items = db.reviewed()
    assert {i.source for i in items} == set(references)
    assert {i.version for i in items} == {result["parent"]}
    # Saved by the server under the reviewer key's name: the reviews went through /v1/review.
    assert {r.reviewer for r in db.reviews()} == {REVIEWER}
    for item in items:
        if item.translation == references[item.source]:
            assert (item.verdict, item.correction) == ("good", None)
        else:
            assert (item.verdict, item.correction) == ("edit", references[item.source])
    good = sum(i.verdict == "good" for i in items)
    assert (result["review"]["good"], result["review"]["edit"]) == (good, ITEMS - good)
    # The demo model is good but not perfect: both verdicts occur, so both paths are exercised.
    assert 0 < good < ITEMS


def test_the_export_splits_the_reviewed_pairs_into_corrections_and_a_review_test_set(loop, references):
    _, paths, result = loop
    train, test = _tsv(paths.corrections), _tsv(paths.review_test)
    assert len(train) + len(test) == ITEMS
    assert train and test
    assert not {s for s, _ in train} & {s for s, _ in test}
    assert all(target == references[source] for source, target in train + test)
    assert (result["review"]["exported"], result["review"]["held_out"]) == (len(train), len(test))


def test_the_finetuning_data_reuses_the_parents_subwords_and_repeats_the_corrections(loop):
    from sockeye.data_io import DataConfig

    from data_prep.prepared_dir import PreparedDir

    _, paths, result = loop
    prepared = PreparedDir(paths.prepared)
    manifest = prepared.read_manifest()
    assert manifest["subwords"]["from_version"] == result["parent"]
    corpora = manifest["corpora"]
    # No correction was lost as a leak: the reviewed dev sentences are not in the fine-tuning dev set.
    assert corpora["corrections"]["kept"] == result["review"]["exported"]
    assert corpora["corrections"]["repeat"] == REPEAT
    stats = DataConfig.load(str(prepared.sockeye_data / "data.config")).data_statistics
    assert stats.num_sents == corpora["original"]["kept"] + REPEAT * corpora["corrections"]["kept"]


def test_the_new_version_is_finetuned_from_the_parent_and_carries_both_scores(loop):
    _, paths, result = loop
    store = ModelStore(paths.store)
    parent, new = store.get(result["parent"]), store.get(result["new_version"])
    new.verify()
    assert new.info["training"]["init_from"] == parent.id
    assert new.info["training"]["updates"] == UPDATES == result["updates_trained"]
    assert (new.info["test"]["source_sha256"], new.info["test"]["reference_sha256"]) == \
        (parent.info["test"]["source_sha256"], parent.info["test"]["reference_sha256"])
    review = new.info["review_test"]
    assert review["name"] == "review_test" and review["sentences"] == result["review"]["held_out"]
    assert review["baseline"]["version"] == parent.id
    assert result["test"] == {"name": parent.info["test"]["name"], "parent_bleu": parent.bleu, "new_bleu": new.bleu}
    assert result["review_test"]["parent_bleu"] == review["baseline"]["bleu"]
    assert result["review_test"]["new_bleu"] == review["bleu"]
    # From the parent's weights, 20 small steps keep the model near the parent's level.
    assert new.bleu > 50 and review["bleu"] > 50


def test_the_gate_decides_by_the_original_test_bleu_and_names_its_reason(loop):
    config, paths, result = loop
    parent_bleu, new_bleu = result["test"]["parent_bleu"], result["test"]["new_bleu"]
    gate = result["gate"]
    store = ModelStore(paths.store)
    promotions = json.loads(store.promotions_file.read_text()) if store.promotions_file.exists() else {}
    # Published, the fine-tuned version waited for the gate: the parent stayed the default.
    assert gate["default_before"] == result["parent"]
    if new_bleu >= parent_bleu - config.tolerance:
        assert gate["decision"] == "promoted"
        assert f"default is now {result['new_version']} (BLEU {new_bleu:.2f}), was {result['parent']}" \
            in gate["message"]
        assert promotions == {"en-de": [result["new_version"]]}
    else:
        assert gate["decision"] == "refused"
        assert gate["message"].startswith(
            f"refusing to promote {result['new_version']}: test BLEU {new_bleu:.2f} on test is "
            f"{parent_bleu - new_bleu:.2f} lower, more than {config.tolerance} below the current default "
            f"{result['parent']} ({parent_bleu:.2f} on test)")
        review_gain = result["review_test"]["new_bleu"] - result["review_test"]["parent_bleu"]
        assert ("although its BLEU on the review set 'review_test' rose" in gate["message"]) == (review_gain > 0)
        assert promotions == {}
        assert store.default_for("en", "de").id == result["parent"]


def test_the_loop_names_a_demo_directory_or_item_count_it_cannot_use(demo, tmp_path):
    with pytest.raises(S2SError, match=rf"{tmp_path} is not what `make demo` leaves: {tmp_path / 'models'}, "):
        run_loop(LoopConfig(demo=tmp_path, work=tmp_path / "work"))
    dev = demo[0] / "corpus" / "dev.en"
    lines = len(dev.read_text(encoding="utf-8").splitlines())
    with pytest.raises(S2SError, match=rf"--items must be between 1 and {lines - 1}: {dev} has {lines} sentences"):
        run_loop(LoopConfig(demo=demo[0], work=tmp_path / "work", items=lines))
    assert not (tmp_path / "work").exists()
