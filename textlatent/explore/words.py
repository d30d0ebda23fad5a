"""Reads of a Word2Vec model: nearest words by cosine, analogies, spelling suggestions.

Searches memory-map the unit-normalised matrix saved at training time and scan it once
with numpy.
"""

import difflib
import functools
import json
import os

import numpy as np

from ..errors import InvalidInput, WordNotFound
from ..params import Param, validate
from ..store import registry
from . import lasting
from .inference import corpus_terms

TOPN_MAX = 1000
MAX_WORD = 200


class Vectors:
    """A trained model's vectors, memory-mapped; ``unit`` rows have length 1."""

    def __init__(self, folder):
        load = functools.partial(np.load, mmap_mode="r", allow_pickle=False)
        self.unit = load(os.path.join(folder, "unit.npy"))
        self.vectors = load(os.path.join(folder, "vectors.npy"))
        with open(os.path.join(folder, "words.json"), encoding="utf-8") as fh:
            self.words = json.load(fh)
        self.index = {w: i for i, w in enumerate(self.words)}
        self._by_initial = None

    def suggestions(self, word, n=5):
        """Vocabulary words close to ``word`` in spelling (for 'did you mean')."""
        if self._by_initial is None:
            groups = {}
            for w in self.words:
                groups.setdefault(w[:1], []).append(w)
            self._by_initial = groups
        pool = self._by_initial.get(word[:1], [])
        if len(pool) < 50:
            pool = self.words[:20000]
        pool = [w for w in pool if abs(len(w) - len(word)) <= 3]
        prefix = [w for w in self.words[:50000] if w.startswith(word)][:n] if len(word) >= 3 else []
        close = difflib.get_close_matches(word, pool, n=n, cutoff=0.7)
        return list(dict.fromkeys(close + prefix))[:n]

    def lookup(self, word):
        if word in self.index:
            return self.index[word]
        for variant in (word.lower(), word.strip().lower().replace(" ", "_")):
            if variant in self.index:
                return self.index[variant]
        return None

    def nearest(self, positive, negative=(), topn=10):
        """Words nearest by cosine similarity to sum(positive) - sum(negative), query words excluded."""
        ids, missing = [], []
        for sign, words in ((1.0, positive), (-1.0, negative)):
            for w in words:
                i = self.lookup(w)
                if i is None:
                    missing.append(w)
                else:
                    ids.append((i, sign))
        if missing:
            sugg = {w: self.suggestions(w.lower()) for w in missing}
            hint = "; ".join(f"{w!r}: did you mean {', '.join(s)}?" if s else f"{w!r}: no close words"
                             for w, s in sugg.items())
            raise WordNotFound(f"not in the vocabulary: {', '.join(map(repr, missing))}. {hint}",
                               missing=missing, suggestions=sugg)
        query = np.zeros(self.unit.shape[1], dtype=np.float32)
        for i, sign in ids:
            query += sign * self.unit[i]
        norm = np.linalg.norm(query)
        if norm > 0:
            query /= norm
        scores = self.unit @ query
        exclude = [i for i, _ in ids]
        scores[exclude] = -np.inf
        k = min(topn, len(scores) - len(set(exclude)))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.words[i], round(float(scores[i]), 5)) for i in top]


@lasting.cache(8)
def _vectors(folder):
    return Vectors(folder)


def load_vectors(store, model):
    return _vectors(registry.model_path(store, model))


def check_words(words, what="word"):
    out = []
    for w in words:
        if not isinstance(w, str) or not w.strip():
            raise InvalidInput(f"an empty {what} was given")
        if len(w) > MAX_WORD:
            raise InvalidInput(f"a {what} has at most {MAX_WORD} characters")
        out.append(w.strip())
    return out


def similar(store, corpus_name, positive, negative=(), topn=10, model_id=None):
    """Nearest words (or an analogy, with ``negative``): ``{"model_id", "positive", "negative",
    "terms": {"positive", "negative"} (the vocabulary terms used), "results": [[word, cos]...]}``."""
    if isinstance(positive, str):
        positive = [positive]
    if isinstance(negative, str):
        negative = [negative]
    positive = check_words(list(positive or []))
    negative = check_words(list(negative or []), "negative word")
    if not positive:
        raise InvalidInput("give at least one word")
    topn = validate([Param("topn", "int", 10, 1, TOPN_MAX)], {"topn": topn})["topn"]
    corpus, model = registry.find_model_recent(store, corpus_name, model_id, kind="word2vec")
    vecs = load_vectors(store, model)
    terms = {"positive": query_terms(store, vecs, corpus, positive),
             "negative": query_terms(store, vecs, corpus, negative)}
    return {"model_id": model["id"], "positive": positive, "negative": negative, "terms": terms,
            "results": vecs.nearest(terms["positive"], terms["negative"], topn)}


def query_terms(store, vecs, corpus, words):
    """The vocabulary terms of typed query ``words``: a word or phrase of the vocabulary as
    typed (``new york`` is ``new_york``), else what the corpus's tokenizer and phrases make
    of it ("Tony Blair's taxes": ``tony_blair``, ``tax``). A word that makes no term (a
    stop word, a number) is WordNotFound; terms missing from the model are left for
    :meth:`Vectors.nearest` to report with suggestions."""
    out = []
    for word in words:
        i = vecs.lookup(word)
        if i is not None:
            out.append(vecs.words[i])
            continue
        made = corpus_terms(store, corpus, word)
        if not made:
            raise WordNotFound(f"{word!r} makes no term with this corpus's tokenizer (a stop word, a number "
                               "or too short); `textlatent tokenize` shows what it keeps",
                               missing=[word], suggestions={word: []})
        out.extend(made)
    return out
