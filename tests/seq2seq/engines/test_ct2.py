"""The CTranslate2 export: the converter, proof that it is the same model, and engine selection."""
import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from data_prep.errors import S2SError
from seq2seq.engines.choice import open_translator
from seq2seq.engines.ct2_convert import convert
from seq2seq.engines.translator import SOCKEYE_DECODING, DecodeConfig, DecodeOptions
from seq2seq.versions.scoring import score
from seq2seq.versions.store import ModelStore
from tests.conftest import run_s2s


@pytest.fixture(scope="module")
def version(store):
    (version,) = ModelStore(store).versions()
    return version


@pytest.fixture(scope="module")
def test_set(demo):
    corpus = demo[0] / "corpus"
    return ([line for line in (corpus / "test.en").read_text(encoding="utf-8").splitlines()],
            [line for line in (corpus / "test.de").read_text(encoding="utf-8").splitlines()])


@pytest.fixture(scope="module")
def engines(version):
    return {name: open_translator(version.model_files(), engine, DecodeConfig(dtype=dtype))[0]
            for name, engine, dtype in (("sockeye", "sockeye", "float32"), ("ct2", "ctranslate2", "float32"),
                                        ("ct2-int8", "ctranslate2", "int8"))}


@pytest.mark.parametrize("beam_size", [1, 5])
def test_ctranslate2_gives_sockeyes_translations_and_bleu_on_the_demo_model(engines, test_set, beam_size):
    sources, references = test_set
    options = DecodeOptions(beam_size=beam_size)
    sockeye, ct2, int8 = (engines[name].translate(sources, options) for name in ("sockeye", "ct2", "ct2-int8"))
    identical = sum(a == b for a, b in zip(sockeye, ct2)) / len(sources)
    assert identical >= 0.97, identical
    bleu = {name: score(hypotheses, references).bleu for name, hypotheses in
            (("sockeye", sockeye), ("ct2", ct2), ("int8", int8))}
    assert abs(bleu["ct2"] - bleu["sockeye"]) <= 0.3, bleu
    assert abs(bleu["int8"] - bleu["sockeye"]) <= 0.5, bleu


def test_both_engines_honour_the_length_penalty(engines, test_set):
    # Sockeye's mode with another length penalty: the engines still agree, on translations and scores,
    # and the scores are normalised by length ** penalty.
    sources = test_set[0][:100]
    short = replace(SOCKEYE_DECODING, length_penalty=0.2)
    sockeye, ct2 = (engines[name].hypotheses(sources, short) for name in ("sockeye", "ct2"))
    assert sum(a.best == b.best for a, b in zip(sockeye, ct2)) / len(sources) >= 0.97
    agreeing = [(a, b) for a, b in zip(sockeye, ct2) if a.best == b.best]
    assert all(abs(a.scores[0] - b.scores[0]) < 1e-3 for a, b in agreeing)
    plain = engines["ct2"].hypotheses(sources, SOCKEYE_DECODING)
    assert sum(abs(p.scores[0] - c.scores[0]) > 1e-3 for p, c in zip(plain, ct2) if p.best == c.best) > len(sources) // 2


def test_both_engines_apply_terms_alike(version, engines, test_set):
    """Placeholders are tokens like any other to the converter: with a glossary, CTranslate2 gives
    Sockeye's translations, and each fills in the terms it was given."""
    from data_prep.terms import Glossary, term_use
    from seq2seq.engines.term_translation import translate_with_terms

    assert version.terms_trained, version.terms
    glossary = Glossary.from_pairs({"dog": "Zorbix", "car": "Flitzer", "mother": "Mamsell", "apple": "Pomlo",
                                    "garden": "Grünplatz", "city": "Metropolis"})
    sources = [s for s in test_set[0] if glossary.find(s)][:40]
    assert len(sources) >= 10
    sockeye, ct2 = (translate_with_terms(engines[name], sources, glossary) for name in ("sockeye", "ct2"))
    identical = sum(a.translation == b.translation for a, b in zip(sockeye, ct2)) / len(sources)
    assert identical >= 0.95, identical
    for results in (sockeye, ct2):
        hits, total = term_use(sources, [r.translation for r in results], glossary)
        assert hits / total >= 0.9, (hits, total)


def test_ctranslate2_decodes_a_batch_per_core_unless_given_threads(version, engines):
    import os

    # translate, evaluate and publish give no thread count: batches run in parallel, one per core.
    assert engines["ct2"]._model.num_translators == (os.cpu_count() or 1)
    # A server worker gives its share of the cores, and its batcher sends one batch at a time.
    worker, _ = open_translator(version.model_files(), "ctranslate2", DecodeConfig(threads=1))
    assert worker._model.num_translators == 1


def test_scores_alternatives_and_long_input_match_sockeye(engines, test_set):
    sources = test_set[0][:20]
    options = DecodeOptions(beam_size=5, nbest=3)
    sockeye, ct2 = (engines[name].hypotheses(sources, options) for name in ("sockeye", "ct2"))
    for a, b in zip(sockeye, ct2):
        assert b.best == a.best and len(b.translations) == 3
        # Sockeye's scores: length-normalised negative log-probabilities, lower is better.
        assert b.scores == sorted(b.scores) and b.scores[0] == pytest.approx(a.scores[0], abs=1e-3)
    # Longer than the model takes (200 subwords): both translate it in the same chunks, each chunk as the
    # engine translates that chunk alone. (Not word for word alike across engines: a 200-subword run-on chunk
    # decodes for hundreds of steps, where float rounding can tip a beam; a fresh demo model once gave
    # "Diese Mäntel halten ..." on CTranslate2 and a degenerate "Diese Zwei Fahrrrrr..." on Sockeye.)
    long = " ".join(test_set[0][:30])
    size = engines["ct2"].max_input_length
    assert engines["sockeye"].max_input_length == size
    for engine in engines.values():
        pieces = engine.subwords.source.encode(long).split()
        assert len(pieces) > size
        chunks = [engine.subwords.source.decode(" ".join(pieces[i:i + size])) for i in range(0, len(pieces), size)]
        assert engine.translate([long, ""]) == [" ".join(engine.translate(chunks)), ""]


def test_unsupported_options_are_refused_together_and_by_name(version, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(version.model_dir, model)
    config = model / "config"
    config.chmod(0o644)
    text = config.read_text()
    text = text.replace("decoder_type: transformer\n", "decoder_type: ssru_transformer\n")
    text = text.replace("use_glu: false", "use_glu: true").replace("num_source_factors: 1", "num_source_factors: 2")
    config.write_text(text)
    (tmp_path / "out").mkdir()
    with pytest.raises(S2SError) as refused:
        convert(model, tmp_path / "out")
    message = str(refused.value)
    for named in ("source factors (--source-factors)", "decoder type 'ssru_transformer'",
                  "encoder gated linear units", "decoder gated linear units"):
        assert named in message
    assert not list((tmp_path / "out").iterdir())


def _store_copy(version, tmp_path, edit=None):
    """A writable copy of the demo store; `edit(version_dir, info)` changes it."""
    copy = tmp_path / "store"
    shutil.copytree(version.path, copy / version.id)
    for path in (copy / version.id).rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    info = json.loads((copy / version.id / "version.json").read_text())
    if edit:
        edit(copy / version.id, info)
    (copy / version.id / "version.json").write_text(json.dumps(info))
    (copied,) = ModelStore(copy).versions()
    return copied


def test_auto_takes_the_export_and_falls_back_to_sockeye_with_the_reason(version, tmp_path, monkeypatch):
    import ctranslate2

    translator, choice = open_translator(version.model_files())
    assert (choice.engine, choice.device, translator.engine) == ("ctranslate2", "cpu", "ctranslate2")

    def corrupt(path, info):
        (path / "ctranslate2" / "model.bin").write_bytes(b"\0" * 64)

    corrupted = _store_copy(version, tmp_path / "a", corrupt)
    corrupted.verify()  # the rest of the version is sound: it is served, through Sockeye
    _, choice = open_translator(corrupted.model_files())
    assert choice.engine == "sockeye"
    assert choice.reason == "ctranslate2/model.bin is missing or does not match its sha256"
    with pytest.raises(S2SError, match="cannot translate with CTranslate2: ctranslate2/model.bin is missing"):
        open_translator(corrupted.model_files(), "ctranslate2")

    older = _store_copy(version, tmp_path / "b", lambda path, info: info.pop("ctranslate2"))
    assert open_translator(older.model_files())[1].reason == "no CTranslate2 export (published before s2s made one)"

    # A GPU that CTranslate2 cannot use (here: one it is told of, with no CUDA to run it).
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 1)
    _, choice = open_translator(version.model_files())
    assert choice.engine == "sockeye" and choice.reason.startswith("CTranslate2 cannot load the export on the cuda")
    with pytest.raises(S2SError, match="CTranslate2 cannot load this model on cuda"):
        open_translator(version.model_files(), "ctranslate2")
    # int8 is a CPU matter whatever the GPU.
    assert open_translator(version.model_files(), config=DecodeConfig(dtype="int8"))[1].device == "cpu"

    monkeypatch.setitem(sys.modules, "ctranslate2", None)
    _, choice = open_translator(version.model_files())
    assert choice.engine == "sockeye" and choice.reason.startswith("CTranslate2 is not installed")
    with pytest.raises(S2SError, match="unknown engine 'marian'"):
        open_translator(version.model_files(), "marian")


def test_models_endpoint_shows_each_engines_scores_and_what_serves(version, tmp_path):
    from serve.app import create_app
    from serve.config import ServeConfig

    corrupted = _store_copy(version, tmp_path, lambda path, info: (path / "ctranslate2" / "s2s.json").write_text("{}"))
    (model,) = create_app(ServeConfig(store=corrupted.path.parent)).test_client().get("/v1/models").json["models"]
    assert set(model["scores"]) == {"sockeye-float32", "ctranslate2-float32", "ctranslate2-int8"}
    assert model["scores"]["ctranslate2-float32"]["bleu"] == model["bleu"]
    assert model["engine"] == {"engine": "sockeye", "device": "cpu",
                               "reason": "ctranslate2/s2s.json is missing or does not match its sha256"}


def test_translate_cli_takes_an_engine_and_a_run_has_no_export(demo, store, translated):
    dog = "The small dog sees a red car."
    for engine in ("sockeye", "ctranslate2"):
        result = run_s2s("translate", "--store", str(store), "--engine", engine, input=dog + "\n")
        assert result.returncode == 0, result.stderr
        # What that engine makes of it in process (the German itself is the model's, and differs by machine).
        assert result.stdout == translated(dog, engine) + "\n" and result.stdout.strip() not in ("", dog)
        assert f"engine {engine} on cpu (asked for)" in result.stderr
    refused = run_s2s("translate", "--run", str(demo[0] / "run"), "--engine", "ctranslate2", input="Hello.\n")
    assert refused.returncode == 1
    assert refused.stderr.strip().endswith("cannot translate with CTranslate2: a training run has no CTranslate2 "
                                           "export; `s2s publish` makes one; use --engine sockeye")


def test_a_ctranslate2_worker_never_imports_torch(store):
    """A server on CTranslate2 does not load PyTorch or Sockeye: less memory per worker."""
    import subprocess

    code = ("import sys; from serve.app import create_app; from serve.config import ServeConfig; "
            f"app = create_app(ServeConfig(store={str(store)!r})); "
            "r = app.test_client().post('/v1/translate', json={'q': 'A dog.', 'source': 'en', 'target': 'de'}); "
            "assert r.status_code == 200, r.json; print(sorted(m for m in ('torch', 'sockeye') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def test_cuda_libraries_in_nvidia_packages_are_loaded_for_ctranslate2(tmp_path, monkeypatch):
    """PyTorch's CUDA wheels put cuBLAS in site-packages/nvidia/cublas/lib, off the loader's path."""
    import ctypes.util
    import types

    from seq2seq.engines.ct2_translator import preload_cuda_libraries

    real = ctypes.util.find_library("z")  # any loadable library stands in for cuBLAS here
    lib = tmp_path / "nvidia" / "cublas" / "lib"
    lib.mkdir(parents=True)
    found = next(p for d in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib")
                 for p in [Path(d) / real] if p.is_file())
    shutil.copyfile(found, lib / "libcublas.so.12")
    (lib / "libcudnn.so.9").write_bytes(b"not a library")
    monkeypatch.setitem(sys.modules, "nvidia", types.SimpleNamespace(__path__=[str(tmp_path / "nvidia")]))
    assert preload_cuda_libraries() == [str(lib / "libcublas.so.12")]
    monkeypatch.setitem(sys.modules, "nvidia", None)
    assert preload_cuda_libraries() == []
