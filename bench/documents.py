"""Markup and documents: how well inline tags are placed, what they cost in BLEU, and what a document
costs against its text alone. Prints JSON.

    .venv/bin/python bench/documents.py STORE [--source demo/corpus/test.en --reference demo/corpus/test.de]

On the store's default version, in process, on CTranslate2 with the version's decoding options:
- tags: the demo test sentences with lexicon words wrapped in inline tags (data_prep/demo_markup.py),
  translated as one HTML page (documents/html.py); a tag is placed right when its element holds the
  German of the words it held and no more (goal: 95%), among the tags whose words' German is in the
  translation at all (the others, the model's mistranslations, are counted apart); and the BLEU of the translation's text
  against that of the same sentences translated untagged (goal: within 0.5).
- cost: a 100 KB HTML page and a 20-page Word file built from the demo sentences (headings,
  paragraphs of 4 sentences, one sentence in 4 with a tagged word, lists, a table), translated as
  documents, against their paragraphs' text alone through the same path (cache off, best of 3
  runs each, alternating; goal: at most 1.3 times the text alone).
"""
import argparse
import html
import io
import json
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import html5lib

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from data_prep.corpus import read_lines  # noqa: E402
from data_prep.demo_markup import placed, tagged_set, translated  # noqa: E402
from documents.formats import translate_document  # noqa: E402
from documents.html import translate_html  # noqa: E402
from seq2seq.engines.translator import DecodeConfig  # noqa: E402
from seq2seq.versions.scoring import score  # noqa: E402
from seq2seq.versions.store import ModelStore  # noqa: E402
from serve.cache import LruCache  # noqa: E402
from serve.config import BatchConfig  # noqa: E402
from serve.served_version import ServedVersion  # noqa: E402

TIMEOUT_S = 3600


def _text(element) -> str:
    return "".join(element.itertext())


def tags(served: ServedVersion, sources: list[str], references: list[str]) -> dict:
    """Tag placement and BLEU on the tagged demo sentences."""
    cache = LruCache(0)
    tagged = tagged_set(sources)
    reference_of = dict(zip(sources, references))
    page = "".join(f"<p>{t.html}</p>" for t in tagged)
    out = translate_html(page, lambda segments: served.translate_segments(segments, served.options, cache,
                                                                          TIMEOUT_S))
    paragraphs = [p for p in html5lib.parseFragment(out, treebuilder="etree", namespaceHTMLElements=False)]
    assert len(paragraphs) == len(tagged), "the page's paragraphs changed"
    right, total, untranslated, failures = 0, 0, 0, []
    for t, paragraph in zip(tagged, paragraphs):
        found = {e.get("data-k"): e for e in paragraph.iter() if isinstance(e.tag, str) and e.get("data-k")}
        for tag in t.tags:
            if not translated(tag, _text(paragraph)):
                # The model left the word's German out (or said something else): no place would be right.
                untranslated += 1
                continue
            total += 1
            element = found.get(tag.key)
            if element is not None and placed(tag, _text(element)):
                right += 1
            elif len(failures) < 10:
                failures.append({"source": t.html, "translation": ElementTree.tostring(paragraph, "unicode")})
    plain = [r.translation for r in served.translate([t.plain for t in tagged], served.options, cache, TIMEOUT_S)]
    refs = [reference_of[t.plain] for t in tagged]
    with_tags = score([_text(p) for p in paragraphs], refs).bleu
    without = score(plain, refs).bleu
    return {"sentences": len(tagged), "tags": total, "not_in_the_translation": untranslated, "placed": right, "placement_accuracy": round(right / total, 4),
            "bleu_tagged_text": with_tags, "bleu_untagged": without, "bleu_difference": round(with_tags - without, 2),
            "goals": {"placement_at_least": 0.95, "met": right / total >= 0.95,
                      "bleu_within": 0.5, "bleu_met": abs(with_tags - without) <= 0.5},
            "misplaced_examples": failures}


def _page(tagged, size: int) -> tuple[str, list[str]]:
    """An HTML page of about `size` bytes, and its paragraphs' text."""
    parts, texts, i = ["<!DOCTYPE html><html><head><title>Demo page</title></head><body>"], [], 0
    while sum(map(len, parts)) < size:
        group = [tagged[(i + k) % len(tagged)] for k in range(4)]
        markup = " ".join(t.html if k == 0 else html.escape(t.plain, quote=False) for k, t in enumerate(group))
        plain = " ".join(t.plain for t in group)
        if i % 40 == 0:
            parts.append(f"<h2>{html.escape(group[0].plain, quote=False)}</h2>")
            texts.append(group[0].plain)
        if i % 12 == 4:
            parts.append("<ul>" + "".join(f"<li>{html.escape(t.plain, quote=False)}</li>" for t in group) + "</ul>")
            texts += [t.plain for t in group]
        else:
            parts.append(f"<p>{markup}</p>")
            texts.append(plain)
        i += 4
    parts.append("</body></html>")
    return "".join(parts), texts


def _word(tagged, pages: int) -> tuple[bytes, list[str]]:
    """A Word file of `pages` pages (about 500 words each), and its paragraphs' text."""
    import docx

    document, texts, words, i = docx.Document(), [], 0, 0
    while words < pages * 500:
        group = [tagged[(i + k) % len(tagged)] for k in range(4)]
        if i % 40 == 0:
            document.add_heading(group[0].plain, level=2)
            texts.append(group[0].plain)
        paragraph = document.add_paragraph()
        first, rest = group[0].plain.split(" ", 1)
        paragraph.add_run(first).bold = True
        paragraph.add_run(" " + rest + " " + " ".join(t.plain for t in group[1:]))
        texts.append(" ".join(t.plain for t in group))
        words += len(texts[-1].split())
        i += 4
    table = document.add_table(rows=2, cols=2)
    for k, cell in enumerate(c for row in table.rows for c in row.cells):
        cell.text = tagged[k].plain
        texts.append(tagged[k].plain)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue(), texts


def cost(served: ServedVersion, sources: list[str]) -> dict:
    """Documents against their text alone."""
    cache = LruCache(0)
    tagged = tagged_set(sources)
    page, page_texts = _page(tagged, 100 * 1024)
    word, word_texts = _word(tagged, 20)

    def translate(segments):
        return served.translate_segments(segments, served.options, cache, TIMEOUT_S)

    rows = {}
    for label, name, data, texts in (("html_100kb", "page.html", page.encode(), page_texts),
                                     ("word_20_pages", "report.docx", word, word_texts)):
        document_s, text_s = [], []
        for _ in range(3):
            started = time.perf_counter()
            translate_document(data, name, served.version.pair[1], translate)
            document_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            served.translate(texts, served.options, cache, TIMEOUT_S)
            text_s.append(time.perf_counter() - started)
        rows[label] = {"bytes": len(data), "paragraphs": len(texts), "document_s": round(min(document_s), 2),
                       "text_alone_s": round(min(text_s), 2),
                       "ratio": round(min(document_s) / min(text_s), 3),
                       "goal": {"ratio_at_most": 1.3, "met": min(document_s) / min(text_s) <= 1.3}}
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path, help="a model store (e.g. demo/models)")
    parser.add_argument("--source", type=Path, default=Path("demo/corpus/test.en"))
    parser.add_argument("--reference", type=Path, default=Path("demo/corpus/test.de"))
    parser.add_argument("--source-lang", default="en")
    parser.add_argument("--target-lang", default="de")
    args = parser.parse_args()
    version = ModelStore(args.store).default_for(args.source_lang, args.target_lang)
    served = ServedVersion(version, BatchConfig(), "ctranslate2", DecodeConfig(threads=1))
    try:
        sources, references = list(read_lines(args.source)), list(read_lines(args.reference))
        print(json.dumps({"benchmark": "documents", "version": version.id, "engine": served.engine.engine,
                          "tags": tags(served, sources, references), "cost": cost(served, sources)},
                         indent=2, ensure_ascii=False))
    finally:
        served.close()


if __name__ == "__main__":
    main()
