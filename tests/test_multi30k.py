"""Real data: Multi30k from ../shared/data/multi30k, when that folder is present."""
import pytest

from data_prep.corpus import CorpusSpec
from data_prep.prepare import PrepareConfig, prepare
from data_prep.prepared_dir import PreparedDir
from seq2seq.training.train import TrainConfig, train
from tests.conftest import MULTI30K

pytestmark = pytest.mark.skipif(not (MULTI30K / "train.en.gz").is_file(),
                                reason=f"Multi30k is not at {MULTI30K} (set S2S_MULTI30K to its folder)")


def _spec(name: str, split: str, target_lang: str) -> CorpusSpec:
    return CorpusSpec(name=name, source=MULTI30K / f"{split}.en.gz", target=MULTI30K / f"{split}.{target_lang}.gz")


def _prepare(output, target_lang: str, **kw) -> dict:
    # No term annotation: these tests are about reading, cleaning and splitting real data, and
    # aligning 29,000 pairs for terms would cost each prepare its share of CI's time
    # (tests/data_prep/test_term_annotation.py tests annotation).
    return prepare(PrepareConfig(corpora=(_spec("multi30k", "train", target_lang),), source_lang="en",
                                 target_lang=target_lang, output=output, dev=_spec("val", "val", target_lang),
                                 test=_spec("test", "test_2016_flickr", target_lang), terms=None, **kw))


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


@pytest.fixture(scope="module")
def short_run(en_de, tmp_path_factory):
    out, _ = en_de
    run = tmp_path_factory.mktemp("short") / "run"
    return run, train(TrainConfig(prepared=out, output=run, preset="tiny", dev_sentences=20,
                                  sockeye_args=("--max-updates", "20", "--checkpoint-interval", "10",
                                                "--batch-size", "512")))


def test_short_training_smoke_run(short_run):
    run, summary = short_run
    assert summary["updates"] == 20
    assert [c["checkpoint"] for c in summary["checkpoints"]] == [1, 2]
    first, last = summary["checkpoints"]
    assert last["validation_perplexity"] < first["validation_perplexity"]
    assert (run / "model" / "params.best").exists()


def test_ctranslate2_gives_sockeyes_translations_on_a_short_multi30k_model(short_run, tmp_path):
    """A model this short mostly repeats itself up to the length bound: where the engines' beam
    searches end differs, if anywhere."""
    from data_prep.corpus import read_parallel
    from seq2seq.engines.ct2_convert import convert
    from seq2seq.engines.ct2_translator import Ct2Translator
    from seq2seq.engines.translator import DecodeConfig, DecodeOptions, Translator
    from seq2seq.versions.scoring import score

    run, _ = short_run
    (tmp_path / "ct2").mkdir()
    convert(run / "model", tmp_path / "ct2")
    pairs = list(read_parallel(MULTI30K / "test_2016_flickr.en.gz", MULTI30K / "test_2016_flickr.de.gz"))[:100]
    sources, references = [s for s, _ in pairs], [r for _, r in pairs]
    sockeye, ct2 = Translator(run / "model", run), Ct2Translator(tmp_path / "ct2", run)
    int8 = Ct2Translator(tmp_path / "ct2", run, DecodeConfig(dtype="int8"))
    for beam_size in (1, 5):
        options = DecodeOptions(beam_size=beam_size)
        expected, got = sockeye.translate(sources, options), ct2.translate(sources, options)
        assert sum(a == b for a, b in zip(expected, got)) / len(sources) >= 0.97
        bleu = score(expected, references).bleu
        assert abs(score(got, references).bleu - bleu) <= 0.3
        assert abs(score(int8.translate(sources, options), references).bleu - bleu) <= 0.5
