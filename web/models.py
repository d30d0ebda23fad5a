"""Models: training, a model's JSON, its topics page and topics, labels, inference, downloads."""

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, stream_with_context, url_for

from textlatent import jobs
from textlatent.export import FORMATS
from textlatent.errors import InvalidInput, ModelNotFound
from textlatent.explore import aggregates
from textlatent.explore.inference import infer
from textlatent.explore.topics import TOPN_MAX, ldavis_data, set_labels, topic_documents, topics_of
from textlatent.export import download
from textlatent.models import sweep
from textlatent.ingest.uploads import safe_filename
from textlatent.params import Param, validate
from textlatent.store import registry

from .db import get_store
from .responses import accepted, json_body, model_json

bp = Blueprint("models", __name__)


@bp.get("/api/v1/corpora/<name>/models")
def corpus_models(name):
    return jsonify([model_json(m) for m in registry.list_models(get_store(), name)])


@bp.get("/api/v1/corpora/<name>/sweeps")
def corpus_sweeps(name):
    """The corpus's K sweeps with their figures per K and the recommended K, newest first."""
    return jsonify(sweep.summary(get_store(), name))


@bp.post("/api/v1/corpora/<name>/models")
def train(name):
    """``{"kind": "lda" | "word2vec", "params": {...}, "map": true}`` -> 202 with the training
    job (``map``: false makes no map after training, a method's name makes one by it)."""
    shape = "{" + '"kind": ' + " | ".join(f'"{k}"' for k in jobs.MODEL_KINDS) + ', "params": {...}}'
    body = json_body(shape)
    kind = body.get("kind")
    if kind not in jobs.MODEL_KINDS:
        raise InvalidInput("kind must be " + " or ".join(f'"{k}"' for k in jobs.MODEL_KINDS))
    params = body.get("params") or {}
    if not isinstance(params, dict):
        raise InvalidInput("params must be a JSON object")
    if "map" in body:
        params = {**params, "map": body["map"]}
    return accepted(jobs.submit(get_store(), kind, name, params))


@bp.get("/api/v1/models/<model_id>")
def model(model_id):
    corpus, m = registry.get_model(get_store(), model_id)
    return jsonify(model_json(m) | {"corpus": corpus["name"]})


@bp.get("/corpora/<name>/topics")
def corpus_topics(name):
    """The corpus's Topics tab: its newest LDA model, or a page that says how to train one."""
    lda = [m for m in registry.list_models(get_store(), name) if m["kind"] == "lda"]
    if lda:
        return redirect(url_for("models.topics_page", model_id=lda[0]["id"]))
    return render_template("no_model.html", corpus={"name": name}, kind="lda", active_tab="topics")


@bp.get("/models/<model_id>/topics")
def topics_page(model_id):
    store = get_store()
    corpus, m = registry.get_model(store, model_id)
    if m["kind"] != "lda":
        abort(404)
    siblings = [x for x in registry.list_models(store, corpus["name"]) if x["kind"] == "lda"]
    return render_template("topics.html", corpus=corpus, model=m, topics=topics_of(store, m, 10),
                           labels=m.get("labels") or {}, siblings=siblings, formats=FORMATS)


@bp.put("/api/v1/models/<model_id>/labels")
def model_labels(model_id):
    body = json_body('{"labels": {"<topic>": "<label>"}}')
    return jsonify({"labels": set_labels(get_store(), model_id, body.get("labels"))})


@bp.get("/api/v1/models/<model_id>/topics")
def model_topics(model_id):
    m = _model(model_id, "lda")
    topn = validate([Param("topn", "int", 10, 1, TOPN_MAX)], {"topn": request.args.get("topn")})["topn"]
    return jsonify({"model_id": m["id"], "labels": m.get("labels") or {},
                    "topics": topics_of(get_store(), m, topn)})


@bp.get("/api/v1/models/<model_id>/topics/<topic>/documents")
def model_topic_documents(model_id, topic):
    m = _model(model_id, "lda")
    return jsonify(topic_documents(get_store(), m, topic, request.args.get("limit", 10)))


@bp.get("/api/v1/models/<model_id>/ldavis.json")
def model_ldavis(model_id):
    """pyLDAvis's prepared data, as stored at training time (never recomputed here)."""
    resp = Response(ldavis_data(get_store(), _model(model_id, "lda")), mimetype="application/json")
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp


@bp.post("/api/v1/models/<model_id>/infer")
def model_infer(model_id):
    store = get_store()
    corpus, m = registry.get_model(store, model_id)
    _require(m, "lda")
    body = json_body('{"text": "..."}')
    if not isinstance(body.get("text"), str):
        raise InvalidInput('send JSON {"text": "..."}')
    return jsonify(infer(store, corpus["name"], body["text"], m["id"]))


@bp.get("/api/v1/models/<model_id>/topics-by-label")
def topics_by_label(model_id):
    """JSON, or with ``format=csv|parquet`` the export; 202 with a job while an older
    model's aggregates are being prepared."""
    return _aggregate(model_id, "topics-by-label", lambda store, m, _: aggregates.by_label(store, m))


@bp.get("/api/v1/models/<model_id>/topics-over-time")
def topics_over_time(model_id):
    return _aggregate(model_id, "topics-over-time", aggregates.over_time)


def _aggregate(model_id, what, read):
    store = get_store()
    corpus, m = registry.get_model(store, model_id)
    _require(m, "lda")
    period = request.args.get("period") or None
    if period is not None and what != "topics-over-time":
        raise InvalidInput("period applies to topics-over-time only")
    try:
        if request.args.get("format"):
            return _download(model_id, what, "csv", period)
        data = read(store, m, period)
    except aggregates.NotPrepared:
        return accepted(jobs.submit_views(store, corpus["name"], m["id"]))
    described = topics_of(store, m, 3)
    return jsonify(data | {"topics": [{"topic": t["topic"], "label": t["label"],
                                       "terms": [w for w, _ in t["terms"]]} for t in described]})


@bp.get("/api/v1/models/<model_id>/doc-topics")
def doc_topics(model_id):
    return _download(model_id, "doc-topics", "csv")


@bp.get("/api/v1/models/<model_id>/topic-terms")
def topic_terms(model_id):
    return _download(model_id, "topic-terms", "csv")


@bp.get("/api/v1/models/<model_id>/vectors")
def vectors(model_id):
    return _download(model_id, "vectors", "word2vec")


@bp.get("/api/v1/models/<model_id>/word-map")
def word_map(model_id):
    return _download(model_id, "word-map", "csv")


@bp.get("/api/v1/models/<model_id>/doc-map")
def doc_map(model_id):
    return _download(model_id, "doc-map", "csv")


def _download(model_id, what, default, period=None):
    filename, mimetype, chunks = download(get_store(), model_id, what, request.args.get("format", default), period)
    # content_type: the type as given (mimetype= would add a second "; charset=utf-8")
    resp = Response(stream_with_context(chunks), content_type=mimetype)
    resp.headers["Cache-Control"] = "no-store"       # labels and retraining change what a download holds
    resp.headers["Content-Disposition"] = f'attachment; filename="{safe_filename(filename)}"'
    return resp


def _model(model_id, kind):
    _, m = registry.get_model(get_store(), model_id)
    _require(m, kind)
    return m


def _require(model, kind):
    if model["kind"] != kind:
        raise ModelNotFound(f"model {model['id']} is a {model['kind']} model, not {kind}")
