"""`s2s review`: fill the human review queue, and export what reviewers corrected."""
import argparse
import logging
from pathlib import Path

from s2s_cli.common import add_engine, add_store

log = logging.getLogger("s2s")

# Items queued per database transaction while `review add` translates: progress survives an interruption.
ADD_CHUNK = 256


def _add_review_db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--review-db", type=Path, required=True, metavar="FILE",
                   help="the review database (SQLite; created if missing), as given to `s2s serve --review-db`")


def cmd_add(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from data_prep.corpus import read_lines
    from data_prep.errors import S2SError
    from review.db import NewItem, ReviewDb
    from seq2seq.engines.choice import open_translator
    from seq2seq.engines.translator import DecodeConfig
    from seq2seq.versions.store import ModelStore

    every_line = list(read_lines(args.file))
    lines = [line for line in every_line if line.strip()]
    if not lines:
        raise S2SError(f"{args.file}: no text to translate (the file is empty or blank)")
    version = ModelStore(args.store).get(args.version)
    db = ReviewDb(args.review_db)
    translator, choice = open_translator(version.model_files(), args.engine, DecodeConfig())
    log.info("translating %d lines of %s with %s on %s", len(lines), args.file, version.id, choice.engine)
    added = 0
    with tqdm(total=len(lines), unit="line", desc="review add") as progress:
        for start in range(0, len(lines), ADD_CHUNK):
            chunk = lines[start:start + ADD_CHUNK]
            added += db.add([NewItem(source, translation, version.id, choice.engine, "add")
                             for source, translation in zip(chunk, translator.translate(chunk))])
            progress.update(len(chunk))
    print(f"queued {added} of {len(lines)} lines of {args.file} for review in {args.review_db} "
          f"({len(lines) - added} already queued from {version.id}, {len(every_line) - len(lines)} blank lines "
          "skipped)")


def cmd_export(args: argparse.Namespace) -> None:
    from review.db import ReviewDb
    from review.export import ExportConfig, export

    config = ExportConfig(output=args.output, verdicts=tuple(v.strip() for v in args.verdict.split(",") if v.strip()),
                          since=args.since, version=args.version, test_output=args.test_output,
                          test_fraction=args.test_fraction, seed=args.seed, force=args.force)
    result = export(ReviewDb(args.review_db), config)
    print(f"wrote {result.train} pairs to {args.output}"
          + (f" and {result.test} held-out pairs to {args.test_output}" if args.test_output else "")
          + f"; {result.normalised} had tabs or line breaks turned into spaces, "
          f"{result.empty} with a blank side were left out")


def cmd_stats(args: argparse.Namespace) -> None:
    from collections import Counter

    from review.db import VERDICTS, ReviewDb

    db = ReviewDb(args.review_db)
    items = db.reviewed(VERDICTS)
    reviewed, total = db.counts()
    print(f"{reviewed} of {total} items reviewed in {args.review_db}")
    for (version, verdict), n in sorted(Counter((i.version, i.verdict) for i in items).items()):
        print(f"  {version}  {verdict:5}  {n}")


def _add_add(review: argparse._SubParsersAction) -> None:
    p = review.add_parser("add", help="translate a file with a version and queue each line for review",
                          description="Translate FILE (one sentence per line; blank lines are skipped) with a "
                          "published version and queue each (source, translation) pair for review. A pair "
                          "already queued from that version is not queued again.")
    p.add_argument("file", type=Path, help="the text to translate, one sentence per line")
    p.add_argument("--version", required=True, help="the version id whose translations are to be reviewed")
    add_store(p)
    _add_review_db(p)
    add_engine(p)
    p.set_defaults(func=cmd_add)


def _add_export(review: argparse._SubParsersAction) -> None:
    from review.export import EXPORTABLE, ExportConfig

    p = review.add_parser("export", help="write reviewed pairs as source<TAB>target for `s2s prepare --tsv`",
                          description="Write the reviewed pairs as source<TAB>target lines, ready for `s2s prepare "
                          "--tsv` or a --config corpus: the correction for 'edit', the machine translation for "
                          "'good'. Tabs and line breaks inside a text become one space. With --test-output, a "
                          "held-out slice chosen by a hash of the seed and the source goes there instead (the "
                          "same source never lands on both sides, and a pair keeps its side as the database "
                          "grows). Files are written whole or not at all; when no pair matches, it is an error "
                          "and nothing is written.")
    _add_review_db(p)
    p.add_argument("--output", type=Path, required=True, help="the TSV file to write")
    p.add_argument("--verdict", default=",".join(EXPORTABLE),
                   help="comma-separated verdicts to export: good, edit (default: %(default)s)")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="only pairs reviewed on or after this day (UTC)")
    p.add_argument("--version", help="only pairs translated by this version id")
    p.add_argument("--test-output", type=Path, help="the TSV file for the held-out slice, a review test set")
    p.add_argument("--test-fraction", type=float, default=ExportConfig.test_fraction,
                   help="the share of sources held out with --test-output (default: %(default)s)")
    p.add_argument("--seed", type=int, default=ExportConfig.seed,
                   help="chooses which sources are held out (default: %(default)s)")
    p.add_argument("--force", action="store_true", help="replace output files that exist")
    p.set_defaults(func=cmd_export)


def _add_stats(review: argparse._SubParsersAction) -> None:
    p = review.add_parser("stats", help="count the reviewed items by version and verdict",
                          description="Print how many items are reviewed, and each version's count per verdict.")
    _add_review_db(p)
    p.set_defaults(func=cmd_stats)


def cmd_import_capture(args: argparse.Namespace) -> None:
    from review.capture import ImportConfig, import_capture, summary
    from review.db import ReviewDb
    from s2s_cli.aws import _client

    result = import_capture(ImportConfig(source=args.capture, version=args.version, engine=args.engine),
                            ReviewDb(args.review_db), lambda: _client("s3", args.region))
    print("\n".join(summary(result)))


def _add_import_capture(review: argparse._SubParsersAction) -> None:
    from review.capture import UNKNOWN_ENGINE
    from seq2seq.engines.choice import CTRANSLATE2, SOCKEYE

    p = review.add_parser("import-capture", help="queue the translations an endpoint's Data Capture recorded",
                          description="Read SageMaker Data Capture (`s2s aws deploy --capture`): every *.jsonl "
                          "file under a local directory or an s3:// prefix, each line a request to /invocations "
                          "and its answer, in any of its content types. Each (source, translation) pair is "
                          "queued for review, once per version. Lines that cannot be read are skipped, and "
                          "counted by reason with the first few named.")
    p.add_argument("capture", metavar="DIR_OR_S3_URI",
                   help="a directory of capture files, or s3://BUCKET/PREFIX (the --capture URI, or below it)")
    _add_review_db(p)
    p.add_argument("--version", help="the version id the endpoint served, for answers that do not name it "
                   "(all but {\"q\": ...} requests'); required when any such answer is read")
    p.add_argument("--engine", choices=(CTRANSLATE2, SOCKEYE, UNKNOWN_ENGINE), default=UNKNOWN_ENGINE,
                   help="the engine the endpoint translated with, which the capture does not record "
                   "(default: %(default)s)")
    p.add_argument("--region", help="AWS region of the bucket (default: boto3's)")
    p.set_defaults(func=cmd_import_capture)


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("review", help="queue translations for human review, and export the corrections",
                       description="Human review of machine translations: `add` queues a file's translations, "
                       "reviewers rate them on the page at /review of `s2s serve --review-db`, and `export` writes "
                       "the corrected and approved pairs as training data.")
    review = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    _add_add(review)
    _add_export(review)
    _add_import_capture(review)
    _add_stats(review)
