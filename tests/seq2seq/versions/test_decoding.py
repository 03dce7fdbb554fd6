"""Decoding options chosen on the dev set at publish, recorded in version.json, and used by default."""
import json
from dataclasses import replace

import pytest

from seq2seq.engines.choice import open_translator
from seq2seq.engines.translator import SOCKEYE_DECODING, DecodeConfig, DecodeOptions
from seq2seq.versions.decoding import SOCKEYE_MODE, options_from, options_record
from seq2seq.versions.decoding_choice import CANDIDATES, Measured, pick
from seq2seq.versions.store import ModelStore
from tests.conftest import run_s2s

SOCKEYE = Measured(SOCKEYE_DECODING, dev_bleu=30.0, cpu_ms_per_sentence=10.0)


def _candidate(beam: int, bleu: float, ms: float) -> Measured:
    return Measured(DecodeOptions(beam_size=beam, patience=1), bleu, ms)


def test_the_best_bleu_within_the_budget_wins_and_a_tie_goes_to_the_cheaper_options():
    slow_best, good, good_faster = _candidate(8, 31.0, 12.0), _candidate(5, 30.5, 9.0), _candidate(4, 30.5, 7.0)
    assert pick(SOCKEYE, [slow_best, good, good_faster], budget=1.0) == good_faster
    assert pick(SOCKEYE, [slow_best, good, good_faster], budget=1.25) == slow_best
    # Sockeye's mode stays when nothing affordable scores higher; at equal BLEU the faster candidate wins.
    assert pick(SOCKEYE, [_candidate(5, 29.9, 5.0), slow_best], budget=1.0) == SOCKEYE
    assert pick(SOCKEYE, [_candidate(5, 30.0, 5.0)], budget=1.0).options.beam_size == 5
    # A tie goes by what the options cost, never by a timing, which differs from one run to the next:
    # the smaller beam though it was timed slower, then the length penalty nearer Sockeye's.
    assert pick(SOCKEYE, [good_faster, _candidate(3, 30.5, 8.0)], budget=1.0).options.beam_size == 3
    near, far = (Measured(DecodeOptions(beam_size=3, patience=1, length_penalty=penalty), 30.5, ms)
                 for penalty, ms in ((0.6, 8.0), (0.2, 7.0)))
    assert pick(SOCKEYE, [far, near], budget=1.0) == pick(SOCKEYE, [near, far], budget=1.0) == near
    # Nor does a timing exclude a candidate that searches no more than Sockeye's mode, unless the budget is
    # under 1: the same checkpoint published twice chooses the same options.
    timed_slow = _candidate(5, 30.5, 10.4)
    assert pick(SOCKEYE, [timed_slow], budget=1.0) == pick(SOCKEYE, [timed_slow], budget=1.5) == timed_slow
    assert pick(SOCKEYE, [timed_slow], budget=0.9) == SOCKEYE


def test_a_record_gives_the_options_and_older_versions_decode_as_sockeye():
    chosen = DecodeOptions(beam_size=4, length_penalty=0.6, patience=1)
    record = {"mode": "chosen", "options": options_record(chosen)}
    assert "nbest" not in record["options"]
    assert options_from(record) == chosen
    assert options_from(record, SOCKEYE_MODE) == options_from(None) == options_from({}) == SOCKEYE_DECODING
    with pytest.raises(Exception, match="unknown decoding mode 'fast'; choose one of: chosen, sockeye"):
        options_from(record, "fast")


@pytest.fixture(scope="module")
def version(store):
    (version,) = ModelStore(store).versions()
    return version


@pytest.fixture(scope="module")
def ct2(version):
    return open_translator(version.model_files(), "ctranslate2", DecodeConfig(threads=1))[0]


@pytest.fixture(scope="module")
def sources(demo):
    return (demo[0] / "corpus" / "test.en").read_text(encoding="utf-8").splitlines()[:60]


def _measured(figures: dict) -> Measured:
    """A candidate's figures in version.json, read back."""
    options = options_from({"options": {key: figures[key] for key in options_record(SOCKEYE_DECODING)}})
    return Measured(options, figures["dev_bleu"], figures["cpu_ms_per_sentence"])


def test_the_demo_version_records_its_choice_and_every_candidate(version):
    record = version.info["decoding"]
    sockeye, *candidates = [_measured(figures) for figures in [record["sockeye"], *record["candidates"]]]
    assert sockeye.options == SOCKEYE_DECODING and [c.options for c in candidates] == list(CANDIDATES)
    # The recorded figures, picked again, give the recorded choice; the version decodes with it.
    assert options_record(pick(sockeye, candidates, record["budget"]).options) == record["options"]
    assert version.decoding == options_from(record)
    assert record["dev"]["sentences"] == 200 and record["dev"]["bleu"] >= record["sockeye"]["dev_bleu"]
    if record["mode"] == "chosen":  # the test BLEU before the choice, beside the headline after it
        assert record["sockeye"]["test_bleu"] > 0 and version.bleu == version.scores["ctranslate2-float32"]["bleu"]


def test_the_server_and_the_command_line_decode_with_the_versions_options(store, version, ct2, sources):
    from serve.app import create_app
    from serve.config import ServeConfig

    client = create_app(ServeConfig(store=store, engine="ctranslate2", cache_size=0)).test_client()

    def served(**fields):
        response = client.post("/v1/translate", json={"q": sources, "source": "en", "target": "de", **fields})
        assert response.status_code == 200, response.json
        return response.json["translations"]

    assert served() == ct2.translate(sources, version.decoding)
    # A request's beam size replaces the version's, and keeps its other options.
    assert served(beam_size=1) == ct2.translate(sources, replace(version.decoding, beam_size=1))
    (model,) = client.get("/v1/models").json["models"]
    assert model["decoding"]["options"] == options_record(version.decoding)
    assert model["decoding"]["mode"] == version.info["decoding"]["mode"]

    text = "".join(s + "\n" for s in sources)
    for mode, options in (("chosen", version.decoding), ("sockeye", SOCKEYE_DECODING)):
        result = run_s2s("translate", "--store", str(store), "--engine", "ctranslate2", "--decoding", mode, input=text)
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == ct2.translate(sources, options)


def test_publish_can_keep_sockeyes_decoding_and_refuses_a_budget_of_nothing(demo, tmp_path):
    run = demo[0] / "run"
    refused = run_s2s("publish", str(run), "--store", str(tmp_path / "refused"), "--decoding-budget", "0")
    assert refused.returncode == 1 and "the decoding budget must be above 0, not 0" in refused.stderr
    assert not (tmp_path / "refused").exists()

    result = run_s2s("publish", str(run), "--store", str(tmp_path / "models"), "--decoding", "sockeye")
    assert result.returncode == 0, result.stderr
    assert "decoding: Sockeye's (beam_size 5, length_penalty 1.0, patience 2): asked for" \
        in result.stdout
    (version,) = ModelStore(tmp_path / "models").versions()
    assert version.decoding == SOCKEYE_DECODING
    assert json.loads((version.path / "version.json").read_text())["decoding"]["why"] == "asked for (--decoding sockeye)"
