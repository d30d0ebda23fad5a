"""Documents: a corpus's documents page (search, filters, sorting), words in context,
similar documents, and their JSON twins."""

from flask import Blueprint, jsonify, render_template, request, url_for

from textlatent import jobs
from textlatent.errors import InvalidInput, WordNotFound
from textlatent.explore import aggregates
from textlatent.explore.kwic import kwic
from textlatent.explore.search import SORT_HELP, filters, list_documents
from textlatent.explore.similarity import similar_documents, similar_to_text
from textlatent.store import registry

from .db import get_store
from .responses import accepted, json_body

bp = Blueprint("documents", __name__)

FIELDS = ("q", "label", "topic", "date_from", "date_to", "sort", "limit", "offset")


def _args():
    """The query's fields; a field left blank on the form is no filter."""
    return {k: v for k in FIELDS if (v := _arg(k)) not in (None, "")}


def _arg(name):
    # ``start`` was the documents list's first paging parameter: it still means ``offset``.
    return request.args.get("start") if name == "offset" and "offset" not in request.args else request.args.get(name)


@bp.get("/api/v1/corpora/<name>/documents")
def documents_json(name):
    store = get_store()
    try:
        return jsonify(list_documents(store, name, model_id=request.args.get("model"), **_blank_is_given()))
    except aggregates.NotPrepared as e:
        return accepted(jobs.submit_views(store, name, e.details["model_id"]))


def _blank_is_given():
    # The API says what it was sent: an empty q= is an empty search (an error), not none.
    return {k: _arg(k) for k in FIELDS if k in request.args or (k == "offset" and "start" in request.args)}


@bp.get("/corpora/<name>/documents")
def documents_page(name):
    store = get_store()
    args = _args()
    result, error = None, None
    try:
        result = list_documents(store, name, model_id=request.args.get("model"), **args)
    except aggregates.NotPrepared as e:
        jobs.submit_views(store, name, e.details["model_id"])
        error = e.message
    except InvalidInput as e:
        error = e.message
    offered = filters(store, name, request.args.get("model"))
    return render_template("documents.html", corpus_name=name, args=args, result=result, error=error,
                           offered=offered, sort_help=SORT_HELP, marked=marked, pages=_pages(name, args, result))


def _pages(name, args, result):
    """The URLs of the previous and next pages (None at either end)."""
    if not result:
        return {}
    try:
        limit, offset = int(args.get("limit", 50)), int(args.get("offset", 0))
    except ValueError:
        return {}

    def at(o):
        return url_for("documents.documents_page", name=name, **(args | {"offset": o}))
    return {"prev": at(max(0, offset - limit)) if offset > 0 else None,
            "next": at(offset + limit) if offset + limit < result["total"] else None}


def marked(snippet, highlights):
    """``[(text, is_match)]`` pieces of a snippet, for the template to wrap matches in <mark>."""
    pieces, at = [], 0
    for start, end in highlights:
        if start > at:
            pieces.append((snippet[at:start], False))
        pieces.append((snippet[start:end], True))
        at = end
    pieces.append((snippet[at:], False))
    return [p for p in pieces if p[0]]


@bp.get("/api/v1/corpora/<name>/kwic")
def kwic_json(name):
    return jsonify(kwic(get_store(), name, request.args.get("word"), request.args.get("limit", 20),
                        request.args.get("offset", 0)))


@bp.get("/corpora/<name>/kwic")
def kwic_page(name):
    word, result, error = request.args.get("word") or "", None, None
    limit, offset = request.args.get("limit", 50), request.args.get("offset", 0)
    if word:
        try:
            result = kwic(get_store(), name, word, limit, offset)
        except (InvalidInput, WordNotFound) as e:
            error = e.message
    pages = {}
    if result:
        at = int(offset) + len(result["lines"])
        if at < result["total"] and len(result["lines"]) == int(limit):
            pages["next"] = url_for("documents.kwic_page", name=name, word=word, limit=limit, offset=at)
    return render_template("kwic.html", corpus_name=name, word=word, result=result, error=error, pages=pages,
                           offset=int(offset) if str(offset).isdigit() else 0)


@bp.get("/api/v1/corpora/<name>/documents/<position>/similar")
def similar_json(name, position):
    store = get_store()
    try:
        return jsonify(similar_documents(store, name, position, request.args.get("by", "topics"),
                                         request.args.get("limit", 10), request.args.get("model")))
    except aggregates.NotPrepared as e:
        return accepted(jobs.submit_views(store, name, e.details["model_id"]))


@bp.post("/api/v1/models/<model_id>/similar-documents")
def similar_to_text_json(model_id):
    """``{"text": "...", "limit": 10}``: the documents nearest a new text's topic mixture."""
    store = get_store()
    corpus, m = registry.get_model(store, model_id)
    body = json_body('{"text": "...", "limit": 10}')
    if not isinstance(body.get("text"), str):
        raise InvalidInput('send JSON {"text": "..."}')
    try:
        return jsonify(similar_to_text(store, corpus["name"], body["text"], body.get("limit", 10), m["id"]))
    except aggregates.NotPrepared as e:
        return accepted(jobs.submit_views(store, corpus["name"], e.details["model_id"]))
