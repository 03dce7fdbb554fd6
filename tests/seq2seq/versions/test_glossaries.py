import json
import logging

import pytest

from data_prep.errors import S2SError
from data_prep.termbase import MULTI, UNI
from seq2seq.versions.glossaries import GLOSSARIES_DIR, MAX_NAME_CHARS, GlossaryNotFound, GlossaryStore
from tests.conftest import run_s2s

LEGAL = 'en,de,fr\nBank,Bank,banque\n"Smith, Inc.",Smith AG,Smith SA\ncourt,Gericht,tribunal\n'


def terms(store, *args):
    return run_s2s("terms", *args, "--store", str(store))


def one_line_error(result) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("s2s terms: error: "), result.stderr
    return lines[0]


@pytest.fixture
def legal(tmp_path):
    path = tmp_path / "legal.csv"
    path.write_text(LEGAL, encoding="utf-8")
    return path


def test_import_list_show_export_delete_through_the_cli(tmp_path, legal):
    store = tmp_path / "models"
    result = terms(store, "import", "legal", str(legal))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"imported glossary legal: 3 entries, en->de,fr (UNI), from {legal}\n"
    info = json.loads((store / GLOSSARIES_DIR / "legal.json").read_text(encoding="utf-8"))
    assert info["languages"] == ["en", "de", "fr"] and info["entry_count"] == 3 and info["source_file"] == "legal.csv"
    assert info["entries"][1] == ["Smith, Inc.", "Smith AG", "Smith SA"] and info["directionality"] == UNI

    tsv = tmp_path / "tech.tsv"
    tsv.write_text("en\tde\nmachine learning\tmaschinelles Lernen\n", encoding="utf-8")
    assert terms(store, "import", "tech-2", str(tsv), "--directionality", MULTI).returncode == 0

    listed = terms(store, "list").stdout.splitlines()
    assert listed[0].split() == ["NAME", "LANGUAGES", "ENTRIES", "DIRECTIONALITY", "IMPORTED"]
    assert listed[1].split()[:4] == ["legal", "en->de,fr", "3", "UNI"]
    assert listed[2].split()[:4] == ["tech-2", "en,de", "1", "MULTI"]
    assert listed[1].split()[4] == info["imported"]

    shown = terms(store, "show", "legal").stdout
    assert "languages: en->de,fr\ndirectionality: UNI\nentries: 3\n" in shown
    assert f"sha256: {info['sha256']}" in shown
    assert shown.endswith("en\tde\tfr\nBank\tBank\tbanque\nSmith, Inc.\tSmith AG\tSmith SA\ncourt\tGericht\ttribunal\n")

    exported = terms(store, "export", "legal")
    assert exported.returncode == 0 and exported.stdout == LEGAL
    out = tmp_path / "out.csv"
    assert terms(store, "export", "legal", "-o", str(out)).returncode == 0
    assert out.read_text(encoding="utf-8") == LEGAL

    deleted = terms(store, "delete", "legal")
    assert deleted.returncode == 0 and "deleted glossary legal" in deleted.stdout
    assert not (store / GLOSSARIES_DIR / "legal.json").exists()
    error = one_line_error(terms(store, "show", "legal"))
    assert f"no glossary 'legal' in {store / GLOSSARIES_DIR}; it holds tech-2" in error
    one_line_error(terms(store, "delete", "legal"))
    assert terms(store, "delete", "tech-2").returncode == 0
    assert "no glossaries in" in terms(store, "list").stdout


def test_help_explains_the_commands_and_the_formats():
    result = run_s2s("terms", "--help")
    assert result.returncode == 0
    for word in ("import", "list", "show", "export", "delete", "CSV", "TSV", "TMX", "xml:lang", "BOM", "10 MB",
                 "200 bytes", "UNI", "MULTI", "matched ignoring"):
        assert word in result.stdout, word
    assert "--directionality {UNI,MULTI}" in run_s2s("terms", "import", "--help").stdout
    assert "-o FILE, --output FILE" in run_s2s("terms", "export", "--help").stdout


def test_export_then_import_round_trips_to_the_same_terms(tmp_path):
    source = tmp_path / "t.tmx"
    source.write_text('<?xml version="1.0"?>\n<tmx version="1.4"><header srclang="de"/><body>\n'
                      '<tu><tuv xml:lang="en"><seg>R&amp;D, "lab"</seg></tuv><tuv xml:lang="de"><seg>F&amp;E</seg>'
                      '</tuv></tu>\n<tu><tuv xml:lang="de"><seg>Größe</seg></tuv><tuv xml:lang="en"><seg>size</seg>'
                      "</tuv></tu>\n</body></tmx>\n", encoding="utf-8")
    store = tmp_path / "models"
    assert terms(store, "import", "orig", str(source)).returncode == 0
    exported = tmp_path / "orig.csv"
    assert terms(store, "export", "orig", "-o", str(exported)).returncode == 0
    assert exported.read_text(encoding="utf-8").startswith("de,en\nF&E,\"R&D, \"\"lab\"\"\"\n")
    assert terms(store, "import", "copy", str(exported)).returncode == 0
    glossaries = GlossaryStore(store)
    orig, copy = glossaries.get("orig"), glossaries.get("copy")
    assert copy.termbase == orig.termbase and copy.sha256 == orig.sha256
    assert copy.termbase.terms("de", "en") == {"F&E": 'R&D, "lab"', "Größe": "size"}
    assert copy.source_sha256 != orig.source_sha256


def test_overwrite_replaces_the_glossary_whole(tmp_path, legal):
    store = GlossaryStore(tmp_path)
    first = store.import_file("g", legal)
    other = tmp_path / "other.csv"
    other.write_text("de,en\nHund,dog\n", encoding="utf-8")
    result = terms(tmp_path, "import", "g", str(other), "--directionality", MULTI)
    assert result.stdout.startswith("replaced glossary g: 1 entry, de,en (MULTI)")
    second = store.get("g")
    assert second.languages == ("de", "en") and second.termbase.entries == (("Hund", "dog"),)
    assert second.directionality == MULTI and second.sha256 != first.sha256
    assert terms(tmp_path, "export", "g").stdout == "de,en\nHund,dog\n"
    assert store.names() == ["g"]


@pytest.mark.parametrize("name", ["a b", "../escape", "x/y", "", "é", "a.json", "x" * 251])
def test_bad_names_are_refused_and_nothing_is_written(tmp_path, legal, name):
    store = GlossaryStore(tmp_path / "models")
    with pytest.raises(S2SError, match=r"glossary name .*: use 1 to 250 letters, digits, '_' or '-'$"):
        store.import_file(name, legal)
    with pytest.raises(S2SError, match="glossary name"):
        store.get(name)
    assert not (tmp_path / "models").exists() and not (tmp_path / "escape.json").exists()


def test_a_bad_name_through_the_cli_and_the_longest_name(tmp_path, legal):
    error = one_line_error(terms(tmp_path, "import", "../up", str(legal)))
    assert "glossary name '../up'" in error
    longest = "N_-9" * 62 + "ab"
    assert len(longest) == MAX_NAME_CHARS == 250
    assert GlossaryStore(tmp_path).import_file(longest, legal).name == longest
    assert GlossaryStore(tmp_path).names() == [longest]


def test_nothing_is_stored_from_a_failing_import(tmp_path, legal):
    glossaries = tmp_path / "models" / GLOSSARIES_DIR
    assert terms(tmp_path / "models", "import", "g", str(legal)).returncode == 0
    before = (glossaries / "g.json").read_bytes()
    bad = tmp_path / "bad.csv"
    bad.write_text("en,de\nhouse,Haus\nHouse,Gebäude\n", encoding="utf-8")
    for name in ("g", "h"):
        error = one_line_error(terms(tmp_path / "models", "import", name, str(bad)))
        assert f"{bad}:3: the en term 'House' has two de translations" in error
    assert sorted(p.name for p in glossaries.iterdir()) == ["g.json"]
    assert (glossaries / "g.json").read_bytes() == before
    error = one_line_error(terms(tmp_path / "models", "import", "h", str(tmp_path / "missing.csv")))
    assert f"{tmp_path / 'missing.csv'}: no such file" in error
    assert sorted(p.name for p in glossaries.iterdir()) == ["g.json"]


def test_a_failed_write_leaves_the_old_glossary_and_no_temporary_file(tmp_path, legal, monkeypatch):
    store = GlossaryStore(tmp_path)
    store.import_file("g", legal)
    before = store.path("g").read_bytes()

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("seq2seq.versions.glossaries.os.replace", full_disk)
    with pytest.raises(S2SError, match=r"disk full: no space left on the device while writing .*g\.json"):
        store.import_file("g", legal, MULTI)
    assert sorted(p.name for p in store.root.iterdir()) == ["g.json"]
    assert store.path("g").read_bytes() == before


def test_signature_changes_on_add_change_and_delete_only(tmp_path, legal):
    store = GlossaryStore(tmp_path)
    assert store.signature() == ()
    store.import_file("a", legal)
    added = store.signature()
    assert added != () and store.signature() == added
    store.glossaries(), store.get("a"), store.export_csv("a")
    assert store.signature() == added, "reading changed the signature"
    (store.root / ".tmp-123.partial").write_text("half")
    assert store.signature() == added, "a half-written file changed the signature"
    store.import_file("a", legal, MULTI)
    changed = store.signature()
    assert changed != added
    store.import_file("b", legal)
    both = store.signature()
    assert len(both) == 2 and both != changed
    store.delete("a")
    assert store.signature() not in (both, changed) and len(store.signature()) == 1
    store.delete("b")
    assert store.signature() == ()


def test_get_lists_what_the_store_holds_and_a_damaged_glossary_is_named(tmp_path, legal, caplog):
    store = GlossaryStore(tmp_path)
    with pytest.raises(GlossaryNotFound, match=r"no glossary 'x' in .*glossaries; it holds none"):
        store.get("x")
    store.import_file("good", legal)
    store.import_file("tampered", legal)
    info = json.loads(store.path("tampered").read_text(encoding="utf-8"))
    info["entries"][0][1] = "Ufer"
    store.path("tampered").write_text(json.dumps(info), encoding="utf-8")
    with pytest.raises(GlossaryNotFound, match=r"it holds good, tampered$"):
        store.get("x")
    with pytest.raises(S2SError, match=r"tampered\.json: its terms do not match their sha256"):
        store.get("tampered")
    (store.root / "broken.json").write_text("{", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert [g.name for g in store.glossaries()] == ["good"]
    assert "skipping glossary broken" in caplog.text and "skipping glossary tampered" in caplog.text
    assert store.get("good").termbase.terms("en", "fr")["Bank"] == "banque"
