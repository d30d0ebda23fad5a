"""What a document's page shows beside its text: the topic mixture of a model."""

import numpy as np

from ..errors import ModelNotFound
from ..store import queries as db
from ..store import registry
from .documents import document
from .topics import model_arrays, topics_of


def document_view(store, corpus_name, position, model_id=None, terms=3):
    """The document (see ``explore.documents.document``) with ``model_id``'s (default: the newest LDA
    model's) mixture: ``topics`` is ``[{topic, label, share, terms}]``, heaviest first, all K
    of them, or None with ``topics_note`` saying why (no model; a document newer than it);
    ``n_docs``: the corpus's number of documents."""
    doc = document(store, corpus_name, position)
    with store.read() as conn:
        doc["n_docs"] = db.get_corpus(conn, corpus_name)["n_docs"]
    try:
        _, model = registry.find_model(store, corpus_name, model_id, kind="lda")
    except ModelNotFound:
        if model_id is not None:
            raise
        return doc | {"model_id": None, "topics": None, "topics_note": "no LDA model yet: train one"}
    theta = model_arrays(store, model)["doc_topics"]
    if doc["position"] >= theta.shape[0]:
        return doc | {"model_id": model["id"], "topics": None,
                      "topics_note": f"added after model {model['id']} was trained"}
    row = np.asarray(theta[doc["position"]], dtype=np.float64)
    described = topics_of(store, model, terms)
    mixture = [{"topic": int(k), "label": described[k]["label"], "share": round(float(row[k]), 5),
                "terms": [t for t, _ in described[k]["terms"]]}
               for k in np.argsort(-row, kind="stable")]
    return doc | {"model_id": model["id"], "topics": mixture, "topics_note": None}
