"""The views of a trained LDA model, computed once at training time and saved beside it.

A request only reads them (see :mod:`textlatent.explore.topics`).
"""

import os

import numpy as np

from ..explore import aggregates
from ..store import registry
from . import quality


def save_views(model, stored, dictionary, remap, matrix, workdir, progress):
    """Save the trained ``model``'s arrays and views into ``workdir`` and return its quality
    figures: ``lambda.npy``, ``alpha.npy``, ``eta.npy``, ``topic_terms.npy`` (K x V,
    rows summing to 1), ``vocab.json`` (V terms), ``doc_topics.npy`` (n_docs x K, row =
    document position), ``ldavis.json`` (pyLDAvis's prepared data), ``aggregates/`` (topics by
    label and over time, see :mod:`textlatent.explore.aggregates`)."""
    K = model.num_topics
    vocab = [dictionary[i] for i in range(len(dictionary))]
    lam = model.state.get_lambda().astype(np.float32)
    topic_terms = (lam / lam.sum(axis=1, keepdims=True)).astype(np.float32)
    np.save(os.path.join(workdir, "lambda.npy"), lam)
    np.save(os.path.join(workdir, "alpha.npy"), np.asarray(model.alpha, dtype=np.float64))
    np.save(os.path.join(workdir, "eta.npy"), np.asarray(model.eta, dtype=np.float64))
    np.save(os.path.join(workdir, "topic_terms.npy"), topic_terms)
    registry.write_json(os.path.join(workdir, "vocab.json"), vocab)

    # Document-topic matrix, row = document position; and the lengths pyLDAvis weighs by.
    n = len(matrix)
    theta = np.lib.format.open_memmap(os.path.join(workdir, "doc_topics.npy"), mode="w+",
                                      dtype=np.float32, shape=(n, K))
    for start in range(0, n, 2000):
        rows = range(start, min(n, start + 2000))
        _infer_rows(model, [matrix.row(i) for i in rows], rows, theta)
        progress(rows[-1] + 1, n, "topic mixtures of documents")
    theta.flush()
    aggregates.prepare(stored.store, stored.id, theta, workdir)
    doc_lengths = matrix.lengths()
    term_freq = matrix.term_freq(len(vocab))

    progress(0, 0, "coherence")
    metrics = quality.topic_quality(model, topic_terms, vocab, stored, dictionary, remap, matrix)

    progress(0, 0, "pyLDAvis data")
    prepared = prepare_ldavis(topic_terms, np.asarray(theta), doc_lengths, vocab, term_freq)
    with open(os.path.join(workdir, "ldavis.json"), "w", encoding="utf-8") as fh:
        fh.write(prepared)
    metrics.update(num_terms=len(vocab), num_docs=stored.num_docs, num_tokens=int(term_freq.sum()))
    nmi, classes = quality.label_nmi(stored, np.asarray(theta))
    if nmi is not None:
        metrics.update(nmi_labels=quality.rounded(nmi), nmi_field="label", nmi_classes=classes)
    return metrics


def _infer_rows(model, chunk, rows, theta):
    gamma, _ = model.inference(chunk)
    theta[rows] = (gamma / gamma.sum(axis=1, keepdims=True)).astype(np.float32)


def prepare_ldavis(topic_terms, theta, doc_lengths, vocab, term_freq):
    """pyLDAvis's prepared data as JSON, topic numbers as the model's (0-based, unsorted)."""
    import pyLDAvis

    keep = doc_lengths > 0
    # pyLDAvis's scaling needs two topics to place; a single one sits at the centre.
    mds = "pcoa" if len(topic_terms) > 1 else (lambda dists: np.zeros((len(dists), 2)))
    vis = pyLDAvis.prepare(topic_term_dists=topic_terms.astype(np.float64),
                           doc_topic_dists=theta[keep].astype(np.float64),
                           doc_lengths=doc_lengths[keep], vocab=vocab,
                           term_frequency=np.maximum(term_freq, 1), sort_topics=False,
                           start_index=0, n_jobs=1, R=30, mds=mds)
    return vis.to_json()


