"""Real data: Multi30k from ../shared/data/multi30k, when that folder is present."""
import pytest

from data_prep.corpus import CorpusSpec
from data_prep.prepare import PreparedDir, PrepareConfig, prepare
from seq2seq.train import TrainConfig, train
from tests.conftest import MULTI30K

pytestmark = pytest.mark.skipif(not (MULTI30K / "train.en.gz").is_file(),
                                reason=f"Multi30k is not at {MULTI30K} (set S2S_MULTI30K to its folder)")


def _spec(name: str, split: str, target_lang: str) -> CorpusSpec:
    return CorpusSpec(name=name, source=MULTI30K / f"{split}.en.gz", target=MULTI30K / f"{split}.{target_lang}.gz")


def _prepare(output, target_lang: str, **kw) -> dict:
    return prepare(PrepareConfig(corpora=(_spec("multi30k", "train", target_lang),), source_lang="en",
                                 target_lang=target_lang, output=output, dev=_spec("val", "val", target_lang),
                                 test=_spec("test", "test_2016_flickr", target_lang), **kw))


@pytest.fixture(scope="module")
def en_de(tmp_path_factory):
    out = tmp_path_factory.mktemp("multi30k") / "en-de"
    return out, _prepare(out, "de")


def test_prepare_multi30k_en_de(en_de):
    out, manifest = en_de
    corpus = manifest["corpora"]["multi30k"]
    assert corpus["read"] == 29000
    assert manifest["splits"]["dev"]["kept"] == 1014 and manifest["splits"]["test"]["kept"] == 1000
    # Multi30k is clean: the rules drop a few dozen pairs (repeats, odd ratios), never many.
    assert 28500 <= corpus["kept"] < 29000
    assert corpus["kept"] + sum(corpus["dropped"].values()) == 29000
    assert corpus["dropped"].get("source_in_dev_or_test", 0) < 50
    assert manifest["subwords"]["pieces"] == {"source": 8000, "target": 8000}
    assert (PreparedDir(out).sockeye_data / "shard.00000").is_file()


def test_prepare_multi30k_en_fr_with_separate_bpe_vocabularies(tmp_path):
    from data_prep.subwords import SubwordConfig

    manifest = _prepare(tmp_path / "en-fr", "fr", subwords=SubwordConfig(vocab_size=6000, model_type="bpe",
                                                                           joint=False))
    corpus = manifest["corpora"]["multi30k"]
    assert corpus["read"] == 29000 and corpus["kept"] >= 28500
    assert manifest["target_lang"] == "fr"
    assert [p.name for p in PreparedDir(tmp_path / "en-fr").subword_files] == [
        "sentencepiece.source.model", "sentencepiece.target.model"]
    # French text keeps its accents through NFC normalisation and SentencePiece.
    assert "é" in (tmp_path / "en-fr" / "test.target").read_text(encoding="utf-8")


def test_short_training_smoke_run(en_de, tmp_path):
    out, _ = en_de
    summary = train(TrainConfig(prepared=out, output=tmp_path / "run", preset="tiny", dev_sentences=20,
                                sockeye_args=("--max-updates", "20", "--checkpoint-interval", "10",
                                              "--batch-size", "512")))
    assert summary["updates"] == 20
    assert [c["checkpoint"] for c in summary["checkpoints"]] == [1, 2]
    first, last = summary["checkpoints"]
    assert last["validation_perplexity"] < first["validation_perplexity"]
    assert (tmp_path / "run" / "model" / "params.best").exists()
