"""Word2Vec vectors: parameters, training, and the word benchmarks gensim ships.

Training reads a temporary file in gensim's ``corpus_file`` format (its fastest mode,
with no Python in the inner loop). The vectors are saved as plain ``.npy`` arrays
(raw and unit-normalised) with the words in JSON (read by :mod:`textlatent.explore.words`);
nothing is unpickled.
"""

import logging
import os
import shutil
import time

import numpy as np
from gensim.models.callbacks import CallbackAny2Vec

from ..corpus import StoredCorpus
from ..errors import InvalidInput
from ..explore import similarity
from ..params import Param, validate
from ..store import registry

W2V_PARAMS = [
    Param("vector_size", "int", 100, 2, 2000, help="dimensions of the vectors"),
    Param("window", "int", 5, 1, 100, help="context words on each side"),
    Param("min_count", "int", "auto", 1, 10**9, choices=("auto",),
          help="ignore words rarer than this; auto: from the corpus's size (see auto_params)"),
    Param("epochs", "int", "auto", 1, 1000, choices=("auto",),
          help="passes over the corpus; auto: from the corpus's size (see auto_params)"),
    Param("sg", "int", 0, 0, 1, help="1: skip-gram; 0: CBOW"),
    Param("negative", "int", 5, 0, 100, help="negative samples (0: hierarchical softmax)"),
    Param("sample", "float", 1e-3, 0.0, 1.0, help="down-sampling threshold of frequent words"),
    Param("alpha", "float", 0.025, 1e-6, 1.0, help="initial learning rate"),
    Param("seed", "int", 1, 0, 2**31 - 1, help="random seed"),
    Param("workers", "int", 0, 0, 64, help="training threads; 0: the machine's cores"),
]



def validate_w2v(params):
    return validate(W2V_PARAMS, params or {})


# Chosen by bench/w2v_defaults.py (README, "How the Word2Vec defaults were chosen").
AUTO_TRAINING_WORDS = 15_000_000     # epochs x corpus words to aim at
AUTO_EPOCHS = (5, 40)                # at least, at most
AUTO_MIN_COUNT = ((1_000_000, 3), (None, 5))    # (corpus words below, min_count)


def auto_params(p, n_words):
    """``p`` with ``"auto"`` epochs and min_count resolved for a corpus of ``n_words``
    tokens, and the values chosen (``{name: value}``): a small corpus gets more epochs
    (about AUTO_TRAINING_WORDS words of training) and keeps rarer words."""
    chosen = {}
    if p["epochs"] == "auto":
        low, high = AUTO_EPOCHS
        chosen["epochs"] = int(min(high, max(low, round(AUTO_TRAINING_WORDS / max(n_words, 1)))))
    if p["min_count"] == "auto":
        chosen["min_count"] = next(m for below, m in AUTO_MIN_COUNT if below is None or n_words < below)
    return dict(p, **chosen), chosen


DEGENERATE_COSINE = 0.9


def frequent_neighbour_cosine(unit, words=200, topn=10):
    """Mean cosine of the ``topn`` nearest neighbours of the ``words`` most frequent words
    (rows of ``unit``, N x d unit vectors, most frequent first). Near 1, every word looks
    like every other: the vectors are noise (on BBC, 5 epochs gave 0.99)."""
    n, k = min(words, len(unit)), min(topn, len(unit) - 1)
    if n == 0 or k <= 0:
        return None
    sims = np.asarray(unit[:n]) @ np.asarray(unit).T
    sims[np.arange(n), np.arange(n)] = -np.inf
    return round(float(np.partition(sims, -k, axis=1)[:, -k:].mean()), 4)


def degenerate_warnings(metrics):
    """What a model's figures say is wrong with it, for a person to read (a list)."""
    cos = metrics.get("mean_top10_cosine")
    if cos is None or cos <= DEGENERATE_COSINE:
        return []
    return [f"degenerate vectors: the 200 most frequent words' 10 nearest neighbours have a mean cosine "
            f"of {cos} (above {DEGENERATE_COSINE}), so every word looks like every other; train more "
            "epochs (or leave epochs at auto) or use a larger corpus"]


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


def train_word2vec(store, corpus_name, params=None, progress=None, workdir_prefix=".tmp-"):
    """Train Word2Vec on the corpus's token streams; returns the model id."""
    from gensim.models import Word2Vec

    progress = progress or (lambda done, total, message: None)
    stored = StoredCorpus(store, corpus_name)
    p, chosen = auto_params(validate_w2v(params), stored.corpus["n_tokens"])
    workers = p["workers"] or (os.cpu_count() or 2)
    workdir = registry.new_workdir(store, workdir_prefix)
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
        unit = vectors / np.maximum(norms, 1e-12)
        np.save(os.path.join(workdir, "unit.npy"), unit)
        registry.write_json(os.path.join(workdir, "words.json"), list(kv.index_to_key))
        similarity.prepare_doc_vectors(store, stored.id, unit, list(kv.index_to_key), workdir, progress)
        progress(p["epochs"], p["epochs"], "each document's nearest documents")
        similarity.prepare_doc_neighbours(workdir, seed=p["seed"])
        np.save(os.path.join(workdir, "counts.npy"),
                np.asarray([kv.get_vecattr(w, "count") for w in kv.index_to_key], dtype=np.int64))
        metrics = {"vocabulary": len(kv.index_to_key), "corpus_words": n_words,
                   "train_seconds": round(train_seconds, 3),
                   "words_per_second": round(n_words * p["epochs"] / max(train_seconds, 1e-9)),
                   "auto": chosen, "mean_top10_cosine": frequent_neighbour_cosine(unit)}
        if stored.corpus["settings"].get("language", "en") == "en":
            progress(p["epochs"], p["epochs"], "evaluating on word benchmarks")
            metrics.update(evaluate(kv))
        metrics["warnings"] = degenerate_warnings(metrics)
        return registry.commit_model(store, stored.corpus, "word2vec", p, p["seed"],
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
