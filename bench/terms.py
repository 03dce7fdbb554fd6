"""Custom terminology, measured: term use, BLEU against the same recipe without annotations, and the
server's latency with a 1,000-entry terminology. Prints JSON.

    .venv/bin/python bench/terms.py [--workdir DIR] [--corpus demo|multi30k] [--max-updates N]

On the demo corpus (or Multi30k En-De from ../shared/data/multi30k), one run:
- trains the `tiny` recipe twice from the same prepared data and seed: once without term annotation
  (`s2s prepare --no-terms`) and once with it (the default), and scores both on the test set;
- a held-out glossary of nouns mapped to targets the model would not produce by itself (invented
  product names, which no training pair contains, and so were never annotated in training);
- term use (WMT 2021's exact-match accuracy: the share of source-term occurrences whose target term
  is in the output) on the test sentences that contain a glossary term, CTranslate2 and Sockeye;
- the share of those sentences whose translation is otherwise unchanged: the glossary's output with
  its terms taken out against the plain output with the model's own words for them taken out;
- the real server, one client, one sentence a request: p50 latency with a 1,000-entry terminology
  (the held-out glossary and filler entries) against the same requests without it.
"""
import argparse
import http.client
import json
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from data_prep import demo_lexicon  # noqa: E402
from data_prep.corpus import CorpusSpec  # noqa: E402
from data_prep.demo_corpus import DemoCorpusConfig, write_demo_corpus  # noqa: E402
from data_prep.prepare import PrepareConfig, prepare  # noqa: E402
from data_prep.subwords import SubwordConfig  # noqa: E402
from data_prep.term_annotation import TermAnnotationConfig  # noqa: E402
from data_prep.terms import Glossary, term_use  # noqa: E402
from seq2seq.engines.choice import open_translator  # noqa: E402
from seq2seq.engines.term_translation import translate_with_terms  # noqa: E402
from seq2seq.training.train import TrainConfig, train  # noqa: E402
from seq2seq.versions.glossaries import GlossaryStore  # noqa: E402
from seq2seq.versions.release import release  # noqa: E402
from seq2seq.versions.store import ModelStore  # noqa: E402
from serve.local import free_port, wait_until_ready  # noqa: E402

MULTI30K = REPO.parent / "shared" / "data" / "multi30k"
GLOSSARY_SIZE = 60
SERVED_TERMS = 1000
LATENCY_REQUESTS = 300
_SYLLABLES = ("ka", "lo", "mi", "zu", "ber", "tan", "vo", "rix", "dul", "sen", "po", "gra", "fen", "qua")


def _invented(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(3)).capitalize()


def _corpus(kind: str, work: Path) -> dict[str, tuple[Path, Path]]:
    if kind == "demo":
        return write_demo_corpus(work / "corpus", DemoCorpusConfig(seed=1))
    return {split: (MULTI30K / f"{name}.en.gz", MULTI30K / f"{name}.de.gz")
            for split, name in (("train", "train"), ("dev", "val"), ("test", "test_2016_flickr"))}


def _held_out_glossary(kind: str, test_sources: list[str], rng: random.Random) -> dict[str, str]:
    """Source nouns that the test set uses, each mapped to an invented German product name."""
    if kind == "demo":
        nouns = [n[0] for n in demo_lexicon.MASCULINE + demo_lexicon.FEMININE + demo_lexicon.NEUTER]
    else:  # Multi30k's frequent content words, found by eye in its captions
        nouns = ["man", "woman", "dog", "girl", "boy", "shirt", "street", "water", "people", "child", "ball",
                 "bike", "car", "grass", "beach", "hat", "table", "group", "crowd", "building", "snow", "field",
                 "jacket", "camera", "guitar", "stage", "horse", "restaurant", "sidewalk", "baby", "pool", "bench",
                 "mountain", "road", "city", "park", "air", "hair", "jeans", "dress", "wall", "tree", "rock",
                 "ocean", "store", "picture", "sign", "bicycle", "game", "uniform", "team", "shorts", "sand",
                 "river", "truck", "boat", "glasses", "music", "food", "window", "microphone", "helmet"]
    used = [n for n in nouns if any(re.search(rf"\b{n}\b", s, re.IGNORECASE) for s in test_sources)]
    chosen = rng.sample(used, min(GLOSSARY_SIZE, len(used)))
    names: set[str] = set()
    glossary = {}
    for noun in chosen:
        name = _invented(rng)
        while name in names:
            name = _invented(rng)
        names.add(name)
        glossary[noun] = name
    return glossary


def _read(path: Path) -> list[str]:
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return f.read().splitlines()


def _train(work: Path, corpus, name: str, terms: TermAnnotationConfig | None, max_updates: int | None,
           reuse: bool = False):
    record = work / f"{name}.json"
    if reuse and record.is_file():
        kept = json.loads(record.read_text())
        return ModelStore(work / f"models-{name}").get(kept["version"]), kept["bleu"], \
            kept["terms"], kept["seconds"]
    specs = {split: CorpusSpec(name=split, source=corpus[split][0], target=corpus[split][1])
             for split in ("train", "dev", "test")}
    prepared = work / f"prepared-{name}"
    manifest = prepare(PrepareConfig(corpora=(specs["train"],), dev=specs["dev"], test=specs["test"], source_lang="en",
                                     target_lang="de", output=prepared, subwords=SubwordConfig(vocab_size=1000 if
                                     len(_read(corpus["train"][0])) < 20000 else 8000), terms=terms, force=True))
    started = time.monotonic()
    train(TrainConfig(prepared=prepared, output=work / f"run-{name}", preset="tiny", seed=1, force=True,
                      sockeye_args=("--max-updates", str(max_updates)) if max_updates else ()))
    seconds = time.monotonic() - started
    version, results = release(work / f"run-{name}", work / f"models-{name}", *corpus["test"])
    bleu = {key: r.scores.bleu for key, r in results.items()}
    record.write_text(json.dumps({"version": version.id, "bleu": bleu, "terms": manifest.get("terms"),
                                  "seconds": seconds}))
    return version, bleu, manifest.get("terms"), seconds


def _unchanged(glossary: dict[str, str], source: str, plain: str, with_terms: str, targets: list[str]) -> bool:
    """The two outputs agree once the glossary's terms and the plain model's words for them are out."""
    words = lambda text: re.findall(r"\w+", text)  # noqa: E731
    mine = [w for w in words(with_terms) if w not in targets]
    # The plain output's words for the terms: the ones the glossary output lacks, as many as terms.
    theirs = words(plain)
    terms = sum(len(re.findall(rf"\b{re.escape(s)}\b", source, re.IGNORECASE)) for s in glossary)
    extra = [w for w in theirs if w not in mine]
    return len(extra) <= terms and [w for w in theirs if w not in extra] == mine


# German determiners: an invented term has no gender the model could know, so the article it picks
# for the placeholder may differ from the one its own noun took.
_DETERMINERS = re.compile(r"\b(?:der|die|das|den|dem|des|ein|eine|einen|einem|einer|eines|kein\w*|mein\w*|dies\w*)\b",
                          re.IGNORECASE)


def _latency(store: Path, sentences: list[str], terminology: str | None) -> list[float]:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "s2s_cli", "serve", "--store", str(store), "--port", str(port),
                               "--workers", "1", "--cache-size", "0"], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", server)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        times = []
        for sentence in sentences:
            body = {"q": sentence, "source": "en", "target": "de", **({"terminology": terminology} if terminology else {})}
            started = time.perf_counter()
            connection.request("POST", "/v1/translate", json.dumps(body), {"Content-Type": "application/json"})
            response = connection.getresponse()
            answer = response.read()
            times.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                raise SystemExit(f"the server answered {response.status}: {answer[:300]!r}")
        return times
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=REPO / "runs" / "bench-terms")
    parser.add_argument("--corpus", choices=("demo", "multi30k"), default="demo")
    parser.add_argument("--max-updates", type=int, help="fewer updates than the tiny preset's, for a quick run")
    parser.add_argument("--reuse-plain", action="store_true",
                        help="reuse the model without annotations that an earlier run in --workdir trained")
    args = parser.parse_args()
    work = args.workdir / args.corpus
    work.mkdir(parents=True, exist_ok=True)
    corpus = _corpus(args.corpus, work)
    rng = random.Random(7)

    plain_version, plain_bleu, _, plain_s = _train(work, corpus, "plain", None, args.max_updates, args.reuse_plain)
    version, bleu, annotation, terms_s = _train(work, corpus, "terms", TermAnnotationConfig(), args.max_updates)

    test_sources = _read(corpus["test"][0])
    pairs = _held_out_glossary(args.corpus, test_sources, rng)
    glossary = Glossary.from_pairs(pairs)
    with_terms = [s for s in test_sources if glossary.find(s)]
    result = {"corpus": args.corpus, "annotation": annotation, "train_seconds": {"plain": round(plain_s),
              "terms": round(terms_s)}, "bleu_plain_recipe": plain_bleu, "bleu_terms_recipe_no_glossary": bleu,
              "glossary_entries": len(pairs), "sentences_with_terms": len(with_terms), "engines": {}}
    plain_translator, _ = open_translator(plain_version.model_files(), "ctranslate2")
    plain_out = plain_translator.translate(with_terms)
    for engine in ("ctranslate2", "sockeye"):
        translator, _ = open_translator(version.model_files(), engine)
        started = time.perf_counter()
        outputs = translate_with_terms(translator, with_terms, glossary)
        seconds = time.perf_counter() - started
        texts = [o.translation for o in outputs]
        hits, total = term_use(with_terms, texts, glossary)
        own_out = translator.translate(with_terms)
        unchanged = sum(_unchanged(pairs, s, own, o.translation, [t.target for t in o.applied])
                        for s, own, o in zip(with_terms, own_out, outputs))
        unchanged_but_articles = sum(
            _unchanged(pairs, s, _DETERMINERS.sub("", own), _DETERMINERS.sub("", o.translation),
                       [t.target for t in o.applied]) for s, own, o in zip(with_terms, own_out, outputs))
        result["engines"][engine] = {
            "term_occurrences": total, "term_use_percent": round(100 * hits / total, 2),
            "otherwise_unchanged_percent": round(100 * unchanged / len(with_terms), 2),
            "otherwise_unchanged_but_articles_percent": round(100 * unchanged_but_articles / len(with_terms), 2),
            "missed": [{"source": s, "output": o.translation, "missed": [t.source for t in o.missed]}
                       for s, o in zip(with_terms, outputs) if o.missed][:8],
            "ms_per_sentence": round(1000 * seconds / len(with_terms), 2),
            "examples": [{"source": s, "plain": p, "with_terms": o.translation}
                         for s, p, o in list(zip(with_terms, plain_out, outputs))[:5]]}
    if args.corpus == "demo":
        filler = {f"widget{i}": f"Gerät{i}" for i in range(SERVED_TERMS - len(pairs))}
        csv = work / "served-terms.csv"
        csv.write_text("en,de\n" + "".join(f"{s},{t}\n" for s, t in {**pairs, **filler}.items()), encoding="utf-8")
        GlossaryStore(work / "models-terms").import_file("bench", csv)
        sentences = (with_terms * (LATENCY_REQUESTS // len(with_terms) + 1))[:LATENCY_REQUESTS]
        without = _latency(work / "models-terms", sentences, None)
        with_glossary = _latency(work / "models-terms", sentences, "bench")
        result["latency_c1"] = {"requests": len(sentences), "terminology_entries": SERVED_TERMS,
                                "p50_ms_without": round(statistics.median(without), 2),
                                "p50_ms_with": round(statistics.median(with_glossary), 2),
                                "ratio": round(statistics.median(with_glossary) / statistics.median(without), 3)}
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
