"""Translating sentences with a glossary, offline (`s2s evaluate --terms`, bench/terms.py): each
sentence's terms behind placeholders for the model, filled with their targets after it.
The server does the same per request, with its cache and batcher (serve/served_version.py)."""
from dataclasses import dataclass

from data_prep.terms import Glossary, Term, from_model, mark, to_model
from seq2seq.engines.translator import DecodeOptions, TextTranslator


@dataclass(frozen=True)
class TermTranslation:
    translation: str
    applied: tuple[Term, ...]
    missed: tuple[Term, ...]


def translate_with_terms(translator: TextTranslator, sentences: list[str], glossary: Glossary,
                         options: DecodeOptions = DecodeOptions()) -> list[TermTranslation]:
    """One sentence per item, as a test set has them."""
    prepared = []
    for sentence in sentences:
        marked = mark(sentence, glossary.find(sentence))
        prepared.append(to_model(marked.text, marked))
    outputs = translator.translate([model_input for model_input, _ in prepared], options)
    return [TermTranslation(*from_model(output, slots)) for output, (_, slots) in zip(outputs, prepared)]
