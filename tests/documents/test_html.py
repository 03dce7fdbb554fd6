"""HTML through documents/html.py: the element tree kept, what is not text left alone, attributes and
inline markup translated; and on the demo's version, tags placed by the model's alignment."""
import re

import html5lib
import pytest

from data_prep.corpus import read_lines
from data_prep.demo_markup import placed, tagged_set, translated
from documents.html import translate_html
from documents.inline import Translated
from seq2seq.engines.translator import DecodeConfig
from seq2seq.versions.scoring import score
from seq2seq.versions.store import ModelStore
from serve.cache import LruCache
from serve.config import BatchConfig
from serve.served_version import ServedVersion


def upper(segments):
    """A stand-in model: upper case, each word linked to itself."""
    return [Translated(s.text.upper(), tuple((*m.span(), *m.span(), True) for m in re.finditer(r"\S+", s.text)))
            for s in segments]


def tree(markup: str, fragment: bool = False):
    """The element tree as tags and attribute names, text left out."""
    parse = html5lib.parseFragment if fragment else html5lib.parse
    root = parse(markup, treebuilder="etree", namespaceHTMLElements=False)

    def shape(element):
        tag = element.tag if isinstance(element.tag, str) else "#comment"
        return tag, tuple(sorted(element.attrib)), tuple(shape(child) for child in element)
    return shape(root)


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>The red car</title>
<style>p { color: red; }</style><script>var dog = "a dog";</script></head>
<body>
<h1>A <em>small</em> dog</h1>
<p>Tom &amp; Anna see a&nbsp;car &lt;here&gt;.<br>It is red. <code>ls -l</code> lists files.</p>
<pre>  keep   this
 as it is</pre>
<p translate="no">Brand Name</p>
<ul><li>one <a href="/x" title="a link">link</a></li><li>two</li></ul>
<table><tr><td>cell</td><td><img src="d.png" alt="a dog"></td></tr></table>
<input placeholder="your name"><!-- a comment -->
</body></html>"""


def test_a_page_keeps_its_tree_and_what_is_not_text():
    out = translate_html(PAGE, upper)
    assert tree(out) == tree(PAGE)
    assert out.startswith("<!DOCTYPE html>")
    for kept in ('<style>p { color: red; }</style>', '<script>var dog = "a dog";</script>',
                 "<pre>  keep   this\n as it is</pre>", '<p translate="no">Brand Name</p>', "<code>ls -l</code>",
                 "<!-- a comment -->", 'href="/x"', 'src="d.png"', 'charset="utf-8"'):
        assert kept in out, kept
    for translated_text in ("<title>THE RED CAR</title>", "A <em>SMALL</em> DOG", 'title="A LINK"',
                            'alt="A DOG"', 'placeholder="YOUR NAME"', "<td>CELL</td>", "<li>TWO</li>"):
        assert translated_text in out, translated_text
    # Entities: escaped characters stay escaped, and a no-break space stays one.
    assert "TOM &amp; ANNA SEE A&nbsp;CAR &lt;HERE&gt;." in out


def test_malformed_markup_is_read_as_a_browser_reads_it():
    assert translate_html("<p>one<p>two", upper) == "<p>ONE</p><p>TWO</p>"
    out = translate_html("<b>bold <i>both</b> after</i>", upper)
    assert tree(out, fragment=True) == tree("<b>bold <i>both</b> after</i>", fragment=True)
    assert translate_html("no markup at all", upper) == "NO MARKUP AT ALL"
    assert translate_html("   ", upper) == "   "


@pytest.fixture(scope="module")
def served(store):
    served = ServedVersion(ModelStore(store).default_for("en", "de"), BatchConfig(), "ctranslate2", DecodeConfig(threads=1))
    yield served
    served.close()


def test_the_models_alignment_places_inline_tags_on_the_demo(served, demo):
    workdir, _ = demo
    sources = list(read_lines(workdir / "corpus" / "test.en"))[:150]
    references = dict(zip(sources, read_lines(workdir / "corpus" / "test.de")))
    tagged = tagged_set(sources)
    cache = LruCache(0)
    page = "".join(f"<p>{t.html}</p>" for t in tagged)
    out = translate_html(page, lambda segments: served.translate_segments(segments, served.options, cache, 600))
    paragraphs = list(html5lib.parseFragment(out, treebuilder="etree", namespaceHTMLElements=False))
    assert len(paragraphs) == len(tagged)
    judged = right = 0
    for t, paragraph in zip(tagged, paragraphs):
        found = {e.get("data-k"): e for e in paragraph.iter() if isinstance(e.tag, str) and e.get("data-k")}
        assert set(found) == {tag.key for tag in t.tags}  # no tag lost or made up
        for tag in t.tags:
            if translated(tag, "".join(paragraph.itertext())):
                judged += 1
                right += placed(tag, "".join(found[tag.key].itertext()))
    # bench/documents.py measures the goal, 95%, on the whole test set; this guards against a regression.
    assert judged > 150 and right / judged >= 0.9, (right, judged)
    plain = [r.translation for r in served.translate([t.plain for t in tagged], served.options, cache, 600)]
    refs = [references[t.plain] for t in tagged]
    assert abs(score(["".join(p.itertext()) for p in paragraphs], refs).bleu - score(plain, refs).bleu) <= 0.5
