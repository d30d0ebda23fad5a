"""The documents of a corpus, paged: full-text search, filters by label, date range and
dominant topic, sorting by position, date or a topic's share.

The words and the label and date filters are answered by the database's full-text index
and its indexes (see :mod:`textlatent.store.search`); the dominant topic and the topic
shares come from the arrays stored beside the model (see :mod:`.aggregates`). Only the
page's rows are read whole.
"""

import numpy as np

from ..errors import InvalidInput, ModelNotFound
from ..ingest import dates
from ..params import Param, validate
from ..store import queries as db
from ..store import registry
from ..store import search as fts
from . import aggregates, snippets
from .topics import check_topic, model_arrays

MAX_QUERY = 1000
MAX_WORDS = 32
PAGE = [Param("limit", "int", 50, 1, 100, help="documents per page"),
        Param("offset", "int", 0, 0, 10**9, help="documents to skip")]
SORT_HELP = "position, date (oldest first), -date (newest first), or share:K (the share of topic K, largest first)"


def list_documents(store, corpus_name, q=None, label=None, topic=None, date_from=None, date_to=None,
                   sort=None, limit=50, offset=0, model_id=None, prepare_missing=False):
    """``{"documents": [{position, doc_id, title, label, date, snippet, highlights}], "total",
    "total_exact", "model_id"}`` (``total_exact`` False: ``total`` is PostgreSQL's estimate
    of a search's many matches, see :data:`.store.search.EXACT_COUNT_UP_TO`): the corpus's documents that hold every word of ``q`` and match the
    filters, the ``limit`` after ``offset`` in ``sort`` order. ``snippet`` is the text
    around the first match (or the text's start), ``highlights`` the ``[start, end]``
    ranges of the searched words in it. ``topic`` (dominant topic) and ``share:K`` use
    ``model_id`` or the newest LDA model; a model older than its stored views raises
    ``aggregates.NotPrepared`` unless ``prepare_missing`` (see :func:`aggregates.ensure`).
    Every bad input is reported at once."""
    problems = []
    page = _checked(lambda: validate(PAGE, {"limit": limit, "offset": offset}), problems) or {}
    words = _checked(lambda: _query_words(q), problems)
    start = _checked(lambda: _date("date_from", date_from), problems)
    end = _checked(lambda: _date("date_to", date_to), problems)
    if start and end and start > end:
        problems.append(f"date_from ({date_from}) is after date_to ({date_to})")
    sort, share_topic = _checked(lambda: _sort(sort), problems) or ("position", None)
    with store.read() as conn:
        corpus = db.get_corpus(conn, corpus_name)
        if label is not None and not fts.has_label(conn, corpus["id"], label):
            known = fts.labels(conn, corpus["id"], 20)
            problems.append(f"no document has the label {str(label)[:100]!r}; labels: " +
                            (", ".join(known) if known else "none (this corpus has no labels)"))
    model = None
    if topic is not None or share_topic is not None:
        model = _checked(lambda: _model(store, corpus_name, model_id), problems)
    if model is not None:
        K = model["params"]["num_topics"]
        topic = _checked(lambda: check_topic(topic, K) if topic is not None else None, problems)
        share_topic = _checked(lambda: check_topic(share_topic, K) if share_topic is not None else None, problems)
    if problems:
        raise InvalidInput("; ".join(problems), problems=problems)
    date_before = dates.end_bound(end) if end else None
    with store.read() as conn:
        if model is None:
            rows, total, exact = fts.find(conn, corpus["id"], words, label, start, date_before, sort,
                                          page["limit"], page["offset"])
        else:
            rows, total = _by_topic(store, conn, corpus, model, words, label, start, date_before, sort,
                                    topic, share_topic, page, prepare_missing)
            exact = True
    return {"documents": [_row(r, words) for r in rows], "total": total, "total_exact": exact,
            "model_id": model["id"] if model else None}


def _checked(fn, problems):
    try:
        return fn()
    except InvalidInput as e:
        problems.extend(e.details.get("problems") or [e.message])
    except ModelNotFound as e:
        problems.append(e.message)
    return None


def _query_words(q):
    if q is None:
        return []
    if not isinstance(q, str) or len(q) > MAX_QUERY:
        raise InvalidInput(f"a search is at most {MAX_QUERY:,} characters")
    found = fts.words(q)
    if not found:
        raise InvalidInput("a search needs at least one word (letters or digits)")
    if len(found) > MAX_WORDS:
        raise InvalidInput(f"a search has at most {MAX_WORDS} words")
    return found


def _date(name, value):
    if value is None or value == "":
        return None
    try:
        return dates.normalise(value)
    except ValueError as e:
        raise InvalidInput(f"{name}: {str(value)[:50]!r} is {e} (ISO 8601, such as 1987-03 or 1987-03-26)") from None


def _sort(value):
    if value in (None, ""):
        return "position", None
    if value in fts.SORTS:
        return value, None
    if isinstance(value, str) and value.startswith("share:"):
        return "position", value[len("share:"):]
    raise InvalidInput(f"sort must be {SORT_HELP}, not {str(value)[:50]!r}")


def _model(store, corpus_name, model_id):
    try:
        return registry.find_model(store, corpus_name, model_id, kind="lda")[1]
    except ModelNotFound as e:
        raise InvalidInput(f"filtering or sorting by topic needs an LDA model: {e.message}") from None


def _by_topic(store, conn, corpus, model, words, label, start, date_before, sort, topic, share_topic, page,
              prepare_missing):
    """The page when a dominant topic or a topic's share decides: the matching positions from
    the database in ``sort`` order, then the model's arrays filter and order them."""
    theta = model_arrays(store, model)["doc_topics"]
    if words or label is not None or start is not None or date_before is not None or sort != "position":
        positions, _, _ = fts.find(conn, corpus["id"], words, label, start, date_before, sort, positions_only=True)
        positions = np.asarray(positions, dtype=np.int64)
    else:
        positions = np.arange(corpus["n_docs"], dtype=np.int64)
    positions = positions[positions < theta.shape[0]]     # documents newer than the model have no topics
    if topic is not None:
        dominant = aggregates.dominant_topics(store, model, prepare_missing)
        positions = positions[dominant[positions] == topic]
    if share_topic is not None:
        shares = np.asarray(theta[:, share_topic])[positions]
        positions = positions[np.argsort(-shares, kind="stable")]
    chosen = positions[page["offset"]:page["offset"] + page["limit"]].tolist()
    found = fts.documents_at(conn, corpus["id"], chosen)
    rows = [found[p] for p in chosen if p in found]
    if share_topic is not None:
        for r in rows:
            r["share"] = round(float(theta[r["position"], share_topic]), 5)
    return rows, len(positions)


def _row(r, words):
    snippet, marks = snippets.around(r["text"], words) if words else (snippets.lead(r["text"], r["title"]), [])
    out = {"position": r["position"], "doc_id": r["doc_key"], "title": r["title"], "label": r["label"],
           "date": r["date"], "snippet": snippet, "highlights": marks}
    if "share" in r:
        out["share"] = r["share"]
    return out


def filters(store, corpus_name, model_id=None):
    """What the documents page offers to filter by: ``{"labels", "model_id", "topics"}``."""
    with store.read() as conn:
        corpus = db.get_corpus(conn, corpus_name)
        labels = fts.labels(conn, corpus["id"])
    try:
        _, model = registry.find_model(store, corpus_name, model_id, kind="lda")
    except ModelNotFound:
        return {"labels": labels, "model_id": None, "topics": []}
    from .topics import topics_of
    return {"labels": labels, "model_id": model["id"],
            "topics": [{"topic": t["topic"], "label": t["label"], "terms": [w for w, _ in t["terms"]]}
                       for t in topics_of(store, model, 3)]}
