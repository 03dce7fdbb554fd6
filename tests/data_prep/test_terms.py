import re
import unicodedata

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from data_prep.errors import S2SError
from data_prep.terms import (PLACEHOLDERS, Glossary, Marked, Slots, Term, from_model, mark, term_places, term_use,
                             to_model, user_defined_symbols, without_stray_placeholders)
from serve.segment import segment


def _found(glossary: Glossary, text: str) -> list[tuple[str, str]]:
    return [(m.text, m.target) for m in glossary.find(text)]


def _round_trip(glossary: Glossary, text: str, model=lambda s: s):
    """The whole text as one sentence through mark, to_model, a model and from_model."""
    marked = mark(text, glossary.find(text))
    model_input, slots = to_model(marked.text, marked)
    return model_input, slots, from_model(model(model_input), slots)


# Matching: whole tokens only.

@pytest.mark.parametrize("text,found", [
    ("The cat sleeps.", [("cat", "chat")]),
    ("cats and a category, a bobcat, cat_food, cat2", []),
    ("the cat's toy (cat) «cat»", [("cat", "chat")] * 3),
    ("CAT-scan", [("CAT", "CHAT")]),
])
def test_a_term_matches_whole_words_only(text, found):
    assert _found(Glossary.from_pairs({"cat": "chat"}), text) == found


@pytest.mark.parametrize("text,found", [
    ("I write C++ daily; C++11 too.", ["C++", "C++"]),
    ("C+ and C + + and C+", []),
    ("Ask Dr. Smith, or dr.   smith, or DR.\nSMITH.", ["Dr. Smith", "dr.   smith", "DR.\nSMITH"]),
    ("Dr Smith and Dr.Smith", []),  # no dot; no space where the term has one
    ("Send an e-mail or an E-Mail.", ["e-mail", "E-Mail"]),
    ("email, e - mail, e-mails", []),
])
def test_terms_with_punctuation_match_as_written(text, found):
    glossary = Glossary.from_pairs({"C++": "C++", "Dr. Smith": "Dr Smith", "e-mail": "courriel"})
    assert [m.text for m in glossary.find(text)] == found


def test_words_with_combining_marks_are_one_word():
    glossary = Glossary.from_pairs({"हिन": "x", "cafe": "coffee"})
    assert glossary.find("हिन्दी") == []  # virama and vowel signs belong to the word
    assert glossary.find(unicodedata.normalize("NFD", "un café")) == []
    assert _found(glossary, "un cafe") == [("cafe", "coffee")]


def test_ascii_text_is_tokenised_as_any_other():
    from data_prep.terms import _ASCII_TOKEN, _TOKEN
    ascii_ = "".join(map(chr, range(128)))
    text = ascii_ + " ".join(ascii_) + "\x1c".join(ascii_)
    assert _ASCII_TOKEN.findall(text) == _TOKEN.findall(text)
    glossary = Glossary.from_pairs({"new york": "NY"})
    assert [m.text for m in glossary.find("new\x1fyork new\x0byork é new\x1fyork")] == ["new\x1fyork", "new\x0byork",
                                                                                         "new\x1fyork"]


def test_matches_carry_their_place_in_the_text_when_folding_changes_its_length():
    # "ß" folds to "ss" and "ﬁ" to "fi": positions must still be the input's.
    text = "Große ﬁsh, the cat."
    [match] = Glossary.from_pairs({"cat": "chat"}).find(text)
    assert text[match.start:match.end] == match.text == "cat"
    assert (match.source, match.target) == ("cat", "chat")


def test_the_longest_term_wins_left_to_right_without_overlaps():
    glossary = Glossary.from_pairs({"New York": "NY", "New York City": "NYC", "York City": "YC", "City": "ville"})
    assert _found(glossary, "New York City") == [("New York City", "NYC")]
    assert _found(glossary, "New York York City City") == [("New York", "NY"), ("York City", "YC"), ("City", "Ville")]
    assert _found(glossary, "New York Cityscape") == [("New York", "NY")]


def test_multi_word_terms_match_across_runs_of_whitespace():
    glossary = Glossary.from_pairs({"machine translation": "traduction automatique"})
    text = "machine  translation, machine\ntranslation, machine\t \n translation, machinetranslation"
    assert [m.text for m in glossary.find(text)] == ["machine  translation", "machine\ntranslation",
                                                     "machine\t \n translation"]


# Case.

@pytest.mark.parametrize("source,target,text,applied", [
    ("console", "Konsole", "console", "Konsole"),  # lower case: as written
    ("console", "Konsole", "CONSOLE", "KONSOLE"),
    ("console", "Konsole", "Console", "Konsole"),
    ("console", "konsole", "Console", "Konsole"),  # title case capitalises the target
    ("console", "konsole", "coNsole", "konsole"),  # mixed: as written
    ("console", "KonSole", "cONSOLE", "KonSole"),
    ("machine translation", "traduction automatique", "Machine Translation", "Traduction Automatique"),
    ("machine translation", "traduction automatique", "Machine translation", "traduction automatique"),
    ("machine translation", "traduction automatique", "MACHINE TRANSLATION", "TRADUCTION AUTOMATIQUE"),
    ("dr. smith", "docteur smith", "Dr. Smith", "Docteur Smith"),
    ("straße", "street", "STRASSE", "STREET"),  # ß folds to ss
    ("straße", "street", "Strasse", "Street"),
    ("street", "Straße", "STREET", "STRASSE"),
    ("λόγος", "word", "Λόγος", "Word"),
    ("word", "λόγος", "WORD", "ΛΌΓΟΣ"),
    ("word", "λόγος", "Word", "Λόγος"),
    ("123", "one two three", "123", "one two three"),  # no cased letters: as written
    ("a", "alpha", "A", "ALPHA"),  # one capital letter is all the letters there are
    ("3d", "drei-d", "3D", "DREI-D"),
    ("3d", "drei-d", "3d", "drei-d"),
    ("x", "l'ex", "X", "L'EX"),
])
def test_the_target_takes_the_case_of_the_text(source, target, text, applied):
    [match] = Glossary.from_pairs({source: target}).find(f"({text})")
    assert (match.text, match.target) == (text, applied)


# Placeholders.

def test_the_placeholders_are_the_sentencepiece_symbols():
    assert user_defined_symbols() == PLACEHOLDERS == tuple(f"⟦{i}⟧" for i in range(10))


def test_a_marked_term_survives_sentence_splitting():
    text = "Hier j'ai vu Dr. Smith à la clinique. Il allait bien."
    assert len(segment(text, "fr").sentences) == 3  # the French rules split "Dr. Smith"
    glossary = Glossary.from_pairs({"Dr. Smith": "docteur Smith"})
    marked = mark(text, glossary.find(text))
    assert "Smith" not in marked.text and not set(marked.text) & set("⟦⟧")
    sentences = segment(marked.text, "fr").sentences
    assert len(sentences) == 2
    model_input, slots = to_model(sentences[0], marked)
    assert model_input == "Hier j'ai vu ⟦0⟧ à la clinique."
    translated = from_model("Yesterday I saw ⟦0⟧ at the clinic.", slots)[0]
    assert translated == "Yesterday I saw Docteur Smith at the clinic."  # title case, as the text has it


def test_markers_avoid_private_use_characters_already_in_the_text():
    text = "\ue000 cat \ue001"
    marked = mark(text, Glossary.from_pairs({"cat": "chat"}).find(text))
    [marker] = marked.terms
    assert marker not in text and marked.text == f"\ue000 {marker} \ue001"
    model_input, slots = to_model(marked.text, marked)
    assert model_input == "\ue000 ⟦0⟧ \ue001"  # the user's own characters are left alone
    assert from_model(model_input, slots)[0] == "\ue000 chat \ue001"


def test_placeholders_are_numbered_per_sentence_and_repeat_for_the_same_term():
    glossary = Glossary.from_pairs({"cat": "chat", "dog": "chien"})
    text = "The dog saw a cat. The cat saw the dog and the cat."
    marked = mark(text, glossary.find(text))
    first, second = segment(marked.text, "en").sentences
    assert to_model(first, marked)[0] == "The ⟦0⟧ saw a ⟦1⟧."
    model_input, slots = to_model(second, marked)
    assert model_input == "The ⟦0⟧ saw the ⟦1⟧ and the ⟦0⟧."
    assert [t.target for t in slots.terms] == ["chat", "chien"]


def test_each_term_is_placed_in_its_sentence_and_in_the_translation():
    glossary = Glossary.from_pairs({"cat": "Katze", "red dog": "roter Hund"})
    text = "A cat and the RED DOG see a cat."
    marked = mark(text, glossary.find(text))
    translation = "Eine Katze und der ROTER HUND sehen eine Katze, Katzen nicht."
    places = term_places(marked.text, marked, translation)
    assert [(text[ss:se], translation[ts:te]) for ss, se, ts, te in places] == [
        ("cat", "Katze"), ("RED DOG", "ROTER HUND"), ("cat", "Katze")]
    assert places[0][2] != places[2][2]  # the second cat goes with the second Katze
    # A term whose target the translation lacks has no place; a private-use character of the text's own
    # keeps its width.
    own = "\ue000 cat"
    marked = mark(own, glossary.find(own))
    assert term_places(marked.text, marked, "nichts") == []
    assert [(own[ss:se]) for ss, se, _, _ in term_places(marked.text, marked, "Katze")] == ["cat"]


def test_terms_past_the_tenth_go_to_the_model_as_text_and_are_reported_missed():
    pairs = {f"term{i}": f"T{i}" for i in range(12)}
    text = " ".join(pairs) + " term0"
    model_input, slots, (translated, applied, missed) = _round_trip(Glossary.from_pairs(pairs), text)
    assert model_input == " ".join(PLACEHOLDERS) + " term10 term11 ⟦0⟧"
    assert [t.source for t in slots.overflow] == ["term10", "term11"]
    assert translated == "T0 T1 T2 T3 T4 T5 T6 T7 T8 T9 term10 term11 T0"
    assert [t.source for t in applied] == [f"term{i}" for i in range(10)]
    assert [t.source for t in missed] == ["term10", "term11"]
    # A term given as text counts as applied when the model writes its target anyway.
    _, applied, missed = from_model(model_input.replace("term10", "T10"), slots)
    assert "term10" in [t.source for t in applied] and [t.source for t in missed] == ["term11"]


def test_model_output_that_drops_duplicates_or_invents_placeholders():
    glossary = Glossary.from_pairs({"cat": "chat", "dog": "chien"})
    model_input, slots, _ = _round_trip(glossary, "the cat and the dog")
    assert model_input == "the ⟦0⟧ and the ⟦1⟧"
    assert from_model("le ⟦0⟧ et le ⟦0⟧", slots) == ("le chat et le chat", (slots.terms[0],), (slots.terms[1],))
    assert from_model("le ⟦0⟧ ⟦7⟧ et le ⟦1⟧ ⟦9⟧.", slots) == ("le chat et le chien.", slots.terms, ())
    assert from_model("⟦5⟧ rien", slots) == ("rien", (), slots.terms)
    # Letters the model glued to a placeholder (an inflection it guessed) leave the target not written as
    # given: missed, though its placeholder was filled.
    assert from_model("les ⟦0⟧s et le ⟦1⟧", slots) == ("les chats et le chien", (slots.terms[1],), (slots.terms[0],))


@pytest.mark.parametrize("translation,text", [
    ("a ⟦5⟧ b", "a b"),
    ("⟦5⟧ b", "b"),
    ("a ⟦5⟧", "a"),
    ("a ⟦5⟧.", "a."),
    ("a ⟦5⟧, b", "a, b"),
    ("a ⟦5⟧ !", "a !"),  # the model's own space before "!" (French) stays
    ("a⟦5⟧b", "ab"),
    ("a ⟦5⟧ ⟦6⟧ b", "a b"),
    ("⟦5⟧", ""),
])
def test_an_invented_placeholder_is_dropped_with_the_space_it_leaves(translation, text):
    assert from_model(translation, Slots()) == (text, (), ())


@pytest.mark.parametrize("text,model_input,translated", [
    ("C++11", "⟦0⟧ 11", "CPP11"),  # a space where a placeholder touches a word character
    ("x.NET", "x ⟦0⟧", "xDOTNET"),
    ("C++.", "⟦0⟧.", "CPP."),
    ("(C++)", "(⟦0⟧)", "(CPP)"),
    ("C++'s", "⟦0⟧'s", "CPP's"),
    ("C++C++", "⟦0⟧ ⟦0⟧", "CPPCPP"),  # and between two placeholders
    ("C++.NET", "⟦0⟧ ⟦1⟧", "CPPDOTNET"),
    ("C++ 11", "⟦0⟧ 11", "CPP 11"),
])
def test_spaces_are_added_only_against_word_characters_and_taken_out_again(text, model_input, translated):
    glossary = Glossary.from_pairs({"C++": "cpp", ".net": "dotnet"})
    got, slots, (output, applied, _) = _round_trip(glossary, text)
    assert got == model_input
    assert output == translated and applied == slots.terms
    if text == "C++11":  # the model's own layout wins where the placeholder lost the added space
        assert from_model("11 ⟦0⟧", slots)[0] == "11 CPP"
        assert from_model("11 ⟦0⟧ 12", slots)[0] == "11 CPP12"


def test_a_term_is_applied_only_when_its_target_is_in_the_output():
    glossary = Glossary.from_pairs({"cat": "chat", "dog": "chien"})
    _, slots, _ = _round_trip(glossary, "the cat and the dog")
    cat, dog = slots.terms
    assert from_model("le ⟦0⟧", slots)[1:] == ((cat,), (dog,))
    assert from_model("le chien et un chat", slots)[1:] == ((cat, dog), ())  # written without placeholders
    assert from_model("les chiens et le chaton", slots)[1:] == ((), (cat, dog))  # not whole words
    assert from_model("un achat", slots)[1:] == ((), (cat, dog))
    assert from_model("le Chat", slots)[1:] == ((), (cat, dog))  # nor in the case of the rule


def test_literal_placeholders_of_the_input_come_back_as_they_were():
    glossary = Glossary.from_pairs({"cat": "chat"})
    model_input, slots, (translated, applied, missed) = _round_trip(glossary, "x ⟦1⟧ the cat ⟦0⟧⟦1⟧y")
    assert model_input == "x ⟦0⟧ the ⟦1⟧ ⟦2⟧ ⟦0⟧ y"
    assert translated == "x ⟦1⟧ the chat ⟦0⟧⟦1⟧y"
    assert [t.source for t in applied] == ["cat"] and missed == ()
    assert from_model("⟦2⟧ le ⟦1⟧", slots)[0] == "⟦0⟧ le chat"
    # Without a glossary too: a model's placeholder never stands for the user's text.
    model_input, slots = to_model("a ⟦3⟧ b", Marked("a ⟦3⟧ b", {}))
    assert model_input == "a ⟦0⟧ b" and from_model(model_input, slots) == ("a ⟦3⟧ b", (), ())


def test_literal_placeholders_past_the_tenth_go_to_the_model_in_square_brackets():
    pairs = {f"term{i}": f"T{i}" for i in range(10)}
    model_input, slots, (translated, _, _) = _round_trip(Glossary.from_pairs(pairs), " ".join(pairs) + " ⟦4⟧")
    assert model_input == " ".join(PLACEHOLDERS) + " [4]"
    assert translated == " ".join(pairs.values()) + " [4]"


def test_text_without_terms_passes_through_unchanged():
    for glossary in (Glossary.from_pairs({}), Glossary.from_pairs({"cat": "chat"})):
        text = "Dogs, categories and cats.\n Nothing here."
        assert glossary.find(text) == []
        marked = mark(text, glossary.find(text))
        assert marked.text == text and not marked.terms
        model_input, slots = to_model(text, marked)
        assert model_input == text and slots == Slots()
        assert from_model("Hunde, Kategorien und Katzen.", slots) == ("Hunde, Kategorien und Katzen.", (), ())


# Term use (WMT 2021's exact-match accuracy).

def test_term_use_counts_each_source_occurrence_against_the_output():
    glossary = Glossary.from_pairs({"cat": "Katze", "dog": "Hund"})
    sources = ["The cat saw the cat and a dog.", "CAT!", "No terms.", "The dog."]
    outputs = ["Die Katze sah die Katzen und eine Katze.", "KATZE!", "Keine Katze.", "Der Hunde."]
    # cat: 2 in the source, 2 "Katze" (not "Katzen"); dog: 0 "Hund"; "CAT" wants "KATZE"; "Hunde" is not "Hund".
    assert term_use(sources, outputs, glossary) == (3, 5)
    assert term_use(["the cat"], ["die Katze Katze"], glossary) == (1, 1)  # at most the source's count
    assert term_use(["Cat"], ["die Katze"], glossary) == (1, 1)
    assert term_use(["cat"], ["die SuperKatze"], glossary) == (0, 1)  # not a whole word
    assert term_use(["CAT"], ["die Katze"], glossary) == (0, 1)
    with pytest.raises(S2SError, match="2 sources, 1 outputs"):
        term_use(["a", "b"], ["a"], glossary)


# Validation.

@pytest.mark.parametrize("pairs,message", [
    ({"": "chat"}, "'' -> 'chat': the source term is empty"),
    ({"  ": "chat"}, "'  ' -> 'chat': the source term is empty"),
    ({"cat": ""}, "'cat' -> '': the target term is empty"),
    ({"cat": " \n"}, r"'cat' -> ' \\n': the target term is empty"),
    ({"++": "plus"}, "'\\+\\+' -> 'plus': the source term has no letters or digits"),
    ({"cat": "chat", "Apple": "pomme", "apple": "Apfel"},
     "'Apple' -> 'pomme' and 'apple' -> 'Apfel' have the same source term"),
    ({"Dr. Smith": "a", "dr.  SMITH": "b"}, "'Dr. Smith' -> 'a' and 'dr.  SMITH' -> 'b'"),
    ({"(+) ~": "plus"}, "'\\(\\+\\) ~' -> 'plus': the source term has no letters or digits"),
])
def test_bad_entries_are_named(pairs, message):
    with pytest.raises(S2SError, match=message):
        Glossary.from_pairs(pairs)


def test_the_same_entry_twice_in_different_case_is_one_entry():
    glossary = Glossary.from_pairs([("Apple", "pomme"), ("apple", "pomme"), (" cat ", " chat ")])
    assert len(glossary) == 2
    assert _found(glossary, "an apple, a cat") == [("apple", "pomme"), ("cat", "chat")]


# Properties: with a model that returns its input, nothing is lost, duplicated or misreported.

_VARIANTS = ["cat", "Cat", "CAT", "cAt", "new york", "New  York", "NEW\nYORK", "C++", "c++", "Dr. Smith", "e-mail",
             "york"]
_FILLER = st.text(alphabet="ab .,'+-\n\t⟦⟧0129\ue000ßﬁ", max_size=8)  # ß, ﬁ: folding changes lengths
_TARGETS = st.text(alphabet="xyzXßλ +.-'⟦⟧0", min_size=1, max_size=8).filter(str.strip)


@st.composite
def _glossary_and_text(draw):
    sources = draw(st.lists(st.sampled_from(["cat", "new york", "C++", "Dr. Smith", "e-mail", "york"]), unique=True))
    glossary = Glossary.from_pairs({source: draw(_TARGETS) for source in sources})
    text = "".join(draw(st.lists(st.one_of(st.sampled_from(_VARIANTS), _FILLER), max_size=12)))
    return glossary, text


def _expected(text, matches):
    pieces, pos = [], 0
    for match in matches:
        pieces += [text[pos:match.start], match.target]
        pos = match.end
    return "".join(pieces + [text[pos:]])


def _distinct_terms(matches):
    return list(dict.fromkeys(Term(m.text, m.source, m.target) for m in matches))


@settings(max_examples=300, deadline=None)
@given(_glossary_and_text())
def test_an_identity_model_keeps_all_text_and_applies_every_term(glossary_and_text):
    glossary, text = glossary_and_text
    matches = glossary.find(text)
    marked = mark(text, matches)
    literals = set(re.findall("⟦[0-9]⟧", marked.text))
    if len(_distinct_terms(matches)) + len(literals) > len(PLACEHOLDERS):
        return
    model_input, slots = to_model(marked.text, marked)
    assert not set(marked.terms) & set(model_input)
    translated, applied, missed = from_model(model_input, slots)
    assert translated == _expected(text, matches)
    assert list(applied) == _distinct_terms(matches) and missed == ()


@settings(max_examples=100, deadline=None)
@given(_glossary_and_text())
def test_sentence_by_sentence_an_identity_model_keeps_all_text(glossary_and_text):
    glossary, text = glossary_and_text
    matches = glossary.find(text)
    marked = mark(text, matches)
    segmented = segment(marked.text, "en")
    translations, applied = [], []
    for sentence in segmented.sentences:
        model_input, slots = to_model(sentence, marked)
        if slots.overflow or len(slots.terms) == len(PLACEHOLDERS):
            return
        translation, sentence_applied, missed = from_model(model_input, slots)
        translations.append(translation)
        applied += sentence_applied
        assert missed == ()
    assert segmented.join(translations) == _expected(text, matches)
    assert set(applied) == set(_distinct_terms(matches))


@settings(max_examples=300, deadline=None)
@given(_glossary_and_text(), st.text(alphabet="xyzXßλ +.-'⟦⟧0123456789", max_size=30))
def test_a_term_is_never_reported_applied_when_its_target_is_absent(glossary_and_text, translation):
    glossary, text = glossary_and_text
    marked = mark(text, glossary.find(text))
    _, slots = to_model(marked.text, marked)
    output, applied, missed = from_model(translation, slots)
    for term in applied:
        assert term.target in output
    assert set(applied) | set(missed) == {t for t in slots.terms + slots.overflow if t.source}
    assert not set(applied) & set(missed)


@settings(max_examples=500, deadline=None)
@given(st.text(min_size=1, max_size=20))
def test_any_term_is_found_in_a_text_that_holds_it(source):
    """The term side and the text side tokenise alike, whatever the characters."""
    try:
        glossary = Glossary.from_pairs({source: "x"})
    except S2SError:
        assert not regex.search(r"\w", source)  # only a term without a word character is refused
        return
    [match] = glossary.find(f"«\n{source}\n»")
    assert match.text == source.strip() and match.source == source.strip()


@pytest.mark.parametrize("source,translation,expected", [
    # A plain sentence: a placeholder the model made up goes, and so does the space it leaves.
    ("A dog runs in the park.", "Ein Hund ⟦0⟧ läuft im Park.", "Ein Hund läuft im Park."),
    ("A dog runs.", "⟦1⟧ Ein Hund läuft.", "Ein Hund läuft."),
    ("A dog runs.", "Ein Hund läuft.", "Ein Hund läuft."),
    # A source with placeholders of its own (a glossary's model input, a literal ⟦n⟧) keeps them for
    # from_model to fill, or as the user wrote them.
    ("A ⟦0⟧ runs.", "Ein ⟦0⟧ läuft.", "Ein ⟦0⟧ läuft."),
])
def test_placeholders_the_source_lacks_are_dropped(source, translation, expected):
    assert without_stray_placeholders(source, translation) == expected
