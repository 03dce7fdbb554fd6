"""`s2s translate --file`: a document in its format, through the real command line."""
import docx

from tests.conftest import run_s2s
from tests.documents.test_formats import _docx
from tests.serve.test_app import DOG


def test_a_word_file_is_translated_beside_itself_and_bad_input_is_named(store, tmp_path, translated):
    report = tmp_path / "report.docx"
    report.write_bytes(_docx())
    out = run_s2s("translate", "--store", str(store), "--file", str(report))
    assert out.returncode == 0, out.stderr
    translated_file = tmp_path / "report.de.docx"
    assert "translated with" in out.stdout and str(translated_file) in out.stdout
    paragraphs = docx.Document(translated_file).paragraphs
    assert len(paragraphs) == len(docx.Document(report).paragraphs)
    page = tmp_path / "page"
    page.write_text(f"<p>{DOG}</p>")
    out = run_s2s("translate", "--store", str(store), "--file", str(page), "-o", str(tmp_path / "out.html"))
    assert out.returncode == 0 and (tmp_path / "out.html").read_text() == f"<p>{translated(DOG)}</p>"
    for args, message in ((["--file", str(tmp_path / "missing.docx")], "missing.docx: cannot read it"),
                          (["--file", str(page), "--input", str(page)], "give --file or --input, not both")):
        refused = run_s2s("translate", "--store", str(store), *args)
        assert refused.returncode != 0 and message in refused.stderr
    lying = tmp_path / "lies.docx"
    lying.write_text("<p>HTML</p>")
    refused = run_s2s("translate", "--store", str(store), "--file", str(lying))
    assert refused.returncode != 0 and "its extension says Word (.docx), but its content is HTML" in refused.stderr
