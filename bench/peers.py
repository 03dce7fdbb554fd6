"""s2s against LibreTranslate on the same model and the same machine. Prints JSON, writes a PNG.

    .venv/bin/python bench/peers.py STORE [--count 500] [--runs 5] [--plot docs/peers.png]

LibreTranslate is what a self-hosting user would pick instead of s2s, and it runs CTranslate2
too. This packages the store's default version (its CTranslate2 export and its joint
SentencePiece model) as an Argos package, installs LibreTranslate from PyPI into a virtualenv of
its own (--lt-venv, made once), and runs it offline in a scratch home (two workarounds, from
../shared/ENVIRONMENT.md: an empty package index, and spaCy's rule-based sentence splitter, in a
blank pipeline where Argos caches its spaCy model, instead of MiniSBD, which downloads its model).
Then, each server alone, --runs times: start it, time the first translation, send the same
--count demo sentences one per request from 1, 4, 16 and 64 client threads (bench/load.py), read
its memory, stop it. Levels report the median of the runs and their range. Each server also
translates the demo test set (one sentence per request, 16 clients) for its BLEU. The servers:
- s2s with its defaults (a worker per core, the version's decoding options) but the cache off:
  LibreTranslate has none, and the load levels repeat the same sentences;
- LibreTranslate with its defaults;
- LibreTranslate tuned for this machine: a CTranslate2 replica per core with one thread each,
  8 waitress threads, and beam 5 (LibreTranslate's best BLEU here).
"""
import argparse
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from load import run_load, save_load_plot  # noqa: E402  (bench/load.py, beside this file)

from data_prep.corpus import read_parallel  # noqa: E402
from data_prep.demo_corpus import DemoCorpusConfig, write_demo_corpus  # noqa: E402
from data_prep.subwords import JOINT_MODEL  # noqa: E402
from seq2seq.versions.decoding import options_record  # noqa: E402
from seq2seq.versions.scoring import score  # noqa: E402
from seq2seq.versions.store import ModelStore  # noqa: E402
from seq2seq.versions.version import EXPORT_DIR  # noqa: E402
from serve.local import free_port  # noqa: E402

LIBRETRANSLATE = "libretranslate==1.9.6"
CONCURRENCY = (1, 4, 16, 64)
LEVEL_TIME_LIMIT_S = 120
START_TIMEOUT_S = 120
BLEU_CLIENTS = 16


def _argos_package(version, work: Path) -> Path:
    """The version as an Argos package: metadata.json, model/ (the CTranslate2 export) and the joint
    SentencePiece model, zipped in one top folder."""
    if version.export_problem():
        sys.exit(f"{version.id}: {version.export_problem()}")
    joint = version.path / JOINT_MODEL
    if not joint.is_file():
        sys.exit(f"{version.id}: Argos packages take one SentencePiece model for both sides; this version has two")
    source, target = version.pair
    folder = work / f"translate-{source}_{target}"
    shutil.copytree(version.path / EXPORT_DIR, folder / "model")
    shutil.copyfile(joint, folder / "sentencepiece.model")
    (folder / "metadata.json").write_text(json.dumps({
        "package_version": "1.0", "argos_version": "1.0", "from_code": source, "to_code": target,
        "from_name": source, "to_name": target, "type": "translate", "package_name": version.id}))
    package = work / f"{version.id}.argosmodel"
    with zipfile.ZipFile(package, "w") as archive:
        for path in sorted(folder.rglob("*")):
            archive.write(path, path.relative_to(work))
    return package


def _libretranslate_venv(venv: Path) -> Path:
    """LibreTranslate from PyPI in a virtualenv of its own, made once."""
    python = venv / "bin" / "python"
    if not (venv / "bin" / "libretranslate").is_file():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", LIBRETRANSLATE, "spacy"], check=True)
    return python


def _offline_home(work: Path, lt_python: Path) -> dict:
    """Environment for LibreTranslate in a scratch home, offline (../shared/ENVIRONMENT.md)."""
    home = work / "home"
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / ".local/share"),
           "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache"),
           "ARGOS_PACKAGES_DIR": str(home / ".local/share/argos-translate/packages"),
           # MiniSBD, the default splitter, downloads its model; spaCy's needs only this marker folder.
           "ARGOS_CHUNK_TYPE": "SPACY"}
    (home / ".local/share/argos-translate").mkdir(parents=True, exist_ok=True)
    # Without a package index, start-up recurses looking for one.
    (home / ".local/share/argos-translate/index.json").write_text("[]")
    # Argos loads its cached spaCy model from .cache/argos-translate/spacy, and downloads one unless
    # senter/model is there: a blank multilingual pipeline, to which Argos adds spaCy's rule-based
    # sentencizer, stands in for it.
    spacy_cache = home / ".cache/argos-translate/spacy"
    (spacy_cache / "senter/model").mkdir(parents=True, exist_ok=True)
    subprocess.run([str(lt_python), "-c", "import sys, spacy; spacy.blank('xx').to_disk(sys.argv[1])",
                    str(spacy_cache)], check=True)
    return env


def _tree_memory_mib(pid: int) -> dict:
    """Resident and proportional set sizes of a process and its children, in MiB."""
    rss = pss = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return {"rss_mib": round(rss / 1024, 1), "pss_mib": round(pss / 1024, 1)}


class Server:
    """How to start one of the servers measured, and how to ask it for a translation."""

    def __init__(self, name: str, command: list[str], env: dict, path: str, body, answer):
        self.name, self.command, self.env, self.path = name, command, env, path
        self.body, self.answer = body, answer  # text -> JSON request; JSON answer -> translation

    def request(self, text: str) -> tuple[str, dict]:
        return self.path, self.body(text)

    def start(self, port: int) -> tuple[subprocess.Popen, float]:
        """The running server, and the seconds from its start to its first translation."""
        started = time.perf_counter()
        process = subprocess.Popen([part.replace("{port}", str(port)) for part in self.command], env=self.env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        path, body = self.request("Hello.")
        while time.perf_counter() - started < START_TIMEOUT_S:
            if process.poll() is not None:
                sys.exit(f"{self.name} exited with {process.returncode} before its first translation")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
                if connection.getresponse().status == 200:
                    return process, time.perf_counter() - started
            except OSError:
                pass
            time.sleep(0.05)
        process.kill()
        sys.exit(f"{self.name} did not translate within {START_TIMEOUT_S} s")


def _translate_all(url: str, server: Server, sources: list[str]) -> tuple[list[str], list[str]]:
    """Each sentence through the server, one per request, from BLEU_CLIENTS threads; a sentence the
    server fails on (LibreTranslate answers 500 when a translation runs past the model's last position:
    Argos does not bound its length) counts as translated to nothing. Also returns those sentences."""
    def one(text: str) -> str:
        connection = http.client.HTTPConnection(urlsplit(url).hostname, urlsplit(url).port, timeout=60)
        path, body = server.request(text)
        connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = connection.getresponse()
        body = response.read()
        return server.answer(json.loads(body)) if response.status == 200 else None

    with ThreadPoolExecutor(BLEU_CLIENTS) as pool:
        translations = list(pool.map(one, sources))
    return [t or "" for t in translations], [s for s, t in zip(sources, translations) if t is None]


def _measure(server: Server, sentences: list[str], test: tuple[list[str], list[str]], runs: int) -> dict:
    runs_out = []
    bleu, failed = None, []
    for run in range(runs):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process, startup = server.start(port)
        try:
            run_load(url, lambda i: server.request(sentences[i % len(sentences)]), 4, 32, LEVEL_TIME_LIMIT_S)
            levels = [run_load(url, lambda i: server.request(sentences[i % len(sentences)]), c, len(sentences),
                               LEVEL_TIME_LIMIT_S) for c in CONCURRENCY]
            memory = _tree_memory_mib(process.pid)
            if run == 0:
                translations, failed = _translate_all(url, server, test[0])
                bleu = score(translations, test[1]).bleu
        finally:
            process.terminate()
            process.wait(timeout=60)
        runs_out.append({"startup_s": round(startup, 2), "memory": memory, "levels": levels})
        print(f"{server.name} run {run + 1}: start-up {startup:.2f} s, "
              + ", ".join(f"c{r['concurrency']} {r['sentences_per_s']}/s p50 {r['p50_ms']} ms" for r in levels),
              file=sys.stderr)

    def spread(values: list[float]) -> dict:
        return {"median": round(statistics.median(values), 2), "min": min(values), "max": max(values)}

    return {"bleu": bleu, "test_sentences_failed": len(failed), "failed_examples": failed[:3],
            "startup_s": spread([r["startup_s"] for r in runs_out]),
            "rss_mib": spread([r["memory"]["rss_mib"] for r in runs_out]),
            "pss_mib": spread([r["memory"]["pss_mib"] for r in runs_out]),
            "levels": [{"concurrency": c,
                        "sentences_per_s": spread([r["levels"][k]["sentences_per_s"] for r in runs_out]),
                        "p50_ms": spread([r["levels"][k]["p50_ms"] for r in runs_out]),
                        "p95_ms": spread([r["levels"][k]["p95_ms"] for r in runs_out]),
                        "errors": sum(r["levels"][k]["errors"] for r in runs_out)}
                       for k, c in enumerate(CONCURRENCY)],
            "runs": runs_out}


def _plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for name, result in results.items():
        levels = result["levels"]
        x = [level["concurrency"] for level in levels]
        for axis, key in ((left, "sentences_per_s"), (right, "p50_ms")):
            mid = [level[key]["median"] for level in levels]
            low = [level[key]["median"] - level[key]["min"] for level in levels]
            high = [level[key]["max"] - level[key]["median"] for level in levels]
            axis.errorbar(x, mid, yerr=[low, high], marker="o", capsize=3, label=f"{name} (BLEU {result['bleu']})")
    save_load_plot(fig, left, right, ("sentences/s (median, range of the runs)", "p50 latency, ms"),
                   "concurrent clients, one sentence per request", path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path, help="a model store whose default version has a CTranslate2 export")
    parser.add_argument("--source-lang", default="en", help="(default: en)")
    parser.add_argument("--target-lang", default="de", help="(default: de)")
    parser.add_argument("--test-source", type=Path, help="test sentences for BLEU (default: the demo's test set)")
    parser.add_argument("--test-target", type=Path, help="their references")
    parser.add_argument("--count", type=int, default=500, help="requests per load level (default: 500)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each server (default: 5)")
    parser.add_argument("--lt-venv", type=Path, default=Path(tempfile.gettempdir()) / "s2s-bench-libretranslate",
                        help="LibreTranslate's virtualenv, made when missing (default: %(default)s)")
    parser.add_argument("--plot", type=Path, default=Path("docs/peers.png"))
    parser.add_argument("--only", choices=("s2s", "libretranslate", "libretranslate-tuned"), action="append",
                        help="measure only these servers (repeatable)")
    args = parser.parse_args()

    version = ModelStore(args.store).default_for(args.source_lang, args.target_lang)
    with tempfile.TemporaryDirectory(prefix="s2s-bench-peers-") as work:
        _run(args, version, Path(work))


def _run(args, version, work: Path) -> None:
    corpus = write_demo_corpus(work / "corpus", DemoCorpusConfig(seed=99, train=0, dev=0, test=args.count))
    sentences = corpus["test"][0].read_text(encoding="utf-8").splitlines()
    test_files = (args.test_source, args.test_target) if args.test_source else _demo_test_set(args.store)
    test_pairs = list(read_parallel(*test_files))
    test = ([s for s, _ in test_pairs], [t.strip() for _, t in test_pairs])

    lt_python = _libretranslate_venv(args.lt_venv)
    lt_env = _offline_home(work, lt_python)
    package = _argos_package(version, work)
    subprocess.run([str(lt_python), "-c", "import sys, argostranslate.package as p; p.install_from_path(sys.argv[1])",
                    str(package)], env=lt_env, check=True)
    lt = [str(args.lt_venv / "bin" / "libretranslate"), "--host", "127.0.0.1", "--port", "{port}",
          "--load-only", f"{args.source_lang},{args.target_lang}", "--disable-web-ui"]

    def lt_body(text: str) -> dict:
        return {"q": text, "source": args.source_lang, "target": args.target_lang, "format": "text"}

    servers = {
        # The cache off: LibreTranslate has none, and the load levels repeat the same sentences.
        "s2s": Server("s2s", [sys.executable, "-m", "s2s_cli", "serve", "--store", str(args.store), "--port", "{port}",
                              "--cache-size", "0"],
                      dict(os.environ), "/v1/translate",
                      lambda text: {"q": text, "source": args.source_lang, "target": args.target_lang},
                      lambda answer: answer["translations"][0]),
        "libretranslate": Server("libretranslate", lt, lt_env, "/translate", lt_body,
                                 lambda answer: answer["translatedText"]),
        "libretranslate-tuned": Server(
            "libretranslate-tuned", lt + ["--threads", "8"],
            {**lt_env, "ARGOS_INTER_THREADS": str(os.cpu_count()), "ARGOS_INTRA_THREADS": "1", "ARGOS_BEAM_SIZE": "5"},
            "/translate", lt_body, lambda answer: answer["translatedText"]),
    }
    results = {name: _measure(server, sentences, test, args.runs) for name, server in servers.items()
               if not args.only or name in args.only}
    _plot(results, args.plot)

    goals = {}
    # Against LibreTranslate's best of the configurations measured (with --only, those that ran).
    lt_rows = [results[name] for name in ("libretranslate", "libretranslate-tuned") if name in results]
    if "s2s" in results and lt_rows:
        s2s = results["s2s"]

        def at(result: dict, c: int, key: str) -> float:
            return next(level[key]["median"] for level in result["levels"] if level["concurrency"] == c)

        goals = {
            "c1_p50_s2s_vs_lt_best": round(at(s2s, 1, "p50_ms") / min(at(r, 1, "p50_ms") for r in lt_rows), 3),
            "c16_s2s_vs_lt_best": round(at(s2s, 16, "sentences_per_s") / max(at(r, 16, "sentences_per_s")
                                                                            for r in lt_rows), 3),
            "c64_s2s_vs_lt_best": round(at(s2s, 64, "sentences_per_s") / max(at(r, 64, "sentences_per_s")
                                                                            for r in lt_rows), 3),
            "bleu_s2s_minus_lt_best": round(s2s["bleu"] - max(r["bleu"] for r in lt_rows), 2),
            "startup_s2s_vs_lt": round(s2s["startup_s"]["median"] / min(r["startup_s"]["median"] for r in lt_rows), 3),
            "rss_s2s_minus_lt_mib": round(s2s["rss_mib"]["median"] - min(r["rss_mib"]["median"] for r in lt_rows), 1),
        }
    print(json.dumps({
        "benchmark": "peers",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0]},
        "version": version.id,
        "decoding": options_record(version.decoding),
        "libretranslate": LIBRETRANSLATE,
        "sentences": len(sentences),
        "runs": args.runs,
        "results": results,
        "goals": goals,
        "plot": str(args.plot),
    }, indent=2))


def _demo_test_set(store: Path) -> tuple[Path, Path]:
    """The demo's test set beside its store (`make demo` leaves demo/corpus and demo/models)."""
    corpus = store.parent / "corpus"
    if not (corpus / "test.en").is_file():
        sys.exit(f"no demo test set at {corpus}; give --test-source and --test-target")
    return corpus / "test.en", corpus / "test.de"


if __name__ == "__main__":
    main()
