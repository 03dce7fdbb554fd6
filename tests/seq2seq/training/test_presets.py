"""Presets, and how `auto` picks one."""
import argparse

import pytest

from data_prep.errors import S2SError
from seq2seq.training.presets import PRESETS, SMALL_CORPUS_PAIRS, choose_preset


def _parsed(tmp_path, preset: str) -> argparse.Namespace:
    from sockeye.arguments import add_train_cli_args

    parser = argparse.ArgumentParser()
    add_train_cli_args(parser)
    text = tmp_path / "dev.txt"
    text.write_text("a\n")
    return parser.parse_args(["--prepared-data", str(tmp_path), "--validation-source", str(text),
                              "--validation-target", str(text), "--output", "o", *PRESETS[preset].sockeye_args])


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_is_valid_sockeye_train_options(tmp_path, preset):
    assert _parsed(tmp_path, preset).max_updates > 0


def test_small_corpus_preset_is_transformer_base_with_the_settings_measured_on_multi30k(tmp_path):
    small, base = _parsed(tmp_path, "small-corpus"), _parsed(tmp_path, "base")
    assert small.num_layers == base.num_layers == (6, 6)
    assert small.transformer_model_size == base.transformer_model_size == (512, 512)
    assert small.transformer_dropout_prepost == small.transformer_dropout_attention == (0.3, 0.3)
    assert small.transformer_dropout_act == (0.3, 0.3)
    assert (small.batch_size, small.learning_rate_warmup, small.checkpoint_interval, small.max_updates) == \
        (4096, 2000, 500, 7000)
    assert (base.batch_size, base.transformer_dropout_prepost) == (8192, (0.1, 0.1))


@pytest.mark.parametrize("pairs,gpu,chosen,reason", [
    (28_978, True, "small-corpus", "auto: 28,978 training pairs, fewer than 100,000"),
    (SMALL_CORPUS_PAIRS - 1, True, "small-corpus", "auto: 99,999 training pairs"),
    (SMALL_CORPUS_PAIRS, True, "base", "auto: 100,000 training pairs, at least 100,000"),
    (50_000_000, True, "base", "auto: 50,000,000 training pairs"),
    (50_000_000, False, "tiny", "auto: no GPU"),
    (12_000, False, "tiny", "auto: no GPU"),
])
def test_auto_picks_by_corpus_size_on_a_gpu_and_tiny_on_a_cpu(pairs, gpu, chosen, reason):
    choice = choose_preset("auto", pairs, gpu)
    assert choice.name == chosen and choice.reason.startswith(reason)


def test_a_named_preset_is_kept_and_an_unknown_one_named():
    assert choose_preset("base", 10, gpu=False).name == "base"
    with pytest.raises(S2SError, match="unknown preset 'huge'; choose one of: tiny, small-corpus, base"):
        choose_preset("huge", 10, gpu=True)
