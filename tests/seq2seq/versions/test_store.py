import json
import shutil

import pytest

from data_prep.errors import S2SError
from seq2seq.versions.store import ModelStore, publish
from seq2seq.versions.version import VERSION_JSON, VersionNotFound


def _fake_version(root, version_id, pair=("en", "de"), bleu=30.0, created="2026-01-01T00:00:00+00:00"):
    path = root / version_id
    path.mkdir(parents=True)
    info = {"id": version_id, "source_lang": pair[0], "target_lang": pair[1], "created": created,
            "test": {"bleu": bleu, "chrf": 50.0, "name": "t"}, "files": {}}
    (path / VERSION_JSON).write_text(json.dumps(info))


def test_default_is_best_bleu_per_pair_and_hidden_dirs_are_ignored(tmp_path):
    _fake_version(tmp_path, "a", bleu=30.0)
    _fake_version(tmp_path, "b", bleu=35.5)
    _fake_version(tmp_path, "c", pair=("en", "fr"), bleu=40.0)
    _fake_version(tmp_path, ".d.partial-1", bleu=99.0)
    store = ModelStore(tmp_path)
    assert [v.id for v in store.versions()] == ["a", "b", "c"]
    assert store.default_for("en", "de").id == "b"
    assert store.default_for("en", "fr").id == "c"
    assert store.pairs() == [("en", "de"), ("en", "fr")]


def test_unknown_pair_and_version_name_what_exists(tmp_path):
    _fake_version(tmp_path, "a")
    store = ModelStore(tmp_path)
    with pytest.raises(VersionNotFound, match="no version translates de->en.*pairs available: en-de"):
        store.default_for("de", "en")
    with pytest.raises(VersionNotFound, match="unknown version 'zzz'"):
        store.get("zzz")


def test_verify_detects_a_changed_file(store, tmp_path):
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    (version,) = ModelStore(copy).versions()
    params = version.model_dir / "params.best"
    params.chmod(0o644)
    with open(params, "ab") as f:
        f.write(b"\0")
    with pytest.raises(S2SError, match="params.best is missing or does not match its sha256"):
        version.verify()


def test_crash_mid_publish_leaves_no_version(demo, tmp_path, monkeypatch):
    import seq2seq.versions.store as module

    workdir, _ = demo
    (version,) = ModelStore(workdir / "models").versions()
    from seq2seq.versions.evaluate import TestResult
    from seq2seq.versions.scoring import Scores

    test = TestResult("t", "0" * 64, "0" * 64, Scores(1.0, 1.0, "sig", "sig", 1))
    calls = []

    def copy_then_crash(src, dst):
        calls.append(src)
        if len(calls) == 3:
            raise OSError("disk full")
        return shutil.copyfile(src, dst)

    monkeypatch.setattr(module.shutil, "copyfile", copy_then_crash)
    target = tmp_path / "store"
    with pytest.raises(OSError, match="disk full"):
        publish(workdir / "run", target, {"sockeye-float32": test})
    assert ModelStore(target).versions() == []
    assert list(target.iterdir()) == []


def test_promote_refuses_a_worse_version_unless_forced_and_rollback_returns(tmp_path):
    _fake_version(tmp_path, "good", bleu=35.0, created="2026-01-01T00:00:00+00:00")
    _fake_version(tmp_path, "close", bleu=34.5, created="2026-01-02T00:00:00+00:00")
    _fake_version(tmp_path, "bad", bleu=20.0, created="2026-01-03T00:00:00+00:00")
    store = ModelStore(tmp_path)
    assert store.default_for("en", "de").id == "good"
    with pytest.raises(S2SError, match="refusing to promote bad: test BLEU 20.00 .* more than 1.0 below .*good"):
        store.promote("bad")
    assert store.default_for("en", "de").id == "good"
    assert store.promote("close").id == "good"  # within the tolerance; returns the previous default
    assert store.default_for("en", "de").id == "close"
    assert store.promote("bad", force=True).id == "close"
    assert store.default_for("en", "de").id == "bad"
    assert store.rollback("en", "de").id == "close"
    assert store.rollback("en", "de").id == "good"  # no promotion left: the best-BLEU version
    with pytest.raises(S2SError, match="nothing to roll back for en->de"):
        store.rollback("en", "de")
    with pytest.raises(S2SError, match="already the default"):
        store.promote("good")


def test_a_promoted_version_that_disappears_falls_back(tmp_path):
    _fake_version(tmp_path, "a", bleu=30.0)
    _fake_version(tmp_path, "b", bleu=29.5)
    store = ModelStore(tmp_path)
    store.promote("b")
    shutil.rmtree(tmp_path / "b")
    assert store.default_for("en", "de").id == "a"


def test_unreadable_promotions_file_is_named(tmp_path):
    _fake_version(tmp_path, "a")
    (tmp_path / "promotions.json").write_text("{oops")
    with pytest.raises(S2SError, match="promotions.json: unreadable"):
        ModelStore(tmp_path).default_for("en", "de")


def test_models_cli_promotes_refuses_and_rolls_back(tmp_path):
    from tests.conftest import run_s2s

    _fake_version(tmp_path, "good", bleu=35.0, created="2026-01-01T00:00:00+00:00")
    _fake_version(tmp_path, "bad", bleu=20.0, created="2026-01-02T00:00:00+00:00")
    refused = run_s2s("models", "promote", "bad", "--store", str(tmp_path))
    assert refused.returncode == 1 and "refusing to promote bad" in refused.stderr and "--force" in refused.stderr
    unknown = run_s2s("models", "promote", "nope", "--store", str(tmp_path))
    assert unknown.returncode == 1 and "unknown version 'nope'" in unknown.stderr
    forced = run_s2s("models", "promote", "bad", "--force", "--store", str(tmp_path))
    assert forced.returncode == 0 and "default is now bad (BLEU 20.00), was good" in forced.stdout
    listed = run_s2s("models", "list", "--store", str(tmp_path)).stdout.splitlines()
    assert [line[0] for line in listed] == [" ", "*"]  # oldest first; "bad" is the default
    back = run_s2s("models", "rollback", "--source-lang", "en", "--target-lang", "de", "--store", str(tmp_path))
    assert back.returncode == 0 and "back to good" in back.stdout
    assert run_s2s("models", "rollback", "--source-lang", "en", "--target-lang", "de",
                   "--store", str(tmp_path)).returncode == 1
