"""`s2s`: the command line. Each subcommand parses its options and calls one library function."""
import argparse
import json
import logging
import signal
import sys
from pathlib import Path

from data_prep.errors import S2SError

log = logging.getLogger("s2s")


def _add_store(p: argparse.ArgumentParser) -> None:
    from seq2seq.store import DEFAULT_STORE

    p.add_argument("--store", type=Path, default=DEFAULT_STORE,
                   help="model store directory (default: $S2S_STORE or %(default)s)")


def _add_model_choice(p: argparse.ArgumentParser) -> None:
    """Options choosing the model to translate with: a training run, or a published version."""
    from seq2seq.translator import DTYPES, DecodeOptions

    p.add_argument("--run", type=Path, help="a training run directory (instead of a published version)")
    _add_store(p)
    p.add_argument("--version", help="version id (default: the best-BLEU version for the language pair)")
    p.add_argument("--source-lang", help="source language code, to pick the default version")
    p.add_argument("--target-lang", help="target language code, to pick the default version")
    p.add_argument("--beam-size", type=int, default=DecodeOptions().beam_size, help="beam size (default: %(default)s)")
    p.add_argument("--dtype", choices=DTYPES, default="float32",
                   help="int8 quantises the model's linear layers on CPU (default: %(default)s)")


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

    clean = CleanConfig(
        normalization=args.normalization, max_chars=args.max_chars, max_length_ratio=args.max_length_ratio,
        drop_identical=not args.keep_identical, drop_control_chars=not args.keep_control_chars,
        drop_markup=not args.keep_markup, check_numbers=args.check_numbers, dedupe=not args.keep_duplicates)
    corpus = _corpus_from_flags(args, "", "corpus", clean)
    if args.config:
        if corpus:
            raise S2SError("give the corpora either in --config or as --source/--target, --tsv or --tmx, not both")
        config = load_prepare_config(args.config, args.output, dry_run=args.dry_run, force=args.force)
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
            max_seq_len=args.max_seq_len, dev_size=args.dev_size, test_size=args.test_size, seed=args.seed,
            on_bad_line=args.on_bad_line, dry_run=args.dry_run, force=args.force)
    manifest = prepare(config)
    print(summary_table(manifest))
    print("dry run: nothing written" if args.dry_run else f"prepared data in {args.output}")


def cmd_train(args: argparse.Namespace, sockeye_args: list[str]) -> None:
    from seq2seq.launch import Cluster, processes_per_host, train_on
    from seq2seq.train import TrainConfig

    config = TrainConfig(prepared=args.prepared, output=args.output, preset=args.preset,
                         sockeye_args=tuple(sockeye_args), seed=args.seed, force=args.force,
                         resume=args.resume, early_stopping=args.early_stopping, average=args.average,
                         precision=args.precision)
    summary = train_on(Cluster(processes_per_host=processes_per_host(args.processes)), config)
    last = summary["checkpoints"][-1] if summary["checkpoints"] else {}
    print(f"trained {summary['updates']} updates into {args.output}; "
          f"last validation BLEU {last.get('validation_bleu', 'n/a')}")


def _load_translator(args: argparse.Namespace):
    """A Translator for --run (a training run) or for a published version."""
    from seq2seq.run_dir import RunDir
    from seq2seq.translator import DecodeConfig, Translator

    decode = DecodeConfig(dtype=args.dtype)
    if getattr(args, "run", None):
        run = RunDir(args.run)
        run.read_summary()
        return Translator(run.model, run.root, decode), str(args.run)
    from seq2seq.store import ModelStore

    version = ModelStore(args.store).select(args.version, args.source_lang, args.target_lang)
    return Translator(version.model_dir, version.path, decode), version.id


def cmd_evaluate(args: argparse.Namespace) -> None:
    from seq2seq.evaluate import evaluate

    from seq2seq.translator import DecodeOptions

    translator, name = _load_translator(args)
    result = evaluate(translator, args.source, args.reference, options=DecodeOptions(beam_size=args.beam_size))
    s = result.scores
    print(f"{name} on {result.name} ({s.sentences} sentences): BLEU {s.bleu:.2f}  chrF {s.chrf:.2f}")
    print(f"BLEU signature: {s.bleu_signature}")
    print(f"chrF signature: {s.chrf_signature}")


def cmd_publish(args: argparse.Namespace) -> None:
    from data_prep.prepare import PreparedDir
    from seq2seq.evaluate import evaluate_with_int8
    from seq2seq.run_dir import RunDir
    from seq2seq.store import publish

    run = RunDir(args.run)
    summary = run.read_summary()
    if (args.test_source is None) != (args.test_target is None):
        raise S2SError("give both --test-source and --test-target, or neither")
    if args.test_source:
        test_source, test_target, name = args.test_source, args.test_target, None
    else:
        # The prepared data's test split: cleaned, and kept out of training.
        test_source, test_target, name = PreparedDir(Path(summary["prepared"])).test_split()
    result, int8 = evaluate_with_int8(run.model, run.root, test_source, test_target, name)
    version = publish(args.run, args.store, result, int8)
    print(f"published {version.id} to {args.store}: BLEU {result.scores.bleu:.2f} "
          f"chrF {result.scores.chrf:.2f} on {result.name} (int8: BLEU {int8.scores.bleu:.2f})")
    print(f"BLEU signature: {result.scores.bleu_signature}")


def cmd_translate(args: argparse.Namespace) -> None:
    from data_prep.corpus import read_lines
    from seq2seq.translator import DecodeOptions

    translator, name = _load_translator(args)
    log.info("translating with %s", name)
    lines = read_lines(args.input) if args.input else (line.rstrip("\r\n") for line in sys.stdin)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        for translation in translator.translate_stream(lines, DecodeOptions(beam_size=args.beam_size)):
            out.write(translation + "\n")
            out.flush()
    finally:
        if args.output:
            out.close()


def cmd_models(args: argparse.Namespace) -> None:
    from seq2seq.store import ModelStore

    store = ModelStore(args.store)
    if args.action == "promote":
        previous = store.promote(args.version, tolerance=args.tolerance, force=args.force)
        version = store.get(args.version)
        print(f"{'->'.join(version.pair)}: default is now {version.id} (BLEU {version.bleu:.2f}), "
              f"was {previous.id} (BLEU {previous.bleu:.2f})")
        return
    if args.action == "rollback":
        version = store.rollback(args.source_lang, args.target_lang)
        print(f"{args.source_lang}->{args.target_lang}: default is back to {version.id} (BLEU {version.bleu:.2f})")
        return
    snapshot = store.snapshot()
    defaults = {v.id for v in snapshot.defaults().values()}
    if args.json:
        print(json.dumps([dict(v.info, default=v.id in defaults) for v in snapshot.versions], indent=2))
        return
    if not snapshot.versions:
        print(f"no versions in {args.store}")
    for v in snapshot.versions:
        mark = "*" if v.id in defaults else " "
        int8 = v.info["test"].get("int8")
        print(f"{mark} {v.id}  {v.pair[0]}->{v.pair[1]}  BLEU {v.bleu:6.2f}  chrF {v.info['test']['chrf']:6.2f}  "
              + (f"int8 {int8['bleu_change']:+.2f}  " if int8 else "")
              + f"{v.info['test']['name']}  {v.info['created']}")


def cmd_serve(args: argparse.Namespace) -> None:
    from serve.config import MIB, BatchConfig, ServeConfig, ServerConfig
    from serve.server import run_server

    config = ServeConfig(
        store=args.store, version=args.version, max_payload_bytes=int(args.max_payload_mb * MIB),
        max_items=args.max_items, max_item_chars=args.max_item_chars, max_beam_size=args.max_beam_size,
        batching=BatchConfig(max_batch_size=args.max_batch_size, max_wait_ms=args.max_wait_ms,
                             max_queue=args.max_queue),
        request_timeout_s=args.timeout, cache_size=args.cache_size, int8=args.int8,
        reload_interval_s=args.reload_interval, api_keys=args.api_keys)
    run_server(config, ServerConfig(host=args.host, port=args.port, workers=args.workers, threads=args.threads))


def cmd_keys(args: argparse.Namespace) -> None:
    from serve.auth import add_key

    key = add_key(args.file, args.name, args.per_minute)
    print(f"API key {args.name!r} added to {args.file} (stored hashed; this is the only time it is shown):")
    print(key)


def _aws_errors(command):
    """AWS's refusals (bad instance type, missing permission, no credentials) read as errors, not tracebacks."""
    import functools

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            command(args)
        except (BotoCoreError, ClientError) as e:
            raise S2SError(f"AWS: {e}") from e

    return run


def _aws_client(service: str, region: str | None):
    try:
        import boto3
    except ImportError:
        raise S2SError("the AWS commands need boto3: pip install 's2s[aws]'") from None
    # AWS_ENDPOINT_URL, when set, points boto3 at another endpoint (a moto server in the tests).
    return boto3.client(service, region_name=region)


@_aws_errors
def cmd_aws_push(args: argparse.Namespace) -> None:
    from launcher.push import PushConfig, push

    config = PushConfig(repository=args.repository, image=args.image,
                        build_args=_key_values(args.build_arg, "--build-arg"), tool=args.tool,
                        registry=args.registry)
    for reference in push(config, _aws_client("ecr", args.region)):
        print(f"pushed {reference}")


def _key_values(items: list[str], flag: str) -> dict[str, str]:
    values = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise S2SError(f"{flag} {item!r}: expected KEY=VALUE")
        values[key] = value
    return values


def _train_job_config(args: argparse.Namespace):
    from launcher.training import TrainJobConfig

    return TrainJobConfig(
        image=args.image, role=args.role, output_path=args.output_path,
        channels=_key_values(args.channel, "--channel"),
        hyperparameters=_key_values(args.hyperparameter, "--hyperparameter"),
        instance_type=args.instance_type, instance_count=args.instance_count, max_run_s=args.max_run,
        spot=args.spot, checkpoint_s3_uri=args.checkpoint_s3_uri, max_wait_s=args.max_wait)


@_aws_errors
def cmd_aws_train(args: argparse.Namespace) -> None:
    from launcher.training import follow_training, start_training

    config = _train_job_config(args)
    job = start_training(config, _aws_client("s3", args.region))
    print(f"started training job {job}")
    if args.wait:
        description = follow_training(_aws_client("sagemaker", args.region), job, print, args.poll)
        print(f"model artefact: {description['ModelArtifacts']['S3ModelArtifacts']}")


@_aws_errors
def cmd_aws_tune(args: argparse.Namespace) -> None:
    from launcher.training import TUNING_OBJECTIVE, TuneConfig, start_tuning

    name = start_tuning(_train_job_config(args), TuneConfig(max_jobs=args.max_jobs,
                                                            max_parallel_jobs=args.max_parallel_jobs),
                        _aws_client("s3", args.region))
    print(f"started tuning job {name}: Bayesian search maximising {TUNING_OBJECTIVE}")


@_aws_errors
def cmd_aws_deploy(args: argparse.Namespace) -> None:
    from launcher.endpoint import DeployConfig, deploy, follow_endpoint

    config = DeployConfig(endpoint=args.endpoint, image=args.image, role=args.role, training_job=args.training_job,
                          version_dir=args.version_dir, upload_to=args.upload_to, instance_type=args.instance_type,
                          instance_count=args.instance_count, environment=_key_values(args.env, "--env"))
    sagemaker = _aws_client("sagemaker", args.region)
    model = deploy(config, sagemaker, _aws_client("s3", args.region))
    print(f"endpoint {args.endpoint}: model and endpoint config {model}")
    if args.wait:
        follow_endpoint(sagemaker, args.endpoint, print, args.poll)


@_aws_errors
def cmd_aws_translate(args: argparse.Namespace) -> None:
    from launcher.endpoint import translate

    texts = args.text or [line.rstrip("\r\n") for line in sys.stdin]
    for translation in translate(_aws_client("sagemaker-runtime", args.region), args.endpoint, texts):
        print(translation)


def cmd_demo(args: argparse.Namespace) -> None:
    from serve.demo import DemoConfig, run_demo

    result = run_demo(DemoConfig(workdir=args.workdir, seed=args.seed))
    answer = result["answer"]
    print("\nPOST /v1/translate " + json.dumps({"q": result["request"], "source": "en", "target": "de"},
                                                ensure_ascii=False))
    print(json.dumps(answer, indent=2, ensure_ascii=False))
    for source, translation in zip(result["request"], answer["translations"]):
        print(f"  {source}  ->  {translation}")
    print(f"version {answer['version']}: test BLEU {result['test_bleu']:.2f} ({result['bleu_signature']})")


def build_parser() -> argparse.ArgumentParser:
    from data_prep.clean import NORMALIZATIONS, CleanConfig
    from data_prep.config_file import __doc__ as config_doc
    from data_prep.corpus import BAD_LINE_POLICIES
    from data_prep.demo_corpus import DemoCorpusConfig
    from data_prep.prepare import PrepareConfig
    from data_prep.subwords import MODEL_TYPES, SubwordConfig
    from seq2seq.precision import PRECISIONS
    from seq2seq.presets import PRESETS
    from seq2seq.store import PROMOTE_TOLERANCE
    from serve.auth import DEFAULT_PER_MINUTE
    from serve.config import BatchConfig, ServeConfig, ServerConfig, sagemaker_defaults
    from seq2seq.train import TrainConfig

    parser = argparse.ArgumentParser(
        prog="s2s", description="Train neural machine translation models with Sockeye, publish "
        "BLEU-scored model versions, and serve them over REST.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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

    c, sw = CleanConfig(), SubwordConfig()
    pc = PrepareConfig((), "", "", Path())
    p = sub.add_parser("prepare", help="clean, learn subwords and binarize parallel corpora",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Clean sentence-aligned corpora, train SentencePiece, encode and binarize for "
                       "Sockeye. Writes OUTPUT/manifest.json (what was kept and dropped, and why) and "
                       "OUTPUT/lengths.png. OUTPUT appears only when everything succeeded.\n\n"
                       "One corpus comes from --source/--target, --tsv or --tmx (each may be .gz); several, "
                       "each with its own cleaning rules, from --config:\n" + config_doc.split("\n\n")[1])
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
    p.add_argument("--output", "-o", type=Path, required=True, help="prepared directory to create")
    p.add_argument("--seed", type=int, default=pc.seed, help="seed for drawing dev/test sets (default: %(default)s)")
    p.add_argument("--dry-run", action="store_true", help="clean and report, but write no prepared data")
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("train", help="train a Sockeye transformer on prepared data",
                       description="Train a Sockeye transformer. Any option not listed here is passed to "
                       "sockeye-train and overrides the preset, e.g. `--max-updates 200`. BLEU on the dev set "
                       "is reported at each checkpoint.",
                       epilog="presets: " + "; ".join(f"{n}: {pr.description}" for n, pr in PRESETS.items()))
    p.add_argument("prepared", type=Path, help="directory written by `s2s prepare`")
    p.add_argument("--output", "-o", type=Path, required=True, help="run directory to create")
    p.add_argument("--preset", choices=sorted(PRESETS), default="tiny", help="model size (default: %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default: %(default)s)")
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run in OUTPUT from its last checkpoint (SIGTERM stops training "
                   "at the next update and saves a checkpoint)")
    p.add_argument("--processes", type=int, metavar="N",
                   help="training processes, one per GPU; more than one runs torchrun with Sockeye's --dist "
                   "(default: one per visible GPU, or 1 on CPU)")
    p.add_argument("--precision", choices=PRECISIONS, default=TrainConfig.precision,
                   help="auto: bfloat16 mixed precision on GPUs that support it (Ampere and later), else float32 "
                   "(default: %(default)s)")
    p.add_argument("--average", type=int, metavar="N", default=TrainConfig.average,
                   help="average the N checkpoints with the best validation BLEU at the end, and keep the average "
                   "if it beats the best checkpoint on the dev set; 1 turns it off (default: %(default)s)")
    p.add_argument("--early-stopping", type=int, metavar="N",
                   help="stop when validation BLEU has not improved for N checkpoints")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="translate a test set and score it with sacreBLEU",
                       description="Translate a test set and print sacreBLEU BLEU and chrF with their signatures.")
    _add_model_choice(p)
    p.add_argument("--source", type=Path, required=True, help="test source file")
    p.add_argument("--reference", type=Path, required=True, help="test reference file")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("publish", help="score a training run on a test set and publish it as a model version",
                       description="Evaluate a finished run on a test set, then copy it into the store as an "
                       "immutable version whose version.json records the scores and provenance.")
    p.add_argument("run", type=Path, help="run directory written by `s2s train`")
    _add_store(p)
    p.add_argument("--test-source", type=Path, help="test source file (default: the prepared test split)")
    p.add_argument("--test-target", type=Path, help="test reference file")
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("translate", help="translate stdin or a file, one sentence per line",
                       description="Translate one sentence per line with a published version (default: the "
                       "best-BLEU version for the language pair) or a training run.")
    _add_model_choice(p)
    p.add_argument("--input", "-i", type=Path, help="input file (default: stdin)")
    p.add_argument("--output", "-o", type=Path, help="output file (default: stdout)")
    p.set_defaults(func=cmd_translate)

    p = sub.add_parser("models", help="list, promote and roll back the versions in a model store",
                       description="List published versions with their test scores (* marks each language "
                       "pair's default: the promoted version, or else the best-BLEU one), promote a version to "
                       "be its pair's default, or roll the last promotion back. A running server picks the "
                       "change up without a restart.")
    models = p.add_subparsers(dest="action", metavar="ACTION")
    p.set_defaults(func=cmd_models, action="list", json=False)
    for q in (p, models.add_parser("list", help="list the versions (the default action)")):
        _add_store(q)
        q.add_argument("--json", action="store_true", help="print version.json contents as JSON")
    q = models.add_parser("promote", help="make a version its language pair's default")
    _add_store(q)
    q.add_argument("version", help="version id")
    q.add_argument("--tolerance", type=float, default=PROMOTE_TOLERANCE,
                   help="refuse a version whose test BLEU is more than this below the current default's "
                   "(default: %(default)s)")
    q.add_argument("--force", action="store_true", help="promote even below the tolerance")
    q = models.add_parser("rollback", help="return a language pair to its previous default")
    _add_store(q)
    q.add_argument("--source-lang", required=True, help="source language code")
    q.add_argument("--target-lang", required=True, help="target language code")

    defaults, serve_defaults, batch_defaults = sagemaker_defaults(), ServeConfig, BatchConfig
    p = sub.add_parser("serve", help="serve the store's versions over REST with gunicorn",
                       description="Serve translations over REST: /v1/translate and /v1/models; SageMaker's "
                       "/ping, /invocations (JSON, text/plain, JSON lines) and /execution-parameters; "
                       "/healthz, /readyz and Prometheus /metrics. New versions and promotions in the store "
                       "are picked up without a restart. SageMaker's SAGEMAKER_BIND_TO_PORT, "
                       "SAGEMAKER_MODEL_SERVER_WORKERS, SAGEMAKER_MODEL_SERVER_TIMEOUT and "
                       "SAGEMAKER_MAX_PAYLOAD_IN_MB set the defaults of --port, --workers, --timeout and "
                       "--max-payload-mb.")
    _add_store(p)
    p.add_argument("--version", help="the version /invocations uses (default: the default version of the "
                   "store's only language pair)")
    p.add_argument("--host", default=ServerConfig.host, help="address to bind (default: %(default)s)")
    p.add_argument("--port", type=int, default=defaults["port"], help="port (default: %(default)s)")
    p.add_argument("--workers", type=int, default=defaults["workers"],
                   help="gunicorn worker processes, each with its own copy of the models (default: %(default)s)")
    p.add_argument("--threads", type=int, default=ServerConfig.threads,
                   help="request threads per worker; they wait on the batcher (default: %(default)s)")
    p.add_argument("--timeout", type=int, default=defaults["timeout"],
                   help="seconds a request may wait for its translation before a 503 (default: %(default)s)")
    p.add_argument("--max-payload-mb", type=float, default=defaults["max_payload_mb"],
                   help="largest request body in MiB (default: %(default)s)")
    p.add_argument("--max-items", type=int, default=serve_defaults.max_items,
                   help="texts per request (default: %(default)s)")
    p.add_argument("--max-item-chars", type=int, default=serve_defaults.max_item_chars,
                   help="characters per text (default: %(default)s)")
    p.add_argument("--max-beam-size", type=int, default=serve_defaults.max_beam_size,
                   help="largest beam size a request may ask for (default: %(default)s)")
    p.add_argument("--max-batch-size", type=int, default=batch_defaults.max_batch_size,
                   help="sentences per model batch; 1 turns batching off (default: %(default)s)")
    p.add_argument("--max-wait-ms", type=float, default=batch_defaults.max_wait_ms,
                   help="how long a batch waits to fill after its first sentence (default: %(default)s)")
    p.add_argument("--max-queue", type=int, default=batch_defaults.max_queue,
                   help="sentences waiting per version before requests get 503 (default: %(default)s)")
    p.add_argument("--cache-size", type=int, default=serve_defaults.cache_size,
                   help="translations cached per worker; 0 turns the cache off (default: %(default)s)")
    p.add_argument("--int8", action="store_true", help="quantise the models to int8 (CPU only); version.json "
                   "records what int8 costs in test BLEU")
    p.add_argument("--reload-interval", type=float, default=serve_defaults.reload_interval_s,
                   help="seconds between checks of the store for new versions; 0 turns hot reload off "
                   "(default: %(default)s)")
    p.add_argument("--api-keys", type=Path, help="API key file from `s2s keys add`; when given, /v1/* requires "
                   "a key (/ping, /invocations and the health routes stay open)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("keys", help="manage the API keys of `s2s serve --api-keys`",
                       description="Create an API key: it is printed once, and only its sha256 is stored.")
    keys = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = keys.add_parser("add", help="create a key and add its hash to the key file")
    q.add_argument("name", help="a name for the key, shown in access logs")
    q.add_argument("--file", type=Path, required=True, help="the key file (created if missing)")
    q.add_argument("--per-minute", type=int, default=DEFAULT_PER_MINUTE,
                   help="requests per minute allowed to this key; 0 for unlimited (default: %(default)s)")
    p.set_defaults(func=cmd_keys)

    p = sub.add_parser("aws", help="push the image, train, tune, deploy and translate on SageMaker (needs s2s[aws])",
                       description="Commands for AWS, run from your machine with your AWS credentials "
                       "(boto3's usual chain: environment, ~/.aws, SSO). Install them with pip install 's2s[aws]'.")
    aws = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = aws.add_parser("push", help="build the image and push it to an ECR repository",
                       description="Build the image (docker when its engine answers, else buildah), create the "
                       "ECR repository if missing, log in with ECR's authorization token, and push the image "
                       "tagged with the git revision and 'latest'.")
    q.add_argument("--repository", default="s2s", help="ECR repository name (default: %(default)s)")
    q.add_argument("--region", help="AWS region (default: boto3's, e.g. $AWS_REGION)")
    q.add_argument("--image", help="push this local image instead of building one")
    q.add_argument("--build-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="passed to the build, e.g. BASE_IMAGE=... or PIP_CERT=... (repeatable)")
    q.add_argument("--tool", choices=("docker", "buildah"), help="build and push with this tool")
    q.add_argument("--registry", help="push to this registry host instead of the repository's own")
    q.set_defaults(func=cmd_aws_push)

    def job_options(q: argparse.ArgumentParser) -> None:
        q.add_argument("--region", help="AWS region (default: boto3's, e.g. $AWS_REGION)")
        q.add_argument("--image", required=True, help="the image URI in ECR (what `s2s aws push` printed)")
        q.add_argument("--role", required=True, help="the SageMaker execution role ARN")
        q.add_argument("--output-path", required=True, help="s3://bucket/prefix for the model artefact "
                       "(local channels are uploaded under it too)")
        q.add_argument("--channel", action="append", default=[], metavar="NAME=PATH_OR_S3_URI",
                       help="train (required), validation, test: a local file or directory, or an s3:// URI")
        q.add_argument("--hyperparameter", action="append", default=[], metavar="KEY=VALUE",
                       help="e.g. source_lang=en; checked here as the container would (repeatable)")
        q.add_argument("--instance-type", default="ml.g5.xlarge", help="(default: %(default)s)")
        q.add_argument("--instance-count", type=int, default=1, help="(default: %(default)s)")
        q.add_argument("--max-run", type=int, default=24 * 3600, help="seconds (default: %(default)s)")
        q.add_argument("--spot", action="store_true", help="managed spot training (needs --checkpoint-s3-uri "
                       "and --max-wait)")
        q.add_argument("--checkpoint-s3-uri", help="where /opt/ml/checkpoints is synced, for resuming")
        q.add_argument("--max-wait", type=int, help="seconds to wait for spot capacity plus run time")

    q = aws.add_parser("train", help="launch a SageMaker training job and stream its status",
                       description="Launch a training job with ModelTrainer: the image, role, instances, "
                       "hyperparameters (sent as strings), channels and output path; the metric definitions "
                       "are the project's own list. Streams the job's status until it ends.")
    job_options(q)
    q.add_argument("--no-wait", dest="wait", action="store_false", help="start the job and return")
    q.add_argument("--poll", type=float, default=30.0, help="seconds between status checks (default: %(default)s)")
    q.set_defaults(func=cmd_aws_train)

    q = aws.add_parser("tune", help="launch a Bayesian hyperparameter tuning job maximising validation BLEU",
                       description="A SageMaker tuning job (Bayesian) over learning_rate, num_layers, model_size "
                       "and dropout, maximising validation:bleu; the other hyperparameters stay fixed.")
    job_options(q)
    q.add_argument("--max-jobs", type=int, default=20, help="training jobs in all (default: %(default)s)")
    q.add_argument("--max-parallel-jobs", type=int, default=2, help="(default: %(default)s)")
    q.set_defaults(func=cmd_aws_tune)

    q = aws.add_parser("deploy", help="create or update an endpoint from a training job or a published version",
                       description="Create a model, an endpoint config and an endpoint (or update an existing "
                       "endpoint) from a training job's artefact, or from a local published version uploaded "
                       "as model.tar.gz.")
    q.add_argument("--endpoint", required=True, help="endpoint name")
    q.add_argument("--region", help="AWS region (default: boto3's)")
    q.add_argument("--image", required=True, help="the image URI in ECR")
    q.add_argument("--role", required=True, help="the SageMaker execution role ARN")
    q.add_argument("--training-job", help="deploy this training job's model artefact")
    q.add_argument("--version-dir", type=Path, help="deploy this published version (a directory in a store)")
    q.add_argument("--upload-to", help="s3://bucket/prefix for --version-dir's model.tar.gz")
    q.add_argument("--instance-type", default="ml.g5.xlarge", help="(default: %(default)s)")
    q.add_argument("--instance-count", type=int, default=1, help="(default: %(default)s)")
    q.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                   help="container environment, e.g. SAGEMAKER_MODEL_SERVER_WORKERS=2 (repeatable)")
    q.add_argument("--no-wait", dest="wait", action="store_false", help="return without waiting for InService")
    q.add_argument("--poll", type=float, default=30.0, help="seconds between status checks (default: %(default)s)")
    q.set_defaults(func=cmd_aws_deploy)

    q = aws.add_parser("translate", help="translate with an endpoint",
                       description="Send texts (arguments, or stdin one per line) to an endpoint's /invocations "
                       "and print one translation per line.")
    q.add_argument("--endpoint", required=True, help="endpoint name")
    q.add_argument("--region", help="AWS region (default: boto3's)")
    q.add_argument("text", nargs="*", help="texts to translate (default: stdin, one per line)")
    q.set_defaults(func=cmd_aws_translate)

    p = sub.add_parser("demo", help="run the whole path on the generated demo corpus",
                       description="Generate the demo corpus, prepare it, train `tiny`, evaluate, publish, "
                       "serve on 127.0.0.1, send one /v1/translate request and print the answer.")
    p.add_argument("--workdir", type=Path, default=Path("demo"), help="working directory (default: %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="corpus and training seed (default: %(default)s)")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "train":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # SIGTERM unwinds like Ctrl-C, so that partial outputs are removed on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        if args.command == "train":
            args.func(args, extra)
        else:
            args.func(args)
    except S2SError as e:
        print(f"s2s {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"s2s {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
