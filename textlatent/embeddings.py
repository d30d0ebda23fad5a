"""Word2Vec vectors: training, nearest neighbours, analogies.

Training reads a temporary file in gensim's ``corpus_file`` format (its fastest mode,
with no Python in the inner loop). The vectors are saved as plain ``.npy`` arrays
(raw and unit-normalised) with the words in JSON: searches memory-map the normalised
matrix and scan it once with numpy; nothing is unpickled.
"""

import difflib
import functools
import json
import os
import shutil
import time

import numpy as np
from gensim.models.callbacks import CallbackAny2Vec

from . import registry
from .corpus import StoredCorpus
from .errors import InvalidInput, WordNotFound
from .params import Param, validate

W2V_PARAMS = [
    Param("vector_size", "int", 100, 2, 2000, help="dimensions of the vectors"),
    Param("window", "int", 5, 1, 100, help="context words on each side"),
    Param("min_count", "int", 5, 1, 10**9, help="ignore words rarer than this"),
    Param("epochs", "int", 5, 1, 1000, help="passes over the corpus"),
    Param("sg", "int", 0, 0, 1, help="1: skip-gram; 0: CBOW"),
    Param("negative", "int", 5, 0, 100, help="negative samples (0: hierarchical softmax)"),
    Param("sample", "float", 1e-3, 0.0, 1.0, help="down-sampling threshold of frequent words"),
    Param("alpha", "float", 0.025, 1e-6, 1.0, help="initial learning rate"),
    Param("seed", "int", 1, 0, 2**31 - 1, help="random seed"),
    Param("workers", "int", 0, 0, 64, help="training threads; 0: the machine's cores"),
]

TOPN_MAX = 1000
MAX_WORD = 200


def validate_w2v(params):
    return validate(W2V_PARAMS, params or {})


class _Epochs(CallbackAny2Vec):
    """gensim callback: progress per epoch, and the point where a cancel takes effect."""

    def __init__(self, progress, epochs):
        self.progress, self.epochs, self.epoch = progress, epochs, 0

    def on_epoch_begin(self, model):
        self.progress(self.epoch, self.epochs, f"Word2Vec epoch {self.epoch + 1} of {self.epochs}")

    def on_epoch_end(self, model):
        self.epoch += 1
        # May raise Cancelled: between epochs gensim's threads are joined, so stopping is clean.
        self.progress(self.epoch, self.epochs, f"Word2Vec epoch {self.epoch} of {self.epochs} done")

    def on_train_begin(self, model):
        pass

    def on_train_end(self, model):
        pass


def train_word2vec(config, corpus_name, params=None, progress=None, workdir_prefix=".tmp-"):
    """Train Word2Vec on the corpus's token streams; returns the model id."""
    from gensim.models import Word2Vec

    progress = progress or (lambda done, total, message: None)
    p = validate_w2v(params)
    stored = StoredCorpus(config, corpus_name)
    workers = p["workers"] or (os.cpu_count() or 2)
    workdir = registry.new_workdir(config, workdir_prefix)
    try:
        progress(0, p["epochs"], "writing the training file")
        corpus_file, n_words = _write_corpus_file(stored, workdir)
        if not (np.asarray(stored.cf) >= p["min_count"]).any():
            raise InvalidInput(f"no word occurs min_count={p['min_count']} times; lower min_count")
        started = time.perf_counter()
        model = Word2Vec(corpus_file=corpus_file, vector_size=p["vector_size"], window=p["window"],
                         min_count=p["min_count"], epochs=p["epochs"], sg=p["sg"], negative=p["negative"],
                         hs=0 if p["negative"] else 1, sample=p["sample"], alpha=p["alpha"],
                         seed=p["seed"], workers=workers, callbacks=[_Epochs(progress, p["epochs"])])
        train_seconds = time.perf_counter() - started
        os.remove(corpus_file)
        kv = model.wv
        vectors = np.asarray(kv.vectors, dtype=np.float32)
        np.save(os.path.join(workdir, "vectors.npy"), vectors)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        np.save(os.path.join(workdir, "unit.npy"), vectors / np.maximum(norms, 1e-12))
        registry.write_json(os.path.join(workdir, "words.json"), list(kv.index_to_key))
        np.save(os.path.join(workdir, "counts.npy"),
                np.asarray([kv.get_vecattr(w, "count") for w in kv.index_to_key], dtype=np.int64))
        metrics = {"vocabulary": len(kv.index_to_key), "corpus_words": n_words,
                   "train_seconds": round(train_seconds, 3),
                   "words_per_second": round(n_words * p["epochs"] / max(train_seconds, 1e-9))}
        if stored.corpus["settings"].get("language", "en") == "en":
            progress(p["epochs"], p["epochs"], "evaluating on word benchmarks")
            metrics.update(evaluate(kv))
        with registry.store.read(stored.engine) as conn:
            fp = registry.fingerprint(conn, stored.corpus)
        return registry.commit_model(config, stored.corpus, "word2vec", p, p["seed"], fp,
                                     time.perf_counter() - started, metrics, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _write_corpus_file(stored, workdir):
    """One line of space-separated terms per document (gensim's LineSentence format)."""
    path = os.path.join(workdir, "corpus.txt")
    terms = np.asarray(stored.terms, dtype=object)
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for _, ids in stored.token_ids():
            if len(ids):
                fh.write(" ".join(terms[ids].tolist()))
                fh.write("\n")
                n += len(ids)
    return path, n


def evaluate(kv):
    """Analogy accuracy and WordSim353 Spearman on the test files gensim ships."""
    import logging

    from gensim.test.utils import datapath
    out = {}
    level = logging.getLogger("gensim.models.keyedvectors").level
    logging.getLogger("gensim.models.keyedvectors").setLevel(logging.WARNING)
    try:
        score, sections = kv.evaluate_word_analogies(datapath("questions-words.txt"), restrict_vocab=30000)
        total = sum(len(s["correct"]) + len(s["incorrect"]) for s in sections if s["section"] == "Total accuracy")
        out["analogy_accuracy"] = round(float(score), 4)
        out["analogy_questions"] = total
        pearson, spearman, oov = kv.evaluate_word_pairs(datapath("wordsim353.tsv"))
        out["wordsim353_spearman"] = None if spearman[0] != spearman[0] else round(float(spearman[0]), 4)
        out["wordsim353_oov_percent"] = round(float(oov), 2)
    except Exception as e:   # a tiny vocabulary can make gensim's evaluation fail; not fatal
        out["evaluation_error"] = str(e)[:200]
    finally:
        logging.getLogger("gensim.models.keyedvectors").setLevel(level)
    return out


# -- queries ---------------------------------------------------------------------------------

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


@functools.lru_cache(maxsize=8)
def _vectors(folder):
    return Vectors(folder)


def load_vectors(config, model):
    return _vectors(registry.model_path(config, model))


def check_words(words, what="word"):
    out = []
    for w in words:
        if not isinstance(w, str) or not w.strip():
            raise InvalidInput(f"an empty {what} was given")
        if len(w) > MAX_WORD:
            raise InvalidInput(f"a {what} has at most {MAX_WORD} characters")
        out.append(w.strip())
    return out


def similar(config, corpus_name, positive, negative=(), topn=10, model_id=None):
    """Nearest words (or an analogy, with ``negative``): ``{"model_id", "results": [[word, cos]...]}``."""
    if isinstance(positive, str):
        positive = [positive]
    if isinstance(negative, str):
        negative = [negative]
    positive = check_words(list(positive or []))
    negative = check_words(list(negative or []), "negative word")
    if not positive:
        raise InvalidInput("give at least one word")
    topn = validate([Param("topn", "int", 10, 1, TOPN_MAX)], {"topn": topn})["topn"]
    _, model = registry.find_model_recent(config, corpus_name, model_id, kind="word2vec")
    vecs = load_vectors(config, model)
    return {"model_id": model["id"], "positive": positive, "negative": negative,
            "results": vecs.nearest(positive, negative, topn)}
