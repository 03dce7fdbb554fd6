"""Which engine translates a model: CTranslate2 where it can, Sockeye otherwise, and why.

`auto` takes CTranslate2 when the model has an export whose files match their sha256 and
CTranslate2 can run on this machine: on the GPU when it sees one, else on the CPU. A GPU
that CTranslate2 cannot use (its wheels need CUDA 12's cuBLAS) leaves the model to Sockeye
on that GPU. Every choice is logged with its reason.
"""
import logging
from dataclasses import dataclass
from pathlib import Path

from data_prep.errors import S2SError
from seq2seq.engines.translator import DecodeConfig, TextTranslator, Translator

logger = logging.getLogger(__name__)

AUTO, CTRANSLATE2, SOCKEYE = "auto", "ctranslate2", "sockeye"
ENGINES = (AUTO, CTRANSLATE2, SOCKEYE)


@dataclass(frozen=True)
class ModelFiles:
    """What a model is made of on disk: a version's, or a training run's."""
    name: str
    model_dir: Path  # Sockeye's files
    subword_dir: Path  # the SentencePiece model(s)
    export_dir: Path | None = None  # the CTranslate2 export
    # Why the export cannot be used (missing, refused at conversion, not matching its sha256).
    export_problem: str | None = None


@dataclass(frozen=True)
class EngineChoice:
    engine: str  # "ctranslate2" or "sockeye"
    device: str  # "cpu" or "cuda"
    reason: str

    def as_dict(self) -> dict:
        return {"engine": self.engine, "device": self.device, "reason": self.reason}


def _ct2_device() -> str:
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def _sockeye(model: ModelFiles, config: DecodeConfig, reason: str) -> tuple[TextTranslator, EngineChoice]:
    translator = Translator(model.model_dir, model.subword_dir, config)
    return translator, EngineChoice(SOCKEYE, translator.device, reason)


def open_translator(model: ModelFiles, engine: str = AUTO,
                    config: DecodeConfig = DecodeConfig()) -> tuple[TextTranslator, EngineChoice]:
    """Loads `model` on the engine asked for, or for `auto` on the best one here; says which and why."""
    if engine not in ENGINES:
        raise S2SError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    if engine == SOCKEYE:
        translator, choice = _sockeye(model, config, "asked for")
    elif model.export_problem or model.export_dir is None:
        problem = model.export_problem or "no CTranslate2 export"
        if engine == CTRANSLATE2:
            raise S2SError(f"{model.name}: cannot translate with CTranslate2: {problem}; use --engine sockeye")
        translator, choice = _sockeye(model, config, problem)
    else:
        translator, choice = _ctranslate2(model, engine, config)
    logger.info("%s: engine %s on %s (%s)", model.name, choice.engine, choice.device, choice.reason)
    return translator, choice


def _ctranslate2(model: ModelFiles, engine: str, config: DecodeConfig) -> tuple[TextTranslator, EngineChoice]:
    try:
        from seq2seq.engines.ct2_translator import Ct2Translator

        device = "cpu" if config.dtype == "int8" else _ct2_device()
    except ImportError as e:
        if engine == CTRANSLATE2:
            raise S2SError(f"CTranslate2 is not installed ({e}): pip install ctranslate2") from None
        return _sockeye(model, config, f"CTranslate2 is not installed ({e})")
    try:
        translator = Ct2Translator(model.export_dir, model.subword_dir, config, device)
    except S2SError as e:
        if engine == CTRANSLATE2:
            raise
        # On a GPU, CTranslate2 needs CUDA 12's cuBLAS and cuDNN 9: a machine with other CUDA
        # libraries still has its GPU for Sockeye. Elsewhere, an export this CTranslate2 cannot
        # read (one written by a newer release, say) still leaves the Sockeye model.
        return _sockeye(model, config, f"CTranslate2 cannot load the export on the {device}: {e}")
    reason = "asked for" if engine == CTRANSLATE2 else f"the version has a CTranslate2 export, run on the {device}"
    return translator, EngineChoice(CTRANSLATE2, translator.device, reason)
