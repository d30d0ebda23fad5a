"""Reads of a trained LDA model: its topics, their documents, and the labels people give them.

Everything here reads arrays stored at training time (memory-mapped) and the model's row;
nothing is recomputed per request.
"""

import functools
import os

import numpy as np

from ..errors import InvalidInput, ViewUnavailable
from ..params import Param, validate
from ..store import queries as db
from ..store import registry
from . import lasting, snippets

TOPN_MAX = 1000


@lasting.cache(8)
def _arrays(folder):
    load = functools.partial(np.load, mmap_mode="r", allow_pickle=False)
    top = os.path.join(folder, "topic_docs.npy")
    return {
        "vocab": registry.read_json(os.path.join(folder, "vocab.json")),
        "topic_terms": load(os.path.join(folder, "topic_terms.npy")),
        "doc_topics": load(os.path.join(folder, "doc_topics.npy")),
        "topic_docs": load(top) if os.path.exists(top) else None,    # models trained before it have none
    }


@lasting.cache(8)
def _term_index(folder):
    return {t: i for i, t in enumerate(_arrays(folder)["vocab"])}


def term_index(store, model):
    """``{term: column}`` of an LDA model's vocabulary (the columns of ``topic_terms``), made
    once per model and process: a document's page looks up each of its words."""
    return _term_index(registry.model_path(store, model))


def model_arrays(store, model):
    """The stored arrays of an LDA model, memory-mapped: ``vocab`` (V terms), ``topic_terms``
    (K x V), ``doc_topics`` (n_docs x K, row = document position), ``topic_docs`` (K x up to
    1,000 positions by weight, or None for older models)."""
    return _arrays(registry.model_path(store, model))


def ldavis_data(store, model):
    """pyLDAvis's prepared data of an LDA model, as stored at training time (JSON bytes),
    or ViewUnavailable saying why it is missing."""
    path = registry.model_path(store, model, "ldavis.json")
    reason = (model["metrics"].get("view_errors") or {}).get("ldavis")
    if reason or not os.path.exists(path):
        raise ViewUnavailable(f"model {model['id']} has no pyLDAvis view: "
                              + (f"it could not be computed at training time ({reason})" if reason
                                 else "its file is missing"), view="ldavis", reason=reason)
    with open(path, "rb") as fh:
        return fh.read()


def corpus_topics(store, corpus_name, model_id=None, topn=10):
    """The topics of model ``model_id`` of a corpus, or of its newest LDA model:
    ``{"model": the model row, "topics": topics_of(...)}``."""
    topn = validate([Param("topn", "int", 10, 1, TOPN_MAX)], {"topn": topn})["topn"]
    _, model = registry.find_model(store, corpus_name, model_id, kind="lda")
    return {"model": model, "topics": topics_of(store, model, topn)}


def topics_of(store, model, topn=10):
    """The model's topics: ``[{"topic", "label", "terms": [[term, weight]...], "coherence_c_npmi",
    "coherence_u_mass"}]``, K of them in topic order, terms by weight."""
    labels = model.get("labels") or {}
    npmi = model["metrics"].get("coherence_c_npmi_per_topic") or []
    umass = model["metrics"].get("coherence_u_mass_per_topic") or []
    return [{"topic": k, "label": labels.get(str(k)), "terms": [list(t) for t in terms],
             "coherence_c_npmi": npmi[k] if k < len(npmi) else None,
             "coherence_u_mass": umass[k] if k < len(umass) else None}
            for k, terms in enumerate(_top_terms(registry.model_path(store, model), topn))]


@functools.lru_cache(maxsize=64)
def _top_terms(folder, topn):
    """Each topic's ``topn`` heaviest ``(term, weight)``, heaviest first: ranked once per model
    and length, since every page that names topics asks (the document page, the maps)."""
    a = _arrays(folder)
    tt, vocab = a["topic_terms"], a["vocab"]
    out = []
    for k in range(tt.shape[0]):
        row = np.asarray(tt[k])
        n = min(topn, len(row))
        top = np.argpartition(-row, n - 1)[:n]      # a full sort of the vocabulary costs ~1 ms a topic
        top = top[np.argsort(-row[top], kind="stable")]
        out.append(tuple((vocab[i], round(float(row[i]), 6)) for i in top))
    return tuple(out)


def topic_documents(store, model, topic, limit=10):
    """The documents where ``topic`` weighs most, heaviest first:
    ``[{position, doc_key, title, label, date, snippet, weight}]``."""
    a = model_arrays(store, model)
    theta = a["doc_topics"]
    K = theta.shape[1]
    limit = validate([Param("limit", "int", 10, 1, TOPN_MAX)], {"limit": limit})["limit"]
    topic = check_topic(topic, K)
    stored = a["topic_docs"]
    if stored is not None and (limit <= stored.shape[1] or stored.shape[1] == len(theta)):
        top = np.asarray(stored[topic, :limit])
        weights = np.asarray(theta[top, topic])       # a few rows, not the column
    else:
        col = np.asarray(theta[:, topic])
        n = min(limit, len(col))
        top = np.argpartition(-col, n - 1)[:n]
        top = top[np.argsort(-col[top])]
        weights = col[top]
    weight = dict(zip(top.tolist(), weights.tolist()))
    with store.read() as conn:
        docs = {d["position"]: d for d in db.get_documents(
            conn, model["corpus_id"], positions=top.tolist(),
            columns=("id", "position", "doc_key", "title", "label", "date", "text"))}
    for d in docs.values():
        d["snippet"] = snippets.lead(d.pop("text"), d["title"])
    return [dict(docs[i], weight=round(float(weight[i]), 5)) for i in top.tolist() if i in docs]


MAX_LABEL = 200


def check_topic(topic, K):
    """A topic number of a K-topic model, from an int or a string."""
    try:
        topic = int(topic)
    except (TypeError, ValueError):
        raise InvalidInput(f"topics are whole numbers 0..{K - 1}, not {str(topic)[:50]!r}") from None
    if not 0 <= topic < K:
        raise InvalidInput(f"topics are 0..{K - 1}, not {topic}")
    return topic


def set_labels(store, model_id, labels):
    """Give topics names a person chose: ``{topic: label}``; an empty label removes one."""
    _, model = registry.get_model(store, model_id)
    if model["kind"] != "lda":
        raise InvalidInput(f"model {model['id']} is a {model['kind']} model; only LDA topics have labels")
    if not isinstance(labels, dict):
        raise InvalidInput('send {"labels": {"<topic>": "<label>", ...}}')
    K = model["params"]["num_topics"]
    current = dict(model.get("labels") or {})
    for key, value in labels.items():
        k = check_topic(key, K)
        if value is None or (isinstance(value, str) and not value.strip()):
            current.pop(str(k), None)
            continue
        if not isinstance(value, str) or len(value) > MAX_LABEL:
            raise InvalidInput(f"a label is text of at most {MAX_LABEL} characters")
        current[str(k)] = " ".join(value.split())
    with store.write() as conn:
        db.get_model(conn, model["id"])
        db.set_model_labels(conn, model["id"], current)
    return current
