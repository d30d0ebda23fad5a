"""What a document's page shows beside its facts: the topic mixture of a model, the text
with each word coloured by its topic, and the most similar documents."""

import numpy as np

from ..errors import InvalidInput, ModelNotFound
from ..store import queries as db
from ..store import registry
from . import aggregates, similarity
from .documents import document
from .spans import term_spans
from .topics import model_arrays, term_index, topics_of

COLOURED_CHARS = 300_000     # longer texts are coloured up to here, the rest shown plain
SIMILAR = 8


def document_view(store, corpus_name, position, model_id=None, terms=3):
    """The document (see ``explore.documents.document``) and, from ``model_id`` (default: the
    newest LDA model): ``topics``, its mixture ``[{topic, label, share, terms}]``, heaviest
    first, all K; ``pieces``, its text as ``[[text, topic or None]]`` (a word's most probable
    topic, for the words of the model's vocabulary); ``similar``: ``{"topics": [...],
    "vectors": [...]}`` (see :func:`similarity.similar_documents`); ``n_docs``, the corpus's
    number of documents. What cannot be shown has a note in ``notes``; ``unprepared`` names
    the models whose stored views a job must make."""
    doc = document(store, corpus_name, position)
    with store.read() as conn:
        doc["n_docs"] = db.get_corpus(conn, corpus_name)["n_docs"]
    out = doc | {"model_id": None, "topics": None, "pieces": None, "similar": {}, "notes": [], "unprepared": []}
    try:
        corpus, model = registry.find_model(store, corpus_name, model_id, kind="lda")
    except ModelNotFound:
        if model_id is not None:
            raise
        model = None
        out["notes"].append("no LDA model yet: train one to see this document's topics")
    if model is not None:
        out["model_id"] = model["id"]
        theta = model_arrays(store, model)["doc_topics"]
        if doc["position"] >= theta.shape[0]:
            out["notes"].append(f"added after model {model['id']} was trained: it has no topics there")
        else:
            row = np.asarray(theta[doc["position"]], dtype=np.float64)
            described = topics_of(store, model, terms)
            out["topics"] = [{"topic": int(k), "label": described[k]["label"], "share": round(float(row[k]), 5),
                              "terms": [t for t, _ in described[k]["terms"]]}
                             for k in np.argsort(-row, kind="stable")]
            _coloured(store, corpus, model, doc, out)
    _similar(store, corpus_name, doc, model, out)
    return out


def _coloured(store, corpus, model, doc, out):
    try:
        _, term_topic = aggregates.reading_arrays(store, model)
    except aggregates.NotPrepared:
        out["unprepared"].append(model["id"])
        return
    index = term_index(store, model)
    text = doc["text"]
    pieces, at = [], 0
    for start, end, term in term_spans(store, corpus, text[:COLOURED_CHARS]):
        i = index.get(term)
        if i is None:
            continue
        if start > at:
            pieces.append([text[at:start], None])
        pieces.append([text[start:end], int(term_topic[i])])
        at = end
    pieces.append([text[at:], None])
    out["pieces"] = pieces


def _similar(store, corpus_name, doc, model, out):
    for by in similarity.available(store, corpus_name):
        try:
            found = similarity.similar_documents(store, corpus_name, doc["position"], by, SIMILAR,
                                                 model["id"] if by == "topics" and model else None, stored=True)
            out["similar"][by] = found["documents"]
        except aggregates.NotPrepared as e:
            out["unprepared"].append(e.details["model_id"])
        except InvalidInput as e:      # a document newer than the model: say so, show the rest
            out["notes"].append(f"similar documents by {by}: {e.message}")
