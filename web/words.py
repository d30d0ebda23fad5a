"""Words: the similar-words page and its JSON twin (nearest words, analogies)."""

from flask import Blueprint, jsonify, render_template, request

from textlatent import views
from textlatent.explore.words import similar

from .db import get_store

bp = Blueprint("words", __name__)


@bp.get("/corpora/<name>/words")
def words_page(name):
    page = views.words_page(get_store(), name)
    return render_template("words.html", corpus=page["corpus"], has_vectors=page["has_vectors"])


@bp.get("/api/v1/corpora/<name>/similar")
def corpus_similar(name):
    return jsonify(similar(get_store(), name, request.args.getlist("word"), request.args.getlist("negative"),
                           request.args.get("topn", 10), request.args.get("model")))
