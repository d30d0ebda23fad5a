"""Words: the similar-words page and its JSON twin (nearest words, analogies), and what a
corpus's pipeline makes of a text."""

from flask import Blueprint, jsonify, render_template, request

from textlatent import views
from textlatent.explore.tokens import tokenize_text
from textlatent.explore.words import similar

from .db import get_store
from .responses import json_body

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


@bp.route("/api/v1/corpora/<name>/tokenize", methods=["GET", "POST"])
def corpus_tokenize(name):
    """``?text=`` or JSON ``{"text": "..."}`` -> ``{"tokens": [...]}`` as the corpus stores them."""
    text = request.args.get("text") if request.method == "GET" else json_body('{"text": "..."}').get("text")
    return jsonify(tokenize_text(get_store(), name, text))
