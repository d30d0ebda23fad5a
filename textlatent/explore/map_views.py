"""Reading stored maps per request: the points a map page draws (compact binary), what one
point is (its topics, its nearest words or documents), and the rows of a map export.

A word's topic is argmax over topics k of p(k | word), from the newest LDA model of the
corpus: p(k | w) is proportional to lambda[k, w], the expected count of w in topic k
(p(w | k) times the topic's share of the tokens). A document's topic is its largest weight.
"""

import functools
import itertools
import json
import math
import os
import re
import struct
import threading

import numpy as np

from ..errors import InvalidInput
from ..params import Param, validate
from ..store import queries as db
from ..store import registry
from .maps import read_map
from .topics import model_arrays, topics_of
from .words import load_vectors

MAGIC = b"TLMAP1\0\0"
NONE16 = 0xFFFF
NONE8 = 0xFF
TITLE_CHARS = 80
TOPN_MAX = 100


def newest_lda(store, corpus_id):
    """The corpus's newest LDA model row, or None."""
    with store.read() as conn:
        rows = db.list_models(conn, corpus_id, kind="lda")
    return rows[0] if rows else None


@functools.lru_cache(maxsize=8)
def _word_topic_weights(words_folder, lda_folder):
    """p(topic | word) for each word of a Word2Vec model (K x words float32; columns of
    words the LDA vocabulary lacks are zeros)."""
    words = registry.read_json(os.path.join(words_folder, "words.json"))
    vocab = {t: i for i, t in enumerate(registry.read_json(os.path.join(lda_folder, "vocab.json")))}
    lam = np.load(os.path.join(lda_folder, "lambda.npy"), allow_pickle=False)
    cols = np.array([vocab.get(w, -1) for w in words], dtype=np.int64)
    out = np.zeros((lam.shape[0], len(words)), dtype=np.float32)
    known = cols >= 0
    out[:, known] = lam[:, cols[known]]
    out[:, known] /= out[:, known].sum(0)
    return out


def word_topics(store, model, lda):
    """Each word's most probable topic (int array, -1 where the LDA model lacks the word or
    there is no LDA model) and the weights behind it (K x words, or None)."""
    n = model["metrics"]["vocabulary"]
    if lda is None:
        return np.full(n, -1, dtype=np.int64), None
    weights = _word_topic_weights(registry.model_path(store, model), registry.model_path(store, lda))
    return np.where(weights.any(0), weights.argmax(0), -1), weights


def topics_model(store, model):
    """The LDA model whose topics colour a map of ``model``: itself, or the corpus's newest."""
    return model if model["kind"] == "lda" else newest_lda(store, model["corpus_id"])


def _doc_theta(store, lda, n):
    """The document-topic matrix of ``lda`` (n x K) when it has the map's ``n`` documents
    (a corpus that grew since has more), and that model; else ``(None, None)``."""
    if lda is None:
        return None, None
    theta = model_arrays(store, lda)["doc_topics"]
    return (theta, lda) if len(theta) == n else (None, None)


def _codes(values, top):
    """uint8 codes of non-negative ``values`` on a log scale, 0 .. 254 at ``top``."""
    values = np.maximum(np.asarray(values, dtype=np.float64), 0)
    return np.round(254 * np.log1p(values) / math.log1p(max(top, 1))).astype(np.uint8)


def _date_days(text):
    """Days since 1970 of a date given as YYYY, YYYY-MM or YYYY-MM-DD[...], or None."""
    import datetime as dt
    if not text:
        return None
    parts = str(text)[:10].split("-")
    try:
        y, m, d = (int(parts[0]), int(parts[1]) if len(parts) > 1 else 1, int(parts[2][:2]) if len(parts) > 2 else 1)
        return (dt.date(y, m, d) - dt.date(1970, 1, 1)).days
    except (ValueError, IndexError):
        return None


def point_payload(store, model, what, method=None):
    """The points of a map as one binary buffer the map page reads: ``MAGIC``, a uint32
    header length, a JSON header (what, method, bounds, topics, labels, date range,
    faithfulness, and ``arrays``: name, type, length of each array that follows, in order,
    each padded to 4 bytes), then the arrays: ``xy`` float32 (2n), ``topic`` uint16
    (65535: none), ``freq`` uint8 (log scale), for documents ``label`` uint16 and ``date``
    uint8 (255: none). Returns ``(version key, bytes)``; the key changes when the map or
    the topics do. The words or titles come apart, from :func:`point_texts`."""
    key, built = _built(store, model, what, method)
    return key, built["points"]


def point_texts(store, model, what, method=None):
    """What each point of the map is, as UTF-8 text, one line a point in point order: the
    word, or the document's title (:func:`shown_title`). ``(version key, bytes)``. Apart
    from the points, so that a page draws its first frame before the titles arrive (the
    titles of 18,766 documents are twice the size of their points)."""
    key, built = _built(store, model, what, method)
    return key, built["texts"]


def _built(store, model, what, method):
    meta, arrays = read_map(store, model, what, method)
    lda = topics_model(store, model)
    key = (store.home, model["id"], what, meta["files"]["coords"], lda["id"] if lda else None,
           json.dumps(lda.get("labels") or {}, sort_keys=True) if lda else "")
    with _lock:
        hit = _payloads.get(key)
    if hit is None:
        hit = _payload(store, model, meta, np.asarray(arrays["coords"]), lda)
        with _lock:
            if len(_payloads) >= 4:
                _payloads.pop(next(iter(_payloads)))
            _payloads[key] = hit
    return key, hit


_payloads = {}        # the last few payloads built: a page reload reads the same bytes
_lock = threading.Lock()


def _payload(store, model, meta, coords, lda):
    header, parts = {}, []
    if meta["what"] == "words":
        topic, _ = word_topics(store, model, lda)
        counts = np.load(registry.model_path(store, model, "counts.npy"), allow_pickle=False)
        words = load_vectors(store, model).words
        text = "\n".join(w.replace("\n", " ") for w in words)
        parts = [("topic", _u16(topic)), ("freq", _codes(counts, counts.max(initial=1)))]
        header["frequency"] = {"max": int(counts.max(initial=0)), "of": "occurrences in the corpus"}
    else:
        theta, lda = _doc_theta(store, lda, meta["n"])
        docs = list(itertools.islice(db.iter_documents(
            store, model["corpus_id"], ("position", "doc_key", "title", "label", "date", "n_tokens", "text")),
            meta["n"]))
        labels = sorted({d["label"] for d in docs if d["label"]})
        label_code = {lab: i for i, lab in enumerate(labels)}
        days = [_date_days(d["date"]) for d in docs]
        known = [x for x in days if x is not None]
        lo, hi = (min(known), max(known)) if known else (0, 0)
        date = np.array([NONE8 if x is None else round(254 * (x - lo) / max(hi - lo, 1)) for x in days],
                        dtype=np.uint8)
        topic = np.asarray(theta).argmax(1) if theta is not None else np.full(len(docs), -1)
        tokens = np.array([d["n_tokens"] for d in docs], dtype=np.int64)
        text = "\n".join(shown_title(d) for d in docs)
        parts = [("topic", _u16(topic)), ("freq", _codes(tokens, tokens.max(initial=1))),
                 ("label", np.array([label_code.get(d["label"], NONE16) for d in docs], dtype=np.uint16)),
                 ("date", date)]
        header.update(labels=labels, frequency={"max": int(tokens.max(initial=0)), "of": "tokens"},
                      dates=[_iso(lo), _iso(hi)] if known else None)
    topics = topics_of(store, lda, 3) if lda is not None else []
    header.update({k: meta[k] for k in ("what", "by", "method", "n", "params", "seconds", "faithfulness",
                                         "created", "model_id")})
    header.update(lda_model_id=lda["id"] if lda else None,
                  topics=[{"topic": t["topic"], "name": t["label"] or " ".join(x for x, _ in t["terms"])}
                          for t in topics],
                  bounds=[float(coords[:, 0].min()), float(coords[:, 1].min()),
                          float(coords[:, 0].max()), float(coords[:, 1].max())] if len(coords) else [0, 0, 1, 1])
    parts = [("xy", np.ascontiguousarray(coords, dtype=np.float32).ravel())] + parts
    return {"points": _pack(header, parts), "texts": text.encode("utf-8")}


def shown_title(doc):
    """What a map shows for a document: its title, else an e-mail's subject or its first
    line, else its id; on one line, at most 80 characters."""
    title = doc.get("title")
    if not title and doc.get("text"):
        head = doc["text"][:4000]
        subject = re.search(r"^Subject:[ \t]*(.+)$", head, re.M)
        title = subject.group(1) if subject else next((line for line in head.splitlines() if line.strip()), "")
    return " ".join((title or doc.get("doc_key") or "").split())[:TITLE_CHARS]


def _u16(topic):
    topic = np.asarray(topic)
    return np.where(topic < 0, NONE16, topic).astype(np.uint16)


def _iso(days):
    import datetime as dt
    return (dt.date(1970, 1, 1) + dt.timedelta(days=int(days))).isoformat()


def _pack(header, parts):
    types = {np.dtype(np.float32): "float32", np.dtype(np.uint16): "uint16", np.dtype(np.uint8): "uint8"}
    blobs, listing = [], []
    for name, value in parts:
        raw = value.astype(value.dtype.newbyteorder("<")).tobytes()
        listing.append({"name": name, "type": types[value.dtype], "length": int(value.size)})
        blobs.append(raw + b"\0" * (-len(raw) % 4))
    header["arrays"] = listing
    head = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 4)
    return b"".join([MAGIC, struct.pack("<I", len(head)), head, *blobs])


# -- one point -------------------------------------------------------------------------------

def point_info(store, model, what, index, topn=10, method=None):
    """What point ``index`` of a map is: a word (its frequency, its topics, its nearest
    words) or a document (title, label, date, its topics, its nearest documents, by the
    map's own distance). Neighbours carry their point indices, to be shown on the map."""
    meta, arrays = read_map(store, model, what, method)
    index = _check_index(index, meta["n"])
    topn = _check_topn(topn)
    if what == "words":
        return _word_info(store, model, index, topn)
    return _document_info(store, model, meta, arrays, index, topn)


def _check_index(index, n):
    """A point number 0..n-1 (InvalidInput naming the range otherwise)."""
    found = validate([Param("point", "int", None, 0, n - 1)], {"point": index})["point"]
    if found is None:
        raise InvalidInput(f"give a point number, 0..{n - 1}")
    return found


def _check_topn(topn):
    return validate([Param("topn", "int", 10, 1, TOPN_MAX)], {"topn": topn})["topn"]


def _topic_list(store, lda, weights, n=3):
    if lda is None or weights is None:
        return []
    names = {t["topic"]: t["label"] or " ".join(x for x, _ in t["terms"]) for t in topics_of(store, lda, 3)}
    order = np.argsort(-np.asarray(weights), kind="stable")[:n]
    return [{"topic": int(k), "name": names[int(k)], "weight": round(float(weights[k]), 4)}
            for k in order if weights[k] >= 0.01]


def _word_info(store, model, index, topn):
    vecs = load_vectors(store, model)
    word = vecs.words[index]
    lda = topics_model(store, model)
    _, weights = word_topics(store, model, lda)
    counts = np.load(registry.model_path(store, model, "counts.npy"), mmap_mode="r", allow_pickle=False)
    return {"index": index, "word": word, "frequency": int(counts[index]),
            "lda_model_id": lda["id"] if lda else None,
            "topics": _topic_list(store, lda, weights[:, index] if weights is not None else None),
            "neighbours": [{"index": vecs.index[w], "word": w, "similarity": s}
                           for w, s in vecs.nearest([word], topn=topn)]}


def _document_info(store, model, meta, arrays, index, topn):
    theta, lda = _doc_theta(store, topics_model(store, model), meta["n"])
    if model["kind"] == "lda":
        space = np.sqrt(np.maximum(np.asarray(theta), 0))
    else:
        space = np.asarray(arrays["vectors"])
    sims = space @ space[index]
    sims[index] = -np.inf
    k = min(topn, len(sims) - 1)
    top = np.argpartition(-sims, k - 1)[:k] if k > 0 else np.zeros(0, dtype=np.int64)
    top = top[np.argsort(-sims[top], kind="stable")]
    with store.read() as conn:
        corpus = db.get_corpus_by_id(conn, model["corpus_id"])
        rows = {d["position"]: d for d in db.get_documents(
            conn, corpus["id"], positions=[index, *top.tolist()],
            columns=("position", "doc_key", "title", "label", "date", "text"))}
    for d in rows.values():
        d["title"] = shown_title(d)
        del d["text"]
    doc = rows.get(index, {"position": index, "doc_key": None, "title": None, "label": None, "date": None})
    return {"index": index, **doc, "url": f"/corpora/{corpus['name']}/documents/{index}",
            "lda_model_id": lda["id"] if lda else None,
            "topics": _topic_list(store, lda, theta[index] if theta is not None else None),
            "neighbours": [{"index": int(i), "title": (rows.get(int(i)) or {}).get("title"),
                            "similarity": round(float(sims[i]), 5)} for i in top]}


# -- exports -----------------------------------------------------------------------------------

def map_rows(store, model, what):
    """``(columns, rows)`` of a map export, rows in point order: words ``word, x, y,
    frequency, topic``; documents ``doc_id, title, label, date, x, y, topic`` (topic: the
    most probable one, None when there is no LDA model or it lacks the word)."""
    meta, arrays = read_map(store, model, what)
    coords = arrays["coords"]
    if what == "words":
        topic, _ = word_topics(store, model, topics_model(store, model))
        counts = np.load(registry.model_path(store, model, "counts.npy"), mmap_mode="r", allow_pickle=False)
        words = load_vectors(store, model).words
        rows = ((w, float(coords[i, 0]), float(coords[i, 1]), int(counts[i]), int(topic[i]) if topic[i] >= 0 else None)
                for i, w in enumerate(words))
        return ["word", "x", "y", "frequency", "topic"], rows
    theta, _ = _doc_theta(store, topics_model(store, model), meta["n"])

    def docs():
        for d in db.iter_documents(store, model["corpus_id"], ("position", "doc_key", "title", "label", "date")):
            i = d["position"]
            if i >= meta["n"]:
                return
            yield (d["doc_key"], d["title"], d["label"], d["date"], float(coords[i, 0]), float(coords[i, 1]),
                   int(np.argmax(theta[i])) if theta is not None else None)
    return ["doc_id", "title", "label", "date", "x", "y", "topic"], docs()
