"""What every API does to translate, whatever its request looks like: find the served version for a
language pair, apply a glossary, and translate texts through the version's batcher and the cache."""
from flask import current_app, g

from data_prep.terms import Glossary
from documents.formats import Format, translate_document
from documents.inline import Segment, Translated, combined
from seq2seq.engines.translator import DecodeOptions
from serve.registry import Registry
from serve.request_checks import serve_config
from serve.served_version import ServedVersion, TextResult
from serve.terminology import TermRequest


def registry() -> Registry:
    return current_app.extensions["s2s.registry"]


def resolve(source: str | None, target: str | None, version_id: str | None = None) -> ServedVersion:
    """The version for a pair (or the pinned one); VersionNotFound names what the store has."""
    served = registry().resolve(source, target, version_id)
    g.version = served.version.id
    return served


def translate(texts: list[str], served: ServedVersion, options: DecodeOptions | None = None,
              terms: TermRequest | None = None) -> list[TextResult]:
    """`options`: the version's own unless given."""
    g.items = len(texts)
    return served.translate(texts, options or served.options, current_app.extensions["s2s.cache"],
                            serve_config().request_timeout_s, _glossary(terms, served))


def _glossary(terms: TermRequest | None, served: ServedVersion) -> Glossary | None:
    if terms is None:
        return None
    glossaries = registry().glossaries
    return current_app.extensions["s2s.glossaries"].compiled(terms, served.version, glossaries.served,
                                                             glossaries.problems)


def translate_segments(segments: list[Segment], served: ServedVersion, options: DecodeOptions | None = None,
                       terms: TermRequest | None = None) -> list[Translated]:
    """A document's segments, through the same batcher, cache and glossary as texts."""
    g.items = len(segments)
    return served.translate_segments(segments, options or served.options, current_app.extensions["s2s.cache"],
                                     serve_config().request_timeout_s, _glossary(terms, served))


def translate_markup(texts: list[str], served: ServedVersion, options: DecodeOptions | None = None,
                     terms: TermRequest | None = None) -> list[str]:
    """HTML texts (fragments or pages), their markup kept (documents/html.py), in one pass through the model."""
    from documents.html import read_html  # with html5lib, on the first HTML request (documents/formats.py says why)

    parsed = combined([read_html(text) for text in texts], list)
    return parsed.translated(lambda segments: translate_segments(segments, served, options, terms))


def translate_file(data: bytes, name: str, served: ServedVersion, options: DecodeOptions | None = None,
                   terms: TermRequest | None = None) -> tuple[bytes, Format]:
    """A document in its format (documents/formats.py), within the server's document limits."""
    return translate_document(data, name, served.version.pair[1],
                              lambda segments: translate_segments(segments, served, options, terms),
                              serve_config().documents)


def served_pairs() -> list[tuple[str, str]]:
    """The language pairs the store offers now, each once, sorted."""
    return sorted({version.pair for version in registry().snapshot.versions})
