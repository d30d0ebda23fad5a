"""Exports in formats other tools read, streamed in constant memory.

- document-topic vectors: CSV, JSONL, NumPy ``.npy`` (+ ``.ids.tsv`` sidecar), Parquet
- the topic-term table: CSV
- word vectors: word2vec text and binary, TensorFlow Projector ``vectors.tsv`` + ``metadata.tsv``
- map coordinates of words and documents: CSV, Parquet
"""

import csv
import io
import itertools
import json
import os

import numpy as np

from .errors import InvalidInput
from .explore import aggregates
from .explore.topics import model_arrays
from .store import queries as db
from .store import registry

FORMATS = {
    "doc-topics": ("csv", "jsonl", "npy", "parquet"),
    "topic-terms": ("csv",),
    "vectors": ("word2vec", "word2vec-binary", "projector"),
    "word-map": ("csv", "parquet"),
    "doc-map": ("csv", "parquet"),
    "topics-by-label": ("csv", "parquet"),
    "topics-over-time": ("csv", "parquet"),
}
KIND = {"doc-topics": "lda", "topic-terms": "lda", "vectors": "word2vec", "word-map": "word2vec", "doc-map": "lda",
        "topics-by-label": "lda", "topics-over-time": "lda"}
# A documents map is of an LDA model (by topics) or, given its id, of a Word2Vec one (by vectors).
ALSO = {"doc-map": ("word2vec",)}
MAP_OF = {"word-map": "words", "doc-map": "documents"}
BATCH = 2000
DOC_COLUMNS = ("position", "doc_key", "title", "label", "date")


def check_export(what, fmt):
    """InvalidInput unless ``what`` exports as ``fmt``."""
    if what not in FORMATS:
        raise InvalidInput(f"cannot export {what!r}; choose one of {', '.join(FORMATS)}")
    if fmt not in FORMATS[what]:
        raise InvalidInput(f"{what} exports as {', '.join(FORMATS[what])}, not {fmt!r}")


def safe_cell(value):
    """Neutralise spreadsheet formulas: a cell starting with = + - @ tab or CR gets a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def topic_columns(model, K):
    """The doc-topics column of each topic: ``topic_3``, or ``topic_3: hockey`` once topic 3
    has a label. One header row, as pandas reads it; the number before the colon is the
    model's topic (``df.filter(regex=r"^topic_\\d+")`` selects them all)."""
    labels = model.get("labels") or {}
    return [f"topic_{k}: {labels[str(k)]}" if labels.get(str(k)) else f"topic_{k}" for k in range(K)]


def _doc_rows(store, model):
    """Yield ``(document dict, topic weights row)`` in corpus order, a batch at a time."""
    theta = model_arrays(store, model)["doc_topics"]
    for doc in db.iter_documents(store, model["corpus_id"], DOC_COLUMNS):
        if doc["position"] >= len(theta):      # added after the model was trained
            return
        yield doc, theta[doc["position"]]


def iter_doc_topics_csv(store, model):
    """Yield CSV text chunks: doc_id, title, label, date (ISO 8601), then a column per topic
    (:func:`topic_columns`)."""
    K = model_arrays(store, model)["doc_topics"].shape[1]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["doc_id", "title", "label", "date"] + topic_columns(model, K))
    for n, (doc, row) in enumerate(_doc_rows(store, model), start=1):
        w.writerow([safe_cell(doc["doc_key"]), safe_cell(doc["title"] or ""), safe_cell(doc["label"] or ""),
                    doc["date"] or ""]
                   + [f"{x:.6g}" for x in row.tolist()])
        if n % BATCH == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def iter_doc_topics_jsonl(store, model):
    lines = []
    for doc, row in _doc_rows(store, model):
        lines.append(json.dumps({"doc_id": doc["doc_key"], "title": doc["title"], "label": doc["label"],
                                 "date": doc["date"], "topics": [round(x, 6) for x in row.tolist()]}, ensure_ascii=False))
        if len(lines) >= BATCH:
            yield "\n".join(lines) + "\n"
            lines = []
    if lines:
        yield "\n".join(lines) + "\n"


def iter_topic_terms_csv(store, model, topn=30):
    a = model_arrays(store, model)
    tt, vocab = a["topic_terms"], a["vocab"]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["topic", "label", "rank", "term", "weight"])
    labels = model.get("labels") or {}
    for k in range(tt.shape[0]):
        row = np.asarray(tt[k])
        for rank, i in enumerate(np.argsort(-row)[:topn], start=1):
            w.writerow([k, safe_cell(labels.get(str(k), "")), rank, safe_cell(vocab[i]), f"{row[i]:.6g}"])
    yield buf.getvalue()


def write_parquet(store, model, path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    K = model_arrays(store, model)["doc_topics"].shape[1]
    schema = pa.schema([("doc_id", pa.string()), ("title", pa.string()), ("label", pa.string()),
                        ("date", pa.string())]
                       + [(name, pa.float32()) for name in topic_columns(model, K)])
    with pq.ParquetWriter(path, schema) as writer:
        batch = []
        for doc, row in _doc_rows(store, model):
            batch.append((doc, np.asarray(row)))
            if len(batch) >= BATCH:
                writer.write_table(_parquet_table(batch, schema, K))
                batch = []
        if batch:
            writer.write_table(_parquet_table(batch, schema, K))


def _parquet_table(batch, schema, K):
    import pyarrow as pa
    m = np.stack([r for _, r in batch])
    cols = [[d[c] for d, _ in batch] for c in ("doc_key", "title", "label", "date")]
    cols += [m[:, k] for k in range(K)]
    return pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(cols, schema)], schema=schema)


def iter_map_csv(store, model, what):
    """Yield CSV text chunks of a map export (see :func:`explore.map_views.map_rows`)."""
    from .explore.map_views import map_rows
    columns, rows = map_rows(store, model, MAP_OF[what])
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(columns)
    for n, row in enumerate(rows, start=1):
        w.writerow([safe_cell(v) if isinstance(v, str) else "" if v is None else f"{v:.6g}" if isinstance(v, float)
                    else v for v in row])
        if n % BATCH == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def write_map_parquet(store, model, what, path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .explore.map_views import map_rows
    columns, rows = map_rows(store, model, MAP_OF[what])
    kinds = {"x": pa.float32(), "y": pa.float32(), "frequency": pa.int64(), "topic": pa.int32()}
    schema = pa.schema([(c, kinds.get(c, pa.string())) for c in columns])
    with pq.ParquetWriter(path, schema) as writer:
        while batch := list(itertools.islice(rows, BATCH)):
            writer.write_table(pa.Table.from_arrays(
                [pa.array([r[i] for r in batch], type=f.type) for i, f in enumerate(schema)], schema=schema))


def write_npy(store, model, path):
    """The doc-topic matrix (float32, documents x topics) and ``<path>.ids.tsv``: row, doc_id, title."""
    theta = model_arrays(store, model)["doc_topics"]
    np.save(path, np.asarray(theta))
    ids = _sidecar(path)
    with open(ids, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t")
        w.writerow(["row", "doc_id", "title", "label", "date"])
        for doc in db.iter_documents(store, model["corpus_id"], DOC_COLUMNS):
            if doc["position"] >= len(theta):
                break
            w.writerow([doc["position"], doc["doc_key"], doc["title"] or "", doc["label"] or "", doc["date"] or ""])
    return [path, ids]


def _sidecar(path):
    return (path[:-4] if path.endswith(".npy") else path) + ".ids.tsv"


def write_vectors(store, model, fmt, path):
    """Word vectors in word2vec text/binary, or Projector TSVs (``path`` is then a folder)."""
    from gensim.models import KeyedVectors

    folder = registry.model_path(store, model)
    vectors = np.load(os.path.join(folder, "vectors.npy"), mmap_mode="r", allow_pickle=False)
    words = registry.read_json(os.path.join(folder, "words.json"))
    if fmt == "projector":
        os.makedirs(path, exist_ok=True)
        vec_path, meta_path = os.path.join(path, "vectors.tsv"), os.path.join(path, "metadata.tsv")
        with open(vec_path, "w", encoding="utf-8") as fv, open(meta_path, "w", encoding="utf-8") as fm:
            for start in range(0, len(words), BATCH):
                block = np.asarray(vectors[start:start + BATCH])
                fv.write("\n".join("\t".join(f"{x:.6g}" for x in row) for row in block.tolist()) + "\n")
                fm.write("\n".join(w.replace("\t", " ") for w in words[start:start + BATCH]) + "\n")
        return [vec_path, meta_path]
    kv = KeyedVectors(vectors.shape[1], count=0, dtype=np.float32)
    kv.index_to_key = words
    kv.key_to_index = {w: i for i, w in enumerate(words)}
    kv.vectors = vectors
    kv.save_word2vec_format(path, binary=(fmt == "word2vec-binary"))
    return [path]


def write_table(columns, rows, fmt, path):
    """Rows of plain values as CSV or Parquet (the column types from the first row)."""
    if fmt == "csv":
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(columns)
            w.writerows([safe_cell(v) if isinstance(v, str) else v for v in row] for row in rows)
        return
    import pyarrow as pa
    import pyarrow.parquet as pq
    pq.write_table(pa.table({c: [r[i] for r in rows] for i, c in enumerate(columns)}), path)


def export(store, corpus_name, what, fmt, path, model_id=None, period=None):
    """Write an export to ``path``; returns the list of files written. ``period`` (year,
    month, week, day) only for ``topics-over-time``; models trained before the aggregates
    existed get them prepared first."""
    check_export(what, fmt)
    _, model = registry.find_model(store, corpus_name, model_id, kind=None if model_id and what in ALSO
                                   else KIND[what])
    _check_kind(model, what)
    if what in aggregates.TABLES:
        write_table(*aggregates.table(store, model, what, period, prepare_missing=True), fmt, path)
        return [path]
    if period is not None:
        raise InvalidInput("--period applies to topics-over-time only")
    if what in MAP_OF:
        from .explore.maps import read_map
        read_map(store, model, MAP_OF[what])          # no map yet: say so before a file is opened
        if fmt == "parquet":
            write_map_parquet(store, model, what, path)
            return [path]
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.writelines(iter_map_csv(store, model, what))
        return [path]
    if what == "vectors":
        return write_vectors(store, model, fmt, path)
    if fmt == "npy":
        return write_npy(store, model, path)
    if fmt == "parquet":
        write_parquet(store, model, path)
        return [path]
    chunks = (iter_topic_terms_csv if what == "topic-terms" else
              iter_doc_topics_csv if fmt == "csv" else iter_doc_topics_jsonl)(store, model)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        for chunk in chunks:
            fh.write(chunk)
    return [path]


MIMETYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8",
             "npy": "application/octet-stream", "parquet": "application/vnd.apache.parquet",
             "word2vec": "text/plain; charset=utf-8", "word2vec-binary": "application/octet-stream",
             "projector": "application/zip"}
EXTENSIONS = {"word2vec": "vec", "word2vec-binary": "bin", "projector": "zip"}


def download(store, model_id, what, fmt, period=None):
    """An export as a download: ``(file name, mimetype, iterator of bytes)``. Text formats
    stream as they are made; the others are written to a temporary file first, which the
    iterator removes when it ends. Aggregates not prepared yet raise ``NotPrepared``."""
    check_export(what, fmt)
    corpus, model = registry.get_model(store, model_id)
    _check_kind(model, what)
    filename = f"{corpus['name']}-model{model['id']}-{what}.{EXTENSIONS.get(fmt, fmt)}"
    if what in MAP_OF:
        from .explore.maps import read_map
        read_map(store, model, MAP_OF[what])          # a missing map: 404 now, not a broken stream
    if what in MAP_OF and fmt == "csv":
        return filename, MIMETYPES[fmt], (c.encode("utf-8") for c in iter_map_csv(store, model, what))
    if what in aggregates.TABLES:
        table = aggregates.table(store, model, what, period)
        if fmt == "csv":
            buf = io.StringIO()
            csv.writer(buf).writerows([table[0]] + [[safe_cell(v) for v in r] for r in table[1]])
            return filename, MIMETYPES[fmt], iter([buf.getvalue().encode("utf-8")])
    if what == "topic-terms" or fmt in ("csv", "jsonl"):
        chunks = (iter_topic_terms_csv if what == "topic-terms" else
                  iter_doc_topics_csv if fmt == "csv" else iter_doc_topics_jsonl)(store, model)
        return filename, MIMETYPES[fmt], (c.encode("utf-8") for c in chunks)
    if fmt == "npy":
        buf = io.BytesIO()
        np.save(buf, np.asarray(model_arrays(store, model)["doc_topics"]))
        return filename, MIMETYPES[fmt], iter([buf.getvalue()])
    import tempfile
    tmp_root = os.path.join(store.home, "tmp")
    os.makedirs(tmp_root, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=tmp_root)
    try:
        path = os.path.join(tmp, filename)
        if what in MAP_OF:
            write_map_parquet(store, model, what, path)
        elif what in aggregates.TABLES:
            write_table(*table, fmt, path)
        elif fmt == "parquet":
            write_parquet(store, model, path)
        elif fmt == "projector":
            import zipfile
            files = write_vectors(store, model, fmt, os.path.join(tmp, "projector"))
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
                for f in files:
                    zf.write(f, os.path.basename(f))
        else:
            write_vectors(store, model, fmt, path)
    except BaseException:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return filename, MIMETYPES[fmt], _file_chunks(path, tmp)


def _check_kind(model, what):
    allowed = (KIND[what], *ALSO.get(what, ()))
    if model["kind"] not in allowed:
        raise InvalidInput(f"model {model['id']} is a {model['kind']} model; {what} needs a "
                           f"{' or '.join(allowed)} model")


def _file_chunks(path, tmp):
    import shutil
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1024 * 1024):
                yield chunk
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
