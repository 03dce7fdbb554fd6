import json
import re
import signal
import subprocess
import sys
import time

import pytest

from data_prep.errors import S2SError
from data_prep.prepare import PreparedDir, PrepareConfig, prepare
from data_prep.subwords import SubwordConfig
from tests.conftest import REPO, run_s2s


def _config(corpus, output, **kw) -> PrepareConfig:
    (src, trg) = corpus["train"]
    return PrepareConfig(source=src, target=trg, source_lang="en", target_lang="de", output=output,
                         subwords=SubwordConfig(vocab_size=600), **kw)


def test_prepare_writes_manifest_subwords_and_sockeye_data(small_corpus, tmp_path):
    out = tmp_path / "prepared"
    dirty = tmp_path / "dirty"
    dirty.mkdir()
    src, trg = small_corpus["train"]
    # Add pairs that cleaning must drop: an empty side, and one far too long.
    (dirty / "train.en").write_text(src.read_text() + "\nThe dog.\n" + "word " * 300 + "\n", encoding="utf-8")
    (dirty / "train.de").write_text(trg.read_text() + "only target\n\nWort\n", encoding="utf-8")
    manifest = prepare(PrepareConfig(source=dirty / "train.en", target=dirty / "train.de", source_lang="en",
                                     target_lang="de", output=out, subwords=SubwordConfig(vocab_size=600),
                                     dev_size=100, max_seq_len=100))
    layout = PreparedDir(out)
    assert json.loads(layout.manifest.read_text()) == manifest
    train, dev = manifest["splits"]["train"], manifest["splits"]["dev"]
    assert train["read"] + dev["read"] == 2003
    assert dev["read"] == 100  # held out, seeded
    dropped = {reason: train["dropped"].get(reason, 0) + dev["dropped"].get(reason, 0)
               for reason in ("empty", "too_long", "length_ratio")}
    assert dropped["empty"] == 2
    assert sum(dropped.values()) == 3
    assert train["kept"] + dev["kept"] == 2000
    assert manifest["inputs"]["train_source"]["sha256"]
    assert layout.subword_model.is_file() and (layout.sockeye_data / "data.info").is_file()
    dev_lines = layout.text("dev", "source").read_text(encoding="utf-8").splitlines()
    assert len(dev_lines) == dev["kept"]
    assert len(layout.text("dev", "source", subwords=True).read_text().splitlines()) == dev["kept"]
    assert "▁" in layout.text("dev", "source", subwords=True).read_text()


def test_existing_output_is_kept_unless_forced(small_corpus, tmp_path):
    out = tmp_path / "prepared"
    out.mkdir()
    (out / "precious").write_text("keep me")
    with pytest.raises(S2SError, match="already exists"):
        prepare(_config(small_corpus, out))
    assert (out / "precious").read_text() == "keep me"


def _no_output_left(tmp_path, name="prepared"):
    return not any(p.name.startswith(name) or p.name.startswith("." + name) for p in tmp_path.iterdir())


@pytest.mark.parametrize("case", ["misaligned", "bad_utf8", "missing", "all_dropped"])
def test_bad_input_fails_with_one_line_and_leaves_no_output(tmp_path, case):
    src, trg = tmp_path / "c.en", tmp_path / "c.de"
    src.write_text("one\ntwo\nthree\n" * 50, encoding="utf-8")
    trg.write_text("eins\nzwei\ndrei\n" * 50, encoding="utf-8")
    expected = {"misaligned": "c.en has 150 lines but .*c.de has 149",
                "bad_utf8": r"c.de:151: invalid UTF-8",
                "missing": r"c.de: no such file",
                "all_dropped": "no sentence pair is left after cleaning"}[case]
    if case == "misaligned":
        trg.write_text("eins\nzwei\ndrei\n" * 49 + "eins\nzwei\n", encoding="utf-8")
    elif case == "bad_utf8":
        trg.write_bytes(trg.read_bytes() + "Stra\xdfe\n".encode("latin-1"))
        src.write_text(src.read_text() + "street\n")
    elif case == "missing":
        trg.unlink()
    else:
        trg.write_text("\n" * 150)
    out = tmp_path / "prepared"
    result = run_s2s("prepare", "--source", str(src), "--target", str(trg), "--source-lang", "en",
                     "--target-lang", "de", "--output", str(out))
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and errors[0].startswith("s2s prepare: error:")
    assert re.search(expected, errors[0]), errors[0]
    assert _no_output_left(tmp_path)


def test_sigterm_during_prepare_leaves_no_output(small_corpus, tmp_path):
    src, trg = small_corpus["train"]
    process = subprocess.Popen([sys.executable, "-m", "s2s_cli", "prepare", "--source", str(src), "--target",
                                str(trg), "--source-lang", "en", "--target-lang", "de", "--vocab-size", "600",
                                "--output", str(tmp_path / "prepared")], cwd=REPO, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".prepared.partial-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.glob(".prepared.partial-*")), "prepare never started writing"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) != 0
    assert _no_output_left(tmp_path)


def test_dev_files_must_come_in_pairs(small_corpus, tmp_path):
    with pytest.raises(S2SError, match="both --dev-source and --dev-target"):
        prepare(_config(small_corpus, tmp_path / "p", dev_source=small_corpus["dev"][0]))
