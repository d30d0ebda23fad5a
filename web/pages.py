"""Server-rendered pages over the same library calls as the API. What changes state
(upload, training, labels, cancel, delete) goes through the JSON API from app.js."""

from flask import Blueprint, abort, current_app, render_template, send_from_directory

from textlatent import corpus as corpus_lib
from textlatent import jobs, registry, store
from textlatent.embeddings import W2V_PARAMS
from textlatent.export import FORMATS
from textlatent.topics import LDA_PARAMS, topics_of

bp = Blueprint("pages", __name__)

# Only these files of the installed pyLDAvis package are served (no CDN anywhere).
LDAVIS_FILES = {"d3.v5.min.js", "ldavis.v3.0.0.js", "ldavis.v1.0.0.css"}
# Parameters a person usually sets on the training forms; the others keep their defaults.
FORM_PARAMS = {"lda": ("num_topics", "passes", "iterations", "alpha", "eta", "no_below", "no_above", "stoplist",
                       "seed"),
               "word2vec": ("vector_size", "window", "min_count", "epochs", "sg", "seed")}


def cfg():
    return current_app.config["TEXTLATENT"]


@bp.get("/")
def index():
    engine = store.get_engine(cfg().database_url)
    with store.read(engine) as conn:
        rows = store.list_corpora(conn)
    return render_template("index.html", corpora=rows, recent=jobs.list_jobs(cfg(), limit=10))


@bp.get("/corpora/<name>")
def corpus(name):
    overview = corpus_lib.overview(cfg(), name)
    models = registry.list_models(cfg(), name)
    specs = {"lda": [p for p in LDA_PARAMS if p.name in FORM_PARAMS["lda"]],
             "word2vec": [p for p in W2V_PARAMS if p.name in FORM_PARAMS["word2vec"]]}
    return render_template("corpus.html", corpus=overview, models=models, specs=specs, formats=FORMATS,
                           jobs=[jobs.job_json(j) for j in jobs.list_jobs(cfg(), overview["name"], limit=20)])


@bp.get("/corpora/<name>/documents/<position>")
def document(name, position):
    return render_template("document.html", corpus_name=name, doc=corpus_lib.document(cfg(), name, position))


@bp.get("/models/<model_id>/topics")
def topics_page(model_id):
    corpus, m = registry.get_model(cfg(), model_id)
    if m["kind"] != "lda":
        abort(404)
    return render_template("topics.html", corpus=corpus, model=m, topics=topics_of(cfg(), m, 10),
                           labels=m.get("labels") or {})


@bp.get("/corpora/<name>/words")
def words_page(name):
    engine = store.get_engine(cfg().database_url)
    with store.read(engine) as conn:
        c = store.get_corpus(conn, name)
        has_vectors = bool(store.list_models(conn, c["id"], kind="word2vec"))
    return render_template("words.html", corpus=c, has_vectors=has_vectors)


@bp.get("/favicon.ico")
def favicon():
    return "", 204


@bp.get("/vendor/ldavis/<filename>")
def ldavis_asset(filename):
    if filename not in LDAVIS_FILES:
        abort(404)
    from . import ldavis_static_dir
    return send_from_directory(ldavis_static_dir(), filename, max_age=86400)
