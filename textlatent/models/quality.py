"""Quality figures of a topic model: coherence (c_npmi, u_mass), perplexity bound, NMI with labels."""

from collections import Counter

import numpy as np

from ..store import queries as db
from .coherence import npmi_per_topic


def topic_quality(model, topic_terms, vocab, tokens, dictionary, matrix, topn=10):
    """Mean and per-topic c_npmi (on the corpus's tokens in the vocabulary, in order:
    :class:`.coherence.OrderedTokens`) and u_mass (on ``matrix``), and the per-word log
    perplexity bound on the first 5,000 documents."""
    from gensim.models import CoherenceModel

    K = len(topic_terms)
    top_ids = [[int(i) for i in np.argsort(-topic_terms[k])[:topn]] for k in range(K)]
    top = [[vocab[i] for i in ids] for ids in top_ids]
    npmi = npmi_per_topic(tokens, top_ids, len(vocab))
    umass = CoherenceModel(topics=top, corpus=matrix, dictionary=dictionary,
                           coherence="u_mass", topn=topn, processes=1).get_coherence_per_topic()
    sample = [matrix.row(i) for i in range(min(len(matrix), 5000))]
    bound = float(model.log_perplexity(sample)) if sum(len(b) for b in sample) else float("nan")
    return {
        "coherence_c_npmi": mean(npmi), "coherence_u_mass": mean(umass),
        "coherence_c_npmi_per_topic": [rounded(x) for x in npmi],
        "coherence_u_mass_per_topic": [rounded(x) for x in umass],
        "log_perplexity": rounded(bound), "perplexity": rounded(float(np.exp2(-bound))),
    }


def mean(values):
    values = [v for v in values if v == v]
    return rounded(sum(values) / len(values)) if values else None


def rounded(x):
    return None if x is None or x != x else round(float(x), 5)


# Labels look like classes (a subject, a source), not like ids or titles, when there are a
# few distinct values, each shared by several documents; only then is NMI against them shown.
MAX_CLASSES, MIN_DOCS_PER_CLASS = 100, 5


def label_nmi(stored, theta):
    """``(NMI, classes)`` between each document's dominant topic and its label, or
    ``(None, classes)`` when fewer than half the documents have a label or the labels do
    not look like classes (2 to 100 distinct values, at least 5 documents each on average)."""
    labels = [d["label"] for d in db.iter_documents(stored.store, stored.id, ("position", "label"))]
    classes = len({x for x in labels if x})
    if (sum(1 for x in labels if x) < 0.5 * len(labels) or not 2 <= classes <= MAX_CLASSES
            or len(labels) < MIN_DOCS_PER_CLASS * classes):
        return None, classes
    dominant = theta.argmax(axis=1)
    return nmi(labels, dominant.tolist()), classes


def nmi(a, b):
    """Normalized mutual information (arithmetic mean normalisation, as scikit-learn's default)."""
    n = len(a)
    ca, cb, cab = Counter(a), Counter(b), Counter(zip(a, b))
    mi = sum(c / n * np.log(c * n / (ca[x] * cb[y])) for (x, y), c in cab.items())
    ha = -sum(c / n * np.log(c / n) for c in ca.values())
    hb = -sum(c / n * np.log(c / n) for c in cb.values())
    return float(mi / ((ha + hb) / 2)) if ha + hb > 0 else 1.0




def topic_diversity(topic_terms, top=25):
    """The share of unique words among the ``top`` words of every topic (K x V weights):
    1 when no two topics share a top word, 1/K when all have the same ones (Dieng, Ruiz
    and Blei 2020, "Topic modeling in embedding spaces")."""
    n = min(top, topic_terms.shape[1])
    tops = np.argpartition(-np.asarray(topic_terms), n - 1, axis=1)[:, :n]
    return len(np.unique(tops)) / tops.size
