"""`s2s demo`: the whole path on the generated corpus, from raw text to a served translation."""
import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from data_prep.corpus import CorpusSpec
from data_prep.demo_corpus import DemoCorpusConfig, write_demo_corpus
from data_prep.prepare import PrepareConfig, prepare
from data_prep.subwords import SubwordConfig
from seq2seq.training.train import TrainConfig, train
from seq2seq.versions.release import release
from serve.local import free_port, post_json, wait_until_ready

logger = logging.getLogger(__name__)

DEMO_SENTENCES = ["The small dog sees a red car.", "Today my mother buys three green apples."]


@dataclass(frozen=True)
class DemoConfig:
    workdir: Path
    seed: int = 1
    # The demo grammar has about 1,100 distinct subwords; a larger vocabulary cannot be filled.
    vocab_size: int = 1000


def demo_prepare_config(corpus: dict[str, tuple[Path, Path]], output: Path, vocab_size: int) -> PrepareConfig:
    """The demo corpus's splits as given train, dev and test sets."""
    train, dev, test = (CorpusSpec(name=split, source=corpus[split][0], target=corpus[split][1])
                        for split in ("train", "dev", "test"))
    return PrepareConfig(corpora=(train,), dev=dev, test=test, source_lang="en", target_lang="de", output=output,
                         subwords=SubwordConfig(vocab_size=vocab_size), force=True)


def run_demo(config: DemoConfig) -> dict:
    """Generates, prepares, trains, evaluates, publishes, serves and translates; returns the answer."""
    work = config.workdir
    corpus = write_demo_corpus(work / "corpus", DemoCorpusConfig(seed=config.seed))
    prepare(demo_prepare_config(corpus, work / "prepared", config.vocab_size))
    train(TrainConfig(prepared=work / "prepared", output=work / "run", preset="tiny", seed=config.seed,
                      force=True))
    version, results = release(work / "run", work / "models", *corpus["test"])
    result = next(iter(results.values()))
    logger.info("published %s with BLEU %.2f", version.id, result.scores.bleu)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "s2s_cli", "serve", "--store", str(work / "models"),
                               "--version", version.id, "--port", str(port)], env=os.environ.copy())
    try:
        wait_until_ready(url, server)
        answer = post_json(url + "/v1/translate", {"q": DEMO_SENTENCES, "source": "en", "target": "de"})
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    return {"request": DEMO_SENTENCES, "answer": answer, "test_bleu": result.scores.bleu,
            "bleu_signature": result.scores.bleu_signature}
