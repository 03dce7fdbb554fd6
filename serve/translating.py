"""What every API does to translate, whatever its request looks like: find the served version for a
language pair, apply a glossary, and translate texts through the version's batcher and the cache."""
from flask import current_app, g

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
    glossary = None
    if terms is not None:
        glossaries = registry().glossaries
        glossary = current_app.extensions["s2s.glossaries"].compiled(terms, served.version, glossaries.served,
                                                                     glossaries.problems)
    return served.translate(texts, options or served.options, current_app.extensions["s2s.cache"],
                            serve_config().request_timeout_s, glossary)


def served_pairs() -> list[tuple[str, str]]:
    """The language pairs the store offers now, each once, sorted."""
    return sorted({version.pair for version in registry().snapshot.versions})
