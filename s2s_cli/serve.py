"""`s2s serve` and `s2s keys`: the REST server and its API keys."""
import argparse
from pathlib import Path

from s2s_cli.common import add_engine, add_store


def cmd_serve(args: argparse.Namespace) -> None:
    from serve.config import MIB, BatchConfig, ServeConfig, ServerConfig, engine_threads
    from serve.server import run_server

    config = ServeConfig(
        store=args.store, version=args.version, max_payload_bytes=int(args.max_payload_mb * MIB),
        max_items=args.max_items, max_item_chars=args.max_item_chars, max_beam_size=args.max_beam_size,
        max_glossary_entries=args.max_glossary_entries,
        batching=BatchConfig(max_batch_size=args.max_batch_size, max_wait_ms=args.max_wait_ms,
                             max_queue=args.max_queue),
        request_timeout_s=args.timeout, cache_size=args.cache_size, engine=args.engine, int8=args.int8,
        threads=args.engine_threads or engine_threads(args.workers), reload_interval_s=args.reload_interval,
        unload_after_s=args.unload_after, api_keys=args.api_keys, review_db=args.review_db,
        review_sample=args.review_sample, page=args.page)
    run_server(config, ServerConfig(host=args.host, port=args.port, workers=args.workers, threads=args.threads))


def cmd_keys(args: argparse.Namespace) -> None:
    from serve.auth import add_key, add_sigv4_key

    if args.sigv4:
        key_id, secret = add_sigv4_key(args.file, args.name, args.per_minute, args.role)
        print(f"SigV4 key {args.name!r} ({args.role}) added to {args.file}, for Amazon Translate's API. The file "
              "keeps the secret, readable by its owner alone, since verifying a signature takes it. Give the "
              "client:")
        print(f"aws_access_key_id = {key_id}\naws_secret_access_key = {secret}")
        return
    key = add_key(args.file, args.name, args.per_minute, args.role)
    print(f"API key {args.name!r} ({args.role}) added to {args.file} (stored hashed; this is the only time it is "
          "shown):")
    print(key)


def _add_limits(p: argparse.ArgumentParser, defaults: dict) -> None:
    from serve.config import BatchConfig, ServeConfig

    p.add_argument("--timeout", type=int, default=defaults["timeout"],
                   help="seconds a request may wait for its translation before a 503 (default: %(default)s)")
    p.add_argument("--max-payload-mb", type=float, default=defaults["max_payload_mb"],
                   help="largest request body in MiB (default: %(default)s)")
    p.add_argument("--max-items", type=int, default=ServeConfig.max_items,
                   help="texts per request (default: %(default)s)")
    p.add_argument("--max-item-chars", type=int, default=ServeConfig.max_item_chars,
                   help="characters per text (default: %(default)s)")
    p.add_argument("--max-glossary-entries", type=int, default=ServeConfig.max_glossary_entries,
                   help="entries of a request's inline glossary; an imported terminology has no limit here "
                   "(default: %(default)s)")
    p.add_argument("--max-beam-size", type=int, default=ServeConfig.max_beam_size,
                   help="largest beam size a request may ask for (default: %(default)s)")
    p.add_argument("--max-batch-size", type=int, default=BatchConfig.max_batch_size,
                   help="sentences per model batch; 1 turns batching off (default: %(default)s)")
    p.add_argument("--max-wait-ms", type=float, default=BatchConfig.max_wait_ms,
                   help="how long a batch waits to fill after its first sentence (default: %(default)s)")
    p.add_argument("--max-queue", type=int, default=BatchConfig.max_queue,
                   help="sentences waiting per version before requests get 503 (default: %(default)s)")
    p.add_argument("--cache-size", type=int, default=ServeConfig.cache_size,
                   help="translations cached per worker; 0 turns the cache off (default: %(default)s)")


def _add_serve(sub: argparse._SubParsersAction) -> None:
    from serve.config import ServeConfig, ServerConfig, sagemaker_defaults

    defaults = sagemaker_defaults()
    p = sub.add_parser("serve", help="serve the store's versions over REST with gunicorn",
                       description="Serve translations over REST: /v1/translate and /v1/models; LibreTranslate's "
                       "API (/translate, /detect, /languages); Amazon Translate's (POST / for boto3's endpoint_url); "
                       "SageMaker's "
                       "/ping, /invocations (JSON, text/plain, JSON lines) and /execution-parameters; "
                       "/healthz, /readyz and Prometheus /metrics. New versions and promotions in the store "
                       "are picked up without a restart. SageMaker's SAGEMAKER_BIND_TO_PORT, "
                       "SAGEMAKER_MODEL_SERVER_WORKERS, SAGEMAKER_MODEL_SERVER_TIMEOUT and "
                       "SAGEMAKER_MAX_PAYLOAD_IN_MB set the defaults of --port, --workers, --timeout and "
                       "--max-payload-mb.")
    add_store(p)
    p.add_argument("--version", help="the version /invocations uses (default: the default version of the "
                   "store's only language pair)")
    p.add_argument("--host", default=ServerConfig.host, help="address to bind (default: %(default)s)")
    p.add_argument("--port", type=int, default=defaults["port"], help="port (default: %(default)s)")
    p.add_argument("--workers", type=int, default=defaults["workers"],
                   help="gunicorn worker processes, each with its own copy of the models (default: one per core, "
                   "or one on a GPU machine; here %(default)s)")
    p.add_argument("--threads", type=int, default=ServerConfig.threads,
                   help="request threads per worker; they wait on the batcher (default: %(default)s)")
    _add_limits(p, defaults)
    add_engine(p)
    p.add_argument("--engine-threads", type=int, metavar="N",
                   help="the decoder's threads per worker: CTranslate2's, or PyTorch's for Sockeye on the CPU "
                   "(default: the cores divided among the workers)")
    p.add_argument("--int8", action="store_true", help="translate with int8 models on the CPU (CTranslate2's, or "
                   "Sockeye's without an export); version.json records what int8 costs in test BLEU")
    p.add_argument("--reload-interval", type=float, default=ServeConfig.reload_interval_s,
                   help="seconds between checks of the store for new versions; 0 turns hot reload off "
                   "(default: %(default)s)")
    p.add_argument("--unload-after", type=float, default=ServeConfig.unload_after_s, metavar="SECONDS",
                   help="unload a version that is no longer a default once it has answered nothing this long; a "
                   "request that pins it loads it again; 0 keeps every version loaded (default: %(default)s)")
    p.add_argument("--api-keys", type=Path, help="API key file from `s2s keys add`; when given, /v1/* and "
                   "LibreTranslate's API require a key, and Amazon Translate's a SigV4 signature by a key from "
                   "`s2s keys add --sigv4` (/ping, /invocations and the health routes stay open)")
    p.add_argument("--review-db", type=Path, metavar="FILE", help="the review database (SQLite, created if "
                   "missing); turns on the review page at /review and /v1/review/* for keys with the reviewer "
                   "role, so it needs --api-keys")
    p.add_argument("--review-sample", type=float, default=ServeConfig.review_sample, metavar="RATE",
                   help="queue this share (0 to 1) of the texts of successful /v1/translate requests for review "
                   "in --review-db; the client's text is then stored on disk in plain form (default: %(default)s, "
                   "off)")
    p.add_argument("--no-page", dest="page", action="store_false",
                   help="do not serve the translation page at / (the API alone)")
    p.set_defaults(func=cmd_serve)


def _add_keys(sub: argparse._SubParsersAction) -> None:
    from serve.auth import DEFAULT_PER_MINUTE, ROLES

    p = sub.add_parser("keys", help="manage the API keys of `s2s serve --api-keys`",
                       description="Create an API key: it is printed once, and only its sha256 is stored. "
                       "With --sigv4, an access key id and secret for Amazon Translate's API (boto3), which the "
                       "file keeps whole (mode 0600): verifying a SigV4 signature takes the secret.")
    keys = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = keys.add_parser("add", help="create a key and add its hash to the key file")
    q.add_argument("name", help="a name for the key, shown in access logs")
    q.add_argument("--file", type=Path, required=True, help="the key file (created if missing)")
    q.add_argument("--per-minute", type=int, default=DEFAULT_PER_MINUTE,
                   help="requests per minute allowed to this key; 0 for unlimited (default: %(default)s)")
    q.add_argument("--role", choices=ROLES, default=ROLES[0],
                   help="translate: /v1/translate and /v1/models; reviewer: those and the review page's "
                   "/v1/review/* (default: %(default)s)")
    q.add_argument("--sigv4", action="store_true", help="an access key id and secret that sign Amazon Translate "
                   "requests (boto3's aws_access_key_id and aws_secret_access_key), instead of a bearer key")
    p.set_defaults(func=cmd_keys)


def add_commands(sub: argparse._SubParsersAction) -> None:
    _add_serve(sub)
    _add_keys(sub)
