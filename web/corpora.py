"""Corpora: the index page, uploads, a corpus's page and JSON, its documents, deletion."""

from flask import Blueprint, jsonify, render_template, request

from textlatent import jobs, views
from textlatent.errors import Conflict
from textlatent.explore import documents
from textlatent.export import FORMATS
from textlatent.ingest import delete_corpus as run_delete
from textlatent.ingest import uploads
from textlatent.models import LDA_PARAMS, W2V_PARAMS

from .db import get_store
from .responses import accepted, corpus_summary, model_json

bp = Blueprint("corpora", __name__)

# Parameters a person usually sets on the training forms; the others keep their defaults.
FORM_PARAMS = {"lda": ("num_topics", "passes", "iterations", "alpha", "eta", "no_below", "no_above", "stoplist",
                       "seed"),
               "word2vec": ("vector_size", "window", "min_count", "epochs", "sg", "seed")}


@bp.get("/")
def index():
    page = views.home(get_store())
    return render_template("index.html", corpora=page["corpora"], recent=page["jobs"])


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
    specs = {"lda": [p for p in LDA_PARAMS if p.name in FORM_PARAMS["lda"]],
             "word2vec": [p for p in W2V_PARAMS if p.name in FORM_PARAMS["word2vec"]]}
    return render_template("corpus.html", corpus=page["overview"], models=page["models"], specs=specs,
                           formats=FORMATS, jobs=[jobs.job_json(j) for j in page["jobs"]])


@bp.get("/api/v1/corpora/<name>")
def corpus(name):
    page = views.corpus_page(get_store(), name)
    return jsonify(page["overview"] | {"models": [model_json(m) for m in page["models"]],
                                       "jobs": [jobs.job_json(j) for j in page["jobs"]]})


@bp.delete("/api/v1/corpora/<name>")
def delete_corpus(name):
    store = get_store()
    active = jobs.active_jobs(store, name)
    if active:
        raise Conflict(f"corpus {name!r} has {len(active)} job(s) pending or running; cancel them first")
    run_delete(store, name)
    return "", 204


@bp.get("/corpora/<name>/documents/<position>")
def document_page(name, position):
    return render_template("document.html", corpus_name=name, doc=documents.document(get_store(), name, position))


@bp.get("/api/v1/corpora/<name>/documents/<position>")
def document(name, position):
    return jsonify(documents.document(get_store(), name, position))

