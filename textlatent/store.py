"""The database: engine, tables, and the queries everyone needs. Only this module knows SQL.

SQLite is the default (one file in the data directory, WAL, foreign keys on, write
transactions started with ``BEGIN IMMEDIATE`` so concurrent writers queue on the
busy timeout instead of failing with "database is locked"). Any SQLAlchemy URL works.
"""

import contextlib
import datetime as dt
import os
import threading

from sqlalchemy import (
    JSON, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, MetaData,
    String, Table, Text, UniqueConstraint, bindparam, create_engine, delete, event, func, insert, select,
    update,
)
from sqlalchemy.exc import IntegrityError

from .errors import Conflict, CorpusNotFound, InvalidInput, JobNotFound, ModelNotFound

SCHEMA_VERSION = 2

# Each step brings a database of the version before it up to its key's version.
MIGRATIONS = {
    2: ["ALTER TABLE tl_jobs ADD COLUMN result JSON"],   # what a finished job produced
}

metadata = MetaData()

meta = Table(
    "tl_meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

corpora = Table(
    "tl_corpora", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("settings", JSON, nullable=False),       # tokenizer settings, frozen at creation
    Column("phrases", JSON, nullable=True),         # [[a, b], ...] learned bigrams, frozen
    Column("n_docs", Integer, nullable=False, default=0),
    Column("n_tokens", Integer, nullable=False, default=0),
    Column("created", DateTime, nullable=False),
    Column("updated", DateTime, nullable=False),
)

documents = Table(
    "tl_documents", metadata,
    Column("id", Integer, primary_key=True),
    Column("corpus_id", ForeignKey("tl_corpora.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),    # 0..n-1 within the corpus: row of doc-topic arrays
    Column("doc_key", String(500), nullable=False),  # the id field, or the source path
    Column("source", String(1000), nullable=True),
    Column("title", Text, nullable=True),
    Column("label", String(500), nullable=True),
    Column("date", String(100), nullable=True),
    Column("meta", JSON, nullable=True),
    Column("text", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("n_tokens", Integer, nullable=False),
    Column("tokens", LargeBinary, nullable=False),  # uint32 term ids, little-endian
    UniqueConstraint("corpus_id", "content_hash", name="uq_doc_hash"),
    UniqueConstraint("corpus_id", "position", name="uq_doc_position"),
)
Index("ix_doc_key", documents.c.corpus_id, documents.c.doc_key)

terms = Table(
    "tl_terms", metadata,
    Column("corpus_id", ForeignKey("tl_corpora.id", ondelete="CASCADE"), primary_key=True),
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("term", String(200), nullable=False),
    Column("df", Integer, nullable=False),
    Column("cf", Integer, nullable=False),
)

models = Table(
    "tl_models", metadata,
    Column("id", Integer, primary_key=True),
    Column("corpus_id", ForeignKey("tl_corpora.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("params", JSON, nullable=False),
    Column("seed", Integer, nullable=True),
    Column("fingerprint", String(64), nullable=False),
    Column("versions", JSON, nullable=False),
    Column("train_seconds", Float, nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("path", String(500), nullable=False),    # relative to the data directory
    Column("labels", JSON, nullable=True),          # topic labels a person gave
    Column("created", DateTime, nullable=False),
)

jobs = Table(
    "tl_jobs", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("corpus_name", String(200), nullable=False),
    Column("params", JSON, nullable=False),
    Column("status", String(20), nullable=False, default="pending"),
    Column("done", Integer, nullable=False, default=0),
    Column("total", Integer, nullable=False, default=0),
    Column("message", Text, nullable=False, default=""),
    Column("error", Text, nullable=True),
    Column("cancel_requested", Boolean, nullable=False, default=False),
    Column("model_id", Integer, nullable=True),
    Column("worker", String(100), nullable=True),
    Column("created", DateTime, nullable=False),
    Column("started", DateTime, nullable=True),
    Column("finished", DateTime, nullable=True),
    Column("heartbeat", DateTime, nullable=True),
    Column("result", JSON, nullable=True),
)


def now():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


_engines = {}
_engines_lock = threading.Lock()


def _sqlite_events(engine):
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        # Let SQLAlchemy's begin event issue BEGIN itself (pysqlite would defer it).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # A write transaction takes the write lock up front: a read-then-write
        # transaction that upgrades later fails at once with "database is locked".
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("tl_write") else "BEGIN")


def get_engine(url):
    """One engine per URL per process; creates the SQLite directory and the schema."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is not None:
            return engine
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
            _sqlite_events(engine)
        else:
            engine = create_engine(url, pool_pre_ping=True)
        _create_schema(engine)
        _engines[url] = engine
        return engine


def dispose_engines():
    """Close pooled connections (tests, and forked worker processes)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _create_schema(engine):
    metadata.create_all(engine)
    with write(engine) as conn:
        row = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).first()
        if row is None:
            conn.execute(insert(meta).values(key="schema_version", value=str(SCHEMA_VERSION)))
            return
        found = int(row.value)
        if found > SCHEMA_VERSION:
            raise InvalidInput(
                f"the database has schema version {row.value}, newer than this textlatent "
                f"({SCHEMA_VERSION}): upgrade textlatent")
        for version in range(found + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[version]:
                conn.exec_driver_sql(statement)
        if found < SCHEMA_VERSION:
            conn.execute(update(meta).where(meta.c.key == "schema_version").values(value=str(SCHEMA_VERSION)))


@contextlib.contextmanager
def write(engine):
    """A write transaction (``BEGIN IMMEDIATE`` on SQLite); commits on success."""
    with engine.connect().execution_options(tl_write=True) as conn:
        with conn.begin():
            yield conn


@contextlib.contextmanager
def read(engine):
    with engine.connect() as conn:
        with conn.begin():
            yield conn


def schema_version(engine):
    with read(engine) as conn:
        return int(conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).scalar_one())


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
        raise Conflict(f"a corpus named {name!r} already exists")
    return get_corpus(conn, name) | {"id": cid}


def delete_corpus(conn, corpus_id):
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
    if rows:
        conn.execute(insert(documents), rows)


def finish_ingest(conn, corpus_id, n_docs, n_tokens, phrases):
    values = {"n_docs": n_docs, "n_tokens": n_tokens, "updated": now()}
    if phrases is not None:
        values["phrases"] = phrases
    conn.execute(update(corpora).where(corpora.c.id == corpus_id).values(**values))


def iter_token_blobs(engine, corpus_id, batch=2000):
    """Yield ``(position, blob)`` in corpus order, reading ``batch`` rows per query."""
    last = -1
    while True:
        with read(engine) as conn:
            rows = conn.execute(
                select(documents.c.position, documents.c.tokens)
                .where(documents.c.corpus_id == corpus_id, documents.c.position > last)
                .order_by(documents.c.position).limit(batch)).all()
        if not rows:
            return
        for r in rows:
            yield r.position, r.tokens
        last = rows[-1].position


def iter_documents(engine, corpus_id, columns=("position", "doc_key", "title", "label"), batch=2000):
    cols = [documents.c[c] for c in columns]
    if "position" not in columns:
        cols.append(documents.c.position)
    last = -1
    while True:
        with read(engine) as conn:
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
            raise ModelNotFound(f"model ids are whole numbers, not {str(model_id)[:50]!r}")
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
        raise JobNotFound(f"job ids are whole numbers, not {str(job_id)[:50]!r}")
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


def stale_jobs(conn, older_than):
    return [dict(r) for r in conn.execute(
        select(jobs).where(jobs.c.status == "running",
                           func.coalesce(jobs.c.heartbeat, jobs.c.started) < older_than)).mappings()]
