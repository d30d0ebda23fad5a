"""The JSON API under /api/v1: each view reads its input, calls one library function,
and returns JSON. Long work (ingest, training) becomes a job: 202 with the job object."""

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context

from textlatent import corpus as corpus_lib
from textlatent import jobs, registry, store, uploads
from textlatent.embeddings import similar
from textlatent.errors import Conflict, InvalidInput, ModelNotFound
from textlatent.export import download
from textlatent.params import Param, validate
from textlatent.topics import TOPN_MAX, infer, set_labels, topic_documents, topics_of

bp = Blueprint("api", __name__)


def cfg():
    return current_app.config["TEXTLATENT"]


def model_json(m):
    return {"id": m["id"], "kind": m["kind"], "params": m["params"], "seed": m["seed"],
            "fingerprint": m["fingerprint"], "versions": m["versions"], "train_seconds": m["train_seconds"],
            "metrics": m["metrics"], "labels": m.get("labels") or {},
            "created": m["created"].isoformat(timespec="seconds") + "Z",
            "url": f"/api/v1/models/{m['id']}"}


def _accepted(job):
    resp = jsonify(jobs.job_json(job))
    resp.status_code = 202
    resp.headers["Location"] = f"/api/v1/jobs/{job['id']}"
    return resp


def _json_body(shape):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput(f"send JSON {shape} with Content-Type: application/json")
    return body


# -- corpora ---------------------------------------------------------------------------------

@bp.get("/corpora")
def corpora():
    engine = store.get_engine(cfg().database_url)
    with store.read(engine) as conn:
        rows = store.list_corpora(conn)
    return jsonify([{"name": c["name"], "documents": c["n_docs"], "tokens": c["n_tokens"],
                     "vocabulary": c["n_terms"], "url": f"/api/v1/corpora/{c['name']}"} for c in rows])


@bp.post("/corpora")
def upload():
    """Multipart: ``name``, one or more ``file`` parts, and the CLI's read options."""
    files = [(f.filename, f.stream) for f in request.files.getlist("file") if f and f.filename]
    job = uploads.stage(cfg(), request.form.get("name", ""), files, uploads.read_options(request.form))
    return _accepted(job)


@bp.get("/corpora/<name>")
def corpus(name):
    data = corpus_lib.overview(cfg(), name)
    data["models"] = [model_json(m) for m in registry.list_models(cfg(), name)]
    data["jobs"] = [jobs.job_json(j) for j in jobs.list_jobs(cfg(), data["name"], limit=20)]
    return jsonify(data)


@bp.delete("/corpora/<name>")
def delete_corpus(name):
    from textlatent.ingest import delete_corpus as run
    active = jobs.active_jobs(cfg(), name)
    if active:
        raise Conflict(f"corpus {name!r} has {len(active)} job(s) pending or running; cancel them first")
    run(cfg(), name)
    return "", 204


@bp.get("/corpora/<name>/documents/<position>")
def document(name, position):
    return jsonify(corpus_lib.document(cfg(), name, position))


@bp.get("/corpora/<name>/models")
def corpus_models(name):
    return jsonify([model_json(m) for m in registry.list_models(cfg(), name)])


@bp.post("/corpora/<name>/models")
def train(name):
    """``{"kind": "lda" | "word2vec", "params": {...}}`` -> 202 with the training job."""
    body = _json_body('{"kind": "lda" | "word2vec", "params": {...}}')
    kind = body.get("kind")
    if kind not in ("lda", "word2vec"):
        raise InvalidInput('kind must be "lda" or "word2vec"')
    params = body.get("params") or {}
    if not isinstance(params, dict):
        raise InvalidInput("params must be a JSON object")
    return _accepted(jobs.submit(cfg(), kind, name, params))


@bp.get("/corpora/<name>/jobs")
def corpus_jobs(name):
    return jsonify([jobs.job_json(j) for j in jobs.list_jobs(cfg(), name)])


@bp.get("/corpora/<name>/similar")
def corpus_similar(name):
    return jsonify(similar(cfg(), name, request.args.getlist("word"), request.args.getlist("negative"),
                           request.args.get("topn", 10), request.args.get("model")))


# -- jobs ------------------------------------------------------------------------------------

@bp.get("/jobs")
def all_jobs():
    return jsonify([jobs.job_json(j) for j in jobs.list_jobs(cfg(), request.args.get("corpus"))])


@bp.get("/jobs/<job_id>")
def job(job_id):
    return jsonify(jobs.job_json(jobs.get(cfg(), job_id)))


@bp.post("/jobs/<job_id>/cancel")
def cancel_job(job_id):
    return jsonify(jobs.job_json(jobs.cancel(cfg(), job_id)))


@bp.post("/jobs/<job_id>/retry")
def retry_job(job_id):
    return _accepted(jobs.retry(cfg(), job_id))


# -- models ----------------------------------------------------------------------------------

@bp.get("/models/<model_id>")
def model(model_id):
    corpus, m = registry.get_model(cfg(), model_id)
    return jsonify(model_json(m) | {"corpus": corpus["name"]})


@bp.put("/models/<model_id>/labels")
def model_labels(model_id):
    body = _json_body('{"labels": {"<topic>": "<label>"}}')
    return jsonify({"labels": set_labels(cfg(), model_id, body.get("labels"))})


@bp.get("/models/<model_id>/topics")
def model_topics(model_id):
    m = _model(model_id, "lda")
    topn = validate([Param("topn", "int", 10, 1, TOPN_MAX)], {"topn": request.args.get("topn")})["topn"]
    return jsonify({"model_id": m["id"], "labels": m.get("labels") or {}, "topics": topics_of(cfg(), m, topn)})


@bp.get("/models/<model_id>/topics/<topic>/documents")
def model_topic_documents(model_id, topic):
    m = _model(model_id, "lda")
    return jsonify(topic_documents(cfg(), m, topic, request.args.get("limit", 10)))


@bp.get("/models/<model_id>/ldavis.json")
def model_ldavis(model_id):
    """pyLDAvis's prepared data, as stored at training time (never recomputed here)."""
    m = _model(model_id, "lda")
    with open(registry.model_path(cfg(), m, "ldavis.json"), "rb") as fh:
        data = fh.read()
    resp = Response(data, mimetype="application/json")
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp


@bp.post("/models/<model_id>/infer")
def model_infer(model_id):
    corpus, m = registry.get_model(cfg(), model_id)
    _require(m, "lda")
    body = _json_body('{"text": "..."}')
    if not isinstance(body.get("text"), str):
        raise InvalidInput('send JSON {"text": "..."}')
    return jsonify(infer(cfg(), corpus["name"], body["text"], m["id"]))


@bp.get("/models/<model_id>/doc-topics")
def doc_topics(model_id):
    return _download(model_id, "doc-topics", "csv")


@bp.get("/models/<model_id>/topic-terms")
def topic_terms(model_id):
    return _download(model_id, "topic-terms", "csv")


@bp.get("/models/<model_id>/vectors")
def vectors(model_id):
    return _download(model_id, "vectors", "word2vec")


def _download(model_id, what, default):
    filename, mimetype, chunks = download(cfg(), model_id, what, request.args.get("format", default))
    resp = Response(stream_with_context(chunks), mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{uploads.safe_filename(filename)}"'
    return resp


def _model(model_id, kind):
    _, m = registry.get_model(cfg(), model_id)
    _require(m, kind)
    return m


def _require(model, kind):
    if model["kind"] != kind:
        raise ModelNotFound(f"model {model['id']} is a {model['kind']} model, not {kind}")


@bp.get("/openapi.json")
def openapi():
    from .openapi import spec
    return jsonify(spec())
