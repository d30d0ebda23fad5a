"""Full-text search of documents, and the documents page's filters, in SQL.

SQLite: an FTS5 table over ``tl_documents`` (external content: no second copy of the
text), its ``corpus_id`` indexed as a word too, so that a corpus's matches are counted and
paged inside the index, without reading a document (see :func:`find`). PostgreSQL: a
``tsvector`` per document in ``tl_search`` with a GIN index, and in ``tl_search_words``
each word's first document in each corpus (where a search's matches can start). Both
see the same words: runs of letters and digits, compared in lower case, without stemming
(``[^\\W_]+`` in Python's terms), so that a search finds the same documents on either.
Ingest indexes each batch of documents in its own transaction; deleting a corpus removes
its entries. This module imports nothing of the schema, which calls it for migrations.
"""

import re

from sqlalchemy import bindparam, text

from ..errors import InvalidInput
from . import search_pg

_WORD = re.compile(r"[^\W_]+")
WORD_STATISTICS = 1_000      # PostgreSQL: the statistics target of the search index's words
_N_DOCS = "(SELECT n_docs FROM tl_corpora WHERE id = :c)"
MAX_INDEXED = 1_000_000      # characters of a document PostgreSQL indexes (a tsvector holds at most 1 MB)


def words(query):
    """The words of a search, lower case, in order, each once."""
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))


def flat(value):
    """Text as the PostgreSQL index sees it: its words, lower case, separated by spaces."""
    return " ".join(_WORD.findall(value.lower())) if value else ""


def supported(conn):
    return conn.dialect.name in ("sqlite", "postgresql")


def create_index(conn, fill=False):
    """Create the index if it is missing; ``fill``: index every document already stored."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE IF NOT EXISTS tl_documents_fts USING fts5(title, text, corpus_id, "
            "content='tl_documents', content_rowid='id', tokenize='unicode61 remove_diacritics 0')")
        if fill:
            conn.exec_driver_sql("INSERT INTO tl_documents_fts(tl_documents_fts) VALUES ('rebuild')")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS tl_search (doc_id INTEGER PRIMARY KEY REFERENCES "
                             "tl_documents(id) ON DELETE CASCADE, tsv TSVECTOR NOT NULL)")
        conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_search_tsv ON tl_search USING GIN (tsv)")
        # The planner's statistics keep the most frequent words of the documents (ten times
        # this many) and guess the rest at half the rarest kept. At 100, the default, that
        # was every word in more than 2.3% of the posts of 20 Newsgroups x10: a word in 2.2%
        # (4,130 posts) was guessed at 942, counted exactly, and took 28-80 ms.
        conn.exec_driver_sql(f"ALTER TABLE tl_search ALTER COLUMN tsv SET STATISTICS {WORD_STATISTICS}")
        create_first_words(conn)
        if fill:
            for (corpus_id,) in conn.execute(text("SELECT id FROM tl_corpora")).all():
                index_positions(conn, corpus_id, 0, 2**31 - 1)


def create_first_words(conn, fill=False):
    """PostgreSQL: the table of each word's first document in each corpus (schema 8), and
    with ``fill`` its rows for the documents indexed already."""
    if conn.dialect.name != "postgresql":
        return
    conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS tl_search_words (corpus_id INTEGER NOT NULL, word TEXT NOT NULL, "
                         "first_id INTEGER NOT NULL, PRIMARY KEY (corpus_id, word))")
    if fill:
        conn.exec_driver_sql(
            "INSERT INTO tl_search_words (corpus_id, word, first_id) SELECT d.corpus_id, w.word, min(d.id) "
            "FROM tl_documents d JOIN tl_search s ON s.doc_id = d.id "
            "CROSS JOIN LATERAL unnest(tsvector_to_array(s.tsv)) AS w(word) GROUP BY d.corpus_id, w.word "
            "ON CONFLICT DO NOTHING")


def recreate_index(conn):
    """Schema 5: the SQLite index with the corpus column, filled anew (PostgreSQL's is unchanged)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("DROP TABLE IF EXISTS tl_documents_fts")
        create_index(conn, fill=True)


def index_positions(conn, corpus_id, first, last):
    """Index the corpus's documents at positions ``first..last`` (just written, same transaction)."""
    span = {"c": corpus_id, "a": first, "b": last}
    if conn.dialect.name == "sqlite":
        conn.execute(text("INSERT INTO tl_documents_fts (rowid, title, text, corpus_id) SELECT id, title, text, "
                          "corpus_id FROM tl_documents WHERE corpus_id = :c AND position BETWEEN :a AND :b"), span)
    elif conn.dialect.name == "postgresql":
        rows = conn.execute(text("SELECT id, title, text FROM tl_documents WHERE corpus_id = :c AND "
                                 "position BETWEEN :a AND :b"), span).all()
        if rows:
            conn.execute(text("INSERT INTO tl_search (doc_id, tsv) VALUES (:i, strip(to_tsvector('simple', :t)))"),
                         [{"i": r.id, "t": flat(((r.title or "") + " " + r.text)[:MAX_INDEXED])} for r in rows])
            # The words no earlier document of the corpus holds: batches are written in
            # position order, and ids grow with positions, so a word's first row stays.
            # The batch's own ids, not their range: another corpus's ingest, running
            # beside this one, may have taken ids inside it.
            conn.execute(text(
                "INSERT INTO tl_search_words (corpus_id, word, first_id) SELECT :c, w.word, min(s.doc_id) "
                "FROM tl_search s CROSS JOIN LATERAL unnest(tsvector_to_array(s.tsv)) AS w(word) "
                "WHERE s.doc_id = ANY(:ids) GROUP BY w.word ON CONFLICT DO NOTHING"),
                {"c": corpus_id, "ids": [r.id for r in rows]})


def forget_corpus(conn, corpus_id, first=0):
    """Remove a corpus's documents at positions from ``first`` up from the index (before
    the documents themselves go): all of them, or those an unfinished ingest wrote."""
    span = {"c": corpus_id, "a": first}
    if conn.dialect.name == "sqlite":
        # External content: FTS5 removes an entry given the values it indexed.
        conn.execute(text("INSERT INTO tl_documents_fts (tl_documents_fts, rowid, title, text, corpus_id) "
                          "SELECT 'delete', id, title, text, corpus_id FROM tl_documents WHERE corpus_id = :c "
                          "AND position >= :a"), span)
    elif conn.dialect.name == "postgresql":
        # A word first seen in the documents going is in no document that stays.
        conn.execute(text("DELETE FROM tl_search_words WHERE corpus_id = :c AND first_id IN (SELECT id FROM "
                          "tl_documents WHERE corpus_id = :c AND position >= :a)"), span)
        conn.execute(text("DELETE FROM tl_search WHERE doc_id IN (SELECT id FROM tl_documents WHERE corpus_id = :c "
                          "AND position >= :a)"), span)


SORTS = ("position", "date", "-date")
# How each sort orders the matches. By date: the dated documents in this order, then the
# undated in position order; two plain orders, not one ORDER BY "date IS NULL, date": an
# expression no index holds made SQLite sort a million rows to show fifty (1.1 s; -date
# 5.2 s). "+d.position": a filtered list sorts its matches' positions, read from the
# filter's index, rather than walk the corpus in position order reading every row.
_ORDERS = {"position": "+d.position", "date": "d.date, d.position", "-date": "d.date DESC, d.position"}


# PostgreSQL counts a search without filters exactly up to this many matches (as its
# planner expects them): past it, the count is the planner's estimate from the words'
# statistics. An exact count of a frequent word visits every match, and the planner,
# which takes testing a document's words for cheap, then reads every document's words
# rather than the index: 26 ms for a word of 4,198 posts of 20 Newsgroups (the index
# alone: 2 ms), a second at ten times the size. Rarer words it counts in the index
# (47 posts: 1.9 ms). SQLite's FTS5 counts inside its index and is always exact.
EXACT_COUNT_UP_TO = 1_000


class Found(tuple):
    """``(rows, total, exact)``: ``exact`` is False when ``total`` is an estimate."""
    __slots__ = ()

    def __new__(cls, rows, total, exact=True):
        return super().__new__(cls, (rows, total, exact))


def find(conn, corpus_id, query_words=(), label=None, date_from=None, date_before=None, sort="position",
         limit=None, offset=0, positions_only=False):
    """Documents of a corpus that hold every word of ``query_words`` (whole words, any
    case) and match the filters, in ``sort`` order (one of :data:`SORTS`: position, date
    ascending or descending with ties by position, undated documents last): ``(rows,
    total)``, rows ``{position, doc_key, title, label, date, text}``, or with
    ``positions_only`` every matching position in order and their number; a :class:`Found`.
    On PostgreSQL a search past :data:`EXACT_COUNT_UP_TO` matches is counted by estimate
    (``Found.exact`` False), unless the page shows where the matches end. ``date_from``
    and ``date_before`` compare ISO 8601 strings: from inclusive, before exclusive.

    The page's positions are found first and its rows read after, by position: ordered
    and counted in the (corpus, label, position) and (corpus, date, position) indexes, a
    filtered page reads its own rows, not every match (a label's 25,000 documents of a
    million: 1.3 s before, 4 ms now; a decade's 122,500: 1.0 s, then 30 ms)."""
    # Documents an unfinished ingest is writing (positions from n_docs up) are no one's yet.
    # The unary + keeps SQLite (which has no statistics here) from walking the corpus in
    # position order to test each row against the filters: it reads the filters' index.
    where, params, join = ["d.corpus_id = :c", f"+d.position < {_N_DOCS}"], {"c": corpus_id}, ""
    if conn.dialect.name == "postgresql":
        # PostgreSQL plans with statistics, and with the bound as a value it knows how many
        # rows pass (a subquery it guesses at a third, and planned a search's count as a
        # hash join over every document).
        params["n"] = conn.execute(text(f"SELECT {_N_DOCS}"), params).scalar_one()
        where[1] = "d.position < :n"
    if query_words:
        if conn.dialect.name == "sqlite":
            params["q"] = _match(corpus_id, query_words)
            if (label, date_from, date_before, sort, positions_only) == (None, None, None, "position", False):
                return Found(*_find_in_index(conn, corpus_id, params["q"], limit, offset))
            # The matches as a list first: joined, SQLite walked the corpus in position order
            # and ran the MATCH once per document (a count of a frequent word's 4,198 posts
            # of 20 Newsgroups took 12 s; this way, 5 ms).
            where.append("d.id IN (SELECT rowid FROM tl_documents_fts WHERE tl_documents_fts MATCH :q)")
        elif conn.dialect.name == "postgresql":
            join = "JOIN tl_search s ON s.doc_id = d.id"
            where.append("s.tsv @@ plainto_tsquery('simple', :q)")
            params["q"] = " ".join(query_words)
        else:
            raise InvalidInput(f"full-text search needs SQLite or PostgreSQL, not {conn.dialect.name}")
    if label is not None:
        where.append("d.label = :label")
        params["label"] = label
    if date_from is not None:
        where.append("d.date >= :date_from")
        params["date_from"] = date_from
    if date_before is not None:
        where.append("d.date < :date_before")
        params["date_before"] = date_before
    if sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}, not {str(sort)[:50]!r}")

    def positions(extra, order, lim=None, off=0):
        page = f" LIMIT {int(lim)} OFFSET {int(off)}" if lim is not None else ""
        return conn.execute(text(f"SELECT d.position FROM tl_documents d {join} WHERE {' AND '.join(where + extra)} "
                                 f"ORDER BY {order}{page}"), params).scalars().all()

    def count(extra=()):
        if estimate is not None and not extra:
            return search_pg.count_matches(conn, corpus_id, params)
        return conn.execute(text(f"SELECT count(*) FROM tl_documents d {join} "
                                 f"WHERE {' AND '.join(where + list(extra))}"), params).scalar_one()

    unfiltered = len(where) == 2
    # PostgreSQL has statistics and chooses its own way: in position order it may walk the
    # position index testing each document's words, which finds a frequent word's first
    # page at once, where sorting every match took 30 ms at 42,000 matches.
    pg_search = bool(query_words) and conn.dialect.name == "postgresql"
    by_position = "d.position" if unfiltered or pg_search else _ORDERS["position"]
    if positions_only:
        if sort == "position":
            found = positions([], by_position)
        else:
            found = positions(["d.date IS NOT NULL"], _ORDERS[sort]) + positions(["d.date IS NULL"], by_position)
        return Found(found, len(found))
    # A search without filters in position order: PostgreSQL's estimate of its matches
    # decides how it is counted and how its page is found (see store/search_pg.py).
    estimate = (search_pg.estimated_matches(conn, params) if pg_search and len(where) == 3 and sort == "position"
                and not positions_only else None)
    exact = True
    if unfiltered:
        # No filter: the corpus row knows the count, no need to count a million rows.
        total = params["n"] if "n" in params else conn.execute(text(f"SELECT {_N_DOCS}"), params).scalar_one()
    elif estimate is not None and estimate > EXACT_COUNT_UP_TO:
        total, exact = estimate, False
    else:
        total = count()
    if limit is None:
        if not exact:
            total, exact = count(), True
        limit, offset = total, 0
    offset = int(offset)
    if sort == "position" and unfiltered:
        # Positions are 0..n_docs - 1 without gaps: the page is a range of them. OFFSET
        # walked the rows before it (the list at a random start: 56 ms p50 at a million).
        page = list(range(offset, min(offset + int(limit), int(total))))
    elif estimate is not None:
        # One more than the page when the count is an estimate: whether the matches go on.
        page = search_pg.first_matches(conn, corpus_id, params, estimate, int(limit) + (not exact), offset)
    elif sort == "position":
        page = positions([], by_position, limit, offset)
    else:
        page = positions(["d.date IS NOT NULL"], _ORDERS[sort], limit, offset)
        if len(page) < int(limit):
            # The page runs into the undated documents: how far in is the number of dated
            # ones past the page's start (counted only here, at the list's end).
            dated = offset + len(page) if page else count(["d.date IS NOT NULL"])
            page += positions(["d.date IS NULL"], _ORDERS["position"], int(limit) - len(page),
                              max(0, offset - dated))
    if not exact:
        more, page = len(page) > int(limit), page[:int(limit)]
        if not more:
            # The page shows where the matches end, so their number is known.
            total, exact = (offset + len(page), True) if page or offset == 0 else (count(), True)
        else:
            total = max(total, offset + len(page) + 1)
    rows = documents_at(conn, corpus_id, page)
    return Found([rows[p] for p in page if p in rows], total, exact)


def _match(corpus_id, query_words):
    """An FTS5 query: every word in the title or text, in a document of the corpus."""
    phrases = " AND ".join('"' + w.replace('"', '""') + '"' for w in query_words)
    return f'{{title text}} : ({phrases}) AND corpus_id : "{int(corpus_id)}"'


def _find_in_index(conn, corpus_id, match, limit, offset):
    """:func:`find` of a search in position order with no filter, counted and paged in the
    index: a corpus's documents have ids in the order of their positions (each new row
    takes a larger id than every row there), so the visible ones are those up to the id
    at position n_docs - 1, and position order is id order. At 20 Newsgroups, counting a
    frequent word's 4,198 posts takes 1.1 ms so (8 ms reading the corpus's index)."""
    last = conn.execute(text(f"SELECT id FROM tl_documents WHERE corpus_id = :c AND position = {_N_DOCS} - 1"),
                        {"c": corpus_id}).scalar()
    if last is None:
        return [], 0
    args = {"q": match, "last": last}
    total = conn.execute(text("SELECT count(*) FROM tl_documents_fts WHERE tl_documents_fts MATCH :q "
                              "AND rowid <= :last"), args).scalar_one()
    page = f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
    ids = conn.execute(text("SELECT rowid FROM tl_documents_fts WHERE tl_documents_fts MATCH :q AND rowid <= :last "
                            f"ORDER BY rowid{page}"), args).scalars().all()
    if not ids:
        return [], total
    q = text("SELECT position, doc_key, title, label, date, text FROM tl_documents WHERE id IN :i "
             "ORDER BY position").bindparams(bindparam("i", expanding=True))
    return [dict(r) for r in conn.execute(q, {"i": list(ids)}).mappings()], total


def documents_at(conn, corpus_id, positions, with_text=True):
    """``{position: row}`` for the given positions (a page's worth): position, doc_key,
    title, label, date and, ``with_text``, text."""
    if not positions:
        return {}
    q = text(f"SELECT position, doc_key, title, label, date{', text' if with_text else ''} FROM tl_documents "
             "WHERE corpus_id = :c AND position IN :p").bindparams(bindparam("p", expanding=True))
    return {r["position"]: dict(r) for r in conn.execute(q, {"c": corpus_id, "p": list(positions)}).mappings()}


def has_label(conn, corpus_id, label):
    # "+position": found in the label's index (walking the corpus by position to the
    # label's first document took 160 ms at a million documents).
    return conn.execute(text(f"SELECT 1 FROM tl_documents WHERE corpus_id = :c AND +position < {_N_DOCS} "
                             "AND label = :l LIMIT 1"),
                        {"c": corpus_id, "l": label}).first() is not None


def labels(conn, corpus_id, limit=200):
    """The corpus's distinct labels, in order (the first ``limit``): one seek in the label
    index per label, from each to the next (DISTINCT read the whole index: 90 ms for 40
    labels of a million documents)."""
    q = text(f"SELECT label FROM tl_documents WHERE corpus_id = :c AND label > :after AND +position < {_N_DOCS} "
             "ORDER BY label LIMIT 1")
    out = []
    after = conn.execute(text(f"SELECT label FROM tl_documents WHERE corpus_id = :c AND label IS NOT NULL "
                              f"AND +position < {_N_DOCS} ORDER BY label LIMIT 1"), {"c": corpus_id}).scalar()
    while after is not None and len(out) < limit:
        out.append(after)
        after = conn.execute(q, {"c": corpus_id, "after": after}).scalar()
    return out


def term_row(conn, corpus_id, term):
    """``{id, df, cf, first_position}`` of a term of the corpus's vocabulary, or None
    (``first_position``: of the first document holding it; None in a corpus older than it)."""
    row = conn.execute(text("SELECT id, df, cf, first_position FROM tl_terms WHERE corpus_id = :c AND term = :t"),
                       {"c": corpus_id, "t": term}).mappings().first()
    return dict(row) if row else None
