"""Reading documents: the document page (date, label, metadata, topic mixture as bars)
and a topic's top documents with a snippet and a date, more than ten on request."""

import re

import numpy as np
import pytest

from textlatent.explore.topics import model_arrays, set_labels, topic_documents
from textlatent.store import registry
from web import create_app


@pytest.fixture
def client(speeches):
    return create_app(speeches["config"]).test_client()


def _theta(speeches):
    _, model = registry.get_model(speeches["config"], speeches["lda"])
    return model, np.asarray(model_arrays(speeches["config"], model)["doc_topics"])


def test_document_json_has_its_mixture_heaviest_first(client, speeches):
    model, theta = _theta(speeches)
    d = client.get("/api/v1/corpora/speeches/documents/70").get_json()
    assert d["label"] == "state_of_the_union" and re.fullmatch(r"\d{4}", d["date"])
    assert d["model_id"] == speeches["lda"] and len(d["topics"]) == 4
    shares = [t["share"] for t in d["topics"]]
    assert shares == sorted(shares, reverse=True)
    assert np.allclose([shares[[t["topic"] for t in d["topics"]].index(k)] for k in range(4)], theta[70], atol=1e-5)
    assert all(len(t["terms"]) == 3 for t in d["topics"])


def test_document_page_shows_date_label_metadata_and_labelled_bars(client, speeches):
    config = speeches["config"]
    set_labels(config, speeches["lda"], {"0": "the economy <b>"})
    html = client.get("/corpora/speeches/documents/70").data.decode()
    d = client.get("/api/v1/corpora/speeches/documents/70").get_json()
    assert f'<dd class="doc-date">{d["date"]}</dd>' in html
    assert '<dd class="doc-label"><span class="badge">state_of_the_union</span></dd>' in html
    bars = re.findall(r'<tr data-topic="(\d+)">.*?style="width: ([\d.]+)%"', html, re.S)
    shown = [t for t in d["topics"] if t["share"] >= 0.01 or d["topics"].index(t) < 3]
    assert [int(k) for k, _ in bars] == [t["topic"] for t in shown]
    assert [float(w) for _, w in bars] == [round(t["share"] * 100, 1) for t in shown]
    if any(t["topic"] == 0 for t in shown):
        assert "0 the economy &lt;b&gt;</th>" in html
    set_labels(config, speeches["lda"], {"0": ""})


def test_document_page_without_a_model_says_so(tmp_path):
    from textlatent.ingest import ingest
    from textlatent.settings import load_settings
    from textlatent.store import Store
    from .conftest import SAMPLE
    config = load_settings(home=str(tmp_path / "h"), workers=1)
    ingest(Store(config), "inaug", [str(SAMPLE / "inaugural")])
    c = create_app(config).test_client()
    r = c.get("/corpora/inaug/documents/0")
    assert r.status_code == 200 and b"no LDA model yet" in r.data and b"1789" in r.data
    assert c.get("/api/v1/corpora/inaug/documents/0?model=7").status_code == 404


def test_top_documents_have_snippet_and_date_and_more_than_ten(speeches):
    model, theta = _theta(speeches)
    docs = topic_documents(speeches["config"], model, 1, limit=40)
    assert len(docs) == 40
    weights = [d["weight"] for d in docs]
    assert weights == sorted(weights, reverse=True)
    assert np.allclose(weights, theta[[d["position"] for d in docs], 1], atol=1e-5)
    assert min(weights) >= np.sort(theta[:, 1])[-40] - 1e-5
    assert all(re.fullmatch(r"\d{4}", d["date"]) for d in docs)
    assert all(0 < len(d["snippet"]) <= 202 and "\n" not in d["snippet"] for d in docs)
