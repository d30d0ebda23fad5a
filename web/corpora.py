"""Corpora: the index page, uploads, a corpus's page and JSON, its documents, deletion."""

from flask import Blueprint, jsonify, render_template, request

from textlatent import jobs, views
from textlatent.explore.reading import document_view
from textlatent.export import FORMATS
from textlatent.ingest import uploads

from . import ui
from .db import get_store
from .responses import accepted, corpus_summary, model_json

bp = Blueprint("corpora", __name__)


@bp.get("/")
def index():
    page = views.home(get_store())
    return render_template("index.html", corpora=page["corpora"], recent=[jobs.job_json(j) for j in page["jobs"]])


@bp.get("/api/v1/corpora")
def corpora_list():
    return jsonify([corpus_summary(c) for c in views.corpora(get_store())])


@bp.post("/api/v1/corpora")
def upload():
    """Multipart: ``name``, one or more ``file`` parts, and the CLI's read options."""
    files = [(f.filename, f.stream) for f in request.files.getlist("file") if f and f.filename]
    return accepted(jobs.submit_upload(get_store(), request.form.get("name", ""), files,
                                       uploads.read_options(request.form)))


@bp.get("/corpora/<name>")
def corpus_page(name):
    page = views.corpus_page(get_store(), name)
    job_rows = [jobs.job_json(j) for j in page["jobs"]]
    last_ingest = next((j for j in job_rows if j["kind"] == "ingest" and j["status"] in jobs.ENDED), None)
    forms = {kind: ui.form_fields(kind) for kind in ("lda", "word2vec")}
    return render_template("corpus.html", corpus=page["overview"], models=page["models"], forms=forms,
                           formats=FORMATS, jobs=job_rows, last_ingest=last_ingest)


@bp.get("/api/v1/corpora/<name>")
def corpus(name):
    page = views.corpus_page(get_store(), name)
    return jsonify(page["overview"] | {"models": [model_json(m) for m in page["models"]],
                                       "jobs": [jobs.job_json(j) for j in page["jobs"]]})


@bp.delete("/api/v1/corpora/<name>")
def delete_corpus(name):
    jobs.delete_corpus(get_store(), name)       # 409 while jobs of it are pending or running
    return "", 204


@bp.get("/corpora/<name>/documents/<position>")
def document_page(name, position):
    doc = _document(name, position)
    return render_template("document.html", corpus_name=name, doc=doc, n_docs=doc["n_docs"])


@bp.get("/api/v1/corpora/<name>/documents/<position>")
def document(name, position):
    return jsonify(_document(name, position))


def _document(name, position):
    """The document's view; models older than its stored views get a job that makes them."""
    store = get_store()
    doc = document_view(store, name, position, request.args.get("model"))
    for model_id in doc["unprepared"]:
        jobs.submit_views(store, name, model_id)
        doc["notes"].append(f"the stored views of model {model_id} are being prepared: reload in a moment")
    return doc

