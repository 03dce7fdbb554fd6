"""The whole path through the real Sockeye, as `make demo` runs it."""
import json
import os
import re
import stat

from seq2seq.versions.store import ModelStore
from tests.conftest import run_s2s


def test_demo_trains_to_bleu_80_and_serves_a_translation(demo, translated):
    _, result = demo
    assert result["test_bleu"] >= 80, result
    answer = result["answer"]
    assert len(answer["translations"]) == len(result["request"])
    assert all(t.strip() for t in answer["translations"])
    assert answer["bleu"] == result["test_bleu"]
    # The served demo answered each sentence as the published version does in process. (Its exact
    # German is the model's: the same recipe gives other weights on another machine.)
    for source, translation in zip(result["request"], answer["translations"]):
        assert translation != source and translation == translated(source)


def test_version_is_complete_self_describing_and_read_only(store):
    (version,) = ModelStore(store).versions()
    info = version.info
    assert info["source_lang"] == "en" and info["target_lang"] == "de"
    assert info["id"].startswith("en-de-") and info["created"]
    test = info["test"]
    assert test["name"] == "test" and len(test["source_sha256"]) == 64
    assert test["bleu_signature"].startswith("nrefs:1|") and test["chrf"] > 0
    training = info["training"]
    assert training["preset"] == "tiny" and len(training["train_data_sha256"]) == 64
    assert "--transformer-model-size" in training["hyperparameters"]
    assert training["checkpoints"] and "validation_bleu" in training["checkpoints"][-1]
    assert set(info["software"]) >= {"sockeye", "torch"} and info["software"]["sockeye"] == "3.1.34"
    assert "model/params.best" in info["files"] and "sentencepiece.model" in info["files"]
    assert (version.path / "training_curve.png").read_bytes().startswith(b"\x89PNG")
    for rel in info["files"]:
        path = version.path / rel
        assert not path.is_symlink() and path.is_file()
        assert not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    version.verify()


def test_translate_cli_reads_stdin_and_keeps_empty_lines(store, translated):
    result = run_s2s("translate", "--store", str(store), input="The small dog sees a red car.\n\nA cat.\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split("\n")
    assert lines[0] == translated("The small dog sees a red car.")
    assert lines[1] == "" and lines[2] == translated("A cat.") and lines[2] and lines[3] == ""


def test_translate_cli_with_unknown_version_fails_clearly(store):
    result = run_s2s("translate", "--store", str(store), "--version", "en-de-nope", input="Hello.\n")
    assert result.returncode == 1
    assert "unknown version 'en-de-nope'" in result.stderr


def test_evaluate_cli_prints_scores_and_signature(demo, store):
    workdir, result = demo
    out = run_s2s("evaluate", "--store", str(store), "--source", str(workdir / "corpus" / "test.en"),
                  "--reference", str(workdir / "corpus" / "test.de"))
    assert out.returncode == 0, out.stderr
    assert f"BLEU {result['test_bleu']:.2f}" in out.stdout
    assert "BLEU signature: nrefs:1|case:mixed|eff:no|tok:13a" in out.stdout
    assert "chrF signature:" in out.stdout


def test_models_cli_marks_the_default(store):
    out = run_s2s("models", "--store", str(store), "--json")
    assert out.returncode == 0, out.stderr
    (entry,) = json.loads(out.stdout)
    assert entry["default"] is True


def test_publish_cli_defaults_to_the_prepared_test_split(demo, tmp_path):
    workdir, result = demo
    store = str(tmp_path / "store")
    out = run_s2s("publish", str(workdir / "run"), "--store", store)
    assert out.returncode == 0, out.stderr
    (version,) = ModelStore(tmp_path / "store").versions()
    assert version.info["test"]["name"] == "test"
    assert version.bleu == result["test_bleu"]
    # One BLEU for one version: what `s2s models` shows is what `s2s evaluate` prints for the raw
    # test files that `s2s prepare` was given, to the same two decimals.
    (listed,) = json.loads(run_s2s("models", "list", "--store", store, "--json").stdout)
    evaluated = run_s2s("evaluate", "--store", store, "--source", str(workdir / "corpus" / "test.en"),
                        "--reference", str(workdir / "corpus" / "test.de"))
    printed = re.search(r"\(500 sentences\): BLEU (\d+\.\d\d)  chrF (\d+\.\d\d)$", evaluated.stdout, re.M)
    assert printed, evaluated.stdout + evaluated.stderr
    assert (float(printed[1]), float(printed[2])) == (listed["test"]["bleu"], listed["test"]["chrf"])
    half = run_s2s("publish", str(workdir / "run"), "--store", str(tmp_path / "store"), "--test-source", "x.en")
    assert half.returncode == 1 and "give both --test-source and --test-target" in half.stderr
