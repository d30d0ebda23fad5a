"""Every query textlatent makes: the only SQL in the library, one function a question.

Each function takes an open connection (see :meth:`textlatent.store.Store.read` and
``write``) except the streams, which read in batches, each batch its own short transaction.
"""

import datetime as dt
import unicodedata

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, CorpusNotFound, JobNotFound, ModelNotFound
from . import search
from .schema import corpora, documents, ingests, jobs, meta, models, now, phrases, terms

# A corpus whose first ingest has not finished is not there yet for anyone else.
SHOWN = corpora.c.version > 0

# -- corpora ---------------------------------------------------------------------------------

def _nfc(name):
    # Names are stored in NFC (see ingest.valid_corpus_name): "café" finds "café" however spelled.
    return unicodedata.normalize("NFC", name) if isinstance(name, str) else name


def get_corpus(conn, name):
    row = conn.execute(select(corpora).where(corpora.c.name == _nfc(name), SHOWN)).mappings().first()
    if row is None:
        names = list(conn.execute(select(corpora.c.name).where(SHOWN).order_by(corpora.c.name)).scalars())
        hint = f" Known corpora: {', '.join(names)}." if names else " There are no corpora yet: ingest one first."
        raise CorpusNotFound(f"no corpus named {name!r}.{hint}", name=name)
    return dict(row)


def find_corpus(conn, name, hidden=False):
    """The corpus row, or None; with ``hidden`` also one whose first ingest is still writing."""
    q = select(corpora).where(corpora.c.name == _nfc(name))
    row = conn.execute(q if hidden else q.where(SHOWN)).mappings().first()
    return dict(row) if row else None


def get_corpus_by_id(conn, corpus_id):
    row = conn.execute(select(corpora).where(corpora.c.id == corpus_id, SHOWN)).mappings().first()
    if row is None:
        raise CorpusNotFound(f"no corpus with id {corpus_id}")
    return dict(row)


def list_corpora(conn):
    """Every corpus row, by name (the counts are columns of the row: no scan of terms)."""
    return [dict(r) for r in conn.execute(select(corpora).where(SHOWN).order_by(corpora.c.name)).mappings()]


def get_phrases(conn, corpus_id):
    """The corpus's learned bigrams ``[[a, b], ...]``, or None before its first ingest froze them."""
    return conn.execute(select(phrases.c.pairs).where(phrases.c.corpus_id == corpus_id)).scalar_one_or_none()


def has_phrases(conn, corpus_id):
    return conn.execute(select(phrases.c.corpus_id).where(phrases.c.corpus_id == corpus_id)).first() is not None


def create_corpus(conn, name, settings):
    t = now()
    try:
        with conn.begin_nested():
            cid = conn.execute(insert(corpora).values(
                name=name, settings=settings, n_docs=0, n_tokens=0, n_terms=0, n_phrases=0,
                version=0, created=t, updated=t)).inserted_primary_key[0]
    except IntegrityError:
        raise Conflict(f"a corpus named {name!r} already exists") from None
    return find_corpus(conn, name, hidden=True) | {"id": cid}


def delete_corpus(conn, corpus_id):
    search.forget_corpus(conn, corpus_id)
    # Explicit deletes: foreign-key cascades are not on in every database's default set-up.
    for table in (models, terms, documents, phrases, ingests):
        conn.execute(delete(table).where(table.c.corpus_id == corpus_id))
    conn.execute(delete(corpora).where(corpora.c.id == corpus_id))


def _n_docs(corpus_id):
    return select(corpora.c.n_docs).where(corpora.c.id == corpus_id).scalar_subquery()


def visible(corpus_id, walk=True):
    """The documents of a corpus that readers see: not those an unfinished ingest is writing.
    ``walk=False`` where another condition picks a few rows (positions or hashes in a list):
    offered ``position < n_docs``, SQLite walked the corpus's whole position index instead
    of seeking the few (a document by position took 5 ms at 18,846 posts, 50 at 188,460);
    ``position + 0`` is the same test that no index serves."""
    position = documents.c.position if walk else documents.c.position + 0
    return (documents.c.corpus_id == corpus_id) & (position < _n_docs(corpus_id))


def existing_hashes(conn, corpus_id, hashes):
    """Those of ``hashes`` (a batch of content hashes) that the corpus holds already."""
    q = select(documents.c.content_hash).where(visible(corpus_id, walk=False),
                                               documents.c.content_hash.in_(list(hashes)))
    return set(conn.execute(q).scalars())


def load_terms(conn, corpus_id):
    """``(terms, df, cf)`` lists indexed by term id."""
    rows = conn.execute(select(terms.c.id, terms.c.term, terms.c.df, terms.c.cf)
                        .where(terms.c.corpus_id == corpus_id).order_by(terms.c.id)).all()
    return [r.term for r in rows], [r.df for r in rows], [r.cf for r in rows]


def top_terms(conn, corpus_id, n):
    q = (select(terms.c.term, terms.c.df, terms.c.cf).where(terms.c.corpus_id == corpus_id)
         .order_by(terms.c.cf.desc(), terms.c.id).limit(n))
    return [tuple(r) for r in conn.execute(q)]


def save_terms(conn, corpus_id, old_n, term_list, df, cf, changed, first):
    """Insert terms with id >= ``old_n`` (``first``: the position of each one's first
    document, from ``old_n`` on) and update the counts of ``changed`` older ids."""
    if changed:
        stmt = (update(terms).where(terms.c.corpus_id == corpus_id, terms.c.id == bindparam("tid"))
                .values(df=bindparam("new_df"), cf=bindparam("new_cf")))
        conn.execute(stmt, [{"tid": i, "new_df": df[i], "new_cf": cf[i]} for i in changed])
    # Straight to the driver's executemany: SQLAlchemy's parameter handling per row was half
    # the time of a corpus's 100,000 new terms (0.57 s against 0.30 s on SQLite).
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {terms.name} (corpus_id, id, term, df, cf, first_position) VALUES ({', '.join([mark] * 6)})"
    new = [(corpus_id, i, term_list[i], int(df[i]), int(cf[i]), int(first[i - old_n]))
           for i in range(old_n, len(term_list))]
    for start in range(0, len(new), 20000):
        conn.exec_driver_sql(sql, new[start:start + 20000])


def insert_documents(conn, rows):
    """Insert document rows (of one corpus, positions in order) and index them for search."""
    if rows:
        conn.execute(insert(documents), rows)
        search.index_positions(conn, rows[0]["corpus_id"], rows[0]["position"], rows[-1]["position"])


def set_tokens(conn, corpus_id, positions, blobs, counts):
    """Store the token streams of documents written without them (an unfinished ingest's)."""
    stmt = (update(documents).where(documents.c.corpus_id == corpus_id, documents.c.position == bindparam("pos"))
            .values(tokens=bindparam("blob"), n_tokens=bindparam("n")))
    conn.execute(stmt, [{"pos": p, "blob": b, "n": n} for p, b, n in zip(positions, blobs, counts)])


def finish_ingest(conn, corpus_id, n_docs, n_tokens, n_terms, pairs):
    """Record an ingest's new counts (and, on the first, its phrases ``pairs``); the corpus's
    version goes up by one, so per-process caches of it are renewed."""
    values = {"n_docs": n_docs, "n_tokens": n_tokens, "n_terms": n_terms, "updated": now(),
              "version": corpora.c.version + 1}
    if pairs is not None:
        conn.execute(insert(phrases).values(corpus_id=corpus_id, pairs=pairs))
        values["n_phrases"] = len(pairs)
    conn.execute(update(corpora).where(corpora.c.id == corpus_id).values(**values))


def claim_ingest(conn, corpus_id, owner, stale_seconds):
    """Take the corpus's ingest row for ``owner``: True, or False while another ingest holds
    it with a heartbeat newer than ``stale_seconds``. An ingest that stopped without letting
    go (a killed process) loses it, and its rows are dropped (see :func:`drop_staged`)."""
    try:
        with conn.begin_nested():
            conn.execute(insert(ingests).values(corpus_id=corpus_id, owner=owner, heartbeat=now()))
        return True
    except IntegrityError:
        stale = now() - dt.timedelta(seconds=stale_seconds)
        return conn.execute(update(ingests).where(ingests.c.corpus_id == corpus_id, ingests.c.heartbeat < stale)
                            .values(owner=owner, heartbeat=now())).rowcount > 0


def beat_ingest(conn, corpus_id, owner):
    """Renew the claim; False when ``owner`` lost it."""
    return conn.execute(update(ingests).where(ingests.c.corpus_id == corpus_id, ingests.c.owner == owner)
                        .values(heartbeat=now())).rowcount > 0


def release_ingest(conn, corpus_id, owner):
    conn.execute(delete(ingests).where(ingests.c.corpus_id == corpus_id, ingests.c.owner == owner))


def drop_staged(conn, corpus_id):
    """Delete the rows an unfinished ingest wrote (positions from n_docs up), and their search entries."""
    first = conn.execute(select(corpora.c.n_docs).where(corpora.c.id == corpus_id)).scalar_one()
    search.forget_corpus(conn, corpus_id, first)
    conn.execute(delete(documents).where(documents.c.corpus_id == corpus_id, documents.c.position >= first))


def iter_token_blobs(store, corpus_id, batch=2000):
    """Yield ``(position, blob)`` in corpus order, reading ``batch`` rows per query."""
    for rows in iter_token_batches(store, corpus_id, batch, batch):
        yield from rows


def iter_token_batches(store, corpus_id, first=2000, most=2000, start=0):
    """Yield lists of ``(position, blob)`` in corpus order from position ``start``, one list
    per query: the first of ``first`` rows, each next one twice as many up to ``most`` (a
    reader that may stop early, as KWIC's first page, reads little)."""
    last, batch = start - 1, first
    while True:
        with store.read() as conn:
            rows = conn.execute(
                select(documents.c.position, documents.c.tokens)
                .where(visible(corpus_id), documents.c.position > last)
                .order_by(documents.c.position).limit(batch)).all()
        if not rows:
            return
        yield [(r.position, r.tokens) for r in rows]
        last, batch = rows[-1].position, min(most, 2 * batch)


def iter_documents(store, corpus_id, columns=("position", "doc_key", "title", "label"), batch=2000):
    cols = [documents.c[c] for c in columns]
    if "position" not in columns:
        cols.append(documents.c.position)
    last = -1
    while True:
        with store.read() as conn:
            rows = conn.execute(select(*cols).where(visible(corpus_id), documents.c.position > last)
                                .order_by(documents.c.position).limit(batch)).mappings().all()
        if not rows:
            return
        yield from (dict(r) for r in rows)
        last = rows[-1]["position"]


def get_documents(conn, corpus_id, positions=None, limit=None, columns=None):
    cols = [documents.c[c] for c in columns] if columns else [documents]
    q = select(*cols).where(visible(corpus_id, walk=positions is None))
    if positions is not None:
        q = q.where(documents.c.position.in_([int(p) for p in positions]))
    q = q.order_by(documents.c.position)
    if limit:
        q = q.limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]


def content_hashes_in_order(conn, corpus_id):
    return conn.execute(select(documents.c.content_hash).where(visible(corpus_id))
                        .order_by(documents.c.position)).scalars()


# -- models ----------------------------------------------------------------------------------

def insert_model(conn, **values):
    values.setdefault("created", now())
    return conn.execute(insert(models).values(**values)).inserted_primary_key[0]


def list_models(conn, corpus_id, kind=None):
    q = select(models).where(models.c.corpus_id == corpus_id)
    if kind:
        q = q.where(models.c.kind == kind)
    return [dict(r) for r in conn.execute(q.order_by(models.c.id.desc())).mappings()]


MAX_ID = 2**63 - 1      # SQLite's largest INTEGER: past it a query raises OverflowError


def as_id(value, not_found, noun, low=1):
    """``value`` (an int or a string of digits) as the number of a ``noun`` ("model", "job"),
    or ``not_found`` (an error class): past ``low..MAX_ID`` it names no row, whatever
    the database could store."""
    digits = isinstance(value, str) and value.strip().lstrip("-").isdigit()
    if digits and len(value.strip()) > 20:       # int() refuses 4,300 digits and more
        raise not_found(f"no {noun} {value[:30]}...: they are numbered {low}..{MAX_ID}")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise not_found(f"{noun} ids are whole numbers, not {str(value)[:50]!r}") from None
    if not low <= number <= MAX_ID:
        raise not_found(f"no {noun} {str(value)[:50]}: they are numbered {low}..{MAX_ID}")
    return number


def get_model(conn, model_id, corpus_id=None, kind=None):
    """The model ``model_id``, or the newest of ``kind`` in the corpus when ``model_id`` is None."""
    q = select(models)
    if model_id is not None:
        model_id = as_id(model_id, ModelNotFound, "model")
        q = q.where(models.c.id == model_id)
    if corpus_id is not None:
        q = q.where(models.c.corpus_id == corpus_id)
    if kind:
        q = q.where(models.c.kind == kind)
    row = conn.execute(q.order_by(models.c.id.desc()).limit(1)).mappings().first()
    if row is None:
        if model_id is not None:
            what = f" of kind {kind}" if kind else ""
            raise ModelNotFound(f"no model {model_id}{what}" + (" in this corpus" if corpus_id else ""))
        raise ModelNotFound(f"this corpus has no {kind or ''} model yet: train one first")
    return dict(row)


def set_model_labels(conn, model_id, labels):
    conn.execute(update(models).where(models.c.id == model_id).values(labels=labels))


# -- jobs ------------------------------------------------------------------------------------

def insert_job(conn, kind, corpus_name, params):
    return conn.execute(insert(jobs).values(
        kind=kind, corpus_name=corpus_name, params=params, status="pending", done=0, total=0,
        message="waiting for a worker", cancel_requested=False, created=now())).inserted_primary_key[0]


def get_job(conn, job_id):
    job_id = as_id(job_id, JobNotFound, "job")
    row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
    if row is None:
        raise JobNotFound(f"no job {job_id}")
    return dict(row)


def get_jobs(conn, job_ids):
    """``{id: job}`` for those of ``job_ids`` that exist."""
    ids = [int(i) for i in job_ids]
    rows = {}
    for start in range(0, len(ids), 500):
        q = select(jobs).where(jobs.c.id.in_(ids[start:start + 500]))
        rows.update((r["id"], dict(r)) for r in conn.execute(q).mappings())
    return rows


def list_jobs(conn, corpus_name=None, limit=50, exclude_kinds=()):
    q = select(jobs)
    if exclude_kinds:
        q = q.where(jobs.c.kind.not_in(list(exclude_kinds)))
    if corpus_name:
        q = q.where(jobs.c.corpus_name == _nfc(corpus_name))
    return [dict(r) for r in conn.execute(q.order_by(jobs.c.id.desc()).limit(limit)).mappings()]


def update_job(conn, job_id, only_if_status=None, only_if_worker=None, **values):
    """Set ``values`` on a job; with ``only_if_status`` only if it is in one of those states,
    with ``only_if_worker`` only if that worker claimed it.

    Returns True when a row changed: the guard makes state changes race-free.
    """
    q = update(jobs).where(jobs.c.id == job_id)
    if only_if_status:
        q = q.where(jobs.c.status.in_(only_if_status))
    if only_if_worker:
        q = q.where(jobs.c.worker == only_if_worker)
    return conn.execute(q.values(**values)).rowcount > 0


def running_jobs(conn):
    return [dict(r) for r in conn.execute(select(jobs).where(jobs.c.status == "running")).mappings()]


def upload_dirs(conn):
    """The upload folders that ingest jobs name (any status: a failed one may be retried)."""
    return {p.get("upload_dir") for p in conn.execute(select(jobs.c.params).where(jobs.c.kind == "ingest")).scalars()
            if isinstance(p, dict) and p.get("upload_dir")}


# -- workers ---------------------------------------------------------------------------------
# Each worker keeps a row "worker:<host>:<pid>" in tl_meta with the time of its last beat.

def _worker_key(name):
    return "worker:" + name[-57:]          # a long host name loses its start, never the ":pid"


def beat_worker(conn, name):
    key = _worker_key(name)
    conn.execute(delete(meta).where(meta.c.key == key))
    conn.execute(insert(meta).values(key=key, value=now().isoformat()))


def forget_worker(conn, name):
    conn.execute(delete(meta).where(meta.c.key == _worker_key(name)))


def worker_beats(conn):
    """``{worker name: datetime of its last beat}``."""
    import datetime as dt
    rows = conn.execute(select(meta.c.key, meta.c.value).where(meta.c.key.like("worker:%"))).all()
    return {key[len("worker:"):]: dt.datetime.fromisoformat(value) for key, value in rows}
