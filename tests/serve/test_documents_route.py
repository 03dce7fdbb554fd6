"""Documents and markup through this project's API: /v1/translate's "format": "html", and /v1/documents
with a file in, the file translated out, in its format; hostile files refused while the server serves on."""
import io

import docx
import pytest
import requests

from serve.app import create_app
from serve.config import ServeConfig
from tests.documents.test_formats import BILLION_LAUGHS, EXTERNAL_ENTITY, _docx, _zip
from tests.serve.test_app import APPLES, DOG
from tests.serve.test_gunicorn import GOOD, serving


@pytest.fixture(scope="module")
def client(store):
    return create_app(ServeConfig(store=store, reload_interval_s=0)).test_client()


def test_html_keeps_its_markup_and_refuses_what_comes_with_text_only(client, translated):
    answer = client.post("/v1/translate", json={"q": [f"<p>{DOG}</p>", f"<h1>{APPLES}</h1>"], "source": "en",
                                                "target": "de", "format": "html"})
    assert answer.status_code == 200
    assert answer.json["translations"] == [f"<p>{translated(DOG)}</p>", f"<h1>{translated(APPLES)}</h1>"]
    for extra, message in (({"alternatives": 1}, "come with \"format\": \"text\""),
                           ({"format": "docx"}, "must be \"text\" or \"html\"")):
        refused = client.post("/v1/translate", json={"q": DOG, "source": "en", "target": "de", "format": "html",
                                                     **extra})
        assert refused.status_code == 400 and message in refused.json["error"]["message"]


def test_a_document_goes_in_as_a_file_or_a_body_and_comes_back_in_its_format(client, translated):
    upload = client.post("/v1/documents", data={"source": "en", "target": "de",
                                                "file": (io.BytesIO(_docx()), "Report 2026.docx")})
    assert upload.status_code == 200 and upload.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert upload.headers["Content-Disposition"] == 'attachment; filename="Report 2026.de.docx"'
    assert len(docx.Document(io.BytesIO(upload.data)).paragraphs) == len(docx.Document(io.BytesIO(_docx())).paragraphs)
    body = client.post("/v1/documents?source=en&target=de&name=notes.txt", data=f"{DOG}\n\n{APPLES}\n".encode(),
                       content_type="text/plain")
    assert body.status_code == 200 and body.data.decode() == f"{translated(DOG)}\n\n{translated(APPLES)}\n"
    assert body.headers["Content-Disposition"] == 'attachment; filename="notes.de.txt"'


@pytest.mark.parametrize("fields,status,message", [
    ({"target": "de", "file": (io.BytesIO(b"x"), "a.txt")}, 400, "missing field 'source'"),
    ({"source": "en", "target": "de"}, 400, "missing field 'file'"),
    ({"source": "en", "target": "fr", "file": (io.BytesIO(b"x"), "a.txt")}, 404, "fr"),
])
def test_document_requests_missing_a_part_are_named(client, fields, status, message):
    answer = client.post("/v1/documents", data=fields, content_type="multipart/form-data")
    assert answer.status_code == status and message in answer.json["error"]["message"]


def test_hostile_files_get_a_4xx_and_the_server_serves_on(store):
    hostile = {"bomb.docx": _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<a/>",
                                  "word/big.bin": b"\0" * 200_000_000}),
               "laughs.xlf": BILLION_LAUGHS, "entity.xlf": EXTERNAL_ENTITY, "cut.docx": _docx()[:3000],
               "lies.docx": b"<p>HTML</p>"}
    with serving(store) as server:
        for name, data in hostile.items():
            answer = requests.post(server.url + "/v1/documents", data={"source": "en", "target": "de"},
                                   files={"file": (name, data)}, timeout=120)
            assert answer.status_code == 400 and answer.json()["error"]["message"].startswith(name), answer.text
        assert requests.post(server.url + "/v1/translate", json=GOOD, timeout=60).status_code == 200
        assert server.process.poll() is None


def test_a_named_glossary_applies_inside_a_document(store, tmp_path):
    from tests.serve.test_terms import ANIMALS, _copy_store, _import

    copy = _copy_store(store, tmp_path / "store")
    _import(copy, "animals", ANIMALS, tmp_path)
    client = create_app(ServeConfig(store=copy, reload_interval_s=0)).test_client()
    page = f"<p>{DOG}</p>".encode()
    plain = client.post("/v1/documents", data={"source": "en", "target": "de", "file": (io.BytesIO(page), "a.html")})
    with_terms = client.post("/v1/documents", data={"source": "en", "target": "de", "terminology": "animals",
                                                    "file": (io.BytesIO(page), "a.html")})
    assert with_terms.status_code == 200 and b"Zorbix" in with_terms.data and b"Zorbix" not in plain.data
    html = client.post("/v1/translate", json={"q": "<p>The <b>dog</b> sees a car.</p>", "source": "en",
                                              "target": "de", "format": "html", "terminology": "animals"})
    assert "<b>Zorbix</b>" in html.json["translations"][0]


def test_markup_around_a_term_follows_the_term_whatever_the_attention_says(store, tmp_path, monkeypatch):
    from seq2seq.engines.ct2_translator import Ct2Translator
    from seq2seq.engines.translator import WordLink
    from tests.serve.test_terms import ANIMALS, _copy_store, _import

    def backwards(self, sources, targets):
        # Every source word linked, for sure, to the target word as far from its end as it is from the start.
        return [[WordLink(i, len(t.split()) - 1 - i, True) for i in range(min(len(s.split()), len(t.split())))]
                for s, t in zip(sources, targets)]

    monkeypatch.setattr(Ct2Translator, "align", backwards)
    copy = _copy_store(store, tmp_path / "store")
    _import(copy, "animals", ANIMALS, tmp_path)
    client = create_app(ServeConfig(store=copy, reload_interval_s=0)).test_client()
    html = client.post("/v1/translate", json={"q": "<p>The <b>dog</b> sees a car.</p>", "source": "en",
                                              "target": "de", "format": "html", "terminology": "animals"})
    assert "<b>Zorbix</b>" in html.json["translations"][0]
