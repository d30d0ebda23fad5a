"""c_npmi coherence as gensim computes it, counted with numpy instead of a loop per window.

gensim's ``CoherenceModel(coherence="c_npmi")`` slides a window of 10 tokens over every
text (the LDA vocabulary's tokens, in order) and counts, for the topics' top words, the
windows holding each word and each pair; it took 12-22 s of every LDA training on 20
Newsgroups, one Python step per window. This module counts the same windows from the
token ids in a few array operations and gives the same figures (tests/test_coherence.py
compares them with gensim's to 1e-9), including a quirk of gensim's sliding window
(``WordOccurrenceAccumulator._slide_window``): when the window moves on, the word that
left it is marked absent even when it occurs again inside the window, until it enters
again at the window's far end.

A word's presence is a run of windows per text: it starts when one of its occurrences
enters the window and ends when one leaves while it is marked present. The runs give
the counts: a word's windows are the sum of its runs' lengths, a pair's the windows of
a sparse windows x words matrix of the runs that both hold.
"""

import os

import numpy as np
import scipy.sparse as sp

WINDOW = 10
EPSILON = 1e-12            # gensim's, in the log-ratio and its normalisation
DOCS_PER_BATCH = 20_000


class OrderedTokens:
    """The corpus's tokens in the LDA vocabulary, in text order, as dictionary ids: one
    flat memory-mapped file and the start of each document (``indptr``, n_docs + 1)."""

    def __init__(self, path, indptr):
        self.indptr = indptr
        n = int(indptr[-1])
        self.ids = np.memmap(path, dtype="<u4", mode="r", shape=(n,)) if n else np.zeros(0, dtype="<u4")

    @classmethod
    def build(cls, stored, remap, folder):
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "ordered.u4")
        lengths = []
        with open(path, "wb") as fh:
            for _, ids in stored.token_ids():
                kept = remap[ids]
                kept = kept[kept >= 0].astype("<u4")
                fh.write(kept.tobytes())
                lengths.append(len(kept))
        indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        return cls(path, indptr)


def window_counts(tokens, words, num_terms, window=WINDOW):
    """``(occurrences, co_occurrences, n_windows)`` of the dictionary ids ``words`` (R of
    them) over ``tokens`` (:class:`OrderedTokens`): windows holding each word (R,), windows
    holding each pair (R x R, symmetric, the diagonal the occurrences), and the number of
    windows; ids run below ``num_terms`` (a text shorter than the window, an empty one too, is one window)."""
    words = np.asarray(words, dtype=np.int64)
    column = np.full(num_terms, -1, dtype=np.int64)
    column[words] = np.arange(len(words))
    R = len(words)
    occurrences = np.zeros(R, dtype=np.int64)
    co = sp.csr_matrix((R, R), dtype=np.int64)
    n_windows = 0
    n_docs = len(tokens.indptr) - 1
    for first in range(0, n_docs, DOCS_PER_BATCH):
        last = min(n_docs, first + DOCS_PER_BATCH)
        runs, windows = _runs(tokens, first, last, column, window)
        n_windows += windows
        occurrences += np.bincount(runs[1], weights=runs[3] - runs[2], minlength=R).astype(np.int64)
        present = _present(runs, windows, R)
        co = co + (present.T @ present).astype(np.int64)
    return occurrences, co.toarray(), n_windows


def _runs(tokens, first, last, column, window):
    """The runs of documents ``first..last - 1``: ``(document, word column, start window,
    end window)`` arrays, windows numbered across the batch, and the batch's window count."""
    indptr = tokens.indptr[first:last + 1]
    lengths = np.diff(indptr)
    n_win = np.maximum(1, lengths - window + 1)
    offsets = np.concatenate([[0], np.cumsum(n_win)])
    ids = np.asarray(tokens.ids[indptr[0]:indptr[-1]], dtype=np.int64)
    cols = column[ids]
    hit = np.flatnonzero(cols >= 0)
    doc = np.searchsorted(indptr[1:] - indptr[0], hit, side="right")
    pos = hit - (indptr[doc] - indptr[0])
    word = cols[hit]
    J = n_win[doc]
    # Window j adds the token at j + window - 1 (window 0 all of the first ones) and, before
    # that, takes away the token at j - 1: an add at max(0, p - window + 1), a removal at p + 1.
    adds = np.maximum(0, pos - window + 1)
    leaves = pos + 1 < J
    ev_doc = np.concatenate([doc, doc[leaves]])
    ev_word = np.concatenate([word, word[leaves]])
    ev_time = np.concatenate([adds, pos[leaves] + 1])
    ev_add = np.concatenate([np.ones(len(pos), dtype=np.int8), np.zeros(int(leaves.sum()), dtype=np.int8)])
    order = np.lexsort((ev_add, ev_time, ev_word, ev_doc))     # removals before adds at one time
    ev_doc, ev_word, ev_time, ev_add = ev_doc[order], ev_word[order], ev_time[order], ev_add[order]
    # The state before each event: the one its predecessor in the same (document, word) left.
    new_group = np.ones(len(order), dtype=bool)
    new_group[1:] = (ev_doc[1:] != ev_doc[:-1]) | (ev_word[1:] != ev_word[:-1])
    before = np.zeros(len(order), dtype=np.int8)
    before[1:] = ev_add[:-1]
    before[new_group] = 0
    starts = np.flatnonzero((ev_add == 1) & (before == 0))
    ends = np.flatnonzero((ev_add == 0) & (before == 1))
    # Starts and ends alternate within a group; a start with no end runs to the text's last window.
    boundary = np.sort(np.concatenate([starts, ends]))
    is_start = ev_add[boundary] == 1
    k = np.flatnonzero(is_start)
    nxt = k + 1
    closed = nxt < len(boundary)
    # A group's first boundary is a start, so an end after a start is that start's end.
    closed[closed] = ~is_start[nxt[closed]]
    s_idx = boundary[k]
    end_time = n_win[ev_doc[s_idx]].copy()
    end_time[closed] = ev_time[boundary[nxt[closed]]]
    d = ev_doc[s_idx]
    return (d, ev_word[s_idx], offsets[d] + ev_time[s_idx], offsets[d] + end_time), int(offsets[-1])


def _present(runs, n_windows, R):
    """The windows x words 0/1 matrix of the runs (CSR)."""
    _, word, start, end = runs
    length = end - start
    rows = np.repeat(start - np.cumsum(np.concatenate([[0], length[:-1]])), length) + np.arange(int(length.sum()))
    cols = np.repeat(word, length)
    return sp.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(n_windows, R))


def npmi_per_topic(tokens, topics, num_terms, window=WINDOW):
    """Each topic's c_npmi (``topics``: lists of dictionary ids, its top words): the mean
    over its pairs of words of log(P(a,b) / (P(a) P(b))) / -log P(a,b), probabilities as
    shares of windows, as gensim's ``CoherenceModel(coherence="c_npmi")`` gives."""
    words = sorted({w for topic in topics for w in topic})
    occurrences, co, n = window_counts(tokens, words, num_terms, window)
    at = {w: i for i, w in enumerate(words)}
    out = []
    for topic in topics:
        idx = np.array([at[w] for w in topic])
        if len(idx) < 2:
            out.append(float("nan"))
            continue
        a, b = np.meshgrid(idx, idx, indexing="ij")
        pairs = a != b
        joint = co[a[pairs], b[pairs]] / n
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.log((joint + EPSILON) / ((occurrences[a[pairs]] / n) * (occurrences[b[pairs]] / n)))
            out.append(float(np.mean(ratio / -np.log(joint + EPSILON))))
    return out
