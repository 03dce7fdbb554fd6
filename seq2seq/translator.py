"""Translating plain text with a Sockeye model and its SentencePiece model."""
import logging
import threading
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from data_prep.errors import S2SError
from data_prep.subwords import SubwordPair

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DecodeConfig:
    beam_size: int = 5
    batch_size: int = 32


class Translator:
    """A loaded model. Thread-safe: concurrent calls are serialised on the model."""

    def __init__(self, model_dir: Path, subword_dir: Path, config: DecodeConfig = DecodeConfig()):
        """`subword_dir` holds the SentencePiece model(s) that the model was trained with."""
        import torch
        from sockeye import inference
        from sockeye.model import load_models

        if not (Path(model_dir) / "config").is_file():
            raise S2SError(f"{model_dir}: not a Sockeye model folder (no config file)")
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        models, source_vocabs, target_vocabs = load_models(device, [str(model_dir)], inference_only=True)
        scorer = inference.CandidateScorer(length_penalty_alpha=1.0, length_penalty_beta=0.0,
                                           brevity_penalty_weight=0.0)
        scorer.to(models[0].dtype)
        self._translator = inference.Translator(
            device=device, ensemble_mode="linear", scorer=scorer, batch_size=config.batch_size,
            beam_size=config.beam_size, beam_search_stop="all", models=models,
            source_vocabs=source_vocabs, target_vocabs=target_vocabs)
        self.subwords = SubwordPair.load(subword_dir)
        self._lock = threading.Lock()

    def translate(self, sentences: list[str]) -> list[str]:
        """Translates each sentence; an empty (or blank) sentence translates to ""."""
        from sockeye.inference import make_input_from_plain_string
        import torch

        texts = [unicodedata.normalize("NFC", s.strip()) for s in sentences]
        todo = [i for i, text in enumerate(texts) if text]
        inputs = [make_input_from_plain_string(n, self.subwords.source.encode(texts[i])) for n, i in enumerate(todo)]
        outputs = []
        if inputs:
            with self._lock, torch.inference_mode(), warnings.catch_warnings():
                # Sockeye traces its decoder on first use, and torch 2.x warns about it; harmless.
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                outputs = self._translator.translate(inputs)
        results = [""] * len(texts)
        for i, output in zip(todo, outputs):
            results[i] = self.subwords.target.decode(output.translation)
        return results

    def translate_stream(self, lines: Iterator[str], chunk_size: int = 256) -> Iterator[str]:
        """Translates a long stream in chunks, keeping memory flat and order intact."""
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) == chunk_size:
                yield from self.translate(chunk)
                chunk = []
        if chunk:
            yield from self.translate(chunk)
