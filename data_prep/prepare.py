"""`s2s prepare`: raw parallel corpora in, a prepared directory that `s2s train` reads out.

The stages stream, so memory stays flat whatever the corpus size, except for the set of
64-bit hashes that deduplication and leak removal keep:

1. a given dev set is read and normalised; a given test set is kept as it is, so that its
   score is the one `s2s evaluate` prints for the same files;
2. every training corpus is read, normalised and cleaned by its own rules into one pool;
3. dev and test sets, when not given, are drawn from the pool (seeded);
4. the pool is split: training pairs whose source side is in dev or test are dropped;
5. SentencePiece is trained, and the training and dev splits are encoded on all cores,
   dropping pairs too long for Sockeye (so that Sockeye never drops one silently; the
   translator splits long test sentences instead);
6. Sockeye binarizes the training data.
"""
import contextlib
import hashlib
import json
import logging
import os
import random
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import Iterator

from tqdm import tqdm

from data_prep import atomic
from data_prep.clean import DUPLICATE, EMPTY, drop_reason, normalize, text_hash
from data_prep.corpus import BAD_LINE_POLICIES, FAIL, CorpusSpec, data_set_name, file_sha256, read_corpus
from data_prep.errors import S2SError
from data_prep.report import length_stats, plot_lengths
from data_prep.sockeye_logging import restored_logging
from data_prep.subwords import JOINT_MODEL, SIDE_MODELS, GivenSubwords, SubwordConfig, SubwordPair, train_subwords

logger = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")
# Drop reasons decided after cleaning.
HELD_OUT = "held_out_as_dev_or_test"
LEAKED = "source_in_dev_or_test"
TOO_MANY_SUBWORDS = "too_many_subwords"
_CHUNK = 10_000  # lines encoded per SentencePiece batch
SHARD_SIZE = 50_000  # pairs per Sockeye shard


@dataclass(frozen=True)
class PreparedDir:
    """The layout of a prepared directory: the one place that names its files."""
    root: Path

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def lengths_plot(self) -> Path:
        return self.root / "lengths.png"

    @property
    def sockeye_data(self) -> Path:
        return self.root / "sockeye"

    @property
    def subword_files(self) -> list[Path]:
        return [p for p in (self.root / JOINT_MODEL, *(self.root / f for f in SIDE_MODELS.values())) if p.is_file()]

    def text(self, split: str, side: str, subwords: bool = False) -> Path:
        """Cleaned text of a split and side ("source" or "target"); `subwords`: encoded."""
        return self.root / f"{split}.{side}{'.sp' if subwords else ''}"

    def test_split(self) -> tuple[Path, Path, str]:
        """The cleaned test split's source and target files, and the name it is reported under."""
        name = self.read_manifest()["splits"]["test"]["name"]
        return self.text("test", "source"), self.text("test", "target"), name

    def read_manifest(self) -> dict:
        if not self.manifest.is_file():
            raise S2SError(f"{self.root}: not a prepared directory (no manifest.json); run `s2s prepare` first")
        return json.loads(self.manifest.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class PrepareConfig:
    corpora: tuple[CorpusSpec, ...]
    source_lang: str
    target_lang: str
    output: Path
    dev: CorpusSpec | None = None
    test: CorpusSpec | None = None
    subwords: SubwordConfig = field(default_factory=SubwordConfig)
    # Reuse these subwords instead of training SentencePiece (`subwords` is then unused).
    subwords_from: GivenSubwords | None = None
    max_seq_len: int = 200
    # Without a given dev (test) set, this many cleaned pairs are drawn from the corpora as one.
    dev_size: int = 500
    test_size: int = 500
    seed: int = 1
    on_bad_line: str = FAIL
    dry_run: bool = False
    force: bool = False


@dataclass
class Counts:
    read: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)

    def drop(self, reason: str) -> None:
        self.kept -= 1
        self.dropped[reason] += 1

    def as_dict(self) -> dict:
        return {"read": self.read, "kept": self.kept, "dropped": dict(sorted(self.dropped.items()))}


def _check(config: PrepareConfig) -> None:
    if not config.corpora:
        raise S2SError("no training corpus given")
    names = [c.name for c in config.corpora]
    if len(set(names)) != len(names):
        raise S2SError(f"corpus names must be unique: {names}")
    for split, spec in (("dev", config.dev), ("test", config.test)):
        if spec and spec.repeat != 1:
            raise S2SError(f"{split} set: repeat applies to training corpora only (it has repeat: {spec.repeat})")
    if config.on_bad_line not in BAD_LINE_POLICIES:
        raise S2SError(f"--on-bad-line must be one of {', '.join(BAD_LINE_POLICIES)}")


@contextlib.contextmanager
def _workspace(config: PrepareConfig) -> Iterator[Path]:
    """The output directory, built atomically; a throw-away directory for a dry run."""
    if config.dry_run:
        with tempfile.TemporaryDirectory(prefix="s2s-prepare-") as tmp:
            yield Path(tmp)
    else:
        with atomic.directory(config.output, force=config.force) as tmp:
            yield tmp


def prepare(config: PrepareConfig) -> dict:
    """Runs every stage; returns the manifest (written to OUTPUT/manifest.json unless a dry run)."""
    _check(config)
    with _workspace(config) as tmp:
        out = PreparedDir(tmp)
        splits = {split: Counts() for split in SPLITS}
        given = {split: spec for split, spec in (("dev", config.dev), ("test", config.test)) if spec}
        for split, spec in given.items():
            _write_given_split(config, spec, out, split, splits[split])
        corpora = {spec.name: Counts() for spec in config.corpora}
        pool = tmp / "pool.tsv"
        pool_size = _clean_into_pool(config, pool, corpora)
        if pool_size == 0:
            _require_pairs(corpora)
        held_out = _draw_held_out(config, pool, pool_size, out, [s for s in ("dev", "test") if s not in given], splits)
        _split_pool(config, pool, out, held_out, corpora, given)
        pool.unlink()
        _require_pairs({**corpora, "dev": splits["dev"], "test": splits["test"]})
        if config.dry_run:
            return _manifest(config, corpora, splits, given)

        if config.subwords_from:
            logger.info("reusing the SentencePiece model and Sockeye vocabularies of %s", config.subwords_from.origin)
            subwords = config.subwords_from.copy_into(tmp)
        else:
            logger.info("training SentencePiece (%s, %d pieces, %s)", config.subwords.model_type,
                        config.subwords.vocab_size, "joint" if config.subwords.joint else "one model per side")
            subwords = train_subwords(out.text("train", "source"), out.text("train", "target"), tmp, config.subwords)
        repeats = [spec.repeat for spec in config.corpora]
        lengths = {split: _encode_split(subwords, out, split, config.max_seq_len, splits[split], corpora, repeats)
                   for split in ("train", "dev")}
        _require_pairs({**corpora, "dev": splits["dev"], "test": splits["test"]})
        _run_sockeye_prepare(out, subwords, config.max_seq_len, config.subwords_from)
        for side in ("source", "target"):
            out.text("train", side).unlink()
            out.text("train", side, subwords=True).unlink()
        plot_lengths(lengths["train"], out.lengths_plot, config.source_lang, config.target_lang)
        manifest = _manifest(config, corpora, splits, given)
        manifest["subwords"]["pieces"] = {"source": subwords.source.piece_count,
                                          "target": subwords.target.piece_count}
        manifest["lengths"] = {side: length_stats(lengths["train"][side]) for side in ("source", "target")}
        out.manifest.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def _write_given_split(config: PrepareConfig, spec: CorpusSpec, out: PreparedDir, split: str,
                       counts: Counts) -> None:
    """A given dev set is normalised and stripped of empty pairs, nothing more. A given test set
    is kept as it is: a version's test score is then on the text as given, comparable with
    published scores, and the same as `s2s evaluate` prints for the same files."""
    skipped_on_read = Counter()
    with open(out.text(split, "source"), "w", encoding="utf-8") as fs, \
            open(out.text(split, "target"), "w", encoding="utf-8") as ft:
        for src, trg in read_corpus(spec, config.source_lang, config.target_lang, config.on_bad_line,
                                    skipped_on_read):
            counts.read += 1
            if split == "test":
                # A TMX segment may span lines; the split holds one sentence per line.
                src, trg = src.replace("\n", " "), trg.replace("\n", " ")
            else:
                src, trg = normalize(src, spec.clean), normalize(trg, spec.clean)
                if not src or not trg:
                    counts.dropped[EMPTY] += 1
                    continue
            counts.kept += 1
            fs.write(src + "\n")
            ft.write(trg + "\n")
    _add_skipped(counts, skipped_on_read)


def _add_skipped(counts: Counts, skipped_on_read: Counter) -> None:
    """Pairs skipped while reading (bad UTF-8, a TMX unit missing a language) were read, then dropped."""
    counts.read += sum(skipped_on_read.values())
    counts.dropped.update(skipped_on_read)


def _clean_into_pool(config: PrepareConfig, pool: Path, corpora: dict[str, Counts]) -> int:
    """Cleans every training corpus into one file of `corpus-index<TAB>source<TAB>target` lines."""
    seen: set[int] = set()
    size = 0
    with open(pool, "w", encoding="utf-8") as f, \
            tqdm(desc="cleaning", unit=" pairs", unit_scale=True, disable=None) as bar:
        for index, spec in enumerate(config.corpora):
            counts = corpora[spec.name]
            skipped_on_read = Counter()
            for src, trg in read_corpus(spec, config.source_lang, config.target_lang, config.on_bad_line,
                                        skipped_on_read):
                bar.update()
                counts.read += 1
                src, trg = normalize(src, spec.clean), normalize(trg, spec.clean)
                reason = drop_reason(src, trg, spec.clean)
                if reason is None:
                    # Every kept pair is remembered, so a later corpus can drop its repeats even
                    # when this one keeps its own.
                    key = text_hash(src, trg)
                    if spec.clean.dedupe and key in seen:
                        reason = DUPLICATE
                    seen.add(key)
                if reason is not None:
                    counts.dropped[reason] += 1
                    continue
                counts.kept += 1
                size += 1
                f.write(f"{index}\t{src}\t{trg}\n")
            _add_skipped(counts, skipped_on_read)
    return size


def _pool_lines(pool: Path) -> Iterator[tuple[int, str, str]]:
    with open(pool, encoding="utf-8") as f:
        for line in f:
            index, src, trg = line.rstrip("\n").split("\t")
            yield int(index), src, trg


def _draw_held_out(config: PrepareConfig, pool: Path, pool_size: int, out: PreparedDir, splits_to_draw: list[str],
                   counts: dict[str, Counts]) -> set[int]:
    """Draws the missing dev/test sets from the pool (seeded); returns their pool line numbers."""
    sizes = {"dev": config.dev_size, "test": config.test_size}
    wanted = sum(sizes[s] for s in splits_to_draw)
    if not splits_to_draw:
        return set()
    if wanted > pool_size // 5:
        raise S2SError(f"the corpora have {pool_size} clean pairs, too few to draw {wanted} for "
                       f"{' and '.join(splits_to_draw)} and still train; give them, or smaller sizes")
    drawn = random.Random(config.seed).sample(range(pool_size), wanted)
    assignment, start = {}, 0
    for split in splits_to_draw:
        assignment.update({line: split for line in drawn[start:start + sizes[split]]})
        start += sizes[split]
    files = {split: (open(out.text(split, "source"), "w", encoding="utf-8"),
                     open(out.text(split, "target"), "w", encoding="utf-8")) for split in splits_to_draw}
    try:
        for line_no, (_, src, trg) in enumerate(_pool_lines(pool)):
            split = assignment.get(line_no)
            if split:
                files[split][0].write(src + "\n")
                files[split][1].write(trg + "\n")
                counts[split].read += 1
                counts[split].kept += 1
    finally:
        for fs, ft in files.values():
            fs.close()
            ft.close()
    return set(assignment)


def _split_pool(config: PrepareConfig, pool: Path, out: PreparedDir, held_out: set[int],
                corpora: dict[str, Counts], given: dict[str, CorpusSpec]) -> None:
    """Writes the training split, without held-out pairs or pairs whose source is in dev or test."""
    leaked_sources = set()
    for split in ("dev", "test"):
        # A given test set is not normalised; training sources are.
        clean = given[split].clean if split in given else None
        with open(out.text(split, "source"), encoding="utf-8") as f:
            leaked_sources.update(text_hash(normalize(line.rstrip("\n"), clean) if clean else line.rstrip("\n"))
                                  for line in f)
    names = [spec.name for spec in config.corpora]
    with open(out.text("train", "source"), "w", encoding="utf-8") as fs, \
            open(out.text("train", "target"), "w", encoding="utf-8") as ft, \
            open(out.root / "train.corpus", "w", encoding="utf-8") as fc:
        for line_no, (index, src, trg) in enumerate(_pool_lines(pool)):
            if line_no in held_out:
                corpora[names[index]].drop(HELD_OUT)
                continue
            if text_hash(src) in leaked_sources:
                corpora[names[index]].drop(LEAKED)
                continue
            fs.write(src + "\n")
            ft.write(trg + "\n")
            fc.write(f"{index}\n")


def _require_pairs(counts_by_name: dict[str, Counts]) -> None:
    for name, counts in counts_by_name.items():
        if counts.kept <= 0:
            raise S2SError(f"{name}: no sentence pair is left after cleaning (read {counts.read}, dropped "
                           f"{dict(counts.dropped)}); check the input files and cleaning settings")


def _encode_split(subwords: SubwordPair, out: PreparedDir, split: str, max_seq_len: int, counts: Counts,
                  corpora: dict[str, Counts], repeats: list[int]) -> dict[str, Counter]:
    """Encodes a split on all cores; drops (and counts) pairs longer than max_seq_len subwords, and
    writes each training pair as many times as its corpus's `repeats`. Returns the histogram of kept
    pairs' subword lengths per side."""
    plain = [out.text(split, side) for side in ("source", "target")]
    corpus_file = out.root / "train.corpus"
    names = list(corpora)
    lengths = {"source": Counter(), "target": Counter()}
    kept_plain = [p.with_suffix(p.suffix + ".kept") for p in plain]
    with open(plain[0], encoding="utf-8") as fs, open(plain[1], encoding="utf-8") as ft, \
            (open(corpus_file, encoding="utf-8") if split == "train" else contextlib.nullcontext()) as fc, \
            open(out.text(split, "source", True), "w", encoding="utf-8") as es, \
            open(out.text(split, "target", True), "w", encoding="utf-8") as et, \
            open(kept_plain[0], "w", encoding="utf-8") as ks, open(kept_plain[1], "w", encoding="utf-8") as kt, \
            tqdm(desc=f"encoding {split}", unit=" pairs", unit_scale=True, disable=None) as bar:
        while True:
            src_chunk = [line.rstrip("\n") for line in islice(fs, _CHUNK)]
            if not src_chunk:
                break
            trg_chunk = [line.rstrip("\n") for line in islice(ft, len(src_chunk))]
            corpus_chunk = [int(line) for line in islice(fc, len(src_chunk))] if fc else []
            for i, (src_pieces, trg_pieces) in enumerate(zip(subwords.source.encode_batch(src_chunk),
                                                             subwords.target.encode_batch(trg_chunk))):
                if max(len(src_pieces), len(trg_pieces)) > max_seq_len:
                    if corpus_chunk:
                        corpora[names[corpus_chunk[i]]].drop(TOO_MANY_SUBWORDS)
                    else:
                        counts.drop(TOO_MANY_SUBWORDS)
                    continue
                lengths["source"][len(src_pieces)] += 1
                lengths["target"][len(trg_pieces)] += 1
                # Repeated here, after cleaning and leak removal, so that a repeat is never
                # dropped as a duplicate nor counted as a pair of its own.
                copies = repeats[corpus_chunk[i]] if corpus_chunk else 1
                es.write((" ".join(src_pieces) + "\n") * copies)
                et.write((" ".join(trg_pieces) + "\n") * copies)
                ks.write(src_chunk[i] + "\n")
                kt.write(trg_chunk[i] + "\n")
            bar.update(len(src_chunk))
    for kept, original in zip(kept_plain, plain):
        kept.replace(original)
    if split == "train":
        corpus_file.unlink()
    return lengths


def _run_sockeye_prepare(out: PreparedDir, subwords: SubwordPair, max_seq_len: int,
                         given: GivenSubwords | None = None) -> None:
    from sockeye import arguments, prepare_data  # imported late: it pulls in torch

    written = []
    if given is None:
        for side, model in (("source", subwords.source), ("target", subwords.target)):
            path = out.root / f"vocab.{side}.json"
            path.write_text(json.dumps(model.sockeye_vocab(), ensure_ascii=False), encoding="utf-8")
            written.append(path)
    # Given subwords come with the model's own vocabularies, which its weights are indexed by.
    vocab_files = [given.source_vocab, given.target_vocab] if given else written
    parser = arguments.ConfigArgumentParser()
    arguments.add_prepare_data_cli_args(parser)
    args = parser.parse_args([
        "--source", str(out.text("train", "source", True)),
        "--target", str(out.text("train", "target", True)),
        "--output", str(out.sockeye_data),
        "--max-seq-len", f"{max_seq_len}:{max_seq_len}",
        "--source-vocab", str(vocab_files[0]), "--target-vocab", str(vocab_files[1]),
        "--max-processes", str(os.cpu_count() or 1),
        # Shards are binarized in parallel, one per process; their fixed size bounds memory.
        "--num-samples-per-shard", str(SHARD_SIZE),
        "--quiet",
        *(["--shared-vocab"] if subwords.joint else []),
    ])
    with restored_logging():
        prepare_data.prepare_data(args)
    for path in written:
        path.unlink()


def _manifest(config: PrepareConfig, corpora: dict[str, Counts], splits: dict[str, Counts],
              given: dict[str, CorpusSpec]) -> dict:
    train = Counts(read=sum(c.read for c in corpora.values()), kept=sum(c.kept for c in corpora.values()),
                   dropped=sum((c.dropped for c in corpora.values()), Counter()))
    def file_hashes(spec: CorpusSpec) -> dict[str, str]:
        return {str(p.resolve()): file_sha256(p) for p in spec.files}

    hashes = {spec.name: file_hashes(spec) for spec in config.corpora}
    # Up-sampling changes what is trained on; a corpus used once hashes as it always did.
    training_hashes = [h for spec in config.corpora
                       for h in [*hashes[spec.name].values(), *([f"repeat={spec.repeat}"] if spec.repeat != 1 else [])]]
    manifest = {
        "source_lang": config.source_lang,
        "target_lang": config.target_lang,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "dry_run": config.dry_run,
        "corpora": {spec.name: {"format": spec.format, "files": hashes[spec.name], **corpora[spec.name].as_dict(),
                                "clean": asdict(spec.clean), "repeat": spec.repeat} for spec in config.corpora},
        "train_data_sha256": hashlib.sha256("".join(training_hashes).encode()).hexdigest(),
        "splits": {"train": train.as_dict(),
                   **{s: {**splits[s].as_dict(), "origin": "given" if s in given else "drawn from the corpora",
                          "name": data_set_name(given[s].files[0]) if s in given else f"{s} (drawn)",
                          **({"files": file_hashes(given[s])} if s in given else {})} for s in ("dev", "test")}},
        "seed": config.seed,
        "on_bad_line": config.on_bad_line,
        "subwords": ({"from_version": config.subwords_from.origin, "joint": config.subwords_from.joint}
                     if config.subwords_from else asdict(config.subwords)),
        "max_seq_len": config.max_seq_len,
    }
    return json.loads(json.dumps(manifest))  # plain JSON values: what a reader of manifest.json sees
