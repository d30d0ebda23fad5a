"""LDA defaults chosen from the corpus, by a rule of its measurable statistics.

Constants chosen on one corpus fit that corpus: the vocabulary filter tuned on short
posts (drop the words of more than 1.4/K of the documents) dropped most of the words of
long documents, where every word of a topic is in many documents; and a fixed ten passes
give a corpus of sixty documents ten updates of its topics. The rule below sets each
parameter a user leaves unset from the number of documents, their length, how much of
the text the most widespread words carry, and K. Its constants (:data:`RULE`) were chosen
by leave-one-corpus-out over labelled corpora (``python -m bench.loco``; the figures in
BENCHMARKS.md); nothing in it names a corpus.

Everything here is pure: :func:`measure` turns term counts into :class:`CorpusStats`,
:func:`choose_defaults` turns those and K into parameter values.
"""

import math
from dataclasses import dataclass

import numpy as np

# The parameters the rule sets when a user leaves them unset.
CHOSEN = ("no_below", "no_above", "passes", "chunksize", "alpha", "eta", "init", "start_weight", "workers")

# drop_share and the passes chosen by leave-one-source-out over nine labelled corpora of
# five sources (2026-12-07, BENCHMARKS.md "lda_defaults_loco"), of nine candidates
# (drop_share 1, 0.25 or 0.1; ten passes, or 100 updates within 2..100 or 2..30 passes):
# the best mean rank on all corpora, and the choice with 20 Newsgroups or BBC held out;
# Reuters held out chose drop_share 0.25, the State of the Union ten passes, the
# inaugural addresses up to 100 passes.
RULE = {
    # Vocabulary. A word of one topic is in about 1/K of short documents: words in more
    # than 1.4/K of them (and at least 7%) are dropped as too common to tell topics apart...
    "no_above_per_topic": 1.4,
    "no_above_floor": 0.07,
    # ...but never so many that they carry more than this share of the tokens: in long
    # documents most words of every topic are in most documents.
    "drop_share": 0.10,
    "no_below": 5,
    # Online learning: chunks of an eighth of the corpus (64..2000 documents), and enough
    # passes that training sees ``updates`` chunks, within passes_min..passes_max: 13
    # passes of 20 Newsgroups' 8 chunks, 30 of a corpus of one chunk, 2 of a million
    # documents' 500 chunks.
    "chunk_share": 1 / 8,
    "chunk_min": 64,
    "chunk_max": 2000,
    "balanced": True,
    "updates": 100,
    "passes_min": 2,
    "passes_max": 30,
    "alpha": "symmetric",
    "eta": "auto",
    "init": "kmeans",
    # How a document counts in the k-means start: by its tokens (up to the 90th
    # percentile of lengths), as LDA counts it, or once (BENCHMARKS.md, "lda_defaults_loco").
    "start_weight": "tokens",
}

SPREAD_TERMS = 5000     # how many of the most widespread terms CorpusStats keeps


@dataclass(frozen=True)
class CorpusStats:
    """What the rule reads of a corpus. ``tokens`` and ``vocabulary`` count only terms
    an LDA vocabulary may keep (the stop list applied); ``doc_share[i]`` is the share of
    documents holding the i-th most widespread such term and ``token_share[i]`` the
    share of the tokens the first i+1 of them carry (both of length <= SPREAD_TERMS)."""

    documents: int
    tokens: int
    vocabulary: int
    doc_share: tuple
    token_share: tuple

    @property
    def mean_length(self):
        return self.tokens / self.documents if self.documents else 0.0

    @property
    def concentration(self):
        """The share of the tokens the 100 most widespread terms carry."""
        return self.token_share[min(99, len(self.token_share) - 1)] if self.token_share else 0.0

    def summary(self):
        """The scalar statistics, as recorded on a model."""
        return {"documents": self.documents, "tokens": self.tokens, "mean_length": round(self.mean_length, 1),
                "vocabulary": self.vocabulary, "concentration": round(self.concentration, 4)}


def measure(df, cf, num_docs):
    """:class:`CorpusStats` of a corpus of ``num_docs`` documents from the document and
    corpus frequencies (``df``, ``cf``: int arrays of shape (terms,)) of the terms an LDA
    vocabulary may keep."""
    df = np.asarray(df, dtype=np.int64)
    cf = np.asarray(cf, dtype=np.int64)
    tokens = int(cf.sum())
    order = np.lexsort((np.arange(len(df)), -df))[:SPREAD_TERMS]     # widest first, ties by id
    doc_share = df[order] / max(1, num_docs)
    token_share = np.cumsum(cf[order]) / max(1, tokens)
    return CorpusStats(documents=int(num_docs), tokens=tokens, vocabulary=int((df >= 2).sum()),
                       doc_share=tuple(doc_share.tolist()),
                       token_share=tuple(token_share.tolist()))


def corpus_stats(stored, exclude=frozenset()):
    """:class:`CorpusStats` of a :class:`~textlatent.corpus.StoredCorpus`, the terms in
    ``exclude`` (the stop list) left out."""
    keep = np.array([t not in exclude for t in stored.terms], dtype=bool)
    return measure(np.asarray(stored.df)[keep], np.asarray(stored.cf)[keep], stored.num_docs)


def choose_defaults(stats, num_topics, workers=2, rule=None):
    """The LDA parameters the rule chooses for a corpus of ``stats`` and ``num_topics``
    topics, trained with up to ``workers`` processes: a dict with every name of
    :data:`CHOSEN`. ``rule`` overrides constants of :data:`RULE` (for tuning)."""
    r = {**RULE, **(rule or {})}
    D = max(1, stats.documents)
    chunksize = min(r["chunk_max"], max(r["chunk_min"], math.ceil(D * r["chunk_share"])))
    if r["balanced"]:
        # Chunks of equal size: gensim scales each chunk's counts up to the whole corpus,
        # so a last chunk of one document (65 documents in chunks of 64) would pull the
        # topics toward that one document.
        chunksize = math.ceil(D / max(1, round(D / chunksize)))
    chunks = math.ceil(D / chunksize)
    passes = max(r["passes_min"], min(r["passes_max"], math.ceil(r["updates"] / chunks)))
    return {
        "no_below": r["no_below"] if D >= 10 * r["no_below"] else max(1, D // 10),
        "no_above": _no_above(stats, num_topics, r),
        "passes": passes,
        "chunksize": chunksize,
        "alpha": r["alpha"],
        "eta": r["eta"],
        "init": r["init"],
        "start_weight": r["start_weight"],
        # LdaMulticore starts its processes again on every pass and updates the topics
        # once per worker's chunk: with fewer chunks than two per worker it only costs
        # time (0.3 s a pass on 59 documents; the topics came out the same).
        "workers": workers if chunks >= 2 * workers else 1,
    }


def _no_above(stats, num_topics, r):
    share = min(1.0, max(r["no_above_floor"], r["no_above_per_topic"] / max(1, num_topics)))
    if r["drop_share"] >= 1.0 or not stats.doc_share:
        return round(share, 4)
    # The terms wider than the threshold are dropped; the first term whose cumulative
    # token share passes drop_share must stay, so the threshold is at least its share.
    token_share = np.asarray(stats.token_share)
    i = int(np.searchsorted(token_share, r["drop_share"], side="right"))
    floor = math.ceil(stats.doc_share[min(i, len(stats.doc_share) - 1)] * 1e4) / 1e4
    return min(1.0, max(round(share, 4), floor))
