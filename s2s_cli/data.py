"""`s2s demo-corpus` and `s2s prepare`: corpora in, a prepared directory out."""
import argparse
from pathlib import Path

from data_prep.errors import S2SError
from s2s_cli.common import add_store


def cmd_demo_corpus(args: argparse.Namespace) -> None:
    from data_prep.demo_corpus import DemoCorpusConfig, write_demo_corpus

    config = DemoCorpusConfig(seed=args.seed, train=args.train, dev=args.dev, test=args.test)
    for split, (src, trg) in write_demo_corpus(args.output, config).items():
        print(f"{split}: {src} {trg}")


def _corpus_from_flags(args: argparse.Namespace, prefix: str, name: str, clean):
    """The corpus given by --{prefix}source/target, --{prefix}tsv or --{prefix}tmx, or None."""
    from data_prep.corpus import CorpusSpec

    values = {key: getattr(args, f"{prefix}{key}") for key in ("source", "target", "tsv", "tmx")}
    if not any(values.values()):
        return None
    return CorpusSpec(name=name, clean=clean, **values)


def cmd_prepare(args: argparse.Namespace) -> None:
    from data_prep.clean import CleanConfig
    from data_prep.config_file import load_prepare_config
    from data_prep.prepare import PrepareConfig, prepare
    from data_prep.report import summary_table
    from data_prep.subwords import SubwordConfig
    from data_prep.term_annotation import TermAnnotationConfig

    terms = None if args.no_terms else TermAnnotationConfig(ratio=args.term_ratio, termbase=args.termbase,
                                                             seed=args.seed)
    subwords_from = None
    if args.subwords_from:
        from seq2seq.versions.lineage import find_version, version_subwords

        subwords_from = version_subwords(find_version(args.store, args.subwords_from))
    clean = CleanConfig(
        normalization=args.normalization, max_chars=args.max_chars, max_length_ratio=args.max_length_ratio,
        drop_identical=not args.keep_identical, drop_control_chars=not args.keep_control_chars,
        drop_markup=not args.keep_markup, check_numbers=args.check_numbers, dedupe=not args.keep_duplicates)
    corpus = _corpus_from_flags(args, "", "corpus", clean)
    if args.config:
        if corpus:
            raise S2SError("give the corpora either in --config or as --source/--target, --tsv or --tmx, not both")
        config = load_prepare_config(args.config, args.output, dry_run=args.dry_run, force=args.force,
                                     subwords_from=subwords_from, terms=terms)
    else:
        if not corpus:
            raise S2SError("no corpus: give --source and --target, --tsv, --tmx, or --config")
        if not (args.source_lang and args.target_lang):
            raise S2SError("give --source-lang and --target-lang")
        config = PrepareConfig(
            corpora=(corpus,), source_lang=args.source_lang, target_lang=args.target_lang, output=args.output,
            dev=_corpus_from_flags(args, "dev_", "dev", clean), test=_corpus_from_flags(args, "test_", "test", clean),
            subwords=SubwordConfig(
                vocab_size=args.vocab_size, model_type=args.model_type, joint=not args.separate_vocab,
                character_coverage=args.character_coverage, byte_fallback=args.byte_fallback,
                user_defined_symbols=tuple(s for s in args.user_defined_symbols.split(",") if s),
                sample_size=args.spm_sample_size),
            subwords_from=subwords_from,
            max_seq_len=args.max_seq_len, dev_size=args.dev_size, test_size=args.test_size, seed=args.seed,
            on_bad_line=args.on_bad_line, terms=terms, dry_run=args.dry_run, force=args.force)
    manifest = prepare(config)
    print(summary_table(manifest))
    print("dry run: nothing written" if args.dry_run else f"prepared data in {args.output}")


def _add_demo_corpus(sub: argparse._SubParsersAction) -> None:
    from data_prep.demo_corpus import DemoCorpusConfig

    d = DemoCorpusConfig()
    p = sub.add_parser("demo-corpus", help="write the synthetic English-to-German demo corpus",
                       description="Write train/dev/test files of a synthetic English-to-German-like "
                       "language pair, deterministic from --seed.")
    p.add_argument("output", type=Path, help="directory for SPLIT.en and SPLIT.de files")
    p.add_argument("--seed", type=int, default=d.seed, help="random seed (default: %(default)s)")
    p.add_argument("--train", type=int, default=d.train, help="training pairs (default: %(default)s)")
    p.add_argument("--dev", type=int, default=d.dev, help="dev pairs (default: %(default)s)")
    p.add_argument("--test", type=int, default=d.test, help="test pairs (default: %(default)s)")
    p.set_defaults(func=cmd_demo_corpus)


def _add_inputs(p: argparse.ArgumentParser) -> None:
    from data_prep.corpus import BAD_LINE_POLICIES
    from data_prep.prepare import PrepareConfig

    pc = PrepareConfig((), "", "", Path())
    inputs = p.add_argument_group("input")
    inputs.add_argument("--config", type=Path, help="YAML file describing several corpora (see above)")
    inputs.add_argument("--source", type=Path, help="source-language file, one sentence per line")
    inputs.add_argument("--target", type=Path, help="target-language file, line-aligned with --source")
    inputs.add_argument("--tsv", type=Path, help="file of source<TAB>target lines")
    inputs.add_argument("--tmx", type=Path, help="TMX translation memory")
    inputs.add_argument("--source-lang", help="source language code, e.g. en (TMX units are matched on it)")
    inputs.add_argument("--target-lang", help="target language code, e.g. de")
    for split in ("dev", "test"):
        for kind, text in (("source", "source file"), ("target", "target file"), ("tsv", "TSV file"),
                           ("tmx", "TMX file")):
            inputs.add_argument(f"--{split}-{kind}", type=Path, help=f"{split} set {text}")
    inputs.add_argument("--dev-size", type=int, default=pc.dev_size,
                        help="pairs drawn from the corpora as the dev set when none is given (default: %(default)s)")
    inputs.add_argument("--test-size", type=int, default=pc.test_size,
                        help="pairs drawn from the corpora as the test set when none is given (default: %(default)s)")
    inputs.add_argument("--on-bad-line", choices=BAD_LINE_POLICIES, default=pc.on_bad_line,
                        help="invalid UTF-8: stop with an error naming file and line, or skip and count the pair "
                        "(default: %(default)s)")


def _add_cleaning(p: argparse.ArgumentParser) -> None:
    from data_prep.clean import NORMALIZATIONS, CleanConfig

    c = CleanConfig()
    cleaning = p.add_argument_group("cleaning (for --config, per corpus under `clean:`)")
    cleaning.add_argument("--normalization", choices=NORMALIZATIONS, default=c.normalization,
                          help="Unicode normal form (default: %(default)s)")
    cleaning.add_argument("--max-chars", type=int, default=c.max_chars,
                          help="drop pairs with a side longer than this (default: %(default)s)")
    cleaning.add_argument("--max-length-ratio", type=float, default=c.max_length_ratio,
                          help="drop pairs whose lengths differ by more than this factor (default: %(default)s)")
    cleaning.add_argument("--keep-identical", action="store_true", help="keep pairs whose source equals target")
    cleaning.add_argument("--keep-control-chars", action="store_true",
                          help="keep pairs with control or invisible characters")
    cleaning.add_argument("--keep-markup", action="store_true", help="keep pairs with HTML/XML tags or entities")
    cleaning.add_argument("--check-numbers", action="store_true",
                          help="drop pairs whose two sides have different numbers")
    cleaning.add_argument("--keep-duplicates", action="store_true", help="keep repeated pairs")


def _add_subwords(p: argparse.ArgumentParser) -> None:
    from data_prep.prepare import PrepareConfig
    from data_prep.subwords import MODEL_TYPES, SubwordConfig

    sw, pc = SubwordConfig(), PrepareConfig((), "", "", Path())
    subwords = p.add_argument_group("subwords")
    subwords.add_argument("--vocab-size", type=int, default=sw.vocab_size,
                          help="SentencePiece vocabulary size (default: %(default)s)")
    subwords.add_argument("--model-type", choices=MODEL_TYPES, default=sw.model_type,
                          help="SentencePiece algorithm (default: %(default)s)")
    subwords.add_argument("--separate-vocab", action="store_true",
                          help="one SentencePiece model per language instead of a joint one")
    subwords.add_argument("--character-coverage", type=float, default=sw.character_coverage,
                          help="share of characters covered (default: %(default)s; 0.9995 for CJK)")
    subwords.add_argument("--byte-fallback", action="store_true", help="spell unknown characters as bytes")
    subwords.add_argument("--user-defined-symbols", default="",
                          help="comma-separated symbols kept whole, e.g. '<br>,{name}'")
    subwords.add_argument("--spm-sample-size", type=int, default=sw.sample_size,
                          help="sentences SentencePiece samples from a large corpus (default: %(default)s)")
    subwords.add_argument("--max-seq-len", type=int, default=pc.max_seq_len,
                          help="drop pairs longer than this many subwords (default: %(default)s)")
    subwords.add_argument("--subwords-from", metavar="VERSION",
                          help="reuse a published version's SentencePiece model and Sockeye vocabularies instead of "
                          "training new ones, to fine-tune it (`s2s train --init-from VERSION`); the other subword "
                          "options are then unused")
    add_store(subwords)


def _add_terms(p: argparse.ArgumentParser) -> None:
    from data_prep.term_annotation import TermAnnotationConfig

    terms = p.add_argument_group(
        "terms", "By default a share of the training pairs gets a term behind a placeholder on both sides, so "
        "that the model learns to apply glossaries (`s2s terms`, the API's glossary and terminology fields). The "
        "terms come from --termbase where it has them, else from the corpus's own word alignments (eflomal).")
    terms.add_argument("--no-terms", action="store_true",
                       help="train a model that cannot apply glossaries (no annotation)")
    terms.add_argument("--term-ratio", type=float, default=TermAnnotationConfig.ratio,
                       help="share of the training pairs with term pairs that are annotated (default: %(default)s)")
    terms.add_argument("--termbase", type=Path, metavar="FILE",
                       help="your terms, in Amazon Translate's CSV, TSV or TMX format, used before mined ones")


def _add_prepare(sub: argparse._SubParsersAction) -> None:
    from data_prep.config_file import __doc__ as config_doc
    from data_prep.prepare import PrepareConfig

    p = sub.add_parser("prepare", help="clean, learn subwords and binarize parallel corpora",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Clean sentence-aligned corpora, train SentencePiece, encode and binarize for "
                       "Sockeye. Writes OUTPUT/manifest.json (what was kept and dropped, and why) and "
                       "OUTPUT/lengths.png. OUTPUT appears only when everything succeeded.\n\n"
                       "One corpus comes from --source/--target, --tsv or --tmx (each may be .gz); several, "
                       "each with its own cleaning rules, from --config:\n" + config_doc.split("\n\n")[1])
    _add_inputs(p)
    _add_cleaning(p)
    _add_subwords(p)
    _add_terms(p)
    p.add_argument("--output", "-o", type=Path, required=True, help="prepared directory to create")
    p.add_argument("--seed", type=int, default=PrepareConfig.seed,
                   help="seed for drawing dev/test sets (default: %(default)s)")
    p.add_argument("--dry-run", action="store_true", help="clean and report, but write no prepared data")
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    p.set_defaults(func=cmd_prepare)


def add_commands(sub: argparse._SubParsersAction) -> None:
    _add_demo_corpus(sub)
    _add_prepare(sub)
