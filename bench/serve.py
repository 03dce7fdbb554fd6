"""Sockeye against CTranslate2, offline and behind the real server; and the APIs against each other.
Prints JSON, writes a PNG.

    .venv/bin/python bench/serve.py STORE [--sentences FILE] [--count 500] [--plot bench/serve.png]
    .venv/bin/python bench/serve.py STORE --apis [--sentences FILE] [--count 500]

STORE is a model store (`make demo` leaves one in demo/models) whose version for the language
pair has a CTranslate2 export. The sentences are the first --count lines of --sentences FILE
(real text, such as Multi30k's test set; .gz works), or else generated demo sentences. On the
same version and sentences, in one run:
- offline: each engine's translator given all the sentences at once (batches of 32, beam 5),
  as `s2s evaluate` and `s2s translate` run it: Sockeye in float32, CTranslate2 in float32 and
  int8 (loading left out);
- one sentence at a time, in process, on each engine (the latency floor a server adds to);
- the real gunicorn server on each engine (`--engine`) with its default workers and threads,
  dynamic batching (batch 32), cache off, one sentence per request from 1, 4, 16 and 64 client
  threads; and CTranslate2 with our batching off (`--max-batch-size 1`), which leaves it to
  CTranslate2's own queue.
With --apis, instead: one CTranslate2 server (cache off) answers the same one-sentence requests
through /v1/translate, LibreTranslate's /translate and Amazon's TranslateText, and a second one with
keys through /v1/translate with a bearer key and TranslateText signed with a SigV4 key (signed
before the clock starts: a client's signing is the client's CPU). Each API's c1 p50 and c16
throughput, the medians of 3 rounds that take the APIs in turn, and each against /v1/translate.
Each engine runs where `s2s serve` would run it (CTranslate2 on the GPU when it can use one,
else the CPU; Sockeye on the GPU when torch sees one). Every load level has a fixed request
count and a time limit. Tokens are source subwords.
"""
import argparse
import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from load import MakeRequest, run_load, save_load_plot  # noqa: E402  (bench/load.py, beside this file)

from data_prep.demo_corpus import DemoCorpusConfig, write_demo_corpus  # noqa: E402
from seq2seq.engines.choice import open_translator  # noqa: E402
from seq2seq.engines.translator import DecodeConfig  # noqa: E402
from seq2seq.versions.store import ModelStore  # noqa: E402
from serve.config import default_workers, engine_threads  # noqa: E402
from serve.local import free_port, wait_until_ready  # noqa: E402

BIN = Path(sys.executable).parent
CONCURRENCY = (1, 4, 16, 64)
LEVEL_TIME_LIMIT_S = 180
ENGINES = ("sockeye", "ctranslate2")
API_ROUNDS = 3


def _in_process(version, engine: str, dtype: str, sentences: list[str]) -> dict:
    """Offline sentences/s for all the sentences at once, and the median time of one sentence alone."""
    translator, choice = open_translator(version.model_files(), engine, DecodeConfig(dtype=dtype))
    translator.translate(sentences[:4])  # Sockeye traces its decoder on first use
    start = time.perf_counter()
    translator.translate(sentences)
    offline = len(sentences) / (time.perf_counter() - start)
    times = []
    for sentence in sentences[:64]:
        start = time.perf_counter()
        translator.translate([sentence])
        times.append(time.perf_counter() - start)
    return {"engine": engine, "dtype": dtype, "device": choice.device, "offline_sentences_per_s": round(offline, 1),
            "one_sentence_ms": round(statistics.median(times) * 1000, 2)}


def _load(url: str, sentences: list[str], tokens: dict[str, int], concurrency: int, requests_total: int,
          pair: tuple[str, str]) -> dict:
    """`requests_total` one-sentence requests from `concurrency` client threads, with source tokens a second."""
    def request(i: int) -> tuple[str, dict]:
        return "/v1/translate", {"q": sentences[i % len(sentences)], "source": pair[0], "target": pair[1]}

    row = run_load(url, request, concurrency, requests_total, LEVEL_TIME_LIMIT_S)
    done_tokens = sum(tokens[sentences[i % len(sentences)]] for i in range(row["requests"]))
    return {**row, "tokens_per_s": round(done_tokens / row["wall_s"], 1)}


@contextmanager
def _server(store: Path, options: list[str]):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(BIN / "s2s"), "serve", "--store", str(store), "--port", str(port),
                               "--cache-size", "0", "--reload-interval", "0", *options],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_ready(url, server)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=60)


def _server_levels(store: Path, sentences, tokens, options: list[str], pair: tuple[str, str]) -> list[dict]:
    with _server(store, options) as url:
        _load(url, sentences, tokens, 4, 16, pair)  # warm-up: decoder tracing, connections
        # Fewer requests at concurrency 1 keeps the run short; every level still ends in bounded time.
        return [_load(url, sentences, tokens, c, len(sentences) // 2 if c == 1 else len(sentences), pair)
                for c in CONCURRENCY]


def _signed(url: str, sentences: list[str], pair: tuple[str, str], key_id: str, secret: str) -> list[tuple]:
    """Each sentence's TranslateText request, signed now with botocore's own SigV4 signer."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from serve.amazon_api import CONTENT_TYPE, TARGET_PREFIX

    signer = SigV4Auth(Credentials(key_id, secret), "translate", "eu-west-1")
    requests = []
    for sentence in sentences:
        body = json.dumps({"Text": sentence, "SourceLanguageCode": pair[0], "TargetLanguageCode": pair[1]}).encode()
        request = AWSRequest("POST", url + "/", data=body, headers={"Content-Type": CONTENT_TYPE,
                                                                     "X-Amz-Target": TARGET_PREFIX + "TranslateText"})
        signer.add_auth(request)
        requests.append(("/", body, dict(request.headers)))
    return requests


def _api_requests(url: str, keyed_url: str, sentences: list[str], pair: tuple[str, str], bearer: str,
                  sigv4: tuple[str, str]) -> dict[str, tuple[str, MakeRequest]]:
    """(server URL, the i-th request) of each API."""
    from serve.amazon_api import CONTENT_TYPE, TARGET_PREFIX

    amazon = {"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET_PREFIX + "TranslateText"}
    signed = _signed(keyed_url, sentences, pair, *sigv4)
    n = len(sentences)
    return {
        "/v1/translate": (url, lambda i: ("/v1/translate", {"q": sentences[i % n], "source": pair[0],
                                                            "target": pair[1]})),
        "LibreTranslate /translate": (url, lambda i: ("/translate", {"q": sentences[i % n], "source": pair[0],
                                                                     "target": pair[1]})),
        "Amazon TranslateText": (url, lambda i: ("/", {"Text": sentences[i % n], "SourceLanguageCode": pair[0],
                                                       "TargetLanguageCode": pair[1]}, amazon)),
        "/v1/translate, bearer key": (keyed_url, lambda i: (
            "/v1/translate", {"q": sentences[i % n], "source": pair[0], "target": pair[1]},
            {"Content-Type": "application/json", "Authorization": f"Bearer {bearer}"})),
        "Amazon TranslateText, SigV4-signed": (keyed_url, lambda i: signed[i % n]),
    }


def _apis(store: Path, sentences: list[str], pair: tuple[str, str], work: Path) -> dict:
    from serve.auth import add_key, add_sigv4_key

    keys = work / "keys.json"
    bearer, sigv4 = add_key(keys, "bench", per_minute=0), add_sigv4_key(keys, "bench-sigv4", per_minute=0)
    options = ["--engine", "ctranslate2"]
    with _server(store, options) as url, _server(store, [*options, "--api-keys", str(keys)]) as keyed_url:
        apis = _api_requests(url, keyed_url, sentences, pair, bearer, sigv4)
        rounds: dict[str, list[tuple[float, float]]] = {label: [] for label in apis}
        for label, (server_url, request) in apis.items():
            row = run_load(server_url, request, 4, 16, LEVEL_TIME_LIMIT_S)  # warm-up, and a check that it answers
            if row["errors"]:
                sys.exit(f"{label}: {row['errors']} of 16 requests failed")
        for _ in range(API_ROUNDS):
            for label, (server_url, request) in apis.items():
                one = run_load(server_url, request, 1, len(sentences) // 4, LEVEL_TIME_LIMIT_S)
                many = run_load(server_url, request, 16, len(sentences), LEVEL_TIME_LIMIT_S)
                rounds[label].append((one["p50_ms"], many["sentences_per_s"]))
    results = {label: {"c1_p50_ms": statistics.median(p50 for p50, _ in values),
                       "c16_sentences_per_s": statistics.median(rate for _, rate in values),
                       "rounds": values} for label, values in rounds.items()}
    own = results["/v1/translate"]
    for row in results.values():
        row["c1_p50_vs_v1"] = _ratio(row["c1_p50_ms"], own["c1_p50_ms"])
        row["c16_vs_v1"] = _ratio(row["c16_sentences_per_s"], own["c16_sentences_per_s"])
    return results


def _plot(servers: dict[str, list[dict]], offline: dict[str, float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for label, rows in servers.items():
        left.plot([r["concurrency"] for r in rows], [r["sentences_per_s"] for r in rows], marker="o", label=label)
        right.plot([r["concurrency"] for r in rows], [r["p50_ms"] for r in rows], marker="o", label=f"{label}, p50")
    for (label, value), style in zip(offline.items(), (":", "--", "-.")):
        left.axhline(value, color="grey", linestyle=style, label=f"offline {label}")
    save_load_plot(fig, left, right, ("sentences/s", "latency (ms)"), "concurrent clients", path)


def _sentences(args: argparse.Namespace, work: Path) -> list[str]:
    """The first --count non-empty lines of --sentences, or as many generated demo sentences."""
    if args.sentences:
        from data_prep.corpus import read_lines

        lines = [line for line in read_lines(args.sentences) if line.strip()][:args.count]
        if not lines:
            sys.exit(f"{args.sentences}: no sentences")
        return lines
    corpus = write_demo_corpus(work / "corpus", DemoCorpusConfig(seed=99, train=0, dev=0, test=args.count))
    return corpus["test"][0].read_text(encoding="utf-8").splitlines()


def _option(argv: list[str], flag: str) -> str | None:
    """The last value given to `flag` in a sockeye-train command line."""
    values = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == flag]
    return values[-1] if values else None


def _machine() -> dict:
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0]}


def _ratio(a: float, b: float) -> float:
    return round(a / b, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path, help="a model store with a version for the language pair (e.g. demo/models)")
    parser.add_argument("--sentences", type=Path, metavar="FILE",
                        help="source sentences, one per line (default: generated demo sentences)")
    parser.add_argument("--count", type=int, default=500, help="sentences per load level (default: 500)")
    parser.add_argument("--source-lang", default="en", help="(default: en)")
    parser.add_argument("--target-lang", default="de", help="(default: de)")
    parser.add_argument("--plot", type=Path, default=Path("bench/serve.png"))
    parser.add_argument("--offline-only", action="store_true", help="measure the engines in process, no server")
    parser.add_argument("--apis", action="store_true", help="measure the APIs against each other instead")
    args = parser.parse_args()

    pair = (args.source_lang, args.target_lang)
    version = ModelStore(args.store).default_for(*pair)
    if version.export_problem():
        sys.exit(f"{version.id}: {version.export_problem()}; publish it again with this s2s")
    work = Path(tempfile.mkdtemp(prefix="s2s-bench-serve-"))
    sentences = _sentences(args, work)
    if args.apis:
        print(json.dumps({"benchmark": "serve --apis", "machine": _machine(), "version": version.id,
                          "sentences_from": str(args.sentences) if args.sentences else "generated demo sentences",
                          "sentences": len(sentences), "rounds": API_ROUNDS,
                          "apis": _apis(args.store, sentences, pair, work)}, indent=2))
        return
    source = version.model_files()
    from data_prep.subwords import SubwordPair

    tokens = {s: len(SubwordPair.load(source.subword_dir).source.encode(s).split()) for s in sentences}

    # Each engine in a process of its own: PyTorch's OpenMP threads, still spinning after Sockeye's
    # work, would slow CTranslate2's down in the same process (a server's worker loads one engine).
    with multiprocessing.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        in_process = {f"{engine}-{dtype}": pool.apply(_in_process, (version, engine, dtype, sentences))
                      for engine, dtype in (("sockeye", "float32"), ("ctranslate2", "float32"),
                                            ("ctranslate2", "int8"))}
    offline = {key: row["offline_sentences_per_s"] for key, row in in_process.items()}
    goals = {"ct2_offline_vs_sockeye_offline": _ratio(offline["ctranslate2-float32"], offline["sockeye-float32"]),
             "ct2_int8_offline_vs_sockeye_offline": _ratio(offline["ctranslate2-int8"], offline["sockeye-float32"])}
    servers = {}
    if not args.offline_only:
        servers = {f"server {engine}": _server_levels(args.store, sentences, tokens, ["--engine", engine], pair)
                   for engine in ENGINES}
        servers["server ctranslate2, batch size 1"] = _server_levels(
            args.store, sentences, tokens, ["--engine", "ctranslate2", "--max-batch-size", "1"], pair)
        _plot(servers, offline, args.plot)
        at = {label: {r["concurrency"]: r for r in rows} for label, rows in servers.items()}
        sockeye, ct2 = at["server sockeye"], at["server ctranslate2"]
        goals.update({
            "server_ct2_c16_vs_server_sockeye_c16": _ratio(ct2[16]["sentences_per_s"], sockeye[16]["sentences_per_s"]),
            "server_ct2_c16_vs_ct2_offline": _ratio(ct2[16]["sentences_per_s"], offline["ctranslate2-float32"]),
            "c1_p50_ct2_vs_sockeye": _ratio(ct2[1]["p50_ms"], sockeye[1]["p50_ms"]),
            "server_ct2_c16_batched_vs_unbatched": _ratio(
                ct2[16]["sentences_per_s"], at["server ctranslate2, batch size 1"][16]["sentences_per_s"]),
        })
    print(json.dumps({
        "benchmark": "serve",
        "machine": _machine(),
        "server": {"workers": default_workers(), "engine_threads": engine_threads(default_workers())},
        "version": version.id,
        "preset": version.info["training"]["preset"],
        "model_size": _option(version.info["training"]["hyperparameters"], "--transformer-model-size"),
        "sentences_from": str(args.sentences) if args.sentences else "generated demo sentences (seed 99)",
        "sentences": len(sentences),
        "in_process": in_process,
        "servers": servers,
        "goals": goals,
        "plot": str(args.plot) if servers else None,
    }, indent=2))


if __name__ == "__main__":
    main()
