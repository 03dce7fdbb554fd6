"""`s2s review` and the review options of `s2s serve` and `s2s keys`, through the real command line."""
import json

import pytest

from review.db import ReviewDb
from serve.auth import load_keys
from tests.conftest import run_s2s


def _version(store) -> str:
    (version,) = [p.name for p in store.iterdir() if (p / "version.json").is_file()]
    return version


def test_review_add_translates_a_file_into_items_once(store, tmp_path, translated):
    text = tmp_path / "in.txt"
    text.write_text("The small dog sees a red car.\n\nToday my mother buys three green apples.\n", encoding="utf-8")
    db_path, version = tmp_path / "review.db", _version(store)
    args = ("review", "add", str(text), "--version", version, "--store", str(store), "--review-db", str(db_path))
    first = run_s2s(*args)
    assert first.returncode == 0, first.stderr
    assert f"queued 2 of 2 lines of {text} for review in {db_path} (0 already queued from {version}, " \
           "1 blank lines skipped)" in first.stdout
    items = ReviewDb(db_path).queue(10)
    assert {i.engine for i in items} <= {"ctranslate2", "sockeye"}
    assert [(i.source, i.version, i.origin) for i in items] == [
        ("The small dog sees a red car.", version, "add"), ("Today my mother buys three green apples.", version, "add")]
    # Each line with what the version makes of it on that engine (the German is the model's own).
    assert all(i.translation == translated(i.source, i.engine) for i in items)
    again = run_s2s(*args)
    assert again.returncode == 0 and "queued 0 of 2 lines" in again.stdout
    assert len(ReviewDb(db_path).queue(10)) == 2


@pytest.mark.parametrize("case,message", [
    ("unknown_version", "unknown version 'en-de-nope'"),
    ("blank_file", "no text to translate"),
    ("missing_file", "in.txt: no such file"),
])
def test_review_add_names_bad_input(store, tmp_path, case, message):
    text = tmp_path / "in.txt"
    if case != "missing_file":
        text.write_text("\n \n" if case == "blank_file" else "hello\n")
    version = "en-de-nope" if case == "unknown_version" else _version(store)
    result = run_s2s("review", "add", str(text), "--version", version, "--store", str(store),
                     "--review-db", str(tmp_path / "review.db"))
    assert result.returncode == 1
    assert result.stderr.startswith("s2s review: error:") and message in result.stderr, result.stderr


def test_review_export_with_nothing_to_export_fails_and_writes_nothing(tmp_path):
    result = run_s2s("review", "export", "--review-db", str(tmp_path / "review.db"),
                     "--output", str(tmp_path / "c.tsv"), "--verdict", "edit", "--since", "2026-01-01")
    assert result.returncode == 1
    assert "no reviewed pairs match (verdict edit, since 2026-01-01); nothing written" in result.stderr
    assert not (tmp_path / "c.tsv").exists()


@pytest.mark.parametrize("command,says", [
    (("review",), "Human review of machine translations"),
    (("review", "add"), "Translate FILE (one sentence per line; blank lines are skipped)"),
    (("review", "export"), "Write the reviewed pairs as source<TAB>target lines"),
    (("review", "stats"), "Print how many items are reviewed"),
])
def test_every_review_command_explains_itself(command, says):
    result = run_s2s(*command, "--help")
    assert result.returncode == 0 and says in " ".join(result.stdout.split())


def test_keys_add_takes_a_role_and_old_key_files_still_load(tmp_path):
    path = tmp_path / "keys.json"
    assert run_s2s("keys", "add", "rita", "--file", str(path), "--role", "reviewer").returncode == 0
    assert run_s2s("keys", "add", "tom", "--file", str(path)).returncode == 0
    assert {k.name: k.role for k in load_keys(path).values()} == {"rita": "reviewer", "tom": "translate"}
    bad = run_s2s("keys", "add", "x", "--file", str(path), "--role", "admin")
    assert bad.returncode == 2 and "invalid choice: 'admin'" in bad.stderr

    old = tmp_path / "old.json"
    old.write_text(json.dumps({"keys": [{"name": "legacy", "sha256": "ab" * 32, "per_minute": 5}]}))
    assert [(k.name, k.role) for k in load_keys(old).values()] == [("legacy", "translate")]
    old.write_text(json.dumps({"keys": [{"name": "odd", "sha256": "ab" * 32, "per_minute": 5, "role": "root"}]}))
    from data_prep.errors import S2SError

    with pytest.raises(S2SError, match="key 'odd' has the unknown role 'root'; roles are translate, reviewer"):
        load_keys(old)


def test_serve_refuses_review_db_without_api_keys(store, tmp_path):
    result = run_s2s("serve", "--store", str(store), "--review-db", str(tmp_path / "review.db"), timeout=60)
    assert result.returncode == 1
    assert "s2s serve: error: --review-db needs --api-keys" in result.stderr


def test_review_stats_counts_verdicts_by_version(tmp_path):
    from review.db import NewItem

    db = ReviewDb(tmp_path / "review.db")
    db.add([NewItem(f"s{i}", f"t{i}", version, "sockeye", "add") for i in range(3) for version in ("v1", "v2")])
    for item, verdict in zip(db.queue(10), ["good", "good", "bad", "edit"]):
        db.save(item.id, "rita", verdict, "fixed" if verdict == "edit" else None)
    result = run_s2s("review", "stats", "--review-db", str(db.path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"4 of 6 items reviewed in {db.path}", "  v1  bad    1", "  v1  good   1",
                                          "  v2  edit   1", "  v2  good   1"]
