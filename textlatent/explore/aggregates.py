"""Topics by label and over time: means of the stored document-topic matrix per label and
per period, prepared once beside the model and only read per request.

``prepare`` runs at training time (and, for models trained before this view existed, in a
job or the first time the command line needs it). It writes ``agg_*`` files in the model
folder: per label and per period of each kind (year, month, week, day), the mean topic
shares, the number of documents, and how many documents have each topic as their
dominant one. A request reads those small arrays and never the documents.
"""

import datetime as dt
import functools
import os
import shutil
import tempfile

import numpy as np

from ..errors import Conflict, InvalidInput
from ..ingest import dates
from ..store import queries as db
from ..store import registry

PREFIX = "agg_"                 # model folders are flat (shared storage copies files, not folders)
META = PREFIX + "meta.json"
VERSION = 1
PERIODS = ("year", "month", "week", "day")
TARGET_PERIODS = 60             # the default period is the finest with at most this many
_CHUNK = 100_000
_EPOCH = dt.date(1970, 1, 1).toordinal()


class NotPrepared(Conflict):
    """The model predates these views and they have not been prepared yet."""

    code = "not_prepared"


def prepare(store, corpus_id, theta, model_folder, out=None):
    """Compute the aggregates of ``theta`` (documents x topics, row = position) with the
    corpus's labels and dates, as ``agg_*`` files in ``out`` (default ``model_folder``, which
    holds the model's ``lambda.npy``); ``agg_meta.json`` is written last, and a reader takes
    the aggregates as there only once it is. Returns the meta."""
    out = out or model_folder
    n = theta.shape[0]
    labels, days, precision = [], np.full(n, np.iinfo(np.int32).min, dtype=np.int64), set()
    for doc in db.iter_documents(store, corpus_id, ("position", "label", "date")):
        if doc["position"] >= n:
            break
        labels.append(doc["label"] or None)
        iso = dates.try_normalise(doc["date"])    # older corpora hold dates as the source wrote them
        if iso is not None:
            days[doc["position"]] = dates.to_date(iso).toordinal() - _EPOCH
            precision.add(dates.precision(iso))
    dominant = _dominant(theta)
    names = sorted({x for x in labels if x is not None})
    index = {name: i for i, name in enumerate(names)}
    label_idx = np.array([index.get(x, -1) if x is not None else -1 for x in labels], dtype=np.int64)
    meta = {"version": VERSION, "num_docs": n, "labels": names,
            "unlabelled": int((label_idx < 0).sum()), "periods": {}, "starts": {}}
    _save_groups(out, "label", label_idx, len(names), theta, dominant)
    dated = days != np.iinfo(np.int32).min
    meta["dated"] = int(dated.sum())
    if meta["dated"]:
        known = max(precision, key=("year", "month", "day", "second").index)
        meta["finest"] = "day" if known == "second" else known
        for period in PERIODS:
            keys = np.where(dated, _period_keys(days, period), -1)
            present = np.unique(keys[dated])
            group = np.searchsorted(present, keys)
            group[~dated] = -1
            _save_groups(out, f"time_{period}", group, len(present), theta, dominant)
            meta["periods"][period] = [_period_name(int(k), period) for k in present]
            meta["starts"][period] = [_period_start(int(k), period) for k in present]
        meta["span"] = [_iso_day(int(days[dated].min())), _iso_day(int(days[dated].max()))]
        meta["default_period"] = _default_period(days[dated], meta["finest"])
    np.save(_file(out, "dominant"), dominant)
    _save_reading_views(out, theta, model_folder)
    registry.write_json(os.path.join(out, META), meta)
    return meta


def _file(folder, name):
    return os.path.join(folder, f"{PREFIX}{name}.npy")


def _save_reading_views(folder, theta, model_folder):
    """``agg_sqrt_doc_topics.npy`` (documents x topics, float32): the square roots the Hellinger
    distance between documents needs; ``agg_term_topic.npy`` (V): each vocabulary term's most
    probable topic, from the model's expected counts (``lambda.npy``), for colouring words."""
    out = np.lib.format.open_memmap(_file(folder, "sqrt_doc_topics"), mode="w+",
                                    dtype=np.float32, shape=theta.shape)
    for a in range(0, theta.shape[0], _CHUNK):
        out[a:a + _CHUNK] = np.sqrt(np.maximum(np.asarray(theta[a:a + _CHUNK], dtype=np.float32), 0))
    out.flush()
    del out
    lam = np.load(os.path.join(model_folder, "lambda.npy"), mmap_mode="r", allow_pickle=False)
    np.save(_file(folder, "term_topic"), np.asarray(lam).argmax(axis=0).astype(np.int16))


def _dominant(theta):
    out = np.empty(theta.shape[0], dtype=np.int16 if theta.shape[1] < 2**15 else np.int32)
    for a in range(0, theta.shape[0], _CHUNK):
        out[a:a + _CHUNK] = np.asarray(theta[a:a + _CHUNK]).argmax(axis=1)
    return out


def _save_groups(folder, name, group, n_groups, theta, dominant):
    """Mean shares (groups x K), document counts (groups) and dominant-topic counts
    (groups x K) of the rows of ``theta`` in each group (``group`` -1: in none)."""
    import scipy.sparse as sp
    K = theta.shape[1]
    sums = np.zeros((n_groups, K), dtype=np.float64)
    for a in range(0, theta.shape[0], _CHUNK):
        g = group[a:a + _CHUNK]
        rows = np.flatnonzero(g >= 0)
        if len(rows):
            onehot = sp.csr_matrix((np.ones(len(rows)), (g[rows], rows)), shape=(n_groups, len(g)))
            sums += onehot @ np.asarray(theta[a:a + _CHUNK], dtype=np.float64)
    inside = group >= 0
    docs = np.bincount(group[inside], minlength=n_groups).astype(np.int64)
    dom = np.bincount(group[inside] * K + dominant[inside], minlength=n_groups * K).reshape(n_groups, K)
    np.save(_file(folder, f"{name}_share"), sums / np.maximum(docs, 1)[:, None])
    np.save(_file(folder, f"{name}_docs"), docs)
    np.save(_file(folder, f"{name}_dominant"), dom.astype(np.int64))


def _period_keys(days, period):
    """Days since 1970-01-01 -> an int per period: year, year*12+month-1, the day number of
    the week's Monday, or the day number."""
    if period == "day":
        return days
    if period == "week":
        return days - (days + 3) % 7          # 1970-01-01 was a Thursday
    d = days.astype("datetime64[D]")
    years = d.astype("datetime64[Y]").astype(np.int64) + 1970
    if period == "year":
        return years
    return d.astype("datetime64[M]").astype(np.int64) + 1970 * 12


def _period_name(key, period):
    if period == "year":
        return f"{key:04d}"
    if period == "month":
        return f"{key // 12:04d}-{key % 12 + 1:02d}"
    day = dt.date.fromordinal(key + _EPOCH)
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return day.isoformat()


def _period_start(key, period):
    """The first day of a period, ISO: what a chart places it at."""
    if period == "year":
        return f"{key:04d}-01-01"
    if period == "month":
        return f"{key // 12:04d}-{key % 12 + 1:02d}-01"
    return _iso_day(key)


def _iso_day(days):
    return dt.date.fromordinal(days + _EPOCH).isoformat()


def _default_period(days, finest):
    """The finest period, no finer than the dates are known, whose span has at most
    TARGET_PERIODS periods; years when even those are more."""
    for period in PERIODS[PERIODS.index(finest)::-1]:
        keys = _period_keys(days, period)
        span = (int(keys.max()) - int(keys.min())) // (7 if period == "week" else 1) + 1
        if span <= TARGET_PERIODS:
            return period
    return "year"


# -- reading ---------------------------------------------------------------------------------

@functools.lru_cache(maxsize=16)
def _load(folder):
    meta = registry.read_json(os.path.join(folder, META))
    return meta, {}


def _array(folder, name):
    meta, arrays = _load(folder)
    if name not in arrays:
        arrays[name] = np.load(_file(folder, name), allow_pickle=False)
    return arrays[name]


def ensure(store, model, prepare_missing=False):
    """The model's folder, its aggregates there; prepares them first when missing and
    ``prepare_missing`` (the command line), else raises :class:`NotPrepared` (a request: a
    job prepares them)."""
    folder = registry.model_path(store, model)
    if not os.path.exists(os.path.join(folder, META)):
        if not prepare_missing:
            raise NotPrepared(f"the label and time views of model {model['id']} are being prepared; "
                              "ask again in a moment", model_id=model["id"])
        prepare_model(store, model)
    return folder


def prepare_model(store, model):
    """Prepare the aggregates of an already trained LDA model (those trained before them)."""
    from .topics import model_arrays
    if model["kind"] != "lda":
        raise InvalidInput(f"model {model['id']} is a {model['kind']} model; topic views need an LDA model")
    theta = model_arrays(store, model)["doc_topics"]
    tmp = tempfile.mkdtemp(dir=store.path("tmp") if os.path.isdir(store.path("tmp")) else None)
    try:
        meta = prepare(store, model["corpus_id"], theta, registry.model_path(store, model), tmp)
        # Into the model's stored folder one file at a time, the meta last: readers wait for it.
        for name in sorted(os.listdir(tmp), key=lambda n: n == META):
            store.files.put_file(os.path.join(tmp, name), f"{model['path']}/{name}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return meta


def by_label(store, model, prepare_missing=False):
    """``{"labels": [L], "documents": [L], "shares": L x K, "dominant": L x K, "unlabelled"}``:
    per document label, its number of documents, their mean topic shares, and how many of
    them have each topic as their dominant one."""
    folder = ensure(store, model, prepare_missing)
    meta, _ = _load(folder)
    if not meta["labels"]:
        raise InvalidInput("this corpus's documents have no labels; topics by label need them "
                           "(folders' subfolders, or --label-field)")
    return {"model_id": model["id"], "labels": meta["labels"], "unlabelled": meta["unlabelled"],
            "documents": _array(folder, "label_docs").tolist(),
            "shares": np.round(_array(folder, "label_share"), 6).tolist(),
            "dominant": _array(folder, "label_dominant").tolist()}


def over_time(store, model, period=None, prepare_missing=False):
    """``{"period", "periods": [P], "starts": [P], "documents": [P], "shares": P x K,
    "dominant": P x K, "undated"}``: the periods that hold dated documents, in order (``starts``:
    their first days, ISO), named ``YYYY``, ``YYYY-MM``,
    ``YYYY-Www`` (ISO week) or ``YYYY-MM-DD``. ``period`` None: the default chosen from the
    span (at most about 60 periods)."""
    if period is not None and period not in PERIODS:
        raise InvalidInput(f"period must be one of {', '.join(PERIODS)}, not {str(period)[:50]!r}")
    folder = ensure(store, model, prepare_missing)
    meta, _ = _load(folder)
    if not meta.get("dated"):
        raise InvalidInput("this corpus's documents have no dates; topics over time need them "
                           "(--date-field, or file names that start with a year)")
    period = period or meta["default_period"]
    return {"model_id": model["id"], "period": period, "default_period": meta["default_period"],
            "span": meta["span"], "undated": meta["num_docs"] - meta["dated"],
            "periods": meta["periods"][period], "starts": meta["starts"][period],
            "documents": _array(folder, f"time_{period}_docs").tolist(),
            "shares": np.round(_array(folder, f"time_{period}_share"), 6).tolist(),
            "dominant": _array(folder, f"time_{period}_dominant").tolist()}


def dominant_topics(store, model, prepare_missing=False):
    """Each document's dominant topic (int array, row = position)."""
    return _array(ensure(store, model, prepare_missing), "dominant")


def reading_arrays(store, model, prepare_missing=False):
    """``(sqrt_doc_topics, term_topic)``: see :func:`_save_reading_views` (memory-mapped)."""
    folder = ensure(store, model, prepare_missing)
    return (np.load(_file(folder, "sqrt_doc_topics"), mmap_mode="r", allow_pickle=False),
            _array(folder, "term_topic"))


TABLES = ("topics-by-label", "topics-over-time")


def table(store, model, what, period=None, prepare_missing=False):
    """An aggregate as rows for export: ``(columns, rows)``. ``topics-by-label``:
    ``label, topic, share, documents`` (documents whose dominant topic it is);
    ``topics-over-time``: ``period, topic, share, documents`` (documents in the period)."""
    if what == "topics-by-label":
        if period is not None:
            raise InvalidInput("--period applies to topics-over-time only")
        d = by_label(store, model, prepare_missing)
        rows = [(name, k, share, dominant)
                for name, shares, dom in zip(d["labels"], d["shares"], d["dominant"])
                for k, (share, dominant) in enumerate(zip(shares, dom))]
        return ["label", "topic", "share", "documents"], rows
    d = over_time(store, model, period, prepare_missing)
    rows = [(name, k, share, n) for name, shares, n in zip(d["periods"], d["shares"], d["documents"])
            for k, share in enumerate(shares)]
    return ["period", "topic", "share", "documents"], rows
