"""Words: the similar-words page and its JSON twin (nearest words, analogies)."""

from flask import Blueprint, jsonify, render_template, request

from textlatent import views
from textlatent.explore.words import similar

from .db import get_store

bp = Blueprint("words", __name__)


@bp.get("/corpora/<name>/words")
def words_page(name):
    page = views.words_page(get_store(), name)
    models, chosen = page["models"], request.args.get("model")
    selected = next((m for m in models if str(m["id"]) == chosen), models[0] if models else None)
    return render_template("words.html", corpus=page["corpus"], models=models, selected=selected)


@bp.get("/api/v1/corpora/<name>/similar")
def corpus_similar(name):
    return jsonify(similar(get_store(), name, request.args.getlist("word"), request.args.getlist("negative"),
                           request.args.get("topn", 10), request.args.get("model")))
