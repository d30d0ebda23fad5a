"""The views of a trained LDA model, computed once at training time and saved beside it.

A request only reads them (see :mod:`textlatent.explore.topics`).
"""

import logging
import os
import shutil

import numpy as np

from ..errors import Cancelled
from ..explore import aggregates
from ..store import registry
from . import quality
from .coherence import OrderedTokens
from .ldavis import write_ldavis

log = logging.getLogger(__name__)

TOP_DOCUMENTS = 1000     # documents kept per topic, by weight: a topic's page never scans them all


def save_views(model, stored, dictionary, remap, matrix, workdir, progress, tokens=None):
    """Save the trained ``model``'s arrays and views into ``workdir`` and return its quality
    figures: ``lambda.npy``, ``alpha.npy``, ``eta.npy``, ``topic_terms.npy`` (K x V,
    rows summing to 1), ``vocab.json`` (V terms), ``doc_topics.npy`` (n_docs x K, row =
    document position), ``topic_docs.npy`` (K x min(n_docs, TOP_DOCUMENTS) document positions,
    by weight), ``ldavis.json`` (pyLDAvis's prepared data), ``aggregates/`` (topics by label
    and over time, see :mod:`textlatent.explore.aggregates`). ``tokens``: the corpus's
    :class:`.coherence.OrderedTokens` in this vocabulary (made in ``workdir`` when None). A
    figure or view that fails is left out and its reason put in ``metrics["view_errors"]``."""
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
    np.save(os.path.join(workdir, "topic_docs.npy"), top_documents(theta))

    aggregates.prepare(stored.store, stored.id, theta, workdir)
    doc_lengths = matrix.lengths()
    term_freq = matrix.term_freq(len(vocab))

    # The model is the arrays above. Each figure and view below may fail on its own (a
    # degenerate model, a library's bug): the model is kept without it and says why.
    metrics = {"num_terms": len(vocab), "num_docs": stored.num_docs, "num_tokens": int(term_freq.sum())}
    errors = {}
    progress(0, 0, "coherence")

    def figures():
        ordered = tokens or OrderedTokens.build(stored, remap, os.path.join(workdir, "ordered"))
        try:
            return quality.topic_quality(model, topic_terms, vocab, ordered, dictionary, matrix)
        finally:
            if tokens is None:
                del ordered
                shutil.rmtree(os.path.join(workdir, "ordered"), ignore_errors=True)
    metrics.update(_view(errors, "quality", figures) or {})
    progress(0, 0, "pyLDAvis data")
    _view(errors, "ldavis", lambda: write_ldavis(
        os.path.join(workdir, "ldavis.json"), topic_terms, np.asarray(theta), doc_lengths, vocab, term_freq))
    nmi, classes = _view(errors, "nmi_labels", lambda: quality.label_nmi(stored, np.asarray(theta))) or (None, None)
    if nmi is not None:
        metrics.update(nmi_labels=quality.rounded(nmi), nmi_field="label", nmi_classes=classes)
    if errors:
        metrics["view_errors"] = errors
    return metrics


def _view(errors, name, compute):
    """``compute()``, or None with the reason in ``errors[name]`` when it fails (a cancel
    still stops the job)."""
    try:
        return compute()
    except Cancelled:
        raise
    except Exception as e:          # noqa: BLE001 - any failure of one view keeps the model
        log.warning("LDA view %s failed: %s", name, e, exc_info=True)
        errors[name] = f"{type(e).__name__}: {e}"[:500]
        return None

def top_documents(theta, n=TOP_DOCUMENTS):
    """For each topic, the positions of the ``n`` documents where it weighs most, heaviest
    first: an int64 array K x min(n, n_docs)."""
    n = min(n, len(theta))
    out = np.empty((theta.shape[1], n), dtype=np.int64)
    for k in range(theta.shape[1]):
        col = np.asarray(theta[:, k])
        top = np.argpartition(-col, n - 1)[:n]
        out[k] = top[np.argsort(-col[top], kind="stable")]
    return out


def _infer_rows(model, chunk, rows, theta):
    gamma, _ = model.inference(chunk)
    theta[rows] = (gamma / gamma.sum(axis=1, keepdims=True)).astype(np.float32)
