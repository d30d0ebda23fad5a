"""Maps: the word and document map pages, and their JSON and binary twins.

The web process only reads stored maps (numba and umap-learn are never imported here);
a map is made by a job, which ``POST /api/v1/models/<id>/maps`` queues.
"""

import gzip
import hashlib
import threading

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for

from textlatent import jobs
from textlatent.errors import InvalidInput
from textlatent.explore import axes, map_views
from textlatent.explore.maps import WHAT, check_what, kinds_of, list_maps
from textlatent.store import queries as db
from textlatent.store import registry

from . import ui
from .db import get_store
from .responses import accepted, json_body

bp = Blueprint("maps", __name__)
ui.add_corpus_tab("maps", "Maps", "maps.maps_page", after="words")


@bp.get("/corpora/<name>/map")
def maps_page(name):
    """The Maps tab: the word map when the corpus has word vectors, else the document map."""
    with get_store().read() as conn:
        corpus = db.get_corpus(conn, name)
        has_vectors = bool(db.list_models(conn, corpus["id"], kind="word2vec"))
    return redirect(url_for("maps.map_page", name=corpus["name"], what="words" if has_vectors else "documents"))


@bp.get("/corpora/<name>/map/<what>")
def map_page(name, what):
    """A map page: ``?model=`` (default: the newest Word2Vec model for words; for
    documents the newest LDA model, or Word2Vec with ``?by=vectors``), ``?method=``,
    ``?topic=`` (highlighted at once)."""
    store = get_store()
    if what not in WHAT:
        raise InvalidInput(f"maps are of words or documents, not {what[:50]!r}")
    by = request.args.get("by")
    with store.read() as conn:
        corpus = db.get_corpus(conn, name)
        models = db.list_models(conn, corpus["id"])
    model = _chosen(models, what, request.args.get("model"), by)
    made = [m for m in list_maps(store, model) if m["what"] == what] if model else []
    method = request.args.get("method")
    meta = next((m for m in made if method in (None, m["method"])), None)
    mappable = [m for m in models if what in kinds_of(m)]
    return render_template("map.html", corpus=corpus, what=what, model=model, meta=meta, made=made,
                           mappable=mappable, topic=request.args.get("topic", ""),
                           lda=map_views.topics_model(store, model) if model else None)


def _chosen(models, what, model_id, by):
    if model_id:
        found = [m for m in models if str(m["id"]) == str(model_id)]
        if not found:
            raise InvalidInput(f"this corpus has no model {str(model_id)[:50]!r}")
        check_what(found[0], what)
        return found[0]
    kind = "lda" if what == "documents" and by != "vectors" else "word2vec"
    of_kind = [m for m in models if m["kind"] == kind]
    if not of_kind and what == "documents" and by is None:
        of_kind = [m for m in models if m["kind"] == "word2vec"]
    return of_kind[0] if of_kind else None


@bp.get("/api/v1/models/<model_id>/maps")
def model_maps(model_id):
    _, model = registry.get_model(get_store(), model_id)
    return jsonify(list_maps(get_store(), model))


@bp.post("/api/v1/models/<model_id>/maps")
def make_map(model_id):
    """``{"what": "words" | "documents", "params": {"method", "seed", ...}}`` -> 202, the map job."""
    body = json_body('{"what": "words" | "documents", "params": {"method": "umap", "seed": 1}}')
    params = body.get("params") or {}
    if not isinstance(params, dict):
        raise InvalidInput("params must be a JSON object")
    corpus, model = registry.get_model(get_store(), model_id)
    return accepted(jobs.submit(get_store(), "map", corpus["name"],
                                {**params, "model_id": model["id"], "what": body.get("what")}))


_gzipped = {}
_lock = threading.Lock()


_PARTS = {"points": (map_views.point_payload, "application/octet-stream"),
          "texts": (map_views.point_texts, "text/plain; charset=utf-8")}


@bp.get("/api/v1/models/<model_id>/maps/<what>/points", defaults={"part": "points"})
@bp.get("/api/v1/models/<model_id>/maps/<what>/texts", defaults={"part": "texts"})
def map_part(model_id, what, part):
    """The map's points as one binary buffer (``map_views.point_payload``), or its words or
    titles, one line a point (``map_views.point_texts``)."""
    store = get_store()
    _, model = registry.get_model(store, model_id)
    read, mimetype = _PARTS[part]
    key, raw = read(store, model, what, request.args.get("method"))
    return _cached((part, key), raw, mimetype)


def _cached(key, raw, mimetype):
    """``raw``, gzipped when the client takes it; cached by the browser until the map or
    its topics change (``key``)."""
    etag = '"' + hashlib.sha1(repr(key).encode()).hexdigest()[:20] + '"'
    if request.if_none_match.contains(etag.strip('"')):
        return Response(status=304, headers={"ETag": etag})
    body, headers = raw, {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        with _lock:
            body = _gzipped.get(key)
        if body is None:
            body = gzip.compress(raw, compresslevel=6, mtime=0)
            with _lock:
                if len(_gzipped) >= 8:
                    _gzipped.pop(next(iter(_gzipped)))
                _gzipped[key] = body
        headers["Content-Encoding"] = "gzip"
    return Response(body, mimetype=mimetype, headers=headers)


@bp.get("/api/v1/models/<model_id>/maps/<what>/points/<index>")
def map_point(model_id, what, index):
    store = get_store()
    _, model = registry.get_model(store, model_id)
    return jsonify(map_views.point_info(store, model, what, index, request.args.get("topn", 10),
                                        request.args.get("method")))



@bp.get("/api/v1/corpora/<name>/axis")
def corpus_axis(name):
    """``?from=&to=`` (each repeated or comma-separated) ``&topn=&model=``; with
    ``format=float32`` every word's score as a binary float32 array in the model's word
    order (what the map page draws), with its model in ``X-Model-Id``."""
    store, args = get_store(), request.args
    if args.get("format", "json") not in ("json", "float32"):
        raise InvalidInput("format is json or float32")
    if args.get("format") == "float32":
        model, _, _, scores = axes.axis_scores(store, name, args.getlist("from"), args.getlist("to"), args.get("model"))
        return Response(scores.astype("<f4").tobytes(), mimetype="application/octet-stream",
                        headers={"X-Model-Id": str(model["id"])})
    return jsonify(axes.axis(store, name, args.getlist("from"), args.getlist("to"), args.get("topn", 10),
                             args.get("model")))


@bp.get("/api/v1/corpora/<name>/interpolate")
def corpus_interpolate(name):
    """``?from=A&to=B&steps=&topn=&model=``; ``of=documents``: A and B are document positions."""
    args = request.args
    of = args.get("of", "words")
    if of not in ("words", "documents"):
        raise InvalidInput("of is words or documents")
    run = axes.interpolate_documents if of == "documents" else axes.interpolate
    return jsonify(run(get_store(), name, args.get("from"), args.get("to"), args.get("steps", 7),
                       args.get("topn", 5), args.get("model")))
