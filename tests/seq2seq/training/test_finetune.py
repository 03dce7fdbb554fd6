"""Fine-tuning a published version (prepare --subwords-from, train --init-from, publish --review-test)
and the promotion gate, on the demo's version."""
import json
import shutil
from pathlib import Path

import pytest

from data_prep.config_file import load_prepare_config
from data_prep.errors import S2SError
from data_prep.prepare import prepare
from data_prep.prepared_dir import PreparedDir
from seq2seq.training.finetune import Parent
from seq2seq.training.presets import FINETUNE
from seq2seq.training.train import TrainConfig, train
from seq2seq.versions.store import ModelStore
from seq2seq.versions.version import VERSION_JSON
from tests.conftest import run_s2s

CORRECTIONS_REPEAT = 3
# The parent's test set here: the first sentences of the demo's, so that publishing its child scores
# 50 sentences on three engines rather than 500.
TEST_SENTENCES = 50


def _head(source: Path, target: Path, start: int, count: int, directory: Path, name: str) -> tuple[Path, Path]:
    """Lines start..start+count of a file pair, as NAME.en and NAME.de in `directory`."""
    out = []
    for path, lang in ((source, "en"), (target, "de")):
        lines = path.read_text(encoding="utf-8").splitlines()[start:start + count]
        out.append(directory / f"{name}.{lang}")
        out[-1].write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return out[0], out[1]


@pytest.fixture(scope="module")
def parent_test(demo, tmp_path_factory) -> tuple[Path, Path]:
    """The parent's test set: the first TEST_SENTENCES of the demo's."""
    corpus = demo[0] / "corpus"
    return _head(corpus / "test.en", corpus / "test.de", 0, TEST_SENTENCES, tmp_path_factory.mktemp("parent_test"),
                 "test")


@pytest.fixture(scope="module")
def parent_store(store, parent_test, tmp_path_factory) -> Path:
    """A copy of the demo's store: the parent version, and room for its fine-tuned child. Its record says
    it was scored on `parent_test` (the gate compares test sets by their sha256 alone)."""
    from data_prep.corpus import file_sha256

    copy = tmp_path_factory.mktemp("finetune") / "store"
    shutil.copytree(store, copy)
    (record,) = copy.glob(f"*/{VERSION_JSON}")
    info = json.loads(record.read_text())
    info["test"].update(source_sha256=file_sha256(parent_test[0]), reference_sha256=file_sha256(parent_test[1]),
                        sentences=TEST_SENTENCES)
    record.chmod(0o644)
    record.write_text(json.dumps(info))
    return copy


@pytest.fixture(scope="module")
def parent(parent_store):
    (version,) = ModelStore(parent_store).versions()
    return version


@pytest.fixture(scope="module")
def inputs(demo, parent_test, tmp_path_factory) -> dict[str, Path]:
    """The original corpus (a slice of the demo's), corrections (another slice, as a TSV) and a prepare
    config that mixes them, with the demo's dev set and the parent's test set."""
    corpus = demo[0] / "corpus"
    work = tmp_path_factory.mktemp("finetune_inputs")
    original = _head(corpus / "train.en", corpus / "train.de", 0, 600, work, "original")
    fixes = _head(corpus / "train.en", corpus / "train.de", 5000, 20, work, "fixes")
    corrections = work / "corrections.tsv"
    corrections.write_text("".join(f"{s}\t{t}\n" for s, t in zip(fixes[0].read_text().splitlines(),
                                                                  fixes[1].read_text().splitlines())))
    config = work / "finetune.yaml"
    config.write_text(
        "source_lang: en\ntarget_lang: de\ncorpora:\n"
        f"  - {{name: original, source: {original[0]}, target: {original[1]}}}\n"
        f"  - {{name: corrections, tsv: {corrections}, repeat: {CORRECTIONS_REPEAT}}}\n"
        f"dev: {{source: {corpus / 'dev.en'}, target: {corpus / 'dev.de'}}}\n"
        f"test: {{source: {parent_test[0]}, target: {parent_test[1]}}}\n")
    return {"config": config, "corrections": corrections, "test.en": parent_test[0], "test.de": parent_test[1],
            "work": work}


@pytest.fixture(scope="module")
def prepared(inputs, parent, parent_store) -> PreparedDir:
    out = inputs["work"] / "prepared"
    result = run_s2s("prepare", "--config", str(inputs["config"]), "--subwords-from", parent.id,
                     "--store", str(parent_store), "--output", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    return PreparedDir(out)


@pytest.fixture(scope="module")
def finetuned_run(prepared, parent, inputs) -> Path:
    """Two updates from the parent's weights, a checkpoint at each (the first is the one checked)."""
    output = inputs["work"] / "run"
    train(TrainConfig(prepared=prepared.root, output=output, dev_sentences=20, average=1, init_from=parent.path,
                      sockeye_args=("--max-updates", "2", "--checkpoint-interval", "1")))
    return output


def test_prepare_subwords_from_reuses_the_versions_subwords_and_repeats_corrections(prepared, parent):
    for name in ("vocab.src.0.json", "vocab.trg.0.json"):
        assert json.loads((prepared.sockeye_data / name).read_text()) == \
            json.loads((parent.model_dir / name).read_text())
    assert (prepared.root / "sentencepiece.model").read_bytes() == (parent.path / "sentencepiece.model").read_bytes()
    manifest = prepared.read_manifest()
    assert manifest["subwords"] == {"from_version": parent.id, "joint": True,
                                    "pieces": {"source": 1000, "target": 1000}}
    corpora = manifest["corpora"]
    assert corpora["corrections"]["repeat"] == CORRECTIONS_REPEAT and corpora["original"]["repeat"] == 1
    # Sockeye binarized each kept correction CORRECTIONS_REPEAT times, each original pair once.
    from sockeye.data_io import DataConfig

    stats = DataConfig.load(str(prepared.sockeye_data / "data.config")).data_statistics
    assert corpora["corrections"]["kept"] == 20
    assert stats.num_sents == corpora["original"]["kept"] + CORRECTIONS_REPEAT * corpora["corrections"]["kept"]


def test_repeat_must_be_a_whole_number_of_at_least_one_for_training_corpora(inputs, tmp_path):
    for bad in ("0", "-2", "2.5", "'5'", "true"):
        config = tmp_path / "bad.yaml"
        config.write_text(inputs["config"].read_text().replace(f"repeat: {CORRECTIONS_REPEAT}", f"repeat: {bad}"))
        with pytest.raises(S2SError, match=r"corpus 'corrections': repeat must be a whole number of at least 1"):
            load_prepare_config(config, tmp_path / "out")
    config = tmp_path / "test_repeat.yaml"
    config.write_text(inputs["config"].read_text().replace("test.de}", "test.de, repeat: 2}"))
    with pytest.raises(S2SError, match="test set: repeat applies to training corpora only"):
        prepare(load_prepare_config(config, tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_subwords_from_and_init_from_name_a_missing_version_or_store(parent_store, inputs, tmp_path):
    unknown = run_s2s("prepare", "--config", str(inputs["config"]), "--subwords-from", "en-de-nope",
                      "--store", str(parent_store), "--output", str(tmp_path / "p"))
    assert unknown.returncode == 1 and "unknown version 'en-de-nope'" in unknown.stderr
    empty = run_s2s("train", str(tmp_path), "--output", str(tmp_path / "run"), "--init-from", "en-de-nope",
                    "--store", str(tmp_path / "empty"))
    assert empty.returncode == 1
    assert f"no version 'en-de-nope': {tmp_path / 'empty'} holds no published versions" in empty.stderr
    both = tmp_path / "both.yaml"
    both.write_text(inputs["config"].read_text() + "subwords: {vocab_size: 500}\n")
    conflict = run_s2s("prepare", "--config", str(both), "--subwords-from", ModelStore(parent_store).versions()[0].id,
                       "--store", str(parent_store), "--output", str(tmp_path / "p"))
    assert conflict.returncode == 1 and "'subwords' settings and --subwords-from exclude each other" in conflict.stderr
    assert not (tmp_path / "p").exists()


def test_init_from_starts_from_the_parents_weights_with_finetuning_settings(finetuned_run, parent):
    import torch

    summary = json.loads((finetuned_run / "run.json").read_text())
    assert summary["init_from"]["version"] == parent.id
    assert summary["init_from"]["test"]["source_sha256"] == parent.info["test"]["source_sha256"]
    assert summary["preset"] == parent.info["training"]["preset"] and parent.id in summary["preset_reason"]
    args = summary["sockeye_args"]
    assert args[args.index("--params") + 1] == str(parent.model_dir / "params.best")
    assert " ".join(FINETUNE.sockeye_args) in " ".join(args)
    # The last value given wins: fine-tuning's over the preset's, the parent's architecture over both.
    assert [args[i + 1] for i, a in enumerate(args) if a == "--initial-learning-rate"][-1] == "0.0001"
    assert summary["init_from"]["architecture_args"][:2] == ["--num-layers", "2:2"]
    # Checkpoint 1 is the parent's level, which a fresh model is nowhere near after one update.
    first, parent_last = summary["checkpoints"][0], parent.info["training"]["checkpoints"][-1]
    assert first["validation_perplexity"] < 1.5 * parent_last["validation_perplexity"]
    assert first["validation_bleu"] > 60
    # And its weights are the parent's, moved by one small step.
    ours = torch.load(finetuned_run / "model" / "params.00001", map_location="cpu")
    theirs = torch.load(parent.model_dir / "params.best", map_location="cpu")
    assert ours.keys() == theirs.keys()
    # (A step is about the learning rate, 1e-6 at update 1 of the warm-up; a fresh model differs by ~0.1.)
    assert max((ours[k] - theirs[k]).abs().max().item() for k in ours) < 1e-3


def test_init_from_refuses_options_that_change_the_architecture(prepared, parent, tmp_path):
    with pytest.raises(S2SError, match=r"encoder num_layers: 1 here, 2 in the version"):
        train(TrainConfig(prepared=prepared.root, output=tmp_path / "run", init_from=parent.path,
                          sockeye_args=("--num-layers", "1:1", "--max-updates", "1")))
    assert not (tmp_path / "run").exists()
    with pytest.raises(S2SError, match=r"another shape .*model_size: 64 here, 128 in the version.*leave the "
                                       r"architecture options out"):
        train(TrainConfig(prepared=prepared.root, output=tmp_path / "run", init_from=parent.path,
                          sockeye_args=("--transformer-model-size", "64", "--num-embed", "64:64")))
    assert Parent(parent).architecture_args()[:2] == ("--num-layers", "2:2")


def test_init_from_refuses_data_prepared_with_other_subwords(small_corpus, parent, tmp_path):
    from data_prep.corpus import CorpusSpec
    from data_prep.prepare import PrepareConfig
    from data_prep.subwords import SubwordConfig

    spec = CorpusSpec(name="other", source=small_corpus["train"][0], target=small_corpus["train"][1])
    prepare(PrepareConfig(corpora=(spec,), source_lang="en", target_lang="de", output=tmp_path / "prepared",
                          dev_size=20, test_size=20, subwords=SubwordConfig(vocab_size=300), terms=None))
    with pytest.raises(S2SError, match=rf"was not prepared with the vocabulary of {parent.id}: its source vocabulary "
                                       rf"has \d+ entries, the version's 1001 .*--subwords-from {parent.id}"):
        train(TrainConfig(prepared=tmp_path / "prepared", output=tmp_path / "run", init_from=parent.path))
    with pytest.raises(S2SError, match="not a published version"):
        train(TrainConfig(prepared=tmp_path / "prepared", output=tmp_path / "run", init_from=tmp_path))


def test_a_finetuned_run_is_published_only_on_its_parents_test_set(finetuned_run, inputs, tmp_path):
    short = _head(inputs["test.en"], inputs["test.de"], 0, TEST_SENTENCES - 10, tmp_path, "test")
    refused = run_s2s("publish", str(finetuned_run), "--store", str(tmp_path / "store"), "--test-source",
                      str(short[0]), "--test-target", str(short[1]))
    assert refused.returncode == 1
    assert "are not the test set that" in refused.stderr and "--test-source" in refused.stderr
    bad = tmp_path / "review.tsv"
    bad.write_text("Der Hund.\tThe dog.\nno tab here\n")
    malformed = run_s2s("publish", str(finetuned_run), "--store", str(tmp_path / "store"), "--test-source",
                        str(inputs["test.en"]), "--test-target", str(inputs["test.de"]), "--review-test", str(bad))
    assert malformed.returncode == 1
    assert f"{bad}:2: expected 2 tab-separated columns (source<TAB>target), found 1" in malformed.stderr
    assert not (tmp_path / "store").exists()


@pytest.fixture(scope="module")
def finetuned(finetuned_run, parent_store, inputs):
    result = run_s2s("publish", str(finetuned_run), "--store", str(parent_store), "--test-source",
                     str(inputs["test.en"]), "--test-target", str(inputs["test.de"]),
                     "--review-test", str(inputs["corrections"]))
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_publish_with_a_review_test_records_both_scores(finetuned, parent, parent_store):
    child = next(v for v in ModelStore(parent_store).versions() if v.id != parent.id)
    assert child.info["training"]["init_from"] == parent.id
    assert child.info["test"]["source_sha256"] == parent.info["test"]["source_sha256"]
    review = child.info["review_test"]
    assert review["name"] == "corrections" and review["sentences"] == 20
    assert review["engine"] == child.info["test"]["engine"]
    assert child.review_bleu == review["bleu"] > 50 and review["chrf"] > 50
    # The corrections are sentences the parent was trained on; two small steps keep it there.
    assert review["baseline"]["version"] == parent.id and review["baseline"]["bleu"] > 50
    assert parent.review_bleu is None
    assert f"review set corrections (20 sentences): BLEU {review['bleu']:.2f}" in finetuned.stdout
    listed = run_s2s("models", "list", "--store", str(parent_store)).stdout
    assert f"review BLEU {review['bleu']:6.2f} on corrections" in listed

    from serve.app import create_app
    from serve.config import ServeConfig

    models = create_app(ServeConfig(store=parent_store)).test_client().get("/v1/models").json["models"]
    assert {m["id"]: m["review_bleu"] for m in models} == {parent.id: None, child.id: review["bleu"]}


# The promotion gate, on version.json records: it reads nothing else.

def _version(root: Path, version_id: str, bleu: float, created: str, test_sha: str = "a" * 64,
             review: dict | None = None, init_from: str | None = None) -> None:
    path = root / version_id
    path.mkdir(parents=True)
    info = {"id": version_id, "source_lang": "en", "target_lang": "de", "created": created, "files": {},
            "test": {"bleu": bleu, "chrf": 50.0, "name": "newstest", "source_sha256": test_sha,
                     "reference_sha256": "b" * 64},
            "training": {"init_from": init_from}}
    if review:
        info["review_test"] = review
    (path / VERSION_JSON).write_text(json.dumps(info))


def _review(bleu: float, baseline: tuple[str, float] | None = None, sha: str = "c" * 64) -> dict:
    review = {"name": "corrections", "sha256": sha, "bleu": bleu, "chrf": 60.0, "sentences": 20}
    if baseline:
        review["baseline"] = {"version": baseline[0], "bleu": baseline[1], "chrf": 40.0}
    return review


def test_a_finetuned_version_is_the_default_only_once_the_gate_promoted_it(tmp_path):
    _version(tmp_path, "parent", 30.0, "2026-01-01T00:00:00+00:00")
    # A better score, but not through the gate yet: the parent stays the default; a version trained
    # afresh with a better score still takes over by its BLEU, as before.
    _version(tmp_path, "tuned", 35.0, "2026-01-02T00:00:00+00:00", test_sha="e" * 64, init_from="parent")
    store = ModelStore(tmp_path)
    assert store.default_for("en", "de").id == "parent"
    with pytest.raises(S2SError, match=r"refusing to promote tuned: it was scored on the test set"):
        store.promote("tuned")
    assert store.default_for("en", "de").id == "parent"
    _version(tmp_path, "fresh", 31.0, "2026-01-03T00:00:00+00:00")
    assert ModelStore(tmp_path).default_for("en", "de").id == "fresh"
    # With only fine-tuned versions in a store, the best of them is the default.
    only = tmp_path / "only"
    _version(only, "a", 20.0, "2026-01-01T00:00:00+00:00", init_from="gone")
    _version(only, "b", 25.0, "2026-01-02T00:00:00+00:00", init_from="gone")
    assert ModelStore(only).default_for("en", "de").id == "b"


def test_gate_refuses_a_drop_on_the_original_set_even_when_the_review_set_improved(tmp_path):
    _version(tmp_path, "parent", 30.0, "2026-01-01T00:00:00+00:00")
    _version(tmp_path, "tuned", 27.5, "2026-01-02T00:00:00+00:00", review=_review(52.3, ("parent", 40.0)))
    store = ModelStore(tmp_path)
    with pytest.raises(S2SError, match=r"refusing to promote tuned: test BLEU 27.50 on newstest is 2.50 lower, more "
                                       r"than 1.0 below the current default parent \(30.00 on newstest\), although "
                                       r"its BLEU on the review set 'corrections' rose by 12.30 \(40.00 -> 52.30\)"
                                       r".*--force promotes it anyway"):
        store.promote("tuned")
    assert store.default_for("en", "de").id == "parent"
    assert store.promote("tuned", tolerance=3.0).id == "parent"  # within a wider tolerance
    cli = run_s2s("models", "rollback", "--source-lang", "en", "--target-lang", "de", "--store", str(tmp_path))
    assert cli.returncode == 0
    refused = run_s2s("models", "promote", "tuned", "--store", str(tmp_path))
    assert refused.returncode == 1 and "2.50 lower" in refused.stderr and "rose by 12.30" in refused.stderr
    assert run_s2s("models", "promote", "tuned", "--force", "--store", str(tmp_path)).returncode == 0


def test_gate_compares_review_scores_of_two_versions_on_the_same_review_set(tmp_path):
    _version(tmp_path, "old", 30.0, "2026-01-01T00:00:00+00:00", review=_review(41.0))
    _version(tmp_path, "better_review", 28.0, "2026-01-02T00:00:00+00:00", review=_review(45.0))
    _version(tmp_path, "worse_review", 28.0, "2026-01-03T00:00:00+00:00", review=_review(39.0))
    _version(tmp_path, "other_review", 28.0, "2026-01-04T00:00:00+00:00", review=_review(60.0, sha="d" * 64))
    store = ModelStore(tmp_path)
    with pytest.raises(S2SError, match=r"2.00 lower.*rose by 4.00 \(41.00 -> 45.00\)"):
        store.promote("better_review")
    for version_id in ("worse_review", "other_review"):  # no improvement, or nothing to compare it with
        with pytest.raises(S2SError, match=r"2.00 lower, more than 1.0 below the current default old \(30.00 on "
                                           r"newstest\); --force promotes it anyway$"):
            store.promote(version_id)


def test_gate_promotes_a_version_within_the_tolerance_whose_review_set_improved(tmp_path):
    _version(tmp_path, "parent", 30.0, "2026-01-01T00:00:00+00:00")
    _version(tmp_path, "tuned", 29.4, "2026-01-02T00:00:00+00:00", review=_review(52.3, ("parent", 40.0)))
    assert ModelStore(tmp_path).promote("tuned").id == "parent"
    assert ModelStore(tmp_path).default_for("en", "de").id == "tuned"


def test_gate_refuses_a_version_scored_on_another_test_set_unless_forced(tmp_path):
    _version(tmp_path, "parent", 30.0, "2026-01-01T00:00:00+00:00")
    # Within the tolerance: only the test set stands in its way.
    _version(tmp_path, "elsewhere", 29.5, "2026-01-02T00:00:00+00:00", test_sha="e" * 64)
    store = ModelStore(tmp_path)
    with pytest.raises(S2SError, match=r"refusing to promote elsewhere: it was scored on the test set 'newstest' "
                                       r"\(source sha256 eeeeeeeeeeee\.\.\..*current default parent on 'newstest' "
                                       r"\(source sha256 aaaaaaaaaaaa\.\.\..*does not compare.*--force"):
        store.promote("elsewhere")
    assert store.promote("elsewhere", force=True).id == "parent"
    assert store.default_for("en", "de").id == "elsewhere"


# SageMaker: the `model` channel (incremental training) and the hyperparameter init_from.

def _model_channel(paths, version, test_files: tuple[Path, Path] | None = None, tmp: Path | None = None) -> None:
    """`version` packed as a training job's model.tar.gz in the model channel. With `test_files`, its
    record says it was scored on them: the job compares test sets by sha256 only, and the small
    corpus's test set keeps the job's scoring quick."""
    import tarfile

    from data_prep.corpus import file_sha256

    source = version.path
    if test_files:
        source = tmp / "parent" / version.id
        shutil.copytree(version.path, source)
        test = dict(version.info["test"], name="corpus", source_sha256=file_sha256(test_files[0]),
                    reference_sha256=file_sha256(test_files[1]))
        (source / VERSION_JSON).chmod(0o644)
        (source / VERSION_JSON).write_text(json.dumps(dict(version.info, test=test)))
    channel = paths.channel("model")
    channel.mkdir(parents=True)
    with tarfile.open(channel / "model.tar.gz", "w:gz") as tar:
        tar.add(source, arcname=version.id)


def _hyperparameters(**extra) -> dict:
    return {"source_lang": "en", "target_lang": "de", "max_updates": "2", "checkpoint_interval": "1",
            "average_checkpoints": "1", "sockeye_args": "--decode-and-evaluate 10", **extra}


def test_sagemaker_job_fine_tunes_the_version_in_the_model_channel(small_corpus, parent, tmp_path):
    from tests.seq2seq.training.test_sagemaker_job import _run_train, _tree

    paths = _tree(tmp_path, small_corpus, _hyperparameters())
    _model_channel(paths, parent, small_corpus["test"], tmp_path)
    result = _run_train(paths)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (version,) = ModelStore(paths.model).versions()
    version.verify()
    assert version.info["training"]["init_from"] == parent.id and version.info["training"]["preset"] == "tiny"
    manifest = json.loads((paths.output_data / "manifest.json").read_text())
    assert manifest["subwords"]["from_version"] == parent.id
    assert (version.model_dir / "vocab.src.0.json").read_bytes() == (parent.model_dir / "vocab.src.0.json").read_bytes()
    # From the parent's weights: its first checkpoint already translates the dev set well.
    assert version.info["training"]["checkpoints"][0]["validation_bleu"] > 50
    assert "architecture from its Sockeye config" in result.stdout + result.stderr


@pytest.mark.parametrize("case,reason", [
    ("init_from without a channel",
     r"^hyperparameter init_from='en-de-x' needs the model channel \(.*input/data/model\)"),
    ("init_from not in the channel", r"^the model channel holds no version 'en-de-x' \(hyperparameter init_from\); "
                                     r"it holds: en-de-"),
    ("not a tar.gz", r"^model channel: model.tar.gz is not a readable model artefact"),
    ("another test set", r"are not the test set that en-de-.*was scored on \('test'"),
])
def test_sagemaker_job_refuses_a_bad_model_channel(small_corpus, parent, tmp_path, case, reason):
    import re

    from tests.seq2seq.training.test_sagemaker_job import _run_train, _tree

    paths = _tree(tmp_path, small_corpus, _hyperparameters(**({"init_from": "en-de-x"} if "init_from" in case else {})))
    if case == "not a tar.gz":
        paths.channel("model").mkdir(parents=True)
        (paths.channel("model") / "model.tar.gz").write_bytes(b"not gzip")
    elif case != "init_from without a channel":
        _model_channel(paths, parent)
    result = _run_train(paths)
    assert result.returncode == 1
    text = paths.failure.read_text()
    assert re.search(reason, text), text
    assert not list(paths.model.glob("*"))
