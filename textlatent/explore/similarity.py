"""Documents like a document: by topic mixture (the Hellinger distance over the stored
document-topic matrix) or by document vectors (cosine; the mean of a document's unit word
vectors, kept beside a Word2Vec model).

Both read arrays prepared beside the model, so a request is one matrix-vector product
over the documents and a partial sort, never a pass over their texts.
"""

import os

import numpy as np

from ..errors import InvalidInput, ModelNotFound
from ..params import Param, validate
from ..store import queries as db
from ..store import registry
from ..store import search as fts
from . import aggregates
from .inference import infer

BY = ("topics", "vectors")
LIMIT = [Param("limit", "int", 10, 1, 100, help="documents to return")]
DOC_VECTORS = "doc_vectors.npy"
# Each document's nearest by vectors, found once beside the model: a document's page lists
# them without reading every document's vector (a million of 100 floats, 400 MB a request).
NEIGHBOURS, NEIGHBOUR_SIMS = "doc_neighbours.npy", "doc_neighbour_sims.npy"
STORED_NEIGHBOURS = 10


def prepare_doc_vectors(store, corpus_id, unit, words, folder, progress=None):
    """``folder/doc_vectors.npy`` (documents x dimensions, float32, rows of length 1 or 0):
    each document's mean unit word vector over its tokens in the vocabulary ``words``
    (``unit``: the model's unit vectors, one row per word)."""
    with store.read() as conn:
        terms, _, _ = db.load_terms(conn, corpus_id)
        n = db.get_corpus_by_id(conn, corpus_id)["n_docs"]
    row_of = {w: i for i, w in enumerate(words)}
    remap = np.array([row_of.get(t, -1) for t in terms], dtype=np.int64)
    out = np.lib.format.open_memmap(os.path.join(folder, DOC_VECTORS), mode="w+", dtype=np.float32,
                                    shape=(n, unit.shape[1]))
    for position, blob in db.iter_token_blobs(store, corpus_id):
        if position >= n:
            break
        rows = remap[np.frombuffer(blob, dtype="<u4")]
        rows = rows[rows >= 0]
        if len(rows):
            v = np.asarray(unit[rows], dtype=np.float32).mean(axis=0)
            out[position] = v / max(float(np.linalg.norm(v)), 1e-12)
        if progress and position % 5000 == 0:
            progress(position, n, "document vectors")
    out.flush()


def prepare_doc_neighbours(folder, k=STORED_NEIGHBOURS, seed=1):
    """``folder/doc_neighbours.npy`` (documents x k, int32; -1 where none) and
    ``doc_neighbour_sims.npy`` (float32 cosines): each document's ``k`` nearest others by
    the vectors of ``folder/doc_vectors.npy``, nearest first (exact up to
    ``knn.EXACT_MAX`` documents, above it the random-projection forest of
    :mod:`.knn`). A document without a vector (no word of the vocabulary) has none."""
    from .knn import knn
    vectors = np.load(os.path.join(folder, DOC_VECTORS), mmap_mode="r", allow_pickle=False)
    n = len(vectors)
    idx = np.full((n, k), -1, dtype=np.int32)
    sims = np.zeros((n, k), dtype=np.float32)
    has = np.flatnonzero(np.einsum("ij,ij->i", vectors, vectors) > 0.5)      # rows of length 1, not 0
    if len(has) > 1:
        found, found_sims = knn(np.asarray(vectors[has]), min(k + 1, len(has)), seed=seed)
        m = found.shape[1] - 1              # column 0 is the document itself
        idx[has, :m] = has[found[:, 1:]]
        sims[has, :m] = found_sims[:, 1:]
    np.save(os.path.join(folder, NEIGHBOURS), idx)
    np.save(os.path.join(folder, NEIGHBOUR_SIMS), sims)


def prepare_model_vectors(store, model):
    """Document vectors of a Word2Vec model trained before they existed, put into its stored folder."""
    import shutil
    import tempfile
    folder = registry.model_path(store, model)
    unit = np.load(os.path.join(folder, "unit.npy"), mmap_mode="r", allow_pickle=False)
    tmp = tempfile.mkdtemp(dir=store.path("tmp") if os.path.isdir(store.path("tmp")) else None)
    try:
        prepare_doc_vectors(store, model["corpus_id"], unit, registry.read_json(os.path.join(folder, "words.json")),
                            tmp)
        prepare_doc_neighbours(tmp)
        for name in (DOC_VECTORS, NEIGHBOURS, NEIGHBOUR_SIMS):
            store.files.put_file(os.path.join(tmp, name), f"{model['path']}/{name}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def similar_documents(store, corpus_name, position, by="topics", limit=10, model_id=None, stored=False):
    """``{"by", "model_id", "documents": [{position, doc_id, title, label, distance}]}``: the
    documents nearest document ``position``, nearest first, itself left out. ``topics``:
    Hellinger distance (0 same mixture, 1 no topic in common) in ``model_id`` or the newest
    LDA model; ``vectors``: cosine distance (1 - cosine) of document vectors of the newest
    Word2Vec model. A model older than these views raises ``aggregates.NotPrepared``.
    ``stored``: by vectors, the neighbours found when the model was trained (see
    :func:`prepare_doc_neighbours`) when there are enough, instead of an exact search."""
    if by not in BY:
        raise InvalidInput(f"by must be topics or vectors, not {str(by)[:50]!r}")
    limit = validate(LIMIT, {"limit": limit})["limit"]
    try:
        position = int(position)
    except (TypeError, ValueError):
        raise InvalidInput(f"document positions are whole numbers, not {str(position)[:50]!r}") from None
    _, model = registry.find_model_recent(store, corpus_name, model_id, kind="lda" if by == "topics" else "word2vec")
    if stored and by == "vectors" and (found := _stored_neighbours(store, model, position, limit)) is not None:
        return found
    matrix = _matrix(store, model, by)
    if not 0 <= position < matrix.shape[0]:
        raise InvalidInput(f"model {model['id']} knows documents 0..{matrix.shape[0] - 1}, not {position}")
    query = np.asarray(matrix[position], dtype=np.float32)
    return _nearest(store, model, by, matrix, query, limit, exclude=position)


def similar_to_text(store, corpus_name, text, limit=10, model_id=None):
    """The documents nearest a new text's topic mixture (see :func:`similar_documents`)."""
    limit = validate(LIMIT, {"limit": limit})["limit"]
    mixture = infer(store, corpus_name, text, model_id)
    _, model = registry.find_model(store, corpus_name, mixture["model_id"], kind="lda")
    K = model["params"]["num_topics"]
    theta = np.zeros(K, dtype=np.float32)
    for k, w in mixture["topics"]:
        theta[k] = w
    return _nearest(store, model, "topics", _matrix(store, model, "topics"), np.sqrt(theta), limit) | \
        {"topics": mixture["topics"]}


def _matrix(store, model, by):
    if by == "topics":
        return aggregates.reading_arrays(store, model)[0]
    path = registry.model_path(store, model, DOC_VECTORS)
    if not os.path.exists(path):
        raise aggregates.NotPrepared(f"the document vectors of model {model['id']} are being prepared; "
                                     "ask again in a moment", model_id=model["id"])
    return np.load(path, mmap_mode="r", allow_pickle=False)


def _stored_neighbours(store, model, position, limit):
    """:func:`similar_documents` by vectors from the stored neighbours, or None where they
    are missing (a model trained before them) or fewer than ``limit``."""
    path = registry.model_path(store, model, NEIGHBOURS)
    if not os.path.exists(path):
        return None
    idx = np.load(path, mmap_mode="r", allow_pickle=False)
    if limit > idx.shape[1]:
        return None
    if not 0 <= position < idx.shape[0]:
        raise InvalidInput(f"model {model['id']} knows documents 0..{idx.shape[0] - 1}, not {position}")
    top = np.asarray(idx[position, :limit], dtype=np.int64)
    sims = np.asarray(np.load(registry.model_path(store, model, NEIGHBOUR_SIMS), mmap_mode="r",
                              allow_pickle=False)[position, :limit], dtype=np.float64)
    keep = top >= 0
    return _described(store, model, "vectors", top[keep], 1.0 - sims[keep])


def _nearest(store, model, by, matrix, query, limit, exclude=None):
    """The ``limit`` rows of ``matrix`` nearest ``query``: sqrt mixtures (Hellinger) or unit vectors."""
    # Chosen in the matrix's float32, without a negated copy: at a million documents the
    # float64 copy, its negation and the partition took as long again as the product.
    closeness = np.asarray(matrix @ query)              # Bhattacharyya coefficient, or cosine
    if exclude is not None:
        closeness[exclude] = -np.inf
    n = min(limit, len(closeness) - (exclude is not None))
    if n <= 0:
        return {"by": by, "model_id": model["id"], "documents": []}
    top = np.argpartition(closeness, len(closeness) - n)[-n:]
    top = top[np.lexsort((top, -closeness[top]))]
    # The distances of the few chosen, in float64 (rows read in order from a memory map).
    rows = np.sort(top)
    chosen = (np.asarray(matrix[rows], dtype=np.float64) @ np.asarray(query, dtype=np.float64))[
        np.searchsorted(rows, top)]
    if by == "topics":
        distance = np.sqrt(np.clip(1.0 - chosen, 0.0, 1.0))
    else:
        distance = 1.0 - chosen
    return _described(store, model, by, top, distance)


def _described(store, model, by, top, distance):
    """The result of :func:`similar_documents` for positions ``top`` at ``distance``."""
    with store.read() as conn:
        docs = fts.documents_at(conn, model["corpus_id"], top.tolist(), with_text=False)
    return {"by": by, "model_id": model["id"],
            "documents": [{"position": int(p), "doc_id": docs[int(p)]["doc_key"], "title": docs[int(p)]["title"],
                           "label": docs[int(p)]["label"], "date": docs[int(p)]["date"],
                           "distance": round(float(d), 5)}
                          for p, d in zip(top, distance) if int(p) in docs]}


def available(store, corpus_name):
    """Which ways of finding similar documents the corpus has models for."""
    out = []
    for by, kind in (("topics", "lda"), ("vectors", "word2vec")):
        try:
            registry.find_model_recent(store, corpus_name, None, kind=kind)
            out.append(by)
        except ModelNotFound:
            pass
    return out
