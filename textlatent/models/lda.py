"""LDA topics: parameters and training.

After training, the views a page or an export reads are computed once and saved beside
the model (see :mod:`.lda_views` and :mod:`.quality`); reading never recomputes them.
Model files hold plain arrays (``.npy``) and JSON: loading a model never unpickles.
"""

import logging
import os
import shutil
import time

import numpy as np

from ..corpus import StoredCorpus
from ..errors import Cancelled
from ..ingest import stoplists
from ..params import Param, validate
from ..store import registry
from . import quality
from .kmeans import initial_topics
from .lda_views import save_views

log = logging.getLogger(__name__)

LDA_PARAMS = [
    Param("num_topics", "int", 20, 1, 1000,
          help="number of topics; several (5,10,20,40 or 5:40:5, at most 12) train one model each to compare"),
    Param("passes", "int", 10, 1, 1000, help="passes over the corpus"),
    Param("iterations", "int", 100, 1, 10000, help="inference iterations per document and chunk"),
    Param("chunksize", "int", 0, 0, 1_000_000,
          help="documents per training chunk; 0: an eighth of the corpus, between 64 and 2000"),
    Param("alpha", "alpha", "symmetric", 1e-6, 1e6, choices=("symmetric", "asymmetric", "auto"),
          help="document-topic prior"),
    Param("eta", "alpha", "auto", 1e-6, 1e6, choices=("symmetric", "auto"), help="topic-word prior"),
    Param("decay", "float", 0.5, 0.5, 1.0, help="learning-rate decay (kappa)"),
    Param("offset", "float", 1.0, 1.0, 1e6, help="learning-rate offset (tau0)"),
    Param("seed", "int", 1, 0, 2**31 - 1, help="random seed"),
    Param("init", "choice", "kmeans", choices=("kmeans", "random"),
          help="starting topics: k-means clusters of the documents, or gensim's random start"),
    Param("shuffle", "bool", True, help="train on the documents in a new random order each pass "
                                        "(online LDA assumes each chunk is a random sample)"),
    Param("workers", "int", 0, 0, 64,
          help="worker processes (LdaMulticore when > 1); 0: the workers setting. "
               "Only 1 worker gives bit-for-bit reproducible topics"),
    Param("no_below", "int", 5, 1, 10**9, help="drop terms in fewer documents than this"),
    # Auto: a word of one topic is in about 1/K of the documents; words in more than 1.4/K
    # of them, and at least 7%, are dropped (how it was chosen: BENCHMARKS.md, "lda_tuning").
    Param("no_above", "float", 0, 0, 1.0,
          help="drop terms in more than this share of documents; 0: 1.4/num_topics, at least 0.07"),
    Param("keep_n", "int", 10_000, 1, 10**8, help="keep at most this many terms, most frequent first"),
    Param("stoplist", "choice", "auto", choices=stoplists.CHOICES,
          help="stop words dropped from the LDA vocabulary (the corpus keeps them): smart, the "
               "523-word SMART list (MALLET's --remove-stopwords); auto: smart for English corpora"),
]



def no_above(p):
    """The ``no_above`` filter of validated LDA parameters ``p`` (resolving 0, auto)."""
    return p["no_above"] or min(1.0, max(0.07, 1.4 / p["num_topics"]))


def lda_vocabulary(stored, p):
    """The dictionary and remap (see ``StoredCorpus.dictionary``) of validated LDA
    parameters ``p`` or of a model's stored ones (models older than the stop list have
    no ``stoplist``: they had none)."""
    exclude = stoplists.stoplist(p.get("stoplist", "none"), stored.corpus["settings"].get("language"))
    return stored.dictionary(p["no_below"], no_above(p), p["keep_n"], exclude)


def validate_lda(params, num_docs=None):
    def checks(p):
        out = []
        if num_docs is not None and p["num_topics"] > num_docs:
            out.append(f"num_topics ({p['num_topics']}) cannot exceed the number of documents ({num_docs})")
        return out
    return validate(LDA_PARAMS, params or {}, checks)


class _Watched:
    """The training stream of one pass, reporting progress every chunk. Once ``progress``
    raises :class:`Cancelled` the rest of the pass is empty documents: gensim checks that
    a pass has as many documents as the corpus, and so finishes its update (and shuts its
    worker pool down) at once; the job stops within about one chunk."""

    def __init__(self, stream, progress, pass_, passes, every):
        self.stream, self.progress, self.pass_, self.passes, self.every = stream, progress, pass_, passes, every
        self.cancelled = False

    def __len__(self):
        return len(self.stream)

    def __iter__(self):
        n = len(self.stream)
        i = 0
        for i, doc in enumerate(self.stream):
            if i % self.every == 0:
                try:
                    self.progress(self.pass_ * n + i, self.passes * n,
                                  f"LDA pass {self.pass_ + 1} of {self.passes}: {i:,} of {n:,} documents")
                except Cancelled:
                    self.cancelled = True
                    break
            yield doc
        if self.cancelled:
            for _ in range(n - i):
                yield []


def chunk_size(p, num_docs):
    """Documents per training chunk: the parameter, or an eighth of the corpus between 64
    and 2,000 (online LDA learns from the updates between chunks: a small corpus needs
    small chunks)."""
    return p["chunksize"] or min(2000, max(64, -(-num_docs // 8)))


def new_model(p, dictionary, workers, chunksize):
    """An untrained gensim model for validated parameters ``p``: ``LdaMulticore`` with more
    than one worker, else ``LdaModel`` (also for ``alpha="auto"``, which only it learns)."""
    from gensim.models import LdaModel, LdaMulticore

    eta = None if p["eta"] == "symmetric" else p["eta"]
    common = dict(id2word=dictionary, num_topics=p["num_topics"], chunksize=chunksize, passes=1,
                  iterations=p["iterations"], alpha=p["alpha"], eta=eta, decay=p["decay"],
                  offset=p["offset"], random_state=p["seed"], eval_every=None, dtype=np.float32)
    if workers > 1 and p["alpha"] != "auto":
        return LdaMulticore(workers=workers, **common)
    return LdaModel(**common)


def fit(model, matrix, p, progress, chunksize):
    """Train ``model`` on the bag-of-words ``matrix`` (n_docs rows): an optional k-means
    start, then ``p["passes"]`` passes, each in a new random order when ``p["shuffle"]``.
    Raises :class:`Cancelled` when ``progress`` does."""
    if p["init"] == "kmeans":
        progress(0, 0, "k-means start")
        start = initial_topics(matrix, len(model.id2word), p["num_topics"], p["seed"])
        if start is not None:
            model.state.sstats[...] = start
            model.sync_state()
    rng = np.random.RandomState(p["seed"])
    for pass_ in range(p["passes"]):
        order = rng.permutation(len(matrix)) if p["shuffle"] else range(len(matrix))
        watched = _Watched(matrix.ordered(order), progress, pass_, p["passes"], chunksize)
        model.update(watched)
        if watched.cancelled:
            raise Cancelled("cancelled")
        # The stream's last report came before its last chunk was trained: say the pass is done.
        n = len(matrix)
        progress((pass_ + 1) * n, p["passes"] * n, f"LDA pass {pass_ + 1} of {p['passes']}: {n:,} of {n:,} documents")


def train_lda(store, corpus_name, params=None, progress=None, workdir_prefix=".tmp-"):
    """Train an LDA model on the corpus and store it with its views; returns the model id.

    ``progress(done, total, message)`` is called during training; it may raise
    :class:`Cancelled` to stop the job (effective within one chunk).
    """
    progress = progress or (lambda done, total, message: None)
    stored = StoredCorpus(store, corpus_name)
    p = validate_lda(params, stored.num_docs)
    p["no_above"] = no_above(p)          # the model records the share it used
    dictionary, remap = lda_vocabulary(stored, p)
    started = time.perf_counter()
    workdir = registry.new_workdir(store, workdir_prefix)
    try:
        progress(0, 0, "counting words")
        matrix = stored.bow_matrix(remap, os.path.join(workdir, "bow"))
        model_id = train_on(store, stored, p, dictionary, remap, matrix, progress, workdir, started)
        return model_id
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def train_on(store, stored, p, dictionary, remap, matrix, progress, workdir, started, extra_metrics=None):
    """Train one model of validated parameters ``p`` on a bag-of-words ``matrix`` built
    from ``dictionary`` (a K sweep builds it once for all its models), save its views in
    ``workdir`` and commit it; returns the model id. ``extra_metrics`` join its figures."""
    chunksize = chunk_size(p, stored.num_docs)
    model = new_model(p, dictionary, p["workers"] or store.workers, chunksize)
    fit(model, matrix, p, progress, chunksize)
    train_seconds = time.perf_counter() - started
    progress(p["passes"] * stored.num_docs, p["passes"] * stored.num_docs, "computing topic views")
    metrics = save_views(model, stored, dictionary, remap, matrix, workdir, progress)
    metrics["train_seconds"] = round(train_seconds, 3)
    metrics["algorithm"] = type(model).__name__
    metrics["topic_diversity"] = quality.rounded(quality.topic_diversity(
        np.load(os.path.join(workdir, "topic_terms.npy"), allow_pickle=False)))
    metrics.update(extra_metrics or {})
    bow = os.path.join(workdir, "bow")
    if os.path.exists(bow):
        del matrix
        shutil.rmtree(bow)
    return registry.commit_model(store, stored.corpus, "lda", p, p["seed"],
                                 time.perf_counter() - started, metrics, workdir)
