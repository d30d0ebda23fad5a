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
from ..errors import Cancelled, InvalidInput
from ..ingest import stoplists
from ..params import Param, validate
from ..store import registry
from . import quality
from .kmeans import WEIGHTS, initial_topics
from .lda_defaults import CHOSEN, choose_defaults, corpus_stats
from .lda_views import save_views

log = logging.getLogger(__name__)

LDA_PARAMS = [
    Param("num_topics", "int", 20, 1, 1000,
          help="number of topics; several (5,10,20,40 or 5:40:5, at most 12) train one model each to compare"),
    # None: chosen from the corpus by .lda_defaults (0 too where the help says so).
    Param("passes", "int", None, 1, 1000,
          help="passes over the corpus; default: enough for about 100 chunk updates, 2..30"),
    Param("iterations", "int", 100, 1, 10000, help="inference iterations per document and chunk"),
    Param("chunksize", "int", None, 0, 1_000_000,
          help="documents per training chunk; default (or 0): about an eighth of the corpus, 64..2000, "
               "in chunks of equal size"),
    Param("alpha", "alpha", None, 1e-6, 1e6, choices=("symmetric", "asymmetric", "auto"),
          help="document-topic prior; default: symmetric"),
    Param("eta", "alpha", None, 1e-6, 1e6, choices=("symmetric", "auto"),
          help="topic-word prior; default: auto"),
    Param("decay", "float", 0.5, 0.5, 1.0, help="learning-rate decay (kappa)"),
    Param("offset", "float", 1.0, 1.0, 1e6, help="learning-rate offset (tau0)"),
    Param("seed", "int", 1, 0, 2**31 - 1, help="random seed"),
    Param("init", "choice", None, choices=("kmeans", "random"),
          help="starting topics: k-means clusters of the documents, or gensim's random start; default: kmeans"),
    Param("start_weight", "choice", None, choices=WEIGHTS,
          help="how a document counts in the k-means start: by its tokens (up to the 90th percentile of "
               "lengths), as LDA counts it, or once; default: tokens"),
    Param("shuffle", "bool", True, help="train on the documents in a new random order each pass "
                                        "(online LDA assumes each chunk is a random sample)"),
    Param("workers", "int", 0, 0, 64,
          help="worker processes (LdaMulticore when > 1); 0: the workers setting, or 1 when a pass has "
               "fewer than two chunks per worker. Only 1 worker gives bit-for-bit reproducible topics"),
    Param("no_below", "int", None, 1, 10**9,
          help="drop terms in fewer documents than this; default: 5 (a tenth of the documents below 50)"),
    Param("no_above", "float", None, 0, 1.0,
          help="drop terms in more than this share of documents; default (or 0): 1.4/num_topics, at least "
               "0.07, raised where the terms dropped would carry more than a tenth of the text (long "
               "documents)"),
    Param("keep_n", "int", 10_000, 1, 10**8, help="keep at most this many terms, most frequent first"),
    Param("stoplist", "choice", "auto", choices=stoplists.CHOICES,
          help="stop words dropped from the LDA vocabulary (the corpus keeps them): smart, the "
               "523-word SMART list (MALLET's --remove-stopwords); auto: smart for English corpora"),
]



def _stoplist(stored, p):
    # Models older than the stop list record no ``stoplist``: they had none.
    return stoplists.stoplist(p.get("stoplist", "none"), stored.corpus["settings"].get("language"))


def resolve_lda(stored, p, workers=1):
    """Fill in place the parameters of validated ``p`` left unset (None, or 0 where 0 means
    auto) with what :func:`.lda_defaults.choose_defaults` chooses for the corpus, trained
    with up to ``workers`` processes; ``p["auto"]`` lists their names. Returns the corpus
    statistics the choice was made from."""
    stats = corpus_stats(stored, _stoplist(stored, p))
    chosen = choose_defaults(stats, p["num_topics"], workers)
    p["auto"] = [k for k in CHOSEN if p.get(k) is None or p.get(k) == 0 or k in p.get("auto", ())]
    p.update({k: chosen[k] for k in p["auto"]})
    return stats


def lda_vocabulary(stored, p):
    """The dictionary and remap (see ``StoredCorpus.dictionary``) of validated LDA
    parameters ``p`` or of a model's stored ones; filters left unset are chosen as
    :func:`resolve_lda` does."""
    if p.get("no_below") is None or not p.get("no_above"):
        p = dict(p)
        resolve_lda(stored, p)
    return stored.dictionary(p["no_below"], p["no_above"], p["keep_n"], _stoplist(stored, p))


def validate_lda(params, num_docs=None):
    """Validated LDA parameters; with ``num_docs``, more topics than documents are refused."""
    def checks(p):
        out = []
        if num_docs is not None and p["num_topics"] > num_docs:
            out.append(f"num_topics ({p['num_topics']}) cannot exceed the number of documents ({num_docs})")
        return out
    params = dict(params or {})
    auto = params.pop("auto", None)         # what the rule chose, recorded by an earlier plan_lda
    p = validate(LDA_PARAMS, params, checks)
    if isinstance(auto, list):
        p["auto"] = [k for k in auto if k in CHOSEN]
    return p


TERMS_PER_TOPIC = 3


def check_vocabulary(p, num_terms):
    """Refuse far too many topics for the vocabulary left after the filters: with fewer
    than three terms a topic, topics cannot differ (most stay at the prior, all alike)."""
    most = max(1, num_terms // TERMS_PER_TOPIC)
    if p["num_topics"] > most:
        raise InvalidInput(
            f"num_topics ({p['num_topics']}) is far too many for the vocabulary: {num_terms:,} terms are "
            f"left after the filters (no_below={p['no_below']}, no_above={round(p['no_above'], 4)}, "
            f"keep_n={p['keep_n']}, stoplist {p.get('stoplist', 'none')}); at most {most:,} topics "
            f"({TERMS_PER_TOPIC} terms a topic), or loosen the filters")


def plan_lda(stored, params, workers=1):
    """Validated parameters of an LDA training on ``stored``, those left unset chosen by the
    rule (:func:`resolve_lda`), its vocabulary and the corpus statistics the rule read:
    ``(p, dictionary, remap, stats)``; or InvalidInput saying why the topics are too many
    for its documents or for its vocabulary after the filters."""
    p = validate_lda(params, stored.num_docs)
    stats = resolve_lda(stored, p, workers)
    dictionary, remap = lda_vocabulary(stored, p)
    check_vocabulary(p, len(dictionary))
    return p, dictionary, remap, stats


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
        start = initial_topics(matrix, len(model.id2word), p["num_topics"], p["seed"],
                               weight=p["start_weight"])
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
    p, dictionary, remap, stats = plan_lda(stored, params, store.workers)   # the model records the values chosen
    started = time.perf_counter()
    workdir = registry.new_workdir(store, workdir_prefix)
    try:
        progress(0, 0, "counting words")
        matrix = stored.bow_matrix(remap, os.path.join(workdir, "bow"))
        return train_on(store, stored, p, dictionary, remap, matrix, progress, workdir, started,
                        {"corpus_stats": stats.summary()})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def train_on(store, stored, p, dictionary, remap, matrix, progress, workdir, started, extra_metrics=None,
             tokens=None):
    """Train one model of validated parameters ``p`` on a bag-of-words ``matrix`` built
    from ``dictionary`` (a K sweep builds it, and the ordered ``tokens`` the coherence
    reads, once for all its models), save its views in ``workdir`` and commit it; returns
    the model id. ``extra_metrics`` join its figures."""
    chunksize = p["chunksize"]
    model = new_model(p, dictionary, p["workers"] or store.workers, chunksize)
    fit(model, matrix, p, progress, chunksize)
    train_seconds = time.perf_counter() - started
    progress(p["passes"] * stored.num_docs, p["passes"] * stored.num_docs, "computing topic views")
    metrics = save_views(model, stored, dictionary, remap, matrix, workdir, progress, tokens)
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
