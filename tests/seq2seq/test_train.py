import pytest

from data_prep.corpus import CorpusSpec
from data_prep.errors import S2SError
from data_prep.prepare import PrepareConfig, prepare
from data_prep.subwords import SubwordConfig
from seq2seq.evaluate import evaluate
from seq2seq.store import ModelStore, publish
from seq2seq.train import TrainConfig, train
from seq2seq.translator import Translator


def test_separate_vocabularies_train_translate_and_publish(small_corpus, tmp_path):
    spec = CorpusSpec(name="demo", source=small_corpus["train"][0], target=small_corpus["train"][1])
    prepare(PrepareConfig(corpora=(spec,), source_lang="en", target_lang="de", output=tmp_path / "prepared",
                          dev_size=20, test_size=20,
                          subwords=SubwordConfig(vocab_size=400, model_type="bpe", joint=False)))
    summary = train(TrainConfig(prepared=tmp_path / "prepared", output=tmp_path / "run", dev_sentences=10,
                                sockeye_args=("--max-updates", "10", "--checkpoint-interval", "10")))
    assert "--shared-vocab" not in summary["sockeye_args"]
    args = summary["sockeye_args"]
    tying = [args[i + 1] for i, a in enumerate(args) if a == "--weight-tying-type"]
    assert tying[-1] == "trg_softmax"  # the last one given wins
    translator = Translator(tmp_path / "run" / "model", tmp_path / "run")
    assert not translator.subwords.joint
    (translation,) = translator.translate(["The dog sees a cat."])
    assert isinstance(translation, str)
    result = evaluate(translator, tmp_path / "prepared" / "test.source", tmp_path / "prepared" / "test.target")
    version = publish(tmp_path / "run", tmp_path / "store", result)
    assert {"sentencepiece.source.model", "sentencepiece.target.model"} <= set(version.info["files"])
    ModelStore(tmp_path / "store").get(version.id).verify()


def test_unknown_sockeye_option_is_a_clear_error(small_corpus, tmp_path):
    spec = CorpusSpec(name="demo", source=small_corpus["train"][0], target=small_corpus["train"][1])
    prepare(PrepareConfig(corpora=(spec,), source_lang="en", target_lang="de", output=tmp_path / "prepared",
                          dev_size=20, test_size=20, subwords=SubwordConfig(vocab_size=400)))
    with pytest.raises(S2SError, match="Sockeye rejected the training options"):
        train(TrainConfig(prepared=tmp_path / "prepared", output=tmp_path / "run",
                          sockeye_args=("--no-such-option",)))


def test_training_needs_a_prepared_directory(tmp_path):
    with pytest.raises(S2SError, match="not a prepared directory"):
        train(TrainConfig(prepared=tmp_path, output=tmp_path / "run"))


def test_early_stopping_watches_validation_bleu(tmp_path):
    from data_prep.prepare import PreparedDir
    from seq2seq.run_dir import RunDir
    from seq2seq.train import sockeye_arguments

    config = TrainConfig(prepared=tmp_path, output=tmp_path / "run", early_stopping=3)
    args = sockeye_arguments(config, PreparedDir(tmp_path), RunDir(tmp_path / "run"), shared_vocab=True)
    assert args[args.index("--optimized-metric") + 1] == "bleu"
    assert args[args.index("--max-num-checkpoint-not-improved") + 1] == "3"


def test_best_checkpoints_are_averaged_and_the_better_model_kept(small_corpus, tmp_path):
    spec = CorpusSpec(name="demo", source=small_corpus["train"][0], target=small_corpus["train"][1])
    prepare(PrepareConfig(corpora=(spec,), source_lang="en", target_lang="de", output=tmp_path / "prepared",
                          dev_size=30, test_size=20, subwords=SubwordConfig(vocab_size=400)))
    summary = train(TrainConfig(prepared=tmp_path / "prepared", output=tmp_path / "run", dev_sentences=30,
                                average=3, sockeye_args=("--max-updates", "30", "--checkpoint-interval", "10")))
    averaging = summary["averaging"]
    assert sorted(averaging["averaged_checkpoints"]) == ["params.00001", "params.00002", "params.00003"]
    assert averaging["published"] == ("average" if averaging["average_dev_bleu"] > averaging[
        "best_checkpoint_dev_bleu"] else "best checkpoint")
    best = tmp_path / "run" / "model" / "params.best"
    assert best.is_symlink() == (averaging["published"] == "best checkpoint")
    assert not (tmp_path / "run" / "model" / "params.average").exists()
    (translation,) = Translator(tmp_path / "run" / "model", tmp_path / "run").translate(["A dog."])
    assert isinstance(translation, str)
