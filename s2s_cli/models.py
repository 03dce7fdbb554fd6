"""`s2s evaluate`, `publish`, `translate` and `models`: scoring, publishing and using versions."""
import argparse
import json
import logging
import sys
from pathlib import Path

from data_prep.errors import S2SError
from s2s_cli.common import add_engine, add_store

log = logging.getLogger("s2s")


def _add_model_choice(p: argparse.ArgumentParser) -> None:
    """Options choosing the model to translate with: a training run, or a published version."""
    from seq2seq.engines.translator import DTYPES
    from seq2seq.versions.decoding import CHOSEN, MODES

    p.add_argument("--run", type=Path, help="a training run directory (instead of a published version)")
    add_store(p)
    p.add_argument("--version", help="version id (default: the best-BLEU version for the language pair)")
    p.add_argument("--source-lang", help="source language code, to pick the default version")
    p.add_argument("--target-lang", help="target language code, to pick the default version")
    p.add_argument("--decoding", choices=MODES, default=CHOSEN,
                   help="the version's decoding options, chosen on its dev set when it was published, or "
                   "Sockeye's own (beam 5, length penalty 1, its length bounds); a training run, or a version "
                   "published before s2s chose them, decodes as Sockeye does (default: %(default)s)")
    p.add_argument("--beam-size", type=int, help="beam size (default: that of --decoding)")
    p.add_argument("--dtype", choices=DTYPES, default="float32",
                   help="int8 runs a quantised model on the CPU (default: %(default)s)")
    add_engine(p)


def _choose_model(args: argparse.Namespace):
    """The model of --run (a training run) or of a published version, its language pair, its terms
    record (how it was trained to apply terms), and the decoding options of --decoding and --beam-size."""
    from seq2seq.versions.decoding import options_from, with_beam
    from seq2seq.versions.run_dir import RunDir

    if args.beam_size is not None and args.beam_size < 1:
        raise S2SError(f"--beam-size must be 1 or more, not {args.beam_size}")
    if args.run:
        run = RunDir(args.run)
        summary = run.read_summary()
        return (run.model_files(), (summary["source_lang"], summary["target_lang"]),
                summary.get("terms", {"trained": False}), with_beam(options_from(None, args.decoding), args.beam_size))
    from seq2seq.versions.store import ModelStore

    version = ModelStore(args.store).select(args.version, args.source_lang, args.target_lang)
    options = with_beam(options_from(version.info.get("decoding"), args.decoding), args.beam_size)
    return version.model_files(), version.pair, version.terms, options


def _open(args: argparse.Namespace, model):
    from seq2seq.engines.choice import open_translator
    from seq2seq.engines.translator import DecodeConfig

    translator, _ = open_translator(model, args.engine, DecodeConfig(dtype=args.dtype))
    return translator


def cmd_evaluate(args: argparse.Namespace) -> None:
    from seq2seq.versions.evaluate import evaluate
    from seq2seq.versions.term_test import TermsTest, require_trained

    model, pair, terms, options = _choose_model(args)
    terms_test = None
    if args.terms:  # checked before any translating
        require_trained(f"the run {args.run}" if args.run else f"version {model.name}", terms)
        terms_test = TermsTest.load(args.terms, *pair)
    translator = _open(args, model)
    result = evaluate(translator, args.source, args.reference, options=options)
    s = result.scores
    print(f"{model.name} on {result.name} ({s.sentences} sentences): BLEU {s.bleu:.2f}  chrF {s.chrf:.2f}")
    if terms_test:
        print(_term_use_line(terms_test.score(translator, args.source, options)))
    print(f"BLEU signature: {s.bleu_signature}")
    print(f"chrF signature: {s.chrf_signature}")


def cmd_publish(args: argparse.Namespace) -> None:
    from data_prep.prepared_dir import PreparedDir
    from seq2seq.versions.release import release
    from seq2seq.versions.run_dir import RunDir

    summary = RunDir(args.run).read_summary()
    if (args.test_source is None) != (args.test_target is None):
        raise S2SError("give both --test-source and --test-target, or neither")
    if args.test_source:
        test_source, test_target, name = args.test_source, args.test_target, None
    else:
        test_source, test_target, name = PreparedDir(Path(summary["prepared"])).test_split()
    version, results = release(args.run, args.store, test_source, test_target, name, args.review_test, args.terms_test,
                               args.decoding, args.decoding_budget)
    result = next(iter(results.values()))
    print(f"published {version.id} to {args.store}: BLEU {result.scores.bleu:.2f} chrF {result.scores.chrf:.2f} "
          f"on {result.name} ({', '.join(f'{key} {r.scores.bleu:.2f}' for key, r in results.items())})")
    review = version.info.get("review_test")
    if review:
        baseline = review.get("baseline")
        print(f"review set {review['name']} ({review['sentences']} sentences): BLEU {review['bleu']:.2f} "
              f"chrF {review['chrf']:.2f}" + (f"; {baseline['version']}: BLEU {baseline['bleu']:.2f}"
                                              if baseline else ""))
    term_use = version.terms.get("term_use")
    if term_use:
        print(_term_use_line(term_use))
    print(_decoding_line(version.info["decoding"]))
    print(f"BLEU signature: {result.scores.bleu_signature}")


def _translate_file(args: argparse.Namespace) -> None:
    """A document in its format (documents/formats.py), through the server's own path: sentences, batches,
    markup placed by alignment; with a progress bar over its segments."""
    from tqdm import tqdm

    from documents.formats import translate_document, translated_name
    from seq2seq.engines.translator import DecodeConfig
    from seq2seq.versions.decoding import options_from, with_beam
    from seq2seq.versions.store import ModelStore
    from serve.cache import LruCache
    from serve.config import BatchConfig
    from serve.served_version import ServedVersion

    if args.run:
        raise S2SError("--file translates with a published version (s2s publish), not a training run")
    if args.input:
        raise S2SError("give --file or --input, not both")
    version = ModelStore(args.store).select(args.version, args.source_lang, args.target_lang)
    options = with_beam(options_from(version.info.get("decoding"), args.decoding), args.beam_size)
    try:
        data = args.file.read_bytes()
    except OSError as e:
        raise S2SError(f"{args.file}: cannot read it ({e.strerror})") from None
    served = ServedVersion(version, BatchConfig(), args.engine, DecodeConfig(dtype=args.dtype))
    cache = LruCache(10_000)
    try:
        with tqdm(desc=args.file.name, unit="segment", disable=None) as bar:
            def translate(segments):
                bar.total = len(segments)
                results = []
                for start in range(0, len(segments), CHUNK):
                    results += served.translate_segments(segments[start:start + CHUNK], options, cache, 3600)
                    bar.update(len(segments[start:start + CHUNK]))
                return results

            out, fmt = translate_document(data, args.file.name, version.pair[1], translate)
    finally:
        served.close()
    output = args.output or args.file.with_name(translated_name(args.file.name, fmt, version.pair[1]))
    output.write_bytes(out)
    print(f"{args.file} ({fmt.label}) translated with {version.id} to {output}")


# Segments a progress step: small enough to move, large enough to fill batches.
CHUNK = 64


def cmd_translate(args: argparse.Namespace) -> None:
    from data_prep.corpus import read_lines

    if args.file:
        return _translate_file(args)
    model, _, _, options = _choose_model(args)
    translator = _open(args, model)
    log.info("translating with %s", model.name)
    lines = read_lines(args.input) if args.input else (line.rstrip("\r\n") for line in sys.stdin)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        for translation in translator.translate_stream(lines, options):
            out.write(translation + "\n")
            out.flush()
    finally:
        if args.output:
            out.close()


def _decoding_line(d: dict) -> str:
    """A version's decoding record (seq2seq/versions/decoding.py) as `s2s publish` prints it."""
    options = ", ".join(f"{key} {value}" for key, value in d["options"].items())
    if "why" in d:
        return f"decoding: Sockeye's ({options}): {d['why']}"
    dev, sockeye = d["dev"], d["sockeye"]
    before = f", test BLEU {sockeye['test_bleu']:.2f}" if "test_bleu" in sockeye else ""
    return (f"decoding: {d['mode']} on {dev['sentences']} dev sentences ({options}): dev BLEU {dev['bleu']:.2f}, "
            f"{dev['cpu_ms_per_sentence']:.2f} ms a sentence; Sockeye's: dev BLEU {sockeye['dev_bleu']:.2f}, "
            f"{sockeye['cpu_ms_per_sentence']:.2f} ms{before}")


def _term_use_line(t: dict) -> str:
    """A terms test's record (seq2seq/versions/term_test.py) as `s2s evaluate` and `publish` print it."""
    engine = f", {t['engine']}" if "engine" in t else ""
    return (f"term use with {t['file']} ({t['entries']} terms) on the {t['sentences']} sentences of {t['test']} "
            f"with terms: {t['percent']:.2f}% ({t['hits']} of {t['occurrences']} occurrences{engine})")


def _terms_summary(version) -> str:
    """Whether a version was trained to apply terms, and its term use rate if it was scored on one."""
    term_use = version.terms.get("term_use")
    if term_use:
        return f"term use {term_use['percent']:6.2f}% with {term_use['file']}"
    return "terms trained, no term use score" if version.terms_trained else "not trained for terms"


def _list_versions(store, as_json: bool) -> None:
    snapshot = store.snapshot()
    defaults = {v.id for v in snapshot.defaults().values()}
    if as_json:
        print(json.dumps([dict(v.info, default=v.id in defaults) for v in snapshot.versions], indent=2))
        return
    if not snapshot.versions:
        print(f"no versions in {store.root}")
    for v in snapshot.versions:
        mark = "*" if v.id in defaults else " "
        engines = ", ".join(f"{key} {score['bleu']:.2f}" for key, score in v.scores.items())
        review = (f"  review BLEU {v.review_bleu:6.2f} on {v.info['review_test']['name']}"
                  if v.review_bleu is not None else "")
        print(f"{mark} {v.id}  {v.pair[0]}->{v.pair[1]}  BLEU {v.bleu:6.2f}  chrF {v.info['test']['chrf']:6.2f}  "
              f"({engines})  {v.info['test']['name']}{review}  {_terms_summary(v)}  {v.info['created']}")


def cmd_models(args: argparse.Namespace) -> None:
    from seq2seq.versions.store import ModelStore

    store = ModelStore(args.store)
    if args.action == "promote":
        previous = store.promote(args.version, tolerance=args.tolerance, force=args.force)
        version = store.get(args.version)
        print(f"{'->'.join(version.pair)}: default is now {version.id} (BLEU {version.bleu:.2f}), "
              f"was {previous.id} (BLEU {previous.bleu:.2f})")
    elif args.action == "rollback":
        version = store.rollback(args.source_lang, args.target_lang)
        print(f"{args.source_lang}->{args.target_lang}: default is back to {version.id} (BLEU {version.bleu:.2f})")
    else:
        _list_versions(store, args.json)


def _add_models(sub: argparse._SubParsersAction) -> None:
    from seq2seq.versions.store import PROMOTE_TOLERANCE, TERM_USE_TOLERANCE

    p = sub.add_parser("models", help="list, promote and roll back the versions in a model store",
                       description="List published versions with their test scores (* marks each language "
                       "pair's default: the promoted version, or else the best-BLEU one), promote a version to "
                       "be its pair's default, or roll the last promotion back. A running server picks the "
                       "change up without a restart.")
    models = p.add_subparsers(dest="action", metavar="ACTION")
    p.set_defaults(func=cmd_models, action="list", json=False)
    for q in (p, models.add_parser("list", help="list the versions (the default action)")):
        add_store(q)
        q.add_argument("--json", action="store_true", help="print version.json contents as JSON")
    q = models.add_parser("promote", help="make a version its language pair's default")
    add_store(q)
    q.add_argument("version", help="version id")
    q.add_argument("--tolerance", type=float, default=PROMOTE_TOLERANCE,
                   help="refuse a version whose test BLEU is more than this below the current default's "
                   "(default: %(default)s)")
    q.add_argument("--force", action="store_true",
                   help="promote even below the tolerance, or with a term use rate more than "
                   f"{TERM_USE_TOLERANCE} points below the default's on the same terms test")
    q = models.add_parser("rollback", help="return a language pair to its previous default")
    add_store(q)
    q.add_argument("--source-lang", required=True, help="source language code")
    q.add_argument("--target-lang", required=True, help="target language code")


def add_commands(sub: argparse._SubParsersAction) -> None:
    from seq2seq.versions.decoding import CHOSEN, DEFAULT_BUDGET, MODES

    p = sub.add_parser("evaluate", help="translate a test set and score it with sacreBLEU",
                       description="Translate a test set and print sacreBLEU BLEU and chrF with their signatures.")
    _add_model_choice(p)
    p.add_argument("--source", type=Path, required=True, help="test source file")
    p.add_argument("--reference", type=Path, required=True, help="test reference file")
    p.add_argument("--terms", type=Path, metavar="FILE",
                   help="also report the term use rate with this term file's glossary (CSV, TSV or TMX, with the "
                   "test set's language pair) on the test sentences that contain its terms; BLEU stays without it")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("publish", help="score a training run on a test set and publish it as a model version",
                       description="Evaluate a finished run on a test set, then copy it into the store as an "
                       "immutable version whose version.json records the scores and provenance.")
    p.add_argument("run", type=Path, help="run directory written by `s2s train`")
    add_store(p)
    p.add_argument("--test-source", type=Path, help="test source file (default: the prepared test split)")
    p.add_argument("--test-target", type=Path, help="test reference file")
    p.add_argument("--review-test", type=Path, metavar="FILE.tsv",
                   help="also score on a review test set of source<TAB>target lines (e.g. `s2s review export "
                   "--test-output`), with the headline engine; a fine-tuned run's parent is scored on it too")
    p.add_argument("--terms-test", type=Path, metavar="FILE",
                   help="also record the term use rate with this term file's glossary (CSV, TSV or TMX) on the test "
                   "sentences that contain its terms, with the headline engine; the gate compares it (models promote)")
    p.add_argument("--decoding", choices=MODES, default=CHOSEN,
                   help="chosen: choose the beam size, length penalty and patience with the best BLEU on the dev set "
                   "within --decoding-budget, which both engines then use by default; sockeye: decode as Sockeye does "
                   "(default: %(default)s)")
    p.add_argument("--decoding-budget", type=float, default=DEFAULT_BUDGET, metavar="RATIO",
                   help="the CPU time a sentence that the chosen options may take, as a multiple of Sockeye's "
                   "(default: %(default)s)")
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("translate", help="translate stdin or a file, one sentence per line; or a document",
                       description="Translate one sentence per line with a published version (default: the "
                       "best-BLEU version for the language pair) or a training run. With --file, a document "
                       "in its format: text, HTML, SubRip subtitles, XLIFF 1.2 or 2.0, Word (.docx) or "
                       "PowerPoint (.pptx), told by its content; markup inside sentences is kept.")
    _add_model_choice(p)
    p.add_argument("--input", "-i", type=Path, help="input file, one sentence per line (default: stdin)")
    p.add_argument("--file", "-f", type=Path, help="a document to translate in its format (with a published "
                   "version); written to --output, or beside it as NAME.TARGET.EXT (report.de.docx)")
    p.add_argument("--output", "-o", type=Path, help="output file (default: stdout; for --file, beside it)")
    p.set_defaults(func=cmd_translate)

    _add_models(sub)
