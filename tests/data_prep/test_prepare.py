import json
import re
import signal
import subprocess
import sys
import time

import pytest

from data_prep.binarize import TOO_MANY_SUBWORDS
from data_prep.clean import CleanConfig
from data_prep.corpus import SKIP, CorpusSpec
from data_prep.errors import S2SError
from data_prep.pool import HELD_OUT, LEAKED
from data_prep.prepare import PrepareConfig, prepare
from data_prep.prepared_dir import PreparedDir
from data_prep.subwords import SubwordConfig
from tests.conftest import REPO, run_s2s


def _config(corpora, output, **kw) -> PrepareConfig:
    # No term annotation unless a test asks: it aligns the whole corpus (3 s for 2,000 pairs here), and
    # tests/data_prep/test_term_annotation.py tests it.
    return PrepareConfig(corpora=tuple(corpora), source_lang="en", target_lang="de", output=output,
                         subwords=kw.pop("subwords", SubwordConfig(vocab_size=600)), terms=kw.pop("terms", None), **kw)


def _plain(small_corpus, name="demo", split="train", **kw) -> CorpusSpec:
    return CorpusSpec(name=name, source=small_corpus[split][0], target=small_corpus[split][1], **kw)


def test_prepare_writes_manifest_subwords_plot_and_sockeye_data(small_corpus, tmp_path):
    out = tmp_path / "prepared"
    manifest = prepare(_config([_plain(small_corpus)], out, dev=_plain(small_corpus, "dev", "dev"),
                               test=_plain(small_corpus, "test", "test")))
    layout = PreparedDir(out)
    assert json.loads(layout.manifest.read_text()) == manifest
    corpus = manifest["corpora"]["demo"]
    assert corpus["read"] == 2000 and corpus["format"] == "plain"
    assert corpus["kept"] + sum(corpus["dropped"].values()) == corpus["read"]
    assert manifest["splits"]["dev"]["origin"] == "given" and manifest["splits"]["test"]["kept"] == 50
    assert all(len(h) == 64 for h in corpus["files"].values())
    assert manifest["subwords"]["pieces"]["source"] == manifest["subwords"]["pieces"]["target"] > 0
    assert manifest["lengths"]["source"]["p95"] >= manifest["lengths"]["source"]["p50"] > 0
    assert layout.lengths_plot.read_bytes().startswith(b"\x89PNG")
    assert [p.name for p in layout.subword_files] == ["sentencepiece.model"]
    assert (layout.sockeye_data / "data.info").is_file()
    plain = layout.text("dev", "source").read_text(encoding="utf-8").splitlines()
    encoded = layout.text("dev", "source", subwords=True).read_text(encoding="utf-8").splitlines()
    assert len(plain) == len(encoded) == manifest["splits"]["dev"]["kept"] and "▁" in encoded[0]
    # The test split is translated from its text, never from subwords.
    assert not layout.text("test", "source", subwords=True).exists()


def test_a_given_test_set_is_kept_as_given_and_still_kept_out_of_training(small_corpus, tmp_path):
    import unicodedata

    train_src = small_corpus["train"][0].read_text(encoding="utf-8").splitlines()
    train_trg = small_corpus["train"][1].read_text(encoding="utf-8").splitlines()
    # Odd spacing, decomposed umlauts, an empty reference, an empty source, and a sentence far
    # longer than --max-seq-len: `s2s evaluate` scores all of them as they are, so the split must too.
    sources = ["  " + train_src[0].replace(" ", "  ") + " ", train_src[1], train_src[2], "",
               " ".join([train_src[3]] * 20)]
    targets = [train_trg[0], unicodedata.normalize("NFD", "Über die Brücke gehen Mädchen."), "", train_trg[3],
               train_trg[4]]
    (tmp_path / "t.en").write_text("\n".join(sources) + "\n", encoding="utf-8")
    (tmp_path / "t.de").write_text("\n".join(targets) + "\n", encoding="utf-8")
    test = CorpusSpec(name="t", source=tmp_path / "t.en", target=tmp_path / "t.de")
    out = tmp_path / "p"
    manifest = prepare(_config([_plain(small_corpus)], out, test=test, dev_size=50, max_seq_len=40))
    assert manifest["splits"]["test"]["read"] == manifest["splits"]["test"]["kept"] == 5
    assert (out / "test.source").read_text(encoding="utf-8").split("\n")[:-1] == sources
    assert (out / "test.target").read_text(encoding="utf-8").split("\n")[:-1] == targets
    # The training copies of the test sources leave training, odd spacing or not.
    assert manifest["corpora"]["demo"]["dropped"][LEAKED] >= 3
    assert not {train_src[0], train_src[1], train_src[2]} & _training_sources(out)


def test_dev_and_test_are_drawn_seeded_and_never_leak_into_training(small_corpus, tmp_path):
    src, trg = small_corpus["train"]
    # The same source sentence twice with different targets: if one copy is drawn into dev or
    # test, the other must leave training too.
    first = src.read_text(encoding="utf-8").splitlines()
    twins = tmp_path / "twins"
    twins.mkdir()
    (twins / "c.en").write_text("\n".join(first + first) + "\n", encoding="utf-8")
    targets = trg.read_text(encoding="utf-8").splitlines()
    (twins / "c.de").write_text("\n".join(targets + [t + " Noch einmal." for t in targets]) + "\n", encoding="utf-8")
    spec = CorpusSpec(name="twins", source=twins / "c.en", target=twins / "c.de")
    runs = [prepare(_config([spec], tmp_path / f"p{i}", dev_size=100, test_size=100, seed=5)) for i in (1, 2)]
    assert runs[0]["corpora"] == runs[1]["corpora"]
    assert (tmp_path / "p1" / "dev.source").read_text() == (tmp_path / "p2" / "dev.source").read_text()
    corpus = runs[0]["corpora"]["twins"]
    assert corpus["dropped"][HELD_OUT] == 200
    # Each drawn sentence's twin leaves training, unless both twins were drawn.
    assert 180 < corpus["dropped"][LEAKED] <= 200
    held = set((tmp_path / "p1" / "dev.source").read_text().splitlines()) | \
        set((tmp_path / "p1" / "test.source").read_text().splitlines())
    assert len(held) > 190
    decoded = _training_sources(tmp_path / "p1")
    assert len(decoded) > 1500  # distinct sources: twins share one
    assert not held & decoded


def _training_sources(prepared) -> set[str]:
    """Training source sentences, read back from Sockeye's shards through its vocabulary."""
    import sentencepiece as spm
    import torch

    vocab = {i: w for w, i in json.loads((prepared / "sockeye" / "vocab.src.0.json").read_text()).items()}
    sp = spm.SentencePieceProcessor(model_file=str(prepared / "sentencepiece.model"))
    shard = torch.load(prepared / "sockeye" / "shard.00000")
    sources = set()
    for bucket in shard["source"]:
        for row in bucket:
            pieces = [vocab[int(t)] for t in row[:, 0] if int(t) > 3]
            sources.add(sp.decode(pieces))
    return sources


def test_several_corpora_each_with_its_own_rules(small_corpus, tmp_path):
    train_src, train_trg = (p.read_text(encoding="utf-8") for p in small_corpus["train"])
    dev_src, dev_trg = (p.read_text(encoding="utf-8") for p in small_corpus["dev"])
    for name, src, trg in (("loose", train_src * 2, train_trg * 2),
                           ("strict", dev_src + "".join(train_src.splitlines(True)[:20]),
                            dev_trg + "".join(train_trg.splitlines(True)[:20]))):
        (tmp_path / f"{name}.en").write_text(src, encoding="utf-8")
        (tmp_path / f"{name}.de").write_text(trg, encoding="utf-8")
    loose = CorpusSpec(name="loose", source=tmp_path / "loose.en", target=tmp_path / "loose.de",
                       clean=CleanConfig(dedupe=False))
    strict = CorpusSpec(name="strict", source=tmp_path / "strict.en", target=tmp_path / "strict.de",
                        clean=CleanConfig(max_chars=40))
    manifest = prepare(_config([loose, strict], tmp_path / "p", dev_size=50, test_size=50))
    corpora = manifest["corpora"]
    assert corpora["loose"]["clean"]["dedupe"] is False and corpora["strict"]["clean"]["max_chars"] == 40
    assert corpora["loose"]["read"] == 4000 and "duplicate" not in corpora["loose"]["dropped"]
    assert "too_long" not in corpora["loose"]["dropped"]
    # The strict corpus drops its long pairs, and repeats of pairs the loose one kept.
    assert corpora["strict"]["read"] == 70
    assert corpora["strict"]["dropped"]["too_long"] > 0 and corpora["strict"]["dropped"]["duplicate"] > 0
    assert manifest["splits"]["train"]["read"] == 4070


def test_too_many_subwords_are_counted_not_silently_lost(small_corpus, tmp_path):
    manifest = prepare(_config([_plain(small_corpus)], tmp_path / "p", max_seq_len=12, dev_size=50, test_size=50))
    dropped = manifest["corpora"]["demo"]["dropped"][TOO_MANY_SUBWORDS]
    assert dropped > 0
    assert manifest["lengths"]["source"]["max"] <= 12 and manifest["lengths"]["target"]["max"] <= 12
    assert manifest["splits"]["train"]["kept"] == manifest["corpora"]["demo"]["kept"]


def test_separate_bpe_vocabularies(small_corpus, tmp_path):
    manifest = prepare(_config([_plain(small_corpus)], tmp_path / "p", dev_size=50, test_size=50,
                               subwords=SubwordConfig(vocab_size=400, model_type="bpe", joint=False,
                                                      user_defined_symbols=("{name}",))))
    layout = PreparedDir(tmp_path / "p")
    assert sorted(p.name for p in layout.subword_files) == ["sentencepiece.source.model",
                                                            "sentencepiece.target.model"]
    assert manifest["subwords"]["model_type"] == "bpe" and manifest["subwords"]["joint"] is False
    from data_prep.subwords import SubwordPair

    pair = SubwordPair.load(layout.root)
    assert not pair.joint
    assert "{name}" in pair.source.encode("Hello {name}.").split()
    vocabs = [(layout.sockeye_data / f"vocab.{side}.0.json").read_text() for side in ("src", "trg")]
    assert vocabs[0] != vocabs[1]


def test_dry_run_reports_but_writes_nothing(small_corpus, tmp_path):
    out = tmp_path / "p"
    result = run_s2s("prepare", "--source", str(small_corpus["train"][0]), "--target", str(small_corpus["train"][1]),
                     "--source-lang", "en", "--target-lang", "de", "--dev-size", "50", "--test-size", "50",
                     "--output", str(out), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "dry run: nothing written" in result.stdout
    assert re.search(r"corpus\s+2000\s+1900\s+100", result.stdout), result.stdout
    assert list(tmp_path.iterdir()) == []


def test_existing_output_is_kept_unless_forced(small_corpus, tmp_path):
    out = tmp_path / "prepared"
    out.mkdir()
    (out / "precious").write_text("keep me")
    with pytest.raises(S2SError, match="already exists"):
        prepare(_config([_plain(small_corpus)], out))
    assert (out / "precious").read_text() == "keep me"


def _no_output_left(tmp_path, name="prepared"):
    return not any(p.name.startswith(name) or p.name.startswith("." + name) for p in tmp_path.iterdir())


@pytest.mark.parametrize("case", ["misaligned", "bad_utf8", "missing", "all_dropped", "tsv_no_tab", "bad_tmx",
                                  "no_corpus", "config_unknown_key"])
def test_bad_input_fails_with_one_line_and_leaves_no_output(tmp_path, case):
    src, trg = tmp_path / "c.en", tmp_path / "c.de"
    src.write_text("one\ntwo\nthree\n" * 50, encoding="utf-8")
    trg.write_text("eins\nzwei\ndrei\n" * 50, encoding="utf-8")
    inputs = ["--source", str(src), "--target", str(trg)]
    expected = {"misaligned": "c.en has 150 lines but .*c.de has 149",
                "bad_utf8": r"c.de:151: invalid UTF-8 .*--on-bad-line skip",
                "missing": r"c.de: no such file",
                "all_dropped": "corpus: no sentence pair is left after cleaning",
                "tsv_no_tab": r"c.tsv:3: expected 2 tab-separated columns \(source<TAB>target\), found 1",
                "bad_tmx": r"c.tmx:4:\d+: malformed TMX: mismatched tag",
                "no_corpus": "no corpus: give --source and --target, --tsv, --tmx, or --config",
                "config_unknown_key": r"corpora\[0\].clean: unknown key\(s\) max_char; valid: .*max_chars"}[case]
    if case == "misaligned":
        trg.write_text("eins\nzwei\ndrei\n" * 49 + "eins\nzwei\n", encoding="utf-8")
    elif case == "bad_utf8":
        trg.write_bytes(trg.read_bytes() + "Stra\xdfe\n".encode("latin-1"))
        src.write_text(src.read_text() + "street\n")
    elif case == "missing":
        trg.unlink()
    elif case == "all_dropped":
        trg.write_text("\n" * 150)
    elif case == "tsv_no_tab":
        (tmp_path / "c.tsv").write_text("a\tb\nc\td\nno tab here\n", encoding="utf-8")
        inputs = ["--tsv", str(tmp_path / "c.tsv")]
    elif case == "bad_tmx":
        (tmp_path / "c.tmx").write_text('<tmx version="1.4"><body>\n<tu><tuv xml:lang="en"><seg>a</seg></tuv>\n'
                                        '<tuv xml:lang="de"><seg>b</seg></tuv></tu>\n<tu><tuv></tu>\n</body></tmx>\n')
        inputs = ["--tmx", str(tmp_path / "c.tmx")]
    elif case == "no_corpus":
        inputs = []
    else:
        (tmp_path / "c.yaml").write_text("source_lang: en\ntarget_lang: de\ncorpora:\n"
                                         "  - {source: c.en, target: c.de, clean: {max_char: 5}}\n")
        inputs = ["--config", str(tmp_path / "c.yaml")]
    out = tmp_path / "prepared"
    result = run_s2s("prepare", *inputs, "--source-lang", "en", "--target-lang", "de", "--output", str(out))
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and errors[0].startswith("s2s prepare: error:")
    assert re.search(expected, errors[0]), errors[0]
    assert _no_output_left(tmp_path)


def test_on_bad_line_skip_skips_and_counts(tmp_path, small_corpus):
    src, trg = small_corpus["train"]
    bad_src, bad_trg = tmp_path / "b.en", tmp_path / "b.de"
    bad_src.write_bytes(src.read_bytes() + b"caf\xe9 au lait\n" + b"fine\n")
    bad_trg.write_bytes(trg.read_bytes() + "Milchkaffee\n".encode() + b"gut\n")
    spec = CorpusSpec(name="b", source=bad_src, target=bad_trg)
    with pytest.raises(S2SError, match=r"b.en:2001: invalid UTF-8"):
        prepare(_config([spec], tmp_path / "p1", dev_size=50, test_size=50))
    manifest = prepare(_config([spec], tmp_path / "p2", dev_size=50, test_size=50, on_bad_line=SKIP))
    assert manifest["corpora"]["b"]["dropped"]["invalid_utf8"] == 1
    assert manifest["corpora"]["b"]["read"] == 2002


def test_sigterm_during_prepare_leaves_no_output(small_corpus, tmp_path):
    src, trg = small_corpus["train"]
    process = subprocess.Popen([sys.executable, "-m", "s2s_cli", "prepare", "--source", str(src), "--target",
                                str(trg), "--source-lang", "en", "--target-lang", "de", "--vocab-size", "600",
                                "--dev-size", "50", "--test-size", "50", "--output", str(tmp_path / "prepared")],
                               cwd=REPO, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".prepared.partial-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.glob(".prepared.partial-*")), "prepare never started writing"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) != 0
    assert _no_output_left(tmp_path)


def test_processes_forked_by_the_cli_die_of_sigterm_at_once():
    # s2s's own SIGTERM handler unwinds the command; a forked pool worker (Sockeye's data
    # preparation) must not inherit it, or the pool's terminate can wait on it for good.
    code = ("import multiprocessing, signal\n"
            "from s2s_cli import unwind_on_sigterm\n"
            "def default():\n"
            "    return signal.getsignal(signal.SIGTERM) is signal.SIG_DFL\n"
            "unwind_on_sigterm()\n"
            "pool = multiprocessing.get_context('fork').Pool(1)\n"
            "print(default(), pool.apply(default))\n"
            "pool.terminate()\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]
