"""The pool: every training corpus cleaned into one file, from which missing dev and test sets are drawn
(seeded) and the training split is written without them."""
import random
from collections import Counter
from pathlib import Path
from typing import Iterator

from tqdm import tqdm

from data_prep.clean import DUPLICATE, drop_reason, normalize, text_hash
from data_prep.corpus import CorpusSpec, read_corpus
from data_prep.counts import Counts
from data_prep.errors import S2SError
from data_prep.prepared_dir import PreparedDir

# Drop reasons decided after cleaning.
HELD_OUT = "held_out_as_dev_or_test"
LEAKED = "source_in_dev_or_test"


def clean_into_pool(specs: tuple[CorpusSpec, ...], source_lang: str, target_lang: str, on_bad_line: str,
                    pool: Path, corpora: dict[str, Counts]) -> int:
    """Cleans every training corpus into one file of `corpus-index<TAB>source<TAB>target` lines."""
    seen: set[int] = set()
    size = 0
    with open(pool, "w", encoding="utf-8") as f, \
            tqdm(desc="cleaning", unit=" pairs", unit_scale=True, disable=None) as bar:
        for index, spec in enumerate(specs):
            counts = corpora[spec.name]
            skipped_on_read = Counter()
            for src, trg in read_corpus(spec, source_lang, target_lang, on_bad_line, skipped_on_read):
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
            counts.add_skipped(skipped_on_read)
    return size


def _pool_lines(pool: Path) -> Iterator[tuple[int, str, str]]:
    with open(pool, encoding="utf-8") as f:
        for line in f:
            index, src, trg = line.rstrip("\n").split("\t")
            yield int(index), src, trg


def draw_held_out(pool: Path, pool_size: int, out: PreparedDir, sizes: dict[str, int], seed: int,
                  counts: dict[str, Counts]) -> set[int]:
    """Draws the missing dev/test sets, `sizes` pairs each, from the pool (seeded); returns their pool
    line numbers."""
    splits_to_draw = list(sizes)
    wanted = sum(sizes.values())
    if not splits_to_draw:
        return set()
    if wanted > pool_size // 5:
        raise S2SError(f"the corpora have {pool_size} clean pairs, too few to draw {wanted} for "
                       f"{' and '.join(splits_to_draw)} and still train; give them, or smaller sizes")
    drawn = random.Random(seed).sample(range(pool_size), wanted)
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


def split_pool(pool: Path, out: PreparedDir, held_out: set[int], corpora: dict[str, Counts],
               given: dict[str, CorpusSpec]) -> None:
    """Writes the training split, without held-out pairs or pairs whose source is in dev or test;
    `corpora` is in the pool's corpus order."""
    leaked_sources = set()
    for split in ("dev", "test"):
        # A given test set is not normalised; training sources are.
        clean = given[split].clean if split in given else None
        with open(out.text(split, "source"), encoding="utf-8") as f:
            leaked_sources.update(text_hash(normalize(line.rstrip("\n"), clean) if clean else line.rstrip("\n"))
                                  for line in f)
    names = list(corpora)
    with open(out.text("train", "source"), "w", encoding="utf-8") as fs, \
            open(out.text("train", "target"), "w", encoding="utf-8") as ft, \
            open(out.train_corpus_index, "w", encoding="utf-8") as fc:
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
