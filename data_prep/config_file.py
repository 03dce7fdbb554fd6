"""Reading a `s2s prepare --config` file: several corpora, each with its own cleaning rules.

    source_lang: en
    target_lang: de
    corpora:
      - name: crawl
        source: crawl.en.gz
        target: crawl.de.gz
        clean: {max_length_ratio: 2.0, check_numbers: true}
      - name: memory
        tmx: memory.tmx
    dev: {source: dev.en, target: dev.de}
    test: {tsv: test.tsv}
    subwords: {vocab_size: 16000, model_type: bpe, joint: false}

Relative paths are relative to the file. Any other PrepareConfig field may be set at the top.
A training corpus with `repeat: N` is trained on N times (up-sampling, e.g. corrections).
"""
import dataclasses
from pathlib import Path
from typing import Any

import yaml

from data_prep.clean import CleanConfig
from data_prep.corpus import CorpusSpec
from data_prep.errors import S2SError
from data_prep.prepare import PrepareConfig
from data_prep.subwords import SubwordConfig

_PATH_KEYS = ("source", "target", "tsv", "tmx")


def _fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def _build(cls, values: Any, where: str, **fixed):
    """cls(**values), with an error naming any unknown key and listing the valid ones."""
    if not isinstance(values, dict):
        raise S2SError(f"{where}: expected a mapping, got {type(values).__name__}")
    valid = _fields(cls) - set(fixed)
    unknown = sorted(set(values) - valid)
    if unknown:
        raise S2SError(f"{where}: unknown key(s) {', '.join(unknown)}; valid: {', '.join(sorted(valid))}")
    try:
        return cls(**values, **fixed)
    except TypeError as e:
        raise S2SError(f"{where}: {e}") from None


def _corpus(values: Any, name: str, base: Path, where: str) -> CorpusSpec:
    if not isinstance(values, dict):
        raise S2SError(f"{where}: expected a mapping with source/target, tsv or tmx")
    values = dict(values)
    values.setdefault("name", name)
    for key in _PATH_KEYS:
        if key in values:
            values[key] = base / str(values[key])
    values["clean"] = _build(CleanConfig, values.get("clean", {}), f"{where}.clean")
    return _build(CorpusSpec, values, where)


def load_prepare_config(path: Path, output: Path, **overrides) -> PrepareConfig:
    """A PrepareConfig from a YAML file; `overrides` (output, dry_run, force, subwords_from) come from the
    command line."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise S2SError(f"{path}: no such file") from None
    except yaml.YAMLError as e:
        raise S2SError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise S2SError(f"{path}: expected a mapping at the top")
    base = Path(path).resolve().parent
    corpora = data.pop("corpora", None)
    if not isinstance(corpora, list) or not corpora:
        raise S2SError(f"{path}: 'corpora' must be a non-empty list")
    data["corpora"] = tuple(_corpus(c, f"corpus{i + 1}", base, f"{path}: corpora[{i}]")
                            for i, c in enumerate(corpora))
    for split in ("dev", "test"):
        if split in data:
            data[split] = _corpus(data[split], split, base, f"{path}: {split}")
    if "subwords" in data and overrides.get("subwords_from"):
        raise S2SError(f"{path}: 'subwords' settings and --subwords-from exclude each other: the version's "
                       "subwords are reused as they are")
    if "subwords" in data:
        subwords = dict(data["subwords"]) if isinstance(data["subwords"], dict) else data["subwords"]
        if isinstance(subwords, dict) and "user_defined_symbols" in subwords:
            subwords["user_defined_symbols"] = tuple(subwords["user_defined_symbols"])
        data["subwords"] = _build(SubwordConfig, subwords, f"{path}: subwords")
    return _build(PrepareConfig, data, str(path), output=output, **overrides)
