"""The review loop, end to end on the demo, through the real `s2s` commands. Prints JSON.

    .venv/bin/python bench/loop.py DEMO_DIR [--items 60] [--updates 200] [--repeat 20] [--workdir DIR]

DEMO_DIR is what `make demo` leaves (its models/ and corpus/); its store is copied, never changed.
The loop: `s2s review add` queues the first --items dev sentences, translated by the store's
default version (the parent); a reviewer key (`s2s keys add --role reviewer`) reviews each one
through the review API of a real `s2s serve --review-db`: "good" where the translation is the
reference, else "edit" with the reference as the correction. `s2s review export` writes the
corrections and holds out a review test set; `s2s prepare --subwords-from` mixes the original
training corpus with the corrections repeated --repeat times (the remaining dev sentences are the
dev set, the parent's test set the test set); `s2s train --init-from` fine-tunes --updates updates;
`s2s publish --review-test` scores the new version on both sets; and `s2s models promote` is asked
to make it the default. Reported: each step's seconds, the review counts, test and review-test BLEU
of the parent and the new version, and the promotion's outcome with its message: promoted, or refused
by the gate (a fine-tuned version is never the default until promoted).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from data_prep.errors import S2SError  # noqa: E402
from review.db import ReviewDb  # noqa: E402
from seq2seq.versions.store import PROMOTE_TOLERANCE, ModelStore  # noqa: E402
from serve.local import free_port, wait_until_ready  # noqa: E402

BIN = Path(sys.executable).parent
REVIEWER = "loop-reviewer"
# The queue route's largest page (serve/review_routes.py MAX_QUEUE_LIMIT).
QUEUE_PAGE = 200


@dataclass(frozen=True)
class LoopConfig:
    demo: Path  # what `make demo` leaves: models/ and corpus/
    work: Path  # everything the loop writes goes here
    items: int = 60  # dev sentences queued for review
    updates: int = 200  # fine-tuning updates
    # Updates between checkpoints; None keeps the parent's preset's (100 for `tiny`).
    checkpoint_interval: int | None = None
    repeat: int = 20  # times each correction is trained on
    test_fraction: float = 0.2  # share of the reviewed sources held out as the review test set
    tolerance: float = PROMOTE_TOLERANCE


class Paths:
    """Where the loop's files lie under its work directory."""

    def __init__(self, work: Path):
        self.work = Path(work)
        self.store, self.db, self.keys = self.work / "models", self.work / "review.db", self.work / "keys.json"
        self.review_source, self.server_log = self.work / "review.en", self.work / "server.log"
        self.corrections, self.review_test = self.work / "corrections.tsv", self.work / "review_test.tsv"
        self.dev = (self.work / "dev.en", self.work / "dev.de")
        self.mix, self.prepared, self.run = self.work / "mix.yaml", self.work / "prepared", self.work / "run"


def _s2s(*args: str | Path, check: bool = True) -> tuple[subprocess.CompletedProcess, float]:
    """Runs an s2s command; returns it and its wall time. A failure names the command and its error."""
    start = time.perf_counter()
    result = subprocess.run([str(BIN / "s2s"), *map(str, args)], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise S2SError(f"`s2s {' '.join(map(str, args))}` failed with exit code {result.returncode}:\n"
                       f"{result.stderr[-3000:]}")
    return result, time.perf_counter() - start


def _error_line(stderr: str) -> str:
    """The one-line message a failing s2s command ends with, without its `s2s CMD: error:` prefix."""
    line = next((line for line in reversed(stderr.splitlines()) if ": error: " in line), stderr.strip())
    return line.split(": error: ", 1)[-1]


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _api(url: str, key: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as e:
        raise S2SError(f"{request.method} {url} answered {e.code}: {e.read().decode(errors='replace')}") from None


def review_by_reference(base_url: str, key: str, references: dict[str, str]) -> dict[str, int]:
    """Gives every queued item a verdict through /v1/review: "good" when the machine translation is
    the reference of its source, else "edit" with the reference. Returns the count of each."""
    counts = {"good": 0, "edit": 0}
    after = 0
    while True:
        items = _api(f"{base_url}/v1/review/queue?limit={QUEUE_PAGE}&after={after}", key)["items"]
        if not items:
            return counts
        for item in items:
            if item["source"] not in references:
                raise S2SError(f"review item {item['id']} has the source {item['source']!r}, which is not one of "
                               "the sentences this loop queued; give the loop a fresh --review-db")
            reference = references[item["source"]]
            verdict = {"verdict": "good"} if item["translation"] == reference else {"verdict": "edit",
                                                                                    "correction": reference}
            _api(f"{base_url}/v1/review/items/{item['id']}", key, verdict)
            counts[verdict["verdict"]] += 1
        after = items[-1]["id"]


def _mix_config(config: LoopConfig, paths: Paths) -> dict:
    """The fine-tuning corpus: the demo's training corpus once and the corrections `repeat` times;
    the dev sentences not reviewed as dev set (a correction of a dev sentence would be dropped as a
    leak), and the demo's test set, on which the parent was scored."""
    corpus = config.demo / "corpus"
    return {"source_lang": "en", "target_lang": "de",
            "corpora": [{"name": "original", "source": str(corpus / "train.en"), "target": str(corpus / "train.de")},
                        {"name": "corrections", "tsv": str(paths.corrections), "repeat": config.repeat}],
            "dev": {"source": str(paths.dev[0]), "target": str(paths.dev[1])},
            "test": {"source": str(corpus / "test.en"), "target": str(corpus / "test.de")}}


def _promote(version_id: str, store: Path, tolerance: float) -> tuple[dict, float]:
    """`s2s models promote` and its outcome: promoted, or refused by the gate."""
    result, seconds = _s2s("models", "promote", version_id, "--store", store, "--tolerance", str(tolerance),
                           check=False)
    if result.returncode == 0:
        return {"decision": "promoted", "message": result.stdout.strip()}, seconds
    message = _error_line(result.stderr)
    if message.startswith(f"refusing to promote {version_id}"):
        return {"decision": "refused", "message": message}, seconds
    raise S2SError(f"`s2s models promote {version_id}` failed with exit code {result.returncode}:\n"
                   f"{result.stderr[-3000:]}")


def run_loop(config: LoopConfig) -> dict:
    """Runs the loop in `config.work` (which must not exist yet); returns what main() prints."""
    paths = Paths(config.work)
    corpus = config.demo / "corpus"
    missing = [str(path) for path in [config.demo / "models", *(corpus / f"{split}.{side}" for split in
                                                                ("train", "dev", "test") for side in ("en", "de"))]
               if not path.exists()]
    if missing:
        raise S2SError(f"{config.demo} is not what `make demo` leaves: {', '.join(missing)} missing")
    if paths.work.exists():
        raise S2SError(f"{paths.work} exists already; give the loop a new work directory")
    dev_source, dev_target = (_lines(corpus / f"dev.{side}") for side in ("en", "de"))
    if not 0 < config.items < len(dev_source):
        raise S2SError(f"--items must be between 1 and {len(dev_source) - 1}: {corpus / 'dev.en'} "
                       f"has {len(dev_source)} sentences, and those not reviewed are the fine-tuning dev set")
    paths.work.mkdir(parents=True)
    seconds = {}
    shutil.copytree(config.demo / "models", paths.store)
    parent = ModelStore(paths.store).select()

    references = dict(zip(dev_source[:config.items], dev_target[:config.items]))
    _write_lines(paths.review_source, dev_source[:config.items])
    _, seconds["review_add"] = _s2s("review", "add", paths.review_source, "--version", parent.id,
                                    "--store", paths.store, "--review-db", paths.db)
    added, _ = _s2s("keys", "add", REVIEWER, "--file", paths.keys, "--role", "reviewer")
    key = added.stdout.strip().splitlines()[-1]

    port = free_port()
    started = time.perf_counter()
    with open(paths.server_log, "w") as log:
        server = subprocess.Popen([str(BIN / "s2s"), "serve", "--store", str(paths.store), "--port", str(port),
                                   "--review-db", str(paths.db), "--api-keys", str(paths.keys)],
                                  stdout=subprocess.DEVNULL, stderr=log)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", server)
        seconds["serve_start"] = time.perf_counter() - started
        started = time.perf_counter()
        verdicts = review_by_reference(f"http://127.0.0.1:{port}", key, references)
        seconds["review"] = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=60)

    _, seconds["review_export"] = _s2s("review", "export", "--review-db", paths.db, "--output", paths.corrections,
                                       "--test-output", paths.review_test, "--test-fraction", str(config.test_fraction))
    _write_lines(paths.dev[0], dev_source[config.items:])
    _write_lines(paths.dev[1], dev_target[config.items:])
    paths.mix.write_text(yaml.safe_dump(_mix_config(config, paths), sort_keys=False), encoding="utf-8")
    _, seconds["prepare"] = _s2s("prepare", "--config", paths.mix, "--subwords-from", parent.id,
                                 "--store", paths.store, "--output", paths.prepared)
    interval = ("--checkpoint-interval", str(config.checkpoint_interval)) if config.checkpoint_interval else ()
    _, seconds["train"] = _s2s("train", paths.prepared, "--output", paths.run, "--init-from", parent.id,
                               "--store", paths.store, "--max-updates", str(config.updates), *interval)
    before = {v.id for v in ModelStore(paths.store).versions()}
    _, seconds["publish"] = _s2s("publish", paths.run, "--store", paths.store, "--review-test", paths.review_test)
    (new,) = [v for v in ModelStore(paths.store).versions() if v.id not in before]
    default_before_promote = ModelStore(paths.store).default_for("en", "de").id
    gate, seconds["promote"] = _promote(new.id, paths.store, config.tolerance)

    review = new.info["review_test"]
    return {
        "benchmark": "loop",
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "parent": parent.id, "new_version": new.id,
        "settings": {"items": config.items, "updates": config.updates, "repeat": config.repeat,
                     "test_fraction": config.test_fraction, "tolerance": config.tolerance,
                     "checkpoint_interval": config.checkpoint_interval},
        "seconds": {step: round(s, 1) for step, s in seconds.items()},
        "review": {"queued": ReviewDb(paths.db).counts()[1], **verdicts, "exported": len(_lines(paths.corrections)),
                   "held_out": len(_lines(paths.review_test))},
        "updates_trained": new.info["training"]["updates"],
        "test": {"name": new.info["test"]["name"], "parent_bleu": parent.bleu, "new_bleu": new.bleu},
        "review_test": {"name": review["name"], "sentences": review["sentences"],
                        "parent_bleu": review["baseline"]["bleu"], "new_bleu": review["bleu"]},
        "gate": {**gate, "default_before": default_before_promote},
        "workdir": str(paths.work),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("demo", type=Path, help="the directory `make demo` wrote (its models/ and corpus/)")
    defaults = LoopConfig(demo=Path(), work=Path())
    parser.add_argument("--items", type=int, default=defaults.items, help="dev sentences to review (default: 60)")
    parser.add_argument("--updates", type=int, default=defaults.updates, help="fine-tuning updates (default: 200)")
    parser.add_argument("--checkpoint-interval", type=int, help="updates between checkpoints (default: the preset's)")
    parser.add_argument("--repeat", type=int, default=defaults.repeat,
                        help="times each correction is trained on (default: 20)")
    parser.add_argument("--test-fraction", type=float, default=defaults.test_fraction,
                        help="share of reviewed sources held out as the review test set (default: 0.2)")
    parser.add_argument("--tolerance", type=float, default=defaults.tolerance,
                        help="the promotion gate's test-BLEU tolerance (default: 1.0)")
    parser.add_argument("--workdir", type=Path, help="keep the outputs here; it must not exist "
                        "(default: a new temporary directory)")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="s2s-bench-loop-")) / "loop"
    config = LoopConfig(demo=args.demo, work=work, items=args.items, updates=args.updates,
                        checkpoint_interval=args.checkpoint_interval, repeat=args.repeat,
                        test_fraction=args.test_fraction, tolerance=args.tolerance)
    try:
        print(json.dumps(run_loop(config), indent=2))
    except S2SError as e:
        sys.exit(f"bench/loop.py: {e}")


if __name__ == "__main__":
    main()
