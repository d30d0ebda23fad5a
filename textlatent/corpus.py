"""Re-iterable streams over a stored corpus: bag-of-words and token lists.

gensim walks a corpus several times (passes, coherence), so these are classes whose
``__iter__`` reads the store afresh in batches, never one-shot generators and never
the whole corpus in memory.
"""

import numpy as np
from gensim.corpora import Dictionary

from . import store
from .errors import EmptyCorpus, InvalidInput


class StoredCorpus:
    """A corpus's vocabulary (loaded once) and streams over its token ids."""

    def __init__(self, config, name):
        self.engine = store.get_engine(config.database_url)
        with store.read(self.engine) as conn:
            self.corpus = store.get_corpus(conn, name)
            self.terms, self.df, self.cf = store.load_terms(conn, self.corpus["id"])
        self.id = self.corpus["id"]
        self.num_docs = self.corpus["n_docs"]
        if self.num_docs == 0 or not self.terms:
            raise EmptyCorpus(f"corpus {name!r} has no documents with tokens")

    def token_ids(self):
        """Yield ``(position, uint32 array of term ids)`` in corpus order."""
        for position, blob in store.iter_token_blobs(self.engine, self.id):
            yield position, np.frombuffer(blob, dtype="<u4")

    def dictionary(self, no_below=1, no_above=1.0, keep_n=None):
        """A gensim ``Dictionary`` filtered like ``filter_extremes``, and ``remap``: an
        int array from corpus term id to dictionary id (-1 for dropped terms)."""
        for name, value, ok in (("no_below", no_below, isinstance(no_below, int) and no_below >= 1),
                                ("no_above", no_above, 0 < no_above <= 1),
                                ("keep_n", keep_n, keep_n is None or keep_n >= 1)):
            if not ok:
                raise InvalidInput(f"{name} is out of range: {value!r}")
        df = np.asarray(self.df, dtype=np.int64)
        keep = (df >= no_below) & (df <= no_above * self.num_docs)
        ids = np.flatnonzero(keep)
        if keep_n is not None and len(ids) > keep_n:
            # The most frequent first, ties by id: the same choice every time.
            order = np.lexsort((ids, -df[ids]))
            ids = np.sort(ids[order[:keep_n]])
        if len(ids) == 0:
            raise EmptyCorpus(
                f"no terms are left after the vocabulary filters (no_below={no_below}, "
                f"no_above={no_above}, keep_n={keep_n}) on {self.num_docs} documents; loosen them")
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

    def bow(self, remap):
        return BowStream(self, remap)

    def texts(self, remap=None):
        return TextStream(self, remap)


class BowStream:
    """Re-iterable bag-of-words over the corpus, in dictionary ids; empty documents kept
    so that row i is document position i."""

    def __init__(self, stored, remap):
        self.stored, self.remap = stored, remap

    def __len__(self):
        return self.stored.num_docs

    def __iter__(self):
        for _, ids in self.stored.token_ids():
            yield to_bow(ids, self.remap)


def to_bow(ids, remap):
    mapped = remap[ids]
    mapped = mapped[mapped >= 0]
    if len(mapped) == 0:
        return []
    uniq, counts = np.unique(mapped, return_counts=True)
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


def overview(config, name, top_terms=30, sample=5):
    """What a corpus page shows: its row, the most frequent terms, a few documents."""
    engine = store.get_engine(config.database_url)
    with store.read(engine) as conn:
        corpus = store.get_corpus(conn, name)
        terms = store.top_terms(conn, corpus["id"], top_terms)
        docs = store.get_documents(conn, corpus["id"], limit=sample,
                                   columns=("position", "doc_key", "title", "label", "date", "n_tokens", "text"))
        n_terms = store.count_terms(conn, corpus["id"])
    for d in docs:
        d["text"] = d["text"][:300]
    return {"name": corpus["name"], "documents": corpus["n_docs"], "tokens": corpus["n_tokens"],
            "vocabulary": n_terms, "phrases": len(corpus["phrases"] or []), "settings": corpus["settings"],
            "created": corpus["created"].isoformat(timespec="seconds") + "Z",
            "updated": corpus["updated"].isoformat(timespec="seconds") + "Z",
            "top_terms": [{"term": t, "documents": df, "count": cf} for t, df, cf in terms],
            "sample_documents": docs}


def document(config, name, position):
    """One document, whole, by its position in the corpus."""
    try:
        position = int(position)
    except (TypeError, ValueError):
        raise InvalidInput(f"document positions are whole numbers, not {str(position)[:50]!r}")
    engine = store.get_engine(config.database_url)
    with store.read(engine) as conn:
        corpus = store.get_corpus(conn, name)
        rows = store.get_documents(conn, corpus["id"], positions=[position],
                                   columns=("position", "doc_key", "source", "title", "label", "date", "meta",
                                            "n_tokens", "text"))
    if not rows:
        from .errors import NotFound
        raise NotFound(f"corpus {corpus['name']!r} has no document {position}")
    return rows[0]
