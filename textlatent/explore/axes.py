"""Semantic axes and interpolation in a corpus's latent space.

- An axis runs between two poles, each one or more words: a word's score is the cosine
  between its unit vector and the difference of the poles' centres (the mean of their
  unit vectors), so the ``to`` pole's words score high and the ``from`` pole's low.
- Interpolation walks from word A to word B along the great circle between their unit
  vectors (spherical interpolation) and lists the nearest words at each step; between two
  documents it walks between the square roots of their topic mixtures (unit vectors, whose
  squares are mixtures again: the Hellinger geodesic) and lists the nearest documents.
"""

import numpy as np

from ..errors import InvalidInput, WordNotFound
from ..params import Param, validate
from ..store import queries as db
from ..store import registry
from .map_views import shown_title
from .topics import model_arrays, topics_of
from .words import check_words, load_vectors

TOPN = Param("topn", "int", 10, 1, 1000, help="words at each end, or at each step")
STEPS = Param("steps", "int", 7, 2, 100, help="points from A to B, both included")


def split_words(values):
    """Words from repeated options or parameters, each possibly "man, he" or "man he"."""
    if isinstance(values, str):
        values = [values]
    return [w for v in values or () for w in str(v).replace(",", " ").split()]


def _pole(vecs, words, which):
    words = check_words(split_words(words), f"{which} word")
    if not words:
        raise InvalidInput(f"give at least one word for the {which} pole")
    ids = [vecs.lookup(w) for w in words]
    missing = [w for w, i in zip(words, ids) if i is None]
    if missing:
        sugg = {w: vecs.suggestions(w.lower()) for w in missing}
        hint = "; ".join(f"{w!r}: did you mean {', '.join(s)}?" if s else f"{w!r}: no close words"
                         for w, s in sugg.items())
        lead = (f"none of the {which} words is in the vocabulary" if len(missing) == len(words)
                else f"not in the vocabulary ({which} pole)")
        raise WordNotFound(f"{lead}: {', '.join(map(repr, missing))}. {hint}", missing=missing, suggestions=sugg)
    return words, sorted(set(ids))


def axis_scores(store, corpus_name, from_words, to_words, model_id=None):
    """``(model, from words, to words, scores)``: every word's score on the axis from the
    ``from`` pole to the ``to`` pole (float32, in the model's word order, -1..1)."""
    _, model = registry.find_model(store, corpus_name, model_id, kind="word2vec")
    vecs = load_vectors(store, model)
    from_words, a = _pole(vecs, from_words, "from")
    to_words, b = _pole(vecs, to_words, "to")
    if a == b:
        raise InvalidInput("both poles are the same words; an axis needs two different ends")
    shared = sorted(set(a) & set(b))
    if shared:
        raise InvalidInput(f"{', '.join(repr(vecs.words[i]) for i in shared)} cannot be in both poles")
    direction = np.asarray(vecs.unit[b]).mean(0) - np.asarray(vecs.unit[a]).mean(0)
    norm = float(np.linalg.norm(direction))
    if norm < 1e-6:
        raise InvalidInput("the two poles have the same centre; choose words further apart")
    return model, from_words, to_words, np.asarray(vecs.unit @ (direction / norm), dtype=np.float32)


def axis(store, corpus_name, from_words, to_words, topn=10, model_id=None):
    """``{"model_id", "from", "to", "words": [{"word", "score"}, ...]}``: the ``topn`` words
    nearest the ``to`` end, then the ``topn`` nearest the ``from`` end, ranked from the ``to``
    end to the ``from`` end (every word once when 2 x topn covers the vocabulary)."""
    topn = validate([TOPN], {"topn": topn})["topn"]
    model, from_words, to_words, scores = axis_scores(store, corpus_name, from_words, to_words, model_id)
    words = load_vectors(store, model).words
    order = np.argsort(-scores, kind="stable")
    chosen = order if 2 * topn >= len(order) else np.concatenate([order[:topn], order[-topn:]])
    return {"model_id": model["id"], "from": from_words, "to": to_words,
            "words": [{"word": words[i], "score": round(float(scores[i]), 5)} for i in chosen]}


def _slerp(u, v, steps):
    """``steps`` unit vectors from ``u`` to ``v`` (both length 1) along their great circle,
    with their t in 0..1; InvalidInput when they point the same way."""
    omega = float(np.arccos(np.clip(np.dot(u, v), -1.0, 1.0)))
    if np.sin(omega) < 1e-6:
        raise InvalidInput("the two ends point the same way (or exactly opposite ways); choose others")
    ts = np.linspace(0.0, 1.0, steps)
    points = (np.sin((1 - ts)[:, None] * omega) * u + np.sin(ts[:, None] * omega) * v) / np.sin(omega)
    return ts, points.astype(np.float32)


def _nearest(matrix, point, topn):
    sims = matrix @ point
    k = min(topn, len(sims))
    top = np.argpartition(-sims, k - 1)[:k]
    return top[np.argsort(-sims[top], kind="stable")], sims


def interpolate(store, corpus_name, word_a, word_b, steps=7, topn=5, model_id=None):
    """``{"model_id", "from", "to", "steps": [{"t", "words": [{"word", "similarity",
    "index"}, ...]}, ...]}``: the nearest words at each of ``steps`` points from A to B;
    the first step's nearest word is A, the last's B."""
    p = validate([STEPS, TOPN], {"steps": steps, "topn": topn})
    _, model = registry.find_model(store, corpus_name, model_id, kind="word2vec")
    vecs = load_vectors(store, model)
    (a,), ia = _one_word(vecs, word_a, "from")
    (b,), ib = _one_word(vecs, word_b, "to")
    if ia == ib:
        raise InvalidInput("give two different words to interpolate between")
    unit = np.asarray(vecs.unit)
    ts, points = _slerp(unit[ia[0]], unit[ib[0]], p["steps"])
    out = []
    for t, point in zip(ts, points):
        top, sims = _nearest(unit, point, p["topn"])
        out.append({"t": round(float(t), 4), "words": [{"word": vecs.words[i], "similarity": round(float(sims[i]), 5),
                                                        "index": int(i)} for i in top]})
    return {"model_id": model["id"], "from": a, "to": b, "steps": out}


def _one_word(vecs, word, which):
    words = split_words(word)
    if len(words) > 1:
        raise InvalidInput(f"interpolation goes from one word to another; the {which} end has {len(words)}")
    return _pole(vecs, words, which)


def _position(value, n, which):
    """A document position 0..n-1 (InvalidInput naming the range otherwise)."""
    found = validate([Param(which, "int", None, 0, n - 1, help="a document position")], {which: value})[which]
    if found is None:
        raise InvalidInput(f"give the {which} document's position, 0..{n - 1}")
    return found


def interpolate_documents(store, corpus_name, doc_a, doc_b, steps=7, topn=5, model_id=None):
    """``{"model_id", "from", "to", "steps": [{"t", "topics": [{"topic", "name", "weight"}...],
    "documents": [{"position", "title", "similarity"}, ...]}, ...]}``: the topic mixtures
    on the Hellinger geodesic between two documents' (LDA model ``model_id`` or the newest),
    and the documents nearest each (similarity: the Bhattacharyya coefficient, 1 = the same
    mixture); the first step's nearest document is A, the last's B."""
    p = validate([STEPS, TOPN], {"steps": steps, "topn": topn})
    corpus, model = registry.find_model(store, corpus_name, model_id, kind="lda")
    theta = np.asarray(model_arrays(store, model)["doc_topics"], dtype=np.float32)
    a, b = _position(doc_a, len(theta), "from"), _position(doc_b, len(theta), "to")
    if a == b:
        raise InvalidInput("give two different documents to interpolate between")
    root = np.sqrt(np.maximum(theta, 0))
    root /= np.maximum(np.linalg.norm(root, axis=1, keepdims=True), 1e-12)
    ts, points = _slerp(root[a], root[b], p["steps"])
    found = [(t, point, _nearest(root, point, p["topn"])) for t, point in zip(ts, points)]
    wanted = sorted({int(i) for _, _, (top, _) in found for i in top})
    with store.read() as conn:
        docs = {d["position"]: d for d in db.get_documents(conn, corpus["id"], positions=wanted,
                                                           columns=("position", "doc_key", "title", "text"))}
    names = {t["topic"]: t for t in topics_of(store, model, 3)}
    out = []
    for t, point, (top, sims) in found:
        mix = point.astype(np.float64) ** 2
        out.append({"t": round(float(t), 4),
                    "topics": [{"topic": int(k), "name": _name(names[int(k)]), "weight": round(float(mix[k]), 4)}
                               for k in np.argsort(-mix)[:3]],
                    "documents": [{"position": int(i), "title": shown_title(docs.get(int(i), {})),
                                   "similarity": round(float(sims[i]), 5)} for i in top]})
    return {"model_id": model["id"], "from": a, "to": b, "steps": out}


def _name(topic):
    return topic["label"] or " ".join(t for t, _ in topic["terms"])
