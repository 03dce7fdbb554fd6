"""Language identification for "auto" (serve/language_id.py), measured on Multi30k. Prints JSON.

    .venv/bin/python bench/language_id.py [--multi30k DIR] [--languages en de fr cs]

Every test sentence (test_2016_flickr, 1,000 a language) is identified among --languages, one text a
call as a request does it: accuracy overall and per language, the time a text (median and mean, after
the model is loaded; the load itself is timed apart), the lowest confidence, and how many answers fall
below LOW_CONFIDENCE and how many of those are wrong. py3langid has no batch call, so there is no
batch figure.
"""
import argparse
import gzip
import importlib.metadata
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from serve import language_id  # noqa: E402

MULTI30K = Path(os.environ.get("S2S_MULTI30K", REPO.parent / "shared" / "data" / "multi30k"))
TEST = "test_2016_flickr"


def _sentences(multi30k: Path, language: str) -> list[str]:
    with gzip.open(multi30k / f"{TEST}.{language}.gz", "rt", encoding="utf-8") as f:
        return f.read().splitlines()


def measure(multi30k: Path, languages: list[str]) -> dict:
    texts = {language: _sentences(multi30k, language) for language in languages}
    started = time.perf_counter()
    language_id.identify("", languages)  # loads the model and restricts it to `languages`
    load_s = time.perf_counter() - started
    seconds, right, confidences, low_wrong = [], {}, [], 0
    for language, sentences in texts.items():
        right[language] = 0
        for text in sentences:
            started = time.perf_counter()
            detected = language_id.identify(text, languages)
            seconds.append(time.perf_counter() - started)
            right[language] += detected.language == language
            confidences.append(detected.confidence)
            low_wrong += detected.confidence < language_id.LOW_CONFIDENCE and detected.language != language
    total = sum(len(s) for s in texts.values())
    return {"library": "py3langid", "version": importlib.metadata.version("py3langid"),
            "test_set": f"Multi30k {TEST}", "languages": languages, "sentences": total,
            "accuracy_pct": round(100 * sum(right.values()) / total, 2),
            "accuracy_pct_by_language": {lang: round(100 * right[lang] / len(texts[lang]), 2) for lang in languages},
            "ms_per_text_median": round(1000 * statistics.median(seconds), 4),
            "ms_per_text_mean": round(1000 * statistics.mean(seconds), 4), "load_s": round(load_s, 2),
            "low_confidence": language_id.LOW_CONFIDENCE, "lowest_confidence": round(min(confidences), 3),
            "below_low_confidence": sum(c < language_id.LOW_CONFIDENCE for c in confidences),
            "below_low_confidence_wrong": low_wrong}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--multi30k", type=Path, default=MULTI30K,
                        help="folder of Multi30k's gzipped files (default $S2S_MULTI30K or %(default)s)")
    parser.add_argument("--languages", nargs="+", default=["en", "de", "fr", "cs"],
                        help="the languages to tell apart, each with a test file (default %(default)s)")
    args = parser.parse_args()
    print(json.dumps(measure(args.multi30k, args.languages), indent=2))


if __name__ == "__main__":
    main()
