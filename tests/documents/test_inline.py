"""Placing inline spans on a translation through word links: nesting, order, units and punctuation."""
import re

from documents.inline import Segment, Span, Translated, pinned, project, render


def _links(source: str, target: str, pairs: list[tuple[int, int]], sure: bool = True) -> tuple:
    """Links between the words (split at spaces) of `source` and `target`, by word index."""
    s = [m.span() for m in re.finditer(r"\S+", source)]
    t = [m.span() for m in re.finditer(r"\S+", target)]
    return tuple((*s[i], *t[j], sure) for i, j in pairs)


def _marked(segment: Segment) -> str:
    return "".join(render(segment, str, lambda tag, parts: f"<{tag}>{''.join(parts)}</{tag}>"))


def test_a_span_follows_its_words_through_reordering():
    source, target = "Today my mother buys apples.", "Heute kauft meine Mutter Äpfel."
    segment = Segment(source, (Span(9, 15, "b"), Span(16, 20, "i")))
    links = _links(source, target, [(0, 0), (1, 2), (2, 3), (3, 1), (4, 4)])
    assert _marked(project(segment, Translated(target, links))) == "Heute <i>kauft</i> meine <b>Mutter</b> Äpfel."


def test_punctuation_the_span_left_out_stays_out():
    source, target = "I see a car.", "Ich sehe ein Auto."
    segment = Segment(source, (Span(8, 11, "a"),))
    links = _links(source, target, [(0, 0), (1, 1), (2, 2), (3, 3)])
    assert _marked(project(segment, Translated(target, links))) == "Ich sehe ein <a>Auto</a>."


def test_children_stay_inside_their_parent_and_siblings_never_cross():
    source, target = "the small dog", "der kleine Hund"
    # b around "small dog", with i around "small"; the alignment sends "small" outside b's words.
    segment = Segment(source, (Span(4, 13, "b"), Span(4, 9, "i", depth=1)))
    links = _links(source, target, [(0, 0), (1, 1), (2, 2)])
    assert _marked(project(segment, Translated(target, links))) == "der <b><i>kleine</i> Hund</b>"
    # Two siblings whose words swapped and overlap in the translation.
    crossing = _links(source, target, [(1, 1), (1, 2), (2, 1)])
    placed = project(Segment(source, (Span(4, 9, "x"), Span(10, 13, "y"))), Translated(target, crossing))
    (x, y) = sorted(placed.spans, key=lambda s: s.start)
    assert x.end <= y.start


def test_sure_links_win_over_one_way_links():
    source, target = "this girl", "dieses Mädchen"
    segment = Segment(source, (Span(5, 9, "b"),))
    links = _links(source, target, [(1, 1)]) + _links(source, target, [(1, 0)], sure=False)
    assert _marked(project(segment, Translated(target, links))) == "dieses <b>Mädchen</b>"


def test_a_pinned_term_takes_its_span_whatever_the_alignment_said():
    source, target = "The dog sees a car.", "Der Zorbix sieht eine Vroomel."
    words = [m.span() for m in re.finditer(r"\S+", source)], [m.span() for m in re.finditer(r"\S+", target)]
    # The model never saw "Zorbix", so its attention linked "dog" to "Vroomel".
    guessed = list(_links(source, target, [(0, 0), (1, 4), (2, 2), (4, 1)]))
    segment = Segment(source, (Span(4, 7, "b"),))
    assert _marked(project(segment, Translated(target, tuple(guessed)))) == "Der Zorbix sieht eine <b>Vroomel</b>."
    links = pinned(guessed, *words, [(4, 7, 4, 10)])
    assert _marked(project(segment, Translated(target, tuple(links)))) == "Der <b>Zorbix</b> sieht eine Vroomel."
    # "car." lost its link to the term's word, and "dog" its link to "Vroomel.".
    assert [link[:2] for link in links if link[2:4] == (4, 10)] == [(4, 7)]
    assert [link[:2] for link in links if link[2:4] == (22, 30)] == []


def test_an_empty_span_sits_after_the_translation_of_the_word_before_it():
    source, target = "one two", "eins zwei"
    segment = Segment(source, (Span(3, 3, "br"),))
    links = _links(source, target, [(0, 0), (1, 1)])
    assert _marked(project(segment, Translated(target, links))) == "eins<br></br> zwei"
    # An empty span at a span's edge stays beside it, and before the punctuation it stood before.
    source, target = "Hello world.", "Hallo Welt."
    segment = Segment(source, (Span(6, 11, "pc"), Span(11, 11, "ph")))
    links = _links(source, target, [(0, 0), (1, 1)])
    assert _marked(project(segment, Translated(target, links))) == "Hallo <pc>Welt</pc><ph></ph>."
    # With no link at all, a span is empty at the start: never lost.
    (span,) = project(Segment(source, (Span(4, 7, "b"),)), Translated(target, ())).spans
    assert (span.start, span.end, span.tag) == (0, 0, "b")


def test_markup_that_finds_no_words_is_said_in_the_log(caplog):
    source, target = "one two", "eins zwei"
    with caplog.at_level("INFO", logger="documents.inline"):
        (span,) = project(Segment(source, (Span(4, 7, "b"),)), Translated(target, ())).spans
    assert span.start == span.end and "markup around 'two' found no words" in caplog.text
