"""Real data: Multi30k En->De from ../shared/data/multi30k, when that folder is present."""

import pytest

from data_prep.prepare import PreparedDir, PrepareConfig, prepare
from seq2seq.train import TrainConfig, train
from tests.conftest import MULTI30K

pytestmark = pytest.mark.skipif(not (MULTI30K / "train.en.gz").is_file(),
                                reason=f"Multi30k is not at {MULTI30K} (set S2S_MULTI30K to its folder)")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    out = tmp_path_factory.mktemp("multi30k") / "prepared"
    manifest = prepare(PrepareConfig(source=MULTI30K / "train.en.gz", target=MULTI30K / "train.de.gz",
                                     source_lang="en", target_lang="de", output=out,
                                     dev_source=MULTI30K / "val.en.gz", dev_target=MULTI30K / "val.de.gz"))
    return out, manifest


def test_prepare_multi30k_en_de(prepared):
    out, manifest = prepared
    train_report, dev_report = manifest["splits"]["train"], manifest["splits"]["dev"]
    assert train_report["read"] == 29000 and dev_report["read"] == 1014
    # Multi30k is clean: cleaning may drop a handful of pairs, never many.
    assert train_report["kept"] >= 28900
    assert train_report["kept"] + sum(train_report["dropped"].values()) == 29000
    assert manifest["subwords"]["pieces"] == 8000
    assert (PreparedDir(out).sockeye_data / "shard.00000").is_file()


def test_short_training_smoke_run(prepared, tmp_path):
    out, _ = prepared
    summary = train(TrainConfig(prepared=out, output=tmp_path / "run", preset="tiny", dev_sentences=20, sockeye_args=(
        "--max-updates", "20", "--checkpoint-interval", "10", "--batch-size", "512")))
    assert summary["updates"] == 20
    assert [c["checkpoint"] for c in summary["checkpoints"]] == [1, 2]
    first, last = summary["checkpoints"]
    assert last["validation_perplexity"] < first["validation_perplexity"]
    assert (tmp_path / "run" / "model" / "params.best").exists()
