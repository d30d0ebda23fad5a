"""Every query textlatent makes: the only SQL in the library, one function a question.

Each function takes an open connection (see :meth:`textlatent.store.Store.read` and
``write``) except the streams, which read in batches, each batch its own short transaction.
"""

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, CorpusNotFound, JobNotFound, ModelNotFound
from . import search
from .schema import corpora, documents, jobs, models, now, terms

# -- corpora ---------------------------------------------------------------------------------

def get_corpus(conn, name):
    row = conn.execute(select(corpora).where(corpora.c.name == name)).mappings().first()
    if row is None:
        names = list(conn.execute(select(corpora.c.name).order_by(corpora.c.name)).scalars())
        hint = f" Known corpora: {', '.join(names)}." if names else " There are no corpora yet: ingest one first."
        raise CorpusNotFound(f"no corpus named {name!r}.{hint}", name=name)
    return dict(row)


def find_corpus(conn, name):
    row = conn.execute(select(corpora).where(corpora.c.name == name)).mappings().first()
    return dict(row) if row else None


def get_corpus_by_id(conn, corpus_id):
    row = conn.execute(select(corpora).where(corpora.c.id == corpus_id)).mappings().first()
    if row is None:
        raise CorpusNotFound(f"no corpus with id {corpus_id}")
    return dict(row)


def list_corpora(conn):
    n_terms = (select(terms.c.corpus_id, func.count().label("n_terms"))
               .group_by(terms.c.corpus_id).subquery())
    q = (select(corpora, func.coalesce(n_terms.c.n_terms, 0).label("n_terms"))
         .outerjoin(n_terms, n_terms.c.corpus_id == corpora.c.id).order_by(corpora.c.name))
    return [dict(r) for r in conn.execute(q).mappings()]


def create_corpus(conn, name, settings):
    t = now()
    try:
        with conn.begin_nested():
            cid = conn.execute(insert(corpora).values(
                name=name, settings=settings, phrases=None, n_docs=0, n_tokens=0,
                created=t, updated=t)).inserted_primary_key[0]
    except IntegrityError:
        raise Conflict(f"a corpus named {name!r} already exists") from None
    return get_corpus(conn, name) | {"id": cid}


def delete_corpus(conn, corpus_id):
    search.forget_corpus(conn, corpus_id)
    # Explicit deletes: foreign-key cascades are not on in every database's default set-up.
    for table in (models, terms, documents):
        conn.execute(delete(table).where(table.c.corpus_id == corpus_id))
    conn.execute(delete(corpora).where(corpora.c.id == corpus_id))


def corpus_hashes(conn, corpus_id):
    return set(conn.execute(select(documents.c.content_hash).where(documents.c.corpus_id == corpus_id)).scalars())


def load_terms(conn, corpus_id):
    """``(terms, df, cf)`` lists indexed by term id."""
    rows = conn.execute(select(terms.c.id, terms.c.term, terms.c.df, terms.c.cf)
                        .where(terms.c.corpus_id == corpus_id).order_by(terms.c.id)).all()
    return [r.term for r in rows], [r.df for r in rows], [r.cf for r in rows]


def top_terms(conn, corpus_id, n):
    q = (select(terms.c.term, terms.c.df, terms.c.cf).where(terms.c.corpus_id == corpus_id)
         .order_by(terms.c.cf.desc(), terms.c.id).limit(n))
    return [tuple(r) for r in conn.execute(q)]


def count_terms(conn, corpus_id):
    return conn.execute(select(func.count()).select_from(terms).where(terms.c.corpus_id == corpus_id)).scalar_one()


def save_terms(conn, corpus_id, old_n, term_list, df, cf, changed):
    """Insert terms with id >= ``old_n`` and update the counts of ``changed`` older ids."""
    if changed:
        stmt = (update(terms).where(terms.c.corpus_id == corpus_id, terms.c.id == bindparam("tid"))
                .values(df=bindparam("new_df"), cf=bindparam("new_cf")))
        conn.execute(stmt, [{"tid": i, "new_df": df[i], "new_cf": cf[i]} for i in changed])
    new = [{"corpus_id": corpus_id, "id": i, "term": term_list[i], "df": df[i], "cf": cf[i]}
           for i in range(old_n, len(term_list))]
    for start in range(0, len(new), 20000):
        conn.execute(insert(terms), new[start:start + 20000])


def insert_documents(conn, rows):
    """Insert document rows (of one corpus, positions in order) and index them for search."""
    if rows:
        conn.execute(insert(documents), rows)
        search.index_positions(conn, rows[0]["corpus_id"], rows[0]["position"], rows[-1]["position"])


def finish_ingest(conn, corpus_id, n_docs, n_tokens, phrases):
    values = {"n_docs": n_docs, "n_tokens": n_tokens, "updated": now()}
    if phrases is not None:
        values["phrases"] = phrases
    conn.execute(update(corpora).where(corpora.c.id == corpus_id).values(**values))


def iter_token_blobs(store, corpus_id, batch=2000):
    """Yield ``(position, blob)`` in corpus order, reading ``batch`` rows per query."""
    last = -1
    while True:
        with store.read() as conn:
            rows = conn.execute(
                select(documents.c.position, documents.c.tokens)
                .where(documents.c.corpus_id == corpus_id, documents.c.position > last)
                .order_by(documents.c.position).limit(batch)).all()
        if not rows:
            return
        for r in rows:
            yield r.position, r.tokens
        last = rows[-1].position


def iter_documents(store, corpus_id, columns=("position", "doc_key", "title", "label"), batch=2000):
    cols = [documents.c[c] for c in columns]
    if "position" not in columns:
        cols.append(documents.c.position)
    last = -1
    while True:
        with store.read() as conn:
            rows = conn.execute(select(*cols).where(documents.c.corpus_id == corpus_id,
                                                    documents.c.position > last)
                                .order_by(documents.c.position).limit(batch)).mappings().all()
        if not rows:
            return
        yield from (dict(r) for r in rows)
        last = rows[-1]["position"]


def get_documents(conn, corpus_id, positions=None, limit=None, columns=None):
    cols = [documents.c[c] for c in columns] if columns else [documents]
    q = select(*cols).where(documents.c.corpus_id == corpus_id)
    if positions is not None:
        q = q.where(documents.c.position.in_([int(p) for p in positions]))
    q = q.order_by(documents.c.position)
    if limit:
        q = q.limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]


def content_hashes_in_order(conn, corpus_id):
    return conn.execute(select(documents.c.content_hash).where(documents.c.corpus_id == corpus_id)
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


def get_model(conn, model_id, corpus_id=None, kind=None):
    """The model ``model_id``, or the newest of ``kind`` in the corpus when ``model_id`` is None."""
    q = select(models)
    if model_id is not None:
        try:
            model_id = int(model_id)
        except (TypeError, ValueError):
            raise ModelNotFound(f"model ids are whole numbers, not {str(model_id)[:50]!r}") from None
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
    try:
        job_id = int(job_id)
    except (TypeError, ValueError):
        raise JobNotFound(f"job ids are whole numbers, not {str(job_id)[:50]!r}") from None
    row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
    if row is None:
        raise JobNotFound(f"no job {job_id}")
    return dict(row)


def list_jobs(conn, corpus_name=None, limit=50):
    q = select(jobs)
    if corpus_name:
        q = q.where(jobs.c.corpus_name == corpus_name)
    return [dict(r) for r in conn.execute(q.order_by(jobs.c.id.desc()).limit(limit)).mappings()]


def update_job(conn, job_id, only_if_status=None, **values):
    """Set ``values`` on a job; with ``only_if_status`` only if it is in one of those states.

    Returns True when a row changed: the guard makes state changes race-free.
    """
    q = update(jobs).where(jobs.c.id == job_id)
    if only_if_status:
        q = q.where(jobs.c.status.in_(only_if_status))
    return conn.execute(q.values(**values)).rowcount > 0


def running_jobs(conn):
    return [dict(r) for r in conn.execute(select(jobs).where(jobs.c.status == "running")).mappings()]
