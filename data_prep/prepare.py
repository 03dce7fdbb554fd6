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

Stages 2 to 4 are in pool.py, the encoding and binarizing of 5 and 6 in binarize.py; this module
runs them and writes the manifest.
"""
import contextlib
import hashlib
import json
import logging
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from data_prep import atomic
from data_prep.binarize import encode_split, run_sockeye_prepare
from data_prep.clean import EMPTY, normalize
from data_prep.corpus import BAD_LINE_POLICIES, FAIL, CorpusSpec, data_set_name, file_sha256, read_corpus
from data_prep.counts import Counts
from data_prep.errors import S2SError
from data_prep.pool import clean_into_pool, draw_held_out, split_pool
from data_prep.prepared_dir import SPLITS, PreparedDir
from data_prep.report import length_stats, plot_lengths
from data_prep.subwords import GivenSubwords, SubwordConfig, SubwordPair, train_subwords
from data_prep.term_annotation import TermAnnotationConfig, annotate
from data_prep.termbase import read_termbase
from data_prep.terms import user_defined_symbols

logger = logging.getLogger(__name__)


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
    # Term annotation of the training split (data_prep/term_annotation.py); None trains a model that
    # cannot apply glossaries.
    terms: TermAnnotationConfig | None = field(default_factory=TermAnnotationConfig)
    dry_run: bool = False
    force: bool = False


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
    if config.terms and not 0 <= config.terms.ratio <= 1:
        raise S2SError(f"--term-ratio must be between 0 and 1, not {config.terms.ratio}")
    if config.terms and config.terms.termbase:
        # Read now, not after the cleaning: a bad term base fails before any work is done.
        termbase = read_termbase(config.terms.termbase)
        try:
            termbase.terms(config.source_lang, config.target_lang)
        except S2SError as e:
            raise S2SError(f"--termbase {config.terms.termbase}: {e}") from None


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
        pool_size = clean_into_pool(config.corpora, config.source_lang, config.target_lang, config.on_bad_line,
                                    pool, corpora)
        if pool_size == 0:
            _require_pairs(corpora)
        to_draw = {split: size for split, size in (("dev", config.dev_size), ("test", config.test_size))
                   if split not in given}
        held_out = draw_held_out(pool, pool_size, out, to_draw, config.seed, splits)
        split_pool(pool, out, held_out, corpora, given)
        pool.unlink()
        _require_pairs({**corpora, "dev": splits["dev"], "test": splits["test"]})
        if config.dry_run:
            return _manifest(config, corpora, splits, given)

        if config.subwords_from:
            logger.info("reusing the SentencePiece model and Sockeye vocabularies of %s", config.subwords_from.origin)
            subwords = config.subwords_from.copy_into(tmp)
        else:
            subword_config = config.subwords
            if config.terms:
                symbols = subword_config.user_defined_symbols
                subword_config = replace(subword_config, user_defined_symbols=symbols + tuple(
                    s for s in user_defined_symbols() if s not in symbols))
            logger.info("training SentencePiece (%s, %d pieces, %s)", subword_config.model_type,
                        subword_config.vocab_size, "joint" if subword_config.joint else "one model per side")
            subwords = train_subwords(out.text("train", "source"), out.text("train", "target"), tmp, subword_config)
        terms = _annotate_terms(config, out, subwords)
        repeats = [spec.repeat for spec in config.corpora]
        lengths = {split: encode_split(subwords, out, split, config.max_seq_len, splits[split], corpora, repeats)
                   for split in ("train", "dev")}
        _require_pairs({**corpora, "dev": splits["dev"], "test": splits["test"]})
        run_sockeye_prepare(out, subwords, config.max_seq_len, config.subwords_from)
        for side in ("source", "target"):
            out.text("train", side).unlink()
            out.text("train", side, subwords=True).unlink()
        plot_lengths(lengths["train"], out.lengths_plot, config.source_lang, config.target_lang)
        manifest = _manifest(config, corpora, splits, given)
        manifest["terms"] = terms
        manifest["subwords"]["pieces"] = {"source": subwords.source.piece_count,
                                          "target": subwords.target.piece_count}
        manifest["lengths"] = {side: length_stats(lengths["train"][side]) for side in ("source", "target")}
        out.manifest.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def _annotate_terms(config: PrepareConfig, out: PreparedDir, subwords: SubwordPair) -> dict:
    """Annotates the training split in place; returns the manifest's record of it."""
    if config.terms is None:
        return {"trained": False, "why": "term annotation turned off (--no-terms)"}
    unsplit = [s for s in user_defined_symbols()
               if s not in subwords.source.encode(s).split() or s not in subwords.target.encode(s).split()]
    if unsplit:
        why = (f"the subwords of {config.subwords_from.origin} split the placeholders ({unsplit[0]!r}), so terms "
               "cannot be annotated: it was trained before s2s annotated terms") if config.subwords_from else \
              f"the SentencePiece model splits the placeholder {unsplit[0]!r}"
        logger.warning("no term annotation: %s", why)
        return {"trained": False, "why": why}
    files = [out.text("train", side) for side in ("source", "target")]
    sources, targets = (f.read_text(encoding="utf-8").splitlines() for f in files)
    logger.info("annotating terms in %.0f%% of the %d training pairs that have some", 100 * config.terms.ratio,
                len(sources))
    sources, targets, counts = annotate(sources, targets, config.terms, config.source_lang, config.target_lang)
    for f, lines in zip(files, (sources, targets)):
        f.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return {"trained": True, "method": "placeholders", "placeholders": len(user_defined_symbols()),
            "ratio": config.terms.ratio, "mined_by": "eflomal",
            "termbase": {"file": str(config.terms.termbase), "sha256": file_sha256(config.terms.termbase)}
            if config.terms.termbase else None, **counts.as_dict()}


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
    counts.add_skipped(skipped_on_read)


def _require_pairs(counts_by_name: dict[str, Counts]) -> None:
    for name, counts in counts_by_name.items():
        if counts.kept <= 0:
            raise S2SError(f"{name}: no sentence pair is left after cleaning (read {counts.read}, dropped "
                           f"{dict(counts.dropped)}); check the input files and cleaning settings")


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
