"""A stored corpus as gensim reads it: token lists and bag-of-words.

gensim walks a corpus several times (passes, coherence), so these are re-iterable
classes, never one-shot generators, and never the whole corpus in Python objects:
token lists are read from the store afresh in batches, the bag-of-words from a
memory-mapped matrix written once per training.
"""

import os

import numpy as np
from gensim.corpora import Dictionary

from .errors import EmptyCorpus, InvalidInput
from .store import queries as db


class StoredCorpus:
    """A corpus's vocabulary (loaded once) and streams over its token ids."""

    def __init__(self, store, name):
        self.store = store
        with store.read() as conn:
            self.corpus = db.get_corpus(conn, name)
            self.terms, self.df, self.cf = db.load_terms(conn, self.corpus["id"])
        self.id = self.corpus["id"]
        self.num_docs = self.corpus["n_docs"]
        if self.num_docs == 0 or not self.terms:
            raise EmptyCorpus(f"corpus {name!r} has no documents with tokens")

    def token_ids(self):
        """Yield ``(position, uint32 array of term ids)`` in corpus order."""
        for position, blob in db.iter_token_blobs(self.store, self.id):
            yield position, np.frombuffer(blob, dtype="<u4")

    def dictionary(self, no_below=1, no_above=1.0, keep_n=None, exclude=frozenset()):
        """A gensim ``Dictionary`` filtered like ``filter_extremes`` and without the terms in
        ``exclude``, and ``remap``: an int array from corpus term id to dictionary id (-1 for
        dropped terms)."""
        for name, value, ok in (("no_below", no_below, isinstance(no_below, int) and no_below >= 1),
                                ("no_above", no_above, 0 < no_above <= 1),
                                ("keep_n", keep_n, keep_n is None or keep_n >= 1)):
            if not ok:
                raise InvalidInput(f"{name} is out of range: {value!r}")
        df = np.asarray(self.df, dtype=np.int64)
        keep = (df >= no_below) & (df <= no_above * self.num_docs)
        if exclude:
            keep[[i for i, t in enumerate(self.terms) if t in exclude]] = False
        ids = np.flatnonzero(keep)
        if keep_n is not None and len(ids) > keep_n:
            # The most frequent first, ties by id: the same choice every time.
            order = np.lexsort((ids, -df[ids]))
            ids = np.sort(ids[order[:keep_n]])
        if len(ids) == 0:
            raise EmptyCorpus(
                f"no terms are left after the vocabulary filters (no_below={no_below}, "
                f"no_above={no_above}, keep_n={keep_n}{', stop list' if exclude else ''}) "
                f"on {self.num_docs} documents; loosen them")
        remap = np.full(len(self.terms), -1, dtype=np.int64)
        remap[ids] = np.arange(len(ids))
        d = Dictionary()
        d.token2id = {self.terms[i]: j for j, i in enumerate(ids.tolist())}
        d.dfs = {j: int(df[i]) for j, i in enumerate(ids.tolist())}
        d.cfs = {j: int(self.cf[i]) for j, i in enumerate(ids.tolist())}
        d.num_docs = self.num_docs
        d.num_pos = int(sum(self.cf))
        d.num_nnz = int(sum(self.df))
        return d, remap

    def bow_matrix(self, remap, folder):
        """The filtered bag-of-words written once to ``folder`` (see :class:`BowMatrix`)."""
        return BowMatrix.build(self, remap, folder)

    def texts(self, remap=None):
        return TextStream(self, remap)


class BowMatrix:
    """The bag-of-words of a corpus after the vocabulary filters, as a compressed sparse
    row matrix in two flat files (term ids, counts) and an index of row starts.

    Training walks the corpus once per pass and the views several times more; reading the
    token streams from the database and counting them again each time cost about a third of
    an LDA training on 20 Newsgroups. The files are memory-mapped, so memory stays flat in
    the corpus size, and rows can be read in any order (training shuffles them each pass).
    """

    def __init__(self, folder, indptr):
        self.folder = folder
        self.indptr = indptr
        self.ids = _mapped(os.path.join(folder, "ids.u4"), int(indptr[-1]))
        self.counts = _mapped(os.path.join(folder, "counts.u4"), int(indptr[-1]))

    @classmethod
    def build(cls, stored, remap, folder):
        os.makedirs(folder, exist_ok=True)
        indptr = np.zeros(stored.num_docs + 1, dtype=np.int64)
        with open(os.path.join(folder, "ids.u4"), "wb") as fi, open(os.path.join(folder, "counts.u4"), "wb") as fc:
            for position, ids in stored.token_ids():
                uniq, counts = _counted(ids, remap)
                fi.write(uniq.astype("<u4").tobytes())
                fc.write(counts.astype("<u4").tobytes())
                indptr[position + 1] = len(uniq)
        np.cumsum(indptr, out=indptr)
        return cls(folder, indptr)

    def __len__(self):
        return len(self.indptr) - 1

    def row(self, i):
        a, b = self.indptr[i], self.indptr[i + 1]
        return list(zip(self.ids[a:b].tolist(), self.counts[a:b].tolist()))

    def __iter__(self):
        return self.rows(range(len(self)))

    def rows(self, order):
        """Rows in ``order`` (document positions)."""
        for i in order:
            yield self.row(i)

    def ordered(self, order):
        """A re-iterable view of the rows in ``order``."""
        return _Ordered(self, order)

    def lengths(self):
        """Tokens per document after the filters."""
        cum = np.zeros(len(self.counts) + 1, dtype=np.int64)
        np.cumsum(self.counts, out=cum[1:])
        return cum[self.indptr[1:]] - cum[self.indptr[:-1]]

    def term_freq(self, num_terms):
        return np.bincount(self.ids, weights=self.counts, minlength=num_terms).astype(np.int64)

    def csr(self, rows, num_terms):
        """The chosen rows (positions, an int array) as a scipy CSR matrix of float counts."""
        import scipy.sparse as sp
        starts, lengths = self.indptr[rows], np.diff(self.indptr)[rows]
        indptr = np.concatenate(([0], np.cumsum(lengths)))
        take = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1])
        return sp.csr_matrix((self.counts[take].astype(np.float64), self.ids[take].astype(np.int64), indptr),
                             shape=(len(rows), num_terms))


def _mapped(path, n):
    # A plain ndarray over the mapping: slicing a np.memmap makes a memmap per row.
    return np.asarray(np.memmap(path, dtype="<u4", mode="r", shape=(n,))) if n else np.zeros(0, dtype="<u4")


class _Ordered:
    def __init__(self, matrix, order):
        self.matrix, self.order = matrix, order

    def __len__(self):
        return len(self.order)

    def __iter__(self):
        return self.matrix.rows(self.order)


def _counted(ids, remap):
    """Corpus term ids -> (dictionary ids, counts), dropped terms left out."""
    mapped = remap[ids]
    return np.unique(mapped[mapped >= 0], return_counts=True)


def to_bow(ids, remap):
    uniq, counts = _counted(ids, remap)
    return list(zip(uniq.tolist(), counts.tolist()))


class TextStream:
    """Re-iterable token lists (strings); with ``remap`` only the dictionary's terms."""

    def __init__(self, stored, remap=None):
        self.stored, self.remap = stored, remap
        self._terms = np.asarray(stored.terms, dtype=object)

    def __len__(self):
        return self.stored.num_docs

    def __iter__(self):
        for _, ids in self.stored.token_ids():
            if self.remap is not None:
                ids = ids[self.remap[ids] >= 0]
            yield self._terms[ids].tolist()
