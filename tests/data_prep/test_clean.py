import unicodedata

import pytest

from data_prep.clean import (CONTROL_CHARS, EMPTY, IDENTICAL, LENGTH_RATIO, MARKUP, NUMBERS, TOO_LONG, CleanConfig,
                             drop_reason, normalize, text_hash)


def test_normalises_to_nfc_collapses_whitespace_and_strips():
    decomposed = unicodedata.normalize("NFD", "  Größe\t der\u00a0 Welt ")
    assert normalize(decomposed, CleanConfig()) == "Größe der Welt"
    assert normalize("ﬁ", CleanConfig(normalization="NFKC")) == "fi"
    assert normalize("ﬁ", CleanConfig(normalization="none")) == "ﬁ"


@pytest.mark.parametrize("src,trg,reason", [
    ("", "leer", EMPTY),
    ("x" * 1001, "y" * 1000, TOO_LONG),
    ("a short one", "a" * 40, LENGTH_RATIO),
    ("OK", "In Ordnung", None),  # short pairs are exempt from the ratio rule
    ("Berlin", "Berlin", IDENTICAL),
    ("tab\x07bell", "Glocke", CONTROL_CHARS),
    ("zero\u200bwidth", "Breite", CONTROL_CHARS),
    ("broken \ufffd text", "kaputt", CONTROL_CHARS),
    ("<b>bold</b> text", "fetter Text", MARKUP),
    ("Fish &amp; chips", "Fisch und Pommes", MARKUP),
    ("a < b and c > d", "a < b und c > d", None),  # comparisons are not markup
    ("The dog sleeps.", "Der Hund schläft.", None),
])
def test_each_rule_names_its_reason(src, trg, reason):
    assert drop_reason(src, trg, CleanConfig()) == reason


def test_rules_can_be_switched_off():
    config = CleanConfig(drop_identical=False, drop_control_chars=False, drop_markup=False)
    assert drop_reason("Berlin", "Berlin", config) is None
    assert drop_reason("tab\x07bell", "Glocke", config) is None
    assert drop_reason("<b>bold</b>", "fett", config) is None


def test_number_check_is_optional_and_ignores_separators():
    on = CleanConfig(check_numbers=True)
    assert drop_reason("I have 3 cats.", "Ich habe 4 Katzen.", CleanConfig()) is None
    assert drop_reason("I have 3 cats.", "Ich habe 4 Katzen.", on) == NUMBERS
    assert drop_reason("It costs 1,000 euros.", "Es kostet 1.000 Euro.", on) is None


def test_text_hash_is_stable_and_separates_sides():
    assert text_hash("a", "b") == text_hash("a", "b")
    assert text_hash("a b", "") != text_hash("a", "b")
    assert 0 <= text_hash("x") < 2 ** 64
