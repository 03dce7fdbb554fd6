"""How long custom terminology costs per request: building a glossary, and finding, marking and
filling its terms in a sentence. Prints JSON, medians in microseconds.

    .venv/bin/python bench/terms_matching.py [--entries 1000] [--runs 2000]

The glossary is made-up terms, half of them two or three words long; the sentence has 15
words (17 with the multi-word term) and 0, 1 or 3 of the terms; the model is the identity.
"calibration_us" times a fixed pure-Python loop, to compare figures from busy machines.
"""
import argparse
import json
import platform
import random
import statistics
import time

from data_prep.terms import Glossary, from_model, mark, to_model

SENTENCE = "The engineers said that the new {} would reach {} before the {} of May."
PLAIN = ("release", "customers", "end")


def _pairs(count: int, rng: random.Random) -> dict[str, str]:
    def word() -> str:
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 10)))
    pairs = {}
    while len(pairs) < count:
        source = " ".join(word() for _ in range(rng.choice((1, 1, 2, 3))))
        pairs[source] = word().capitalize()
    return pairs


def _median_us(work, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        work()
        times.append(time.perf_counter_ns() - start)
    return round(statistics.median(times) / 1000, 2)


def _request(glossary: Glossary, text: str) -> str:
    marked = mark(text, glossary.find(text))
    model_input, slots = to_model(marked.text, marked)
    return from_model(model_input, slots)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(1)
    pairs = _pairs(args.entries, rng)
    glossary = Glossary.from_pairs(pairs)
    terms = list(pairs)
    one_word = [term for term in terms if " " not in term]
    sentences = {
        "0_matches": SENTENCE.format(*PLAIN),
        "1_match": SENTENCE.format(one_word[0], *PLAIN[1:]),
        "3_matches": SENTENCE.format(one_word[1], next(term for term in terms if " " in term), one_word[2].upper()),
    }
    for name, text in sentences.items():
        assert len(glossary.find(sentences[name])) == int(name[0]), name
    result = {
        "calibration_us": _median_us(lambda: sum(range(1000)), args.runs),
        "entries": args.entries,
        "runs": args.runs,
        "build_glossary_us": _median_us(lambda: Glossary.from_pairs(pairs), max(50, args.runs // 20)),
        "no_glossary_us": _median_us(lambda: _request(Glossary.from_pairs({}), sentences["0_matches"]), args.runs),
    }
    for name, text in sentences.items():
        result[f"find_us_{name}"] = _median_us(lambda: glossary.find(text), args.runs)
        result[f"find_mark_to_from_model_us_{name}"] = _median_us(lambda: _request(glossary, text), args.runs)
    result["words_per_sentence"] = {name: len(text.split()) for name, text in sentences.items()}
    result["python"] = platform.python_version()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
