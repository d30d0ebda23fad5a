"""Server-rendered pages; the topic page draws pyLDAvis from files the app serves itself."""

from flask import Blueprint, abort, current_app, render_template, send_from_directory

from textlatent import registry, store
from textlatent.topics import topics_of

bp = Blueprint("pages", __name__)

# Only these files of the installed pyLDAvis package are served (no CDN anywhere).
LDAVIS_FILES = {"d3.v5.min.js", "ldavis.v3.0.0.js", "ldavis.v1.0.0.css"}


def cfg():
    return current_app.config["TEXTLATENT"]


@bp.get("/")
def index():
    engine = store.get_engine(cfg().database_url)
    with store.read(engine) as conn:
        rows = store.list_corpora(conn)
    return render_template("index.html", corpora=rows)


@bp.get("/corpora/<name>")
def corpus(name):
    models = registry.list_models(cfg(), name)
    engine = store.get_engine(cfg().database_url)
    with store.read(engine) as conn:
        c = store.get_corpus(conn, name)
    return render_template("corpus.html", corpus=c, models=models)


@bp.get("/models/<model_id>/topics")
def topics_page(model_id):
    corpus, m = registry.get_model(cfg(), model_id)
    if m["kind"] != "lda":
        abort(404)
    return render_template("topics.html", corpus=corpus, model=m, topics=topics_of(cfg(), m, 10))


@bp.get("/corpora/<name>/words")
def words_page(name):
    engine = store.get_engine(cfg().database_url)
    with store.read(engine) as conn:
        c = store.get_corpus(conn, name)
    return render_template("words.html", corpus=c)


@bp.get("/vendor/ldavis/<filename>")
def ldavis_asset(filename):
    if filename not in LDAVIS_FILES:
        abort(404)
    from . import ldavis_static_dir
    return send_from_directory(ldavis_static_dir(), filename, max_age=86400)
