"""The JSON API under /api/v1: each view calls one library function."""

from flask import Blueprint, Response, current_app, jsonify, request

from textlatent import registry, store
from textlatent.embeddings import similar
from textlatent.topics import infer, topic_documents, topics_of

bp = Blueprint("api", __name__)


def cfg():
    return current_app.config["TEXTLATENT"]


def model_json(m):
    return {"id": m["id"], "kind": m["kind"], "params": m["params"], "seed": m["seed"],
            "fingerprint": m["fingerprint"], "versions": m["versions"], "train_seconds": m["train_seconds"],
            "metrics": m["metrics"], "labels": m.get("labels"), "created": m["created"].isoformat() + "Z"}


@bp.get("/corpora")
def corpora():
    engine = store.get_engine(cfg().database_url)
    with store.read(engine) as conn:
        rows = store.list_corpora(conn)
    return jsonify([{"name": c["name"], "documents": c["n_docs"], "tokens": c["n_tokens"],
                     "vocabulary": c["n_terms"]} for c in rows])


@bp.get("/corpora/<name>/models")
def corpus_models(name):
    return jsonify([model_json(m) for m in registry.list_models(cfg(), name)])


@bp.get("/models/<model_id>")
def model(model_id):
    _, m = registry.get_model(cfg(), model_id)
    return jsonify(model_json(m))


@bp.get("/models/<model_id>/topics")
def model_topics(model_id):
    _, m = registry.get_model(cfg(), model_id)
    _require(m, "lda")
    from textlatent.params import Param, validate
    topn = validate([Param("topn", "int", 10, 1, 1000)], {"topn": request.args.get("topn")})["topn"]
    return jsonify({"model_id": m["id"], "topics": topics_of(cfg(), m, topn)})


@bp.get("/models/<model_id>/topics/<topic>/documents")
def model_topic_documents(model_id, topic):
    _, m = registry.get_model(cfg(), model_id)
    _require(m, "lda")
    return jsonify(topic_documents(cfg(), m, topic, request.args.get("limit", 10)))


@bp.get("/models/<model_id>/ldavis.json")
def model_ldavis(model_id):
    """pyLDAvis's prepared data, as stored at training time (never recomputed here)."""
    _, m = registry.get_model(cfg(), model_id)
    _require(m, "lda")
    with open(registry.model_path(cfg(), m, "ldavis.json"), "rb") as fh:
        data = fh.read()
    resp = Response(data, mimetype="application/json")
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp


@bp.post("/models/<model_id>/infer")
def model_infer(model_id):
    corpus, m = registry.get_model(cfg(), model_id)
    _require(m, "lda")
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        from textlatent.errors import InvalidInput
        raise InvalidInput('send JSON {"text": "..."}')
    return jsonify(infer(cfg(), corpus["name"], body["text"], m["id"]))


@bp.get("/corpora/<name>/similar")
def corpus_similar(name):
    words = [w for w in request.args.getlist("word")]
    negative = request.args.getlist("negative")
    return jsonify(similar(cfg(), name, words, negative, request.args.get("topn", 10),
                           request.args.get("model")))


def _require(model, kind):
    from textlatent.errors import ModelNotFound
    if model["kind"] != kind:
        raise ModelNotFound(f"model {model['id']} is a {model['kind']} model, not {kind}")
