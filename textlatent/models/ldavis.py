"""pyLDAvis's view of an LDA model, prepared at training time (read: explore.topics).

Where pyLDAvis draws the topics is classical scaling of their Jensen-Shannon divergences.
pyLDAvis's own PCoA takes ``np.linalg.eig`` of the double-centred matrix, which is
symmetric only up to rounding: when many topics are nearly the same (far more topics than
the corpus holds, most left at the prior) it returns complex eigenvalues, and the
prepared data cannot be written as JSON. Here the matrix is symmetrised and decomposed
with ``eigh`` (real by construction), negative eigenvalues clipped to zero.
"""

import os

import numpy as np


def js_divergences(dists):
    """Jensen-Shannon divergences (natural log, as pyLDAvis's) between the rows of
    ``dists`` (K × V, rows sum to 1): a symmetric K × K float64 matrix, zero diagonal.
    One row against the rest at a time, in float32 (about 9 times faster than
    pyLDAvis's pair-by-pair ``pdist``; within 1e-7 of it)."""
    from scipy.special import entr

    p = np.asarray(dists, dtype=np.float32)
    p = p / p.sum(axis=1, keepdims=True)
    h = entr(p).sum(axis=1, dtype=np.float64)
    K = len(p)
    out = np.zeros((K, K))
    for i in range(K - 1):
        m = p[i + 1:] + p[i]
        m *= 0.5
        out[i, i + 1:] = entr(m).sum(axis=1, dtype=np.float64) - (h[i] + h[i + 1:]) / 2
    out = np.maximum(out, 0.0)          # rounding can make an identical pair slightly negative
    return out + out.T


def pcoa(distances, n_components=2):
    """Classical scaling of a symmetric distance matrix (K × K): K × ``n_components`` real
    coordinates; directions of negative or zero eigenvalues are zero columns."""
    d = np.asarray(distances, dtype=np.float64)
    K = len(d)
    H = np.eye(K) - 1.0 / K
    B = -H @ (d ** 2) @ H / 2
    B = (B + B.T) / 2
    values, vectors = np.linalg.eigh(B)
    order = np.argsort(values)[::-1][:n_components]
    values = np.clip(values[order], 0.0, None)
    coords = vectors[:, order] * np.sqrt(values)
    if coords.shape[1] < n_components:
        coords = np.hstack([coords, np.zeros((K, n_components - coords.shape[1]))])
    return coords


def topic_coordinates(topic_term_dists):
    """pyLDAvis's ``mds`` function: K × 2 real coordinates of the topics (K ≥ 1)."""
    if len(topic_term_dists) < 2:
        return np.zeros((len(topic_term_dists), 2))
    return pcoa(js_divergences(topic_term_dists))


def write_ldavis(path, topic_terms, theta, doc_lengths, vocab, term_freq):
    """Write pyLDAvis's prepared data to ``path`` whole, or nothing."""
    prepared = prepare_ldavis(topic_terms, theta, doc_lengths, vocab, term_freq)
    with open(path + ".part", "w", encoding="utf-8") as fh:
        fh.write(prepared)
    os.replace(path + ".part", path)       # never a half-written view beside the model


def prepare_ldavis(topic_terms, theta, doc_lengths, vocab, term_freq):
    """pyLDAvis's prepared data as JSON, topic numbers as the model's (0-based, unsorted)."""
    import pyLDAvis

    keep = doc_lengths > 0
    # Our own scaling: pyLDAvis's PCoA gives complex coordinates when topics are nearly alike.
    vis = pyLDAvis.prepare(topic_term_dists=topic_terms.astype(np.float64),
                           doc_topic_dists=theta[keep].astype(np.float64),
                           doc_lengths=doc_lengths[keep], vocab=vocab,
                           term_frequency=np.maximum(term_freq, 1), sort_topics=False,
                           start_index=0, n_jobs=1, R=30, mds=topic_coordinates)
    return vis.to_json()
