"""The Flask app over the library: pages, the JSON API, offline pyLDAvis, and JSON errors."""

import re

import pytest

from web import create_app


@pytest.fixture
def client(trained):
    app = create_app(trained["config"])
    return app.test_client()


def test_index_and_corpus_pages(client, trained):
    r = client.get("/")
    assert r.status_code == 200 and b">news</a>" in r.data
    r = client.get("/corpora/news")
    assert r.status_code == 200 and b"c_npmi" in r.data
    assert f'/models/{trained["lda"]}/topics'.encode() in r.data


def test_topic_page_loads_nothing_from_outside(client, trained):
    r = client.get(f"/models/{trained['lda']}/topics")
    assert r.status_code == 200
    html = r.data.decode()
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and all(ref.startswith("/") for ref in refs), refs
    assert "<script>" not in html            # no inline script: the CSP forbids it
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    for ref in refs:
        if ref.startswith(("/vendor/", "/static/")):
            asset = client.get(ref)
            assert asset.status_code == 200 and len(asset.data) > 100, ref
    data = client.get(f"/api/v1/models/{trained['lda']}/ldavis.json").get_json()
    assert data["topic.order"] == [0, 1, 2, 3] and len(data["mdsDat"]["topics"]) == 4


def test_api_models_topics_documents_infer_similar(client, trained):
    models = client.get("/api/v1/corpora/news/models").get_json()
    assert {m["kind"] for m in models} == {"lda", "word2vec"}
    t = client.get(f"/api/v1/models/{trained['lda']}/topics?topn=5").get_json()
    assert len(t["topics"]) == 4 and all(len(x["terms"]) == 5 for x in t["topics"])
    docs = client.get(f"/api/v1/models/{trained['lda']}/topics/1/documents?limit=3").get_json()
    assert len(docs) == 3
    r = client.post(f"/api/v1/models/{trained['lda']}/infer", json={"text": "the shuttle launch to orbit"})
    assert r.status_code == 200 and len(r.get_json()["topics"]) == 4
    s = client.get("/api/v1/corpora/news/similar?word=puck&topn=3").get_json()
    assert len(s["results"]) == 3


@pytest.mark.parametrize("url, status, code", [
    ("/api/v1/corpora/nope/models", 404, "corpus_not_found"),
    ("/api/v1/models/999", 404, "model_not_found"),
    ("/api/v1/models/..%2f..", 404, "not_found"),
    ("/api/v1/models/%00", 404, "model_not_found"),
    ("/api/v1/models/1/topics?topn=0", 400, "invalid_input"),
    ("/api/v1/models/1/topics?topn=abc", 400, "invalid_input"),
    ("/api/v1/corpora/news/similar?word=hockei", 404, "word_not_found"),
    ("/api/v1/corpora/news/similar?word=puck&topn=999999", 400, "invalid_input"),
    ("/api/v1/corpora/news/similar", 400, "invalid_input"),
    ("/api/v1/no/such/route", 404, "not_found"),
])
def test_errors_are_json_with_a_4xx_status(client, url, status, code):
    r = client.get(url)
    assert r.status_code == status
    body = r.get_json()
    assert body["error"]["code"] == code and body["error"]["message"]


def test_infer_needs_json_text(client, trained):
    r = client.post(f"/api/v1/models/{trained['lda']}/infer", data="not json")
    assert r.status_code == 400 and "text" in r.get_json()["error"]["message"]


def test_only_the_known_pyldavis_files_are_served(client):
    assert client.get("/vendor/ldavis/d3.v5.min.js").status_code == 200
    assert client.get("/vendor/ldavis/__init__.py").status_code == 404
    assert client.get("/vendor/ldavis/..%2f_display.py").status_code == 404
