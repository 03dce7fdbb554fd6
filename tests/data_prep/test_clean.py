import unicodedata
from collections import Counter

from data_prep.clean import EMPTY, LENGTH_RATIO, TOO_LONG, CleanConfig, clean_pairs


def test_normalises_to_nfc_and_strips():
    decomposed = unicodedata.normalize("NFD", "  Größe ")
    dropped = Counter()
    assert list(clean_pairs([(decomposed, "size")], CleanConfig(), dropped)) == [("Größe", "size")]
    assert not dropped


def test_counts_each_drop_reason():
    config = CleanConfig(max_chars=50, max_length_ratio=2.0, ratio_min_chars=20)
    pairs = [
        ("", "leer"),                       # empty source
        ("empty target", "   "),            # empty after stripping
        ("x" * 51, "y" * 50),               # too long
        ("a short one", "a" * 30),          # ratio 30/11 > 2
        ("OK", "In Ordnung"),               # short: exempt from the ratio rule
        ("The dog sleeps.", "Der Hund schläft."),
    ]
    dropped = Counter()
    kept = list(clean_pairs(pairs, config, dropped))
    assert kept == [("OK", "In Ordnung"), ("The dog sleeps.", "Der Hund schläft.")]
    assert dropped == {EMPTY: 2, TOO_LONG: 1, LENGTH_RATIO: 1}
