"""The cleaned splits made into what Sockeye trains on: encoded into subwords on all cores, pairs too
long for Sockeye dropped, and the training split binarized by Sockeye."""
import contextlib
import json
import os
from collections import Counter
from itertools import islice

from tqdm import tqdm

from data_prep.counts import Counts
from data_prep.prepared_dir import PreparedDir
from data_prep.sockeye_logging import restored_logging
from data_prep.subwords import GivenSubwords, SubwordPair

# Why a pair was dropped while encoding.
TOO_MANY_SUBWORDS = "too_many_subwords"
_CHUNK = 10_000  # lines encoded per SentencePiece batch
SHARD_SIZE = 50_000  # pairs per Sockeye shard


def encode_split(subwords: SubwordPair, out: PreparedDir, split: str, max_seq_len: int, counts: Counts,
                 corpora: dict[str, Counts], repeats: list[int]) -> dict[str, Counter]:
    """Encodes a split on all cores; drops (and counts) pairs longer than max_seq_len subwords, and
    writes each training pair as many times as its corpus's `repeats`. Returns the histogram of kept
    pairs' subword lengths per side."""
    plain = [out.text(split, side) for side in ("source", "target")]
    corpus_file = out.train_corpus_index
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


def run_sockeye_prepare(out: PreparedDir, subwords: SubwordPair, max_seq_len: int,
                        given: GivenSubwords | None = None) -> None:
    """Binarizes the encoded training split into out.sockeye_data, with the vocabularies of `subwords`
    (or, when given, of the version they come from)."""
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
