import pytest

from serve.segment import segment


@pytest.mark.parametrize("text", [
    "", "   ", "\n\n", "One sentence.", "Dr. Smith arrived.  He sat down!\n\nThen:\r\n  a list, e.g. this one.  ",
    "no punctuation\nsecond line", "\tTabbed.\tText.",
])
def test_layout_round_trips(text):
    segmented = segment(text, "en")
    assert segmented.join(segmented.sentences) == text
    assert all(s == s.strip() and s for s in segmented.sentences)


def test_splits_sentences_and_keeps_spacing_around_translations():
    segmented = segment("Dr. Smith arrived.  He sat down!\n\nThe end.", "en")
    assert segmented.sentences == ["Dr. Smith arrived.", "He sat down!", "The end."]
    assert segmented.join(["A.", "B!", "C."]) == "A.  B!\n\nC."


def test_blank_text_has_no_sentences():
    assert segment("  \n ", "en").sentences == []
