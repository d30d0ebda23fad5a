"""The Flask app over the library: pages, the JSON API, offline pyLDAvis, and JSON errors."""

import io
import os
import re

import pytest

from textlatent.settings import load_settings
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


def test_every_figure_explains_itself_and_parameters_are_rounded(client, trained):
    import html
    page = client.get("/corpora/news").data.decode()
    tips = {k: html.unescape(t) for k, t in re.findall(r'data-figure="(\w+)" data-tip="([^"]*)"', page)}
    assert set(tips) == {"coherence_c_npmi", "coherence_u_mass", "perplexity", "nmi_labels",
                         "analogy_accuracy", "wordsim353_spearman"}
    for key, text in tips.items():      # what it measures, then what is good or bad
        what, good = text.split("\n")
        assert len(what) > 40 and re.search(r"good|better|worse", good), (key, text)
    assert "4 classes" in tips["nmi_labels"] and "label" in tips["nmi_labels"]
    params = html.unescape(" ".join(re.findall(r'data-tip="(All parameters:[^"]*)"', page)))
    assert "no_above = 0.35" in params and not re.search(r"\d\.\d{6,}", params)
    from web.ui import fmt_num
    assert fmt_num(1.4 / 5) == "0.28" and fmt_num(10000) == "10,000" and fmt_num(0.001) == "0.001"


def test_corpus_tabs_lead_to_the_pages_they_name(client, trained):
    r = client.get("/corpora/news/topics")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/models/{trained['lda']}/topics")
    for url, tab in (("/corpora/news", "overview"), (f"/models/{trained['lda']}/topics", "topics"),
                     ("/corpora/news/words", "words"), ("/corpora/news/documents", "documents"),
                     ("/corpora/news/documents/3", "documents")):
        page = client.get(url).data.decode()
        current = re.findall(r'data-tab="(\w+)" aria-current="page"', page)
        assert current == [tab], (url, current)
        assert all(f'data-tab="{t}"' in page for t in ("overview", "topics", "words", "documents"))


def test_documents_list_and_its_json_twin(client, trained):
    docs = client.get("/api/v1/corpora/news/documents?start=10").get_json()
    assert [d["position"] for d in docs["documents"]] == list(range(10, 60))
    assert docs["total"] == trained["summary"].documents
    assert all(0 < len(d["snippet"]) <= 202 for d in docs["documents"])
    page = client.get("/corpora/news/documents?start=10").data.decode()
    assert page.count('href="/corpora/news/documents/') >= 50 and "11–60 of" in page
    assert client.get("/api/v1/corpora/news/documents?start=x").status_code == 400
    assert client.get("/api/v1/corpora/nope/documents").status_code == 404


def test_words_page_selects_the_model_asked_for(client, trained):
    page = client.get(f"/corpora/news/words?model={trained['w2v']}").data.decode()
    assert re.search(rf'<option value="{trained["w2v"]}"[^>]*selected', page)
    assert "WordSim353" in page


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
    ("/api/v1/corpora/news/similar?word=", 400, "invalid_input"),
    ("/api/v1/corpora/news/similar?word=" + "x" * 10_000, 400, "invalid_input"),
    ("/api/v1/corpora/news/similar?word=puck&negative=", 400, "invalid_input"),
    ("/api/v1/corpora/news/similar?word=puck&model=abc", 404, "model_not_found"),
    ("/api/v1/jobs/%00", 404, "job_not_found"),
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


# -- what changes state: uploads, training, jobs, labels, deletion ----------------------------

@pytest.fixture
def fresh(config):
    """An app over an empty data directory (jobs are queued; no worker runs them)."""
    app = create_app(config)
    return app.test_client()


def _upload(client, files, **form):
    data = {"name": form.pop("name", "up"), **form,
            "file": [(io.BytesIO(content), filename) for filename, content in files]}
    return client.post("/api/v1/corpora", data=data, content_type="multipart/form-data")


def test_ended_jobs_show_a_full_or_empty_bar_and_how_long_they_ran(fresh, config):
    job = _upload(fresh, [("a.txt", b"The shuttle reached orbit.")], name="mine").get_json()
    assert job["elapsed_seconds"] is None                      # not started
    row = re.search(rf'<tr data-job="{job["id"]}".*?</tr>', fresh.get("/").data.decode(), re.S).group(0)
    assert 'value="0.0"' in row and "Cancel" in row            # waiting: empty, not animated
    curl = fresh.application.test_client(use_cookies=False)      # the page's client holds a session now
    assert curl.post(f"/api/v1/jobs/{job['id']}/cancel").status_code == 200
    row = re.search(rf'<tr data-job="{job["id"]}".*?</tr>', fresh.get("/").data.decode(), re.S).group(0)
    assert 'data-status="cancelled"' in row and 'value="0.0"' in row and "Retry" in row


def test_upload_queues_an_ingest_job(fresh, config):
    r = _upload(fresh, [("a.txt", b"The shuttle reached orbit."), ("b.csv", b"text,label\nhello world,x\n")],
                name="mine", label_field="label")
    assert r.status_code == 202, r.get_json()
    job = r.get_json()
    assert job["kind"] == "ingest" and job["status"] == "pending" and job["corpus"] == "mine"
    assert r.headers["Location"] == job["url"] == f"/api/v1/jobs/{job['id']}"
    assert fresh.get(job["url"]).get_json()["status"] == "pending"
    assert "files" not in job["params"] and job["params"]["read"] == {"label_field": "label"}


@pytest.mark.parametrize("files, form, status, needle", [
    ([], {}, 400, "file"),
    ([("a.txt", b"text")], {"name": ""}, 400, "name"),
    ([("a.exe", b"MZ....")], {}, 415, ".txt"),
    ([("a.txt", b"")], {}, 400, "empty"),
    ([("a.txt", bytes(range(256)) * 64)], {}, 400, "binary"),
    ([("t.csv", b"body,label\nhello,x\n")], {}, 400, "text"),
    ([("t.jsonl", b'{"text": "ok"}\n{"text": \n')], {}, 400, "line 2"),
    ([("t.jsonl", b'{"text": 5}\n')], {}, 400, "text"),
    ([("a.txt", b"   \n\n  ")], {}, 422, "no text"),
    ([("a.txt", b"hello")], {"split": "sentences"}, 400, "split"),
])
def test_bad_uploads_get_a_json_4xx_and_store_nothing(fresh, config, files, form, status, needle):
    r = _upload(fresh, files, **form)
    assert r.status_code == status, r.get_json()
    assert needle in r.get_json()["error"]["message"]
    assert fresh.get("/api/v1/jobs").get_json() == []
    uploads_dir = os.path.join(config.home, "uploads")
    assert not os.path.isdir(uploads_dir) or os.listdir(uploads_dir) == []


@pytest.mark.parametrize("content, form, field", [
    (b"body,label\nhello,x\n", {}, "text_field"),
    (b"text,label\nhello,x\n", {"label_field": "category"}, "label_field"),
])
def test_upload_errors_name_the_form_field_not_a_command_line_flag(fresh, content, form, field):
    r = _upload(fresh, [("t.csv", content)], **form)
    error = r.get_json()["error"]
    assert r.status_code == 400 and error["details"]["field"] == field
    assert "--" not in error["message"] and "no column" in error["message"]


def test_an_upload_over_the_limit_is_413(config):
    config.config.max_upload_mb = 1
    client = create_app(config).test_client()
    r = _upload(client, [("a.txt", b"word " * 300_000)])
    error = r.get_json()["error"]
    assert r.status_code == 413 and error["code"] == "request_entity_too_large" and "1 MB" in error["message"]


def test_training_jobs_validate_their_parameters_first(client, trained):
    r = client.post("/api/v1/corpora/news/models", json={"kind": "lda", "params": {
        "num_topics": 0, "passes": "x", "bogus": 1}})
    body = r.get_json()["error"]
    assert r.status_code == 400 and len(body["details"]["problems"]) == 3
    for params in ({"num_topics": -1}, {"num_topics": 2.5}, {"num_topics": 10**9}, {"alpha": "nope"},
                   {"chunksize": -5}):
        assert client.post("/api/v1/corpora/news/models", json={"kind": "lda", "params": params}).status_code == 400
    for params in ({"window": 0}, {"vector_size": 1}, {"epochs": 0}, {"min_count": 0}):
        r = client.post("/api/v1/corpora/news/models", json={"kind": "word2vec", "params": params})
        assert r.status_code == 400, params
    assert client.post("/api/v1/corpora/news/models", json={"kind": "nmf"}).status_code == 400
    assert client.post("/api/v1/corpora/news/models", data="x").status_code == 400
    assert client.post("/api/v1/corpora/nope/models", json={"kind": "lda"}).status_code == 404
    assert client.get("/api/v1/jobs?corpus=news").get_json() == []


def test_jobs_can_be_cancelled_and_retried_and_block_deletion(fresh, trained, config):
    r = _upload(fresh, [("a.txt", b"The shuttle reached orbit.")], name="mine")
    job = r.get_json()
    assert fresh.delete("/api/v1/corpora/news").status_code == 404     # another data directory
    r = fresh.post(f"/api/v1/jobs/{job['id']}/cancel")
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    assert fresh.post(f"/api/v1/jobs/{job['id']}/cancel").status_code == 409
    r = fresh.post(f"/api/v1/jobs/{job['id']}/retry")
    assert r.status_code == 202 and r.get_json()["id"] != job["id"]
    assert fresh.post("/api/v1/jobs/999/cancel").status_code == 404
    assert fresh.get("/api/v1/jobs/abc").status_code == 404


@pytest.mark.slow
def test_delete_corpus_is_refused_while_a_job_is_pending(config, trained):
    from textlatent.ingest import ReadOptions, ingest
    ingest(config, "small", [str(trained["path"])], ReadOptions())
    client = create_app(config).test_client()
    job = client.post("/api/v1/corpora/small/models", json={"kind": "lda", "params": {"num_topics": 2}}).get_json()
    r = client.delete("/api/v1/corpora/small")
    assert r.status_code == 409 and "cancel" in r.get_json()["error"]["message"]
    client.post(f"/api/v1/jobs/{job['id']}/cancel")
    assert client.delete("/api/v1/corpora/small").status_code == 204
    assert client.get("/api/v1/corpora/small").status_code == 404


def test_corpus_and_document_views(client, trained):
    c = client.get("/api/v1/corpora/news").get_json()
    assert c["documents"] == trained["summary"].documents and len(c["top_terms"]) == 30
    assert {m["kind"] for m in c["models"]} == {"lda", "word2vec"}
    doc = client.get("/api/v1/corpora/news/documents/3").get_json()
    assert doc["position"] == 3 and doc["text"]
    assert client.get("/api/v1/corpora/news/documents/99999").status_code == 404
    assert client.get("/api/v1/corpora/news/documents/x").status_code == 400
    page = client.get("/corpora/news/documents/3")
    assert page.status_code == 200 and doc["doc_key"].encode() in page.data
    page = client.get("/corpora/news")
    assert b'id="train-lda"' in page.data and b"num_topics" in page.data


def test_labels_are_saved_and_escaped(config, trained):
    import shutil
    home = os.path.join(config.home, "copy")
    shutil.copytree(trained["config"].home, home)
    cfg = load_settings(home=home, database_url="sqlite:///" + os.path.join(home, "textlatent.db"))
    client = create_app(cfg).test_client()
    url = f"/api/v1/models/{trained['lda']}/labels"
    r = client.put(url, json={"labels": {"1": "<script>alert(1)</script>", "2": "space"}})
    assert r.status_code == 200 and r.get_json()["labels"]["2"] == "space"
    browser = create_app(cfg).test_client()       # holds a session cookie, unlike `client`
    page = browser.get(f"/models/{trained['lda']}/topics").data.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert client.put(url, json={"labels": {"9": "x"}}).status_code == 400
    assert client.put(url, json={"labels": {"1": "x" * 201}}).status_code == 400
    assert client.put(url, json={"labels": {"2": ""}}).get_json()["labels"] == {"1": "<script>alert(1)</script>"}
    assert client.put(f"/api/v1/models/{trained['w2v']}/labels", json={"labels": {}}).status_code == 400


@pytest.mark.parametrize("path, fmt, magic", [
    ("doc-topics", "csv", b"doc_id,title,label,date,topic_0"),
    ("doc-topics", "jsonl", b'{"doc_id"'),
    ("doc-topics", "npy", b"\x93NUMPY"),
    ("doc-topics", "parquet", b"PAR1"),
    ("topic-terms", "csv", b"topic,"),
])
def test_lda_downloads(client, trained, path, fmt, magic):
    r = client.get(f"/api/v1/models/{trained['lda']}/{path}?format={fmt}")
    assert r.status_code == 200 and r.data.startswith(magic), r.data[:80]
    assert f"model{trained['lda']}-{path}.{fmt}" in r.headers["Content-Disposition"]


@pytest.mark.parametrize("fmt, check", [
    ("word2vec", lambda d: d.split(b"\n")[0].split()[1] == b"100"),
    ("word2vec-binary", lambda d: d.split(b"\n")[0].split()[1] == b"100"),
    ("projector", lambda d: d.startswith(b"PK")),
])
def test_vector_downloads(client, trained, fmt, check):
    r = client.get(f"/api/v1/models/{trained['w2v']}/vectors?format={fmt}")
    assert r.status_code == 200 and check(r.data)


def test_download_errors(client, trained):
    assert client.get(f"/api/v1/models/{trained['lda']}/doc-topics?format=xlsx").status_code == 400
    assert client.get(f"/api/v1/models/{trained['w2v']}/doc-topics").status_code == 400
    assert client.get(f"/api/v1/models/{trained['lda']}/vectors").status_code == 400
    assert client.get("/api/v1/models/999/doc-topics").status_code == 404


def test_openapi_describes_exactly_the_routes(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    described = {(p, m.upper()) for p, ops in spec["paths"].items() for m in ops}
    app = client.application
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1"):])
            served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == served
    lda = spec["components"]["schemas"]["LdaParams"]["properties"]
    assert lda["num_topics"]["minimum"] == 1 and lda["num_topics"]["default"] == 20


def test_cross_site_requests_are_refused(fresh):
    page = fresh.get("/")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.data.decode()).group(1)
    url = "/api/v1/jobs/1/cancel"
    r = fresh.post(url, headers={"Origin": "http://evil.example", "X-CSRF-Token": token})
    assert r.status_code == 403 and "cross-site" in r.get_json()["error"]["message"]
    r = fresh.post(url, headers={"Sec-Fetch-Site": "cross-site", "X-CSRF-Token": token})
    assert r.status_code == 403
    r = fresh.post(url, headers={"Origin": "http://localhost"})                 # no token
    assert r.status_code == 403 and "CSRF" in r.get_json()["error"]["message"]
    r = fresh.post(url, headers={"Origin": "http://localhost", "X-CSRF-Token": "wrong"})
    assert r.status_code == 403
    r = fresh.post(url, headers={"Origin": "http://localhost", "X-CSRF-Token": token})
    assert r.status_code == 404                                                # passed the check
    curl = fresh.application.test_client(use_cookies=False)
    assert curl.post(url).status_code == 404               # no browser marks (curl): no token needed


def test_only_trusted_hosts_are_answered(config):
    client = create_app(config, trusted_hosts=["127.0.0.1", "localhost"]).test_client()
    assert client.get("/api/v1/corpora", headers={"Host": "127.0.0.1:5000"}).status_code == 200
    assert client.get("/api/v1/corpora", headers={"Host": "rebind.example"}).status_code == 400


def test_security_headers_and_no_traceback_ever(client, monkeypatch):
    r = client.get("/")
    assert r.headers["X-Content-Type-Options"] == "nosniff" and r.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    import web.models
    monkeypatch.setattr(web.models, "topics_of", lambda *a, **k: 1 / 0)     # a bug, not bad input
    r = client.get("/api/v1/models/1/topics")
    assert r.status_code == 500 and r.get_json()["error"]["code"] == "internal_error"
    assert b"Traceback" not in r.data and b"ZeroDivision" not in r.data
    assert client.get("/console").status_code == 404                      # no Werkzeug debugger
