"""`s2s prepare`: raw parallel text in, a prepared directory that `s2s train` reads out."""
import hashlib
import json
import logging
import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

from data_prep import atomic
from data_prep.clean import CleanConfig, clean_pairs
from data_prep.corpus import count_lines, file_sha256, read_parallel
from data_prep.errors import S2SError
from data_prep.subwords import SubwordConfig, Subwords, train_subwords

logger = logging.getLogger(__name__)

# Drop reason for pairs whose subword length exceeds what Sockeye is told to accept,
# counted here so that Sockeye itself never discards a pair silently.
TOO_MANY_SUBWORDS = "too_many_subwords"


@dataclass(frozen=True)
class PreparedDir:
    """The layout of a prepared directory: the one place that names its files."""
    root: Path

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def subword_model(self) -> Path:
        return self.root / "sentencepiece.model"

    @property
    def sockeye_data(self) -> Path:
        return self.root / "sockeye"

    def text(self, split: str, side: str, subwords: bool = False) -> Path:
        """Cleaned text of a split ("train" or "dev") and side ("source" or "target")."""
        return self.root / f"{split}.{side}{'.sp' if subwords else ''}"

    def has_dev(self) -> bool:
        return self.text("dev", "source").is_file()

    def read_manifest(self) -> dict:
        if not self.manifest.is_file():
            raise S2SError(f"{self.root}: not a prepared directory (no manifest.json); run `s2s prepare` first")
        return json.loads(self.manifest.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class PrepareConfig:
    source: Path
    target: Path
    source_lang: str
    target_lang: str
    output: Path
    dev_source: Path | None = None
    dev_target: Path | None = None
    clean: CleanConfig = field(default_factory=CleanConfig)
    subwords: SubwordConfig = field(default_factory=SubwordConfig)
    max_seq_len: int = 200
    # Without a dev set, this many training pairs (at most a tenth) are held out as one.
    dev_size: int = 500
    seed: int = 1
    force: bool = False


@dataclass
class SplitReport:
    read: int = 0
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)


def prepare(config: PrepareConfig) -> dict:
    """Cleans, learns subwords, encodes and binarizes; returns the manifest it wrote."""
    if (config.dev_source is None) != (config.dev_target is None):
        raise S2SError("give both --dev-source and --dev-target, or neither")
    inputs = {"train_source": config.source, "train_target": config.target}
    if config.dev_source is not None:
        inputs.update(dev_source=config.dev_source, dev_target=config.dev_target)
    with atomic.directory(config.output, force=config.force) as tmp:
        out = PreparedDir(tmp)
        if config.dev_source is not None:
            reports = {
                "train": _write_clean(read_parallel(config.source, config.target), out, "train", config.clean),
                "dev": _write_clean(read_parallel(config.dev_source, config.dev_target), out, "dev", config.clean),
            }
        else:
            reports = _clean_and_hold_out(config, out)
        _require_pairs(reports)
        logger.info("training SentencePiece (%d pieces) on %d pairs", config.subwords.vocab_size,
                    reports["train"].kept)
        subwords = train_subwords([out.text("train", "source"), out.text("train", "target")],
                                  out.subword_model, config.subwords)
        for split, report in reports.items():
            _encode_split(subwords, out, split, config.max_seq_len, report)
        _require_pairs(reports)
        _run_sockeye_prepare(out, config.max_seq_len)
        _remove_unencoded_train_text(out)
        hashes = {name: file_sha256(path) for name, path in inputs.items()}
        manifest = {
            "source_lang": config.source_lang,
            "target_lang": config.target_lang,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "inputs": {name: {"path": str(path.resolve()), "sha256": hashes[name]} for name, path in inputs.items()},
            "train_data_sha256": _combined_hash([hashes["train_source"], hashes["train_target"]]),
            "splits": {split: asdict(report) for split, report in reports.items()},
            "clean": asdict(config.clean),
            "subwords": asdict(config.subwords) | {"pieces": subwords.piece_count},
            "max_seq_len": config.max_seq_len,
        }
        out.manifest.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def _require_pairs(reports: dict[str, SplitReport]) -> None:
    for split, report in reports.items():
        if report.kept == 0:
            raise S2SError(f"{split} set: no sentence pair is left after cleaning (read {report.read}, "
                           f"dropped {report.dropped}); check the input files")


def _clean_and_hold_out(config: PrepareConfig, out: PreparedDir) -> dict[str, SplitReport]:
    """Holds out a seeded random sample of the training pairs as the dev set, then cleans both."""
    total = count_lines(config.source)
    held_out = set(random.Random(config.seed).sample(range(total), min(config.dev_size, total // 10)))
    dev_pairs: list[tuple[str, str]] = []

    def train_pairs() -> Iterator[tuple[str, str]]:
        for index, pair in enumerate(read_parallel(config.source, config.target)):
            if index in held_out:
                dev_pairs.append(pair)
            else:
                yield pair

    train = _write_clean(train_pairs(), out, "train", config.clean)
    return {"train": train, "dev": _write_clean(dev_pairs, out, "dev", config.clean)}


def _write_clean(pairs: Iterable[tuple[str, str]], out: PreparedDir, split: str, config: CleanConfig) -> SplitReport:
    dropped: Counter = Counter()
    report = SplitReport()

    def counted(pairs: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str]]:
        for pair in pairs:
            report.read += 1
            yield pair

    with open(out.text(split, "source"), "w", encoding="utf-8") as fs, \
            open(out.text(split, "target"), "w", encoding="utf-8") as ft:
        for src, trg in clean_pairs(counted(pairs), config, dropped):
            fs.write(src + "\n")
            ft.write(trg + "\n")
            report.kept += 1
    report.dropped = dict(dropped)
    return report


def _encode_split(subwords: Subwords, out: PreparedDir, split: str, max_seq_len: int,
                  report: SplitReport) -> None:
    """Encodes a cleaned split, dropping (and counting) pairs too long for Sockeye."""
    plain = [out.text(split, side) for side in ("source", "target")]
    kept_plain = [p.with_suffix(p.suffix + ".kept") for p in plain]
    with open(plain[0], encoding="utf-8") as fs, open(plain[1], encoding="utf-8") as ft, \
            open(out.text(split, "source", True), "w", encoding="utf-8") as es, \
            open(out.text(split, "target", True), "w", encoding="utf-8") as et, \
            open(kept_plain[0], "w", encoding="utf-8") as ks, open(kept_plain[1], "w", encoding="utf-8") as kt:
        for src, trg in zip(fs, ft):
            src_sp, trg_sp = subwords.encode(src.rstrip("\n")), subwords.encode(trg.rstrip("\n"))
            if max(src_sp.count(" "), trg_sp.count(" ")) + 1 > max_seq_len:
                report.dropped[TOO_MANY_SUBWORDS] = report.dropped.get(TOO_MANY_SUBWORDS, 0) + 1
                report.kept -= 1
                continue
            es.write(src_sp + "\n")
            et.write(trg_sp + "\n")
            ks.write(src)
            kt.write(trg)
    for kept, original in zip(kept_plain, plain):
        kept.replace(original)


def _run_sockeye_prepare(out: PreparedDir, max_seq_len: int) -> None:
    from sockeye import arguments, prepare_data  # imported late: it pulls in torch

    parser = arguments.ConfigArgumentParser()
    arguments.add_prepare_data_cli_args(parser)
    args = parser.parse_args([
        "--source", str(out.text("train", "source", True)),
        "--target", str(out.text("train", "target", True)),
        "--output", str(out.sockeye_data),
        "--shared-vocab",
        "--max-seq-len", f"{max_seq_len}:{max_seq_len}",
        "--quiet",
    ])
    prepare_data.prepare_data(args)


def _remove_unencoded_train_text(out: PreparedDir) -> None:
    """Sockeye's binarized shards hold the training data; the plain copies only cost disk."""
    for side in ("source", "target"):
        out.text("train", side).unlink()
        out.text("train", side, True).unlink()


def _combined_hash(hashes: list[str]) -> str:
    return hashlib.sha256("".join(hashes).encode()).hexdigest()
