"""The database's tables, its engine per URL, and transactions.

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
    String, Table, Text, UniqueConstraint, bindparam, create_engine, event, func, insert, select, update,
)

from ..errors import InvalidInput
from . import search

SCHEMA_VERSION = 9


# Each step brings a database of the version before it up to its key's version: SQL, or a
# function of the connection where the SQL differs between databases.
MIGRATIONS = {
    2: ["ALTER TABLE tl_jobs ADD COLUMN result JSON"],   # what a finished job produced
    # Phrases leave the corpus row (every page read decoded them: 7 MB at 20 Newsgroups x10);
    # the row keeps their count, its vocabulary size and a version for caches.
    3: ["ALTER TABLE tl_corpora ADD COLUMN n_terms INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE tl_corpora ADD COLUMN n_phrases INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE tl_corpora ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
        "INSERT INTO tl_phrases (corpus_id, pairs) SELECT id, phrases FROM tl_corpora WHERE phrases IS NOT NULL",
        "UPDATE tl_corpora SET n_phrases = COALESCE(json_array_length(phrases), 0), "
        "n_terms = (SELECT count(*) FROM tl_terms WHERE tl_terms.corpus_id = tl_corpora.id)",
        "ALTER TABLE tl_corpora DROP COLUMN phrases",
        "CREATE INDEX IF NOT EXISTS ix_terms_cf ON tl_terms (corpus_id, cf DESC, id)"],
    4: ["CREATE INDEX IF NOT EXISTS ix_doc_date ON tl_documents (corpus_id, date)",
        "CREATE INDEX IF NOT EXISTS ix_doc_label ON tl_documents (corpus_id, label)",
        lambda conn: search.create_index(conn, fill=True)],     # the documents page's search
    # A word's row by its text (KWIC, search by word): a scan of the vocabulary took 86 ms at 20 Newsgroups.
    5: ["CREATE INDEX IF NOT EXISTS ix_terms_term ON tl_terms (corpus_id, term)",
        search.recreate_index],     # SQLite's search index learns each document's corpus
    # The documents page's filters and date orders read their indexes alone: with the
    # position in them, a label's or a date range's documents are counted, ordered and paged
    # without reading a row (a label of 25,000 of a million documents took 1.3 s; see
    # store/search.py).
    6: ["DROP INDEX IF EXISTS ix_doc_date",
        "DROP INDEX IF EXISTS ix_doc_label",
        "CREATE INDEX IF NOT EXISTS ix_doc_date_position ON tl_documents (corpus_id, date, position)",
        "CREATE INDEX IF NOT EXISTS ix_doc_label_date ON tl_documents (corpus_id, label, date, position)"],
    # PostgreSQL: the search index's word statistics keep ten times as many words (see
    # store/search.py); they are renewed at the next ingest.
    7: [search.create_index],
    # PostgreSQL: each word's first document in each corpus, where a search's matches start
    # (a word of one stretch of the corpus was walked to; see store/search.py).
    8: [lambda conn: search.create_first_words(conn, fill=True)],
    # Each term's first document, where KWIC starts looking for it (a word of the last book
    # of a million windows was looked for in all the others first: seconds). Filled for the
    # corpora there from their token streams.
    9: [lambda conn: fill_first_positions(conn)],
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
    Column("n_docs", Integer, nullable=False, default=0),
    Column("n_tokens", Integer, nullable=False, default=0),
    Column("created", DateTime, nullable=False),
    Column("updated", DateTime, nullable=False),
    Column("n_terms", Integer, nullable=False, default=0),
    Column("n_phrases", Integer, nullable=False, default=0),
    # +1 each ingest: the key of per-process caches; 0 while its first ingest runs (hidden)
    Column("version", Integer, nullable=False, default=0),
)

# The learned bigrams, [[a, b], ...], frozen by the first ingest; read only by ingest,
# training and a per-process tokenizer cache, never by a page.
phrases = Table(
    "tl_phrases", metadata,
    Column("corpus_id", ForeignKey("tl_corpora.id", ondelete="CASCADE"), primary_key=True),
    Column("pairs", JSON, nullable=False),
)

# An ingest writing a corpus's documents a batch per transaction (so the database and its
# log stay near their final size): its rows, from position n_docs up, are invisible until
# its last step raises n_docs; one ingest per corpus holds this row meanwhile.
ingests = Table(
    "tl_ingests", metadata,
    Column("corpus_id", ForeignKey("tl_corpora.id", ondelete="CASCADE"), primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("heartbeat", DateTime, nullable=False),
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
# The documents page's filters and orders, counted and paged in the index (see MIGRATIONS[6]).
Index("ix_doc_date_position", documents.c.corpus_id, documents.c.date, documents.c.position)
Index("ix_doc_label_date", documents.c.corpus_id, documents.c.label, documents.c.date, documents.c.position)

terms = Table(
    "tl_terms", metadata,
    Column("corpus_id", ForeignKey("tl_corpora.id", ondelete="CASCADE"), primary_key=True),
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("term", String(200), nullable=False),
    Column("df", Integer, nullable=False),
    Column("cf", Integer, nullable=False),
    Column("first_position", Integer),        # of the first document holding it
)
# The corpus page's most frequent terms without sorting the vocabulary.
Index("ix_terms_cf", terms.c.corpus_id, terms.c.cf.desc(), terms.c.id)
Index("ix_terms_term", terms.c.corpus_id, terms.c.term)

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


def fill_first_positions(conn, batch=4096):
    """Schema 9: each term's first document, read from the corpora's token streams in
    position order, a batch of documents at a time (the documents an unfinished ingest is
    writing are no one's yet, and are skipped)."""
    import numpy as np
    from sqlalchemy import inspect
    if "first_position" not in {c["name"] for c in inspect(conn).get_columns("tl_terms")}:
        conn.exec_driver_sql("ALTER TABLE tl_terms ADD COLUMN first_position INTEGER")
    for corpus_id, n_docs in conn.execute(select(corpora.c.id, corpora.c.n_docs)).all():
        size = conn.execute(select(func.max(terms.c.id)).where(terms.c.corpus_id == corpus_id)).scalar()
        if size is None:
            continue
        first = np.full(size + 1, -1, dtype=np.int64)
        last = -1
        while True:
            rows = conn.execute(select(documents.c.position, documents.c.tokens)
                                .where(documents.c.corpus_id == corpus_id, documents.c.position > last,
                                       documents.c.position < n_docs)
                                .order_by(documents.c.position).limit(batch)).all()
            if not rows:
                break
            lengths = [len(r.tokens or b"") // 4 for r in rows]
            ids = np.frombuffer(b"".join(r.tokens or b"" for r in rows), dtype="<u4").astype(np.int64)
            held, at = np.unique(ids, return_index=True)          # each term's first token here
            positions = np.repeat([r.position for r in rows], lengths)
            new = first[held] < 0
            first[held[new]] = positions[at[new]]
            last = rows[-1].position
        seen = np.flatnonzero(first >= 0)
        if len(seen):
            conn.execute(update(terms).where(terms.c.corpus_id == corpus_id, terms.c.id == bindparam("tid"))
                         .values(first_position=bindparam("p")),
                         [{"tid": int(t), "p": int(first[t])} for t in seen])


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


def forget_engines():
    """In a forked child: drop the parent's engines without closing their connections
    (closing them here would act on the parent's), so that new ones are made."""
    global _engines_lock
    _engines_lock = threading.Lock()          # another thread may have held it at the fork
    for engine in _engines.values():
        engine.dispose(close=False)
    _engines.clear()


def dispose_engines():
    """Close pooled connections (tests, and forked worker processes)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _create_schema(engine):
    with write(engine) as conn:
        if conn.dialect.name == "postgresql":
            # Hosts that start together (a serve and a worker) would each create the tables
            # and one fail on PostgreSQL's catalogue: one at a time (SQLite's BEGIN IMMEDIATE
            # already is).
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7468657874)")
        metadata.create_all(conn)
        row = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).first()
        if row is None:
            conn.execute(insert(meta).values(key="schema_version", value=str(SCHEMA_VERSION)))
            search.create_index(conn)
            return
        found = int(row.value)
        if found > SCHEMA_VERSION:
            raise InvalidInput(
                f"the database has schema version {row.value}, newer than this textlatent "
                f"({SCHEMA_VERSION}): upgrade textlatent")
        for version in range(found + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[version]:
                statement(conn) if callable(statement) else conn.exec_driver_sql(statement)
        if found < SCHEMA_VERSION:
            conn.execute(update(meta).where(meta.c.key == "schema_version").values(value=str(SCHEMA_VERSION)))


class _ForkGuard:
    """Counts the transactions this process has open, so that a fork can wait for none.

    SQLite's C library keeps process-wide mutexes (for opening files and for the list of
    file locks) that a thread holds while inside it. A process forked at that moment
    inherits them held, and hangs on its first database call: once, a job's process hung
    for the whole job_timeout (an hour) that way, forked while another thread polled the
    job table. :func:`quiet_fork` forks when no transaction is open (or after ``wait``
    seconds, in case a thread holds one for long), and no transaction starts meanwhile.
    """

    def __init__(self):
        self.cond = threading.Condition()
        self.active = 0
        self.forking = False

    @contextlib.contextmanager
    def open(self):
        with self.cond:
            while self.forking:
                self.cond.wait()
            self.active += 1
        try:
            yield
        finally:
            with self.cond:
                self.active = max(0, self.active - 1)
                self.cond.notify_all()

    def fork(self, wait):
        pid = None
        with self.cond:
            self.forking = True
            try:
                self.cond.wait_for(lambda: self.active == 0, timeout=wait)
                pid = os.fork()
            finally:
                if pid != 0:        # the parent (or a fork that failed)
                    self.forking = False
                    self.cond.notify_all()
        if pid == 0:     # the child: its one thread holds no transaction
            self.cond, self.active, self.forking = threading.Condition(), 0, False
        return pid


_guard = _ForkGuard()


def outside_fork():
    """A block a fork waits out (see :class:`_ForkGuard`), for SQLite that is not an
    engine's: the job queue's file."""
    return _guard.open()


def quiet_fork(wait=10.0):
    """``os.fork()`` at a moment when no thread of this process is inside a transaction
    (waiting at most ``wait`` seconds for one); returns what ``os.fork`` returns."""
    return _guard.fork(wait)


@contextlib.contextmanager
def write(engine):
    """A write transaction (``BEGIN IMMEDIATE`` on SQLite); commits on success."""
    with _guard.open(), engine.connect().execution_options(tl_write=True) as conn:
        with conn.begin():
            yield conn


@contextlib.contextmanager
def read(engine):
    with _guard.open(), engine.connect() as conn:
        with conn.begin():
            yield conn


def schema_version(engine):
    with read(engine) as conn:
        return int(conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).scalar_one())


# The tables an ingest fills: PostgreSQL plans with their statistics, which its autovacuum
# renews a minute or more after a bulk load; until then it took a corpus of 18,766 for 13
# rows, and a search tested every document's words (99 ms where the index takes 2 ms).
_INGESTED = ("tl_documents", "tl_search", "tl_terms")


def refresh_statistics(engine):
    """After an ingest commits: PostgreSQL's planner statistics of the tables it filled,
    renewed at once (``ANALYZE``, a sample of each, well under a second); SQLite keeps
    none, and its queries say which index to use."""
    if engine.dialect.name != "postgresql":
        return
    with _guard.open(), engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE " + ", ".join(_INGESTED))
