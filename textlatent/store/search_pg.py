"""PostgreSQL: a search's page of matches and their number, for :func:`.search.find`.

The planner takes a document's words for evenly spread over the corpus, and their test
for cheap; neither holds (a name is frequent in one book of a library; a post's words are
a compressed value stored aside), so the ways a page is found and a count is made are
chosen here, from the words' statistics, each word's first document
(``tl_search_words``) and the corpus's ids.
"""

import contextlib
import json

from sqlalchemy import bindparam, text


def estimated_matches(conn, params):
    """PostgreSQL's estimate of a search's matches in the corpus (``params`` c, n, q): of
    the whole index from the words' statistics, times the corpus's share of it."""
    plan = conn.execute(text("EXPLAIN (FORMAT JSON) SELECT 1 FROM tl_search s "
                             "WHERE s.tsv @@ plainto_tsquery('simple', :q)"), params).scalar_one()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    indexed = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'tl_search'::regclass")).scalar_one()
    share = min(1.0, params["n"] / indexed) if indexed and indexed > 0 else 1.0
    return int(plan[0]["Plan"]["Plan Rows"] * share)


# The walk in position order first looks as far as WALK_MARGIN times where evenly spread
# matches would fill the page, then twice as far each time, up to WALK_SHARE times as many
# documents as the search has matches (walking a document costs about 1.5 times listing a
# match: 4.7 ms for 3,220 windows of the 1 M corpus, 67 ms to list 63,355 matches) before
# the page is found from the list of every match instead.
WALK_MARGIN = 4
WALK_SHARE = 0.5
MATCH_BATCH = 500        # ids of matches read at a time, past the page's end
_WALK = text("SELECT d.position FROM tl_documents d JOIN tl_search s ON s.doc_id = d.id WHERE d.corpus_id = :c "
             "AND d.position >= :s AND d.position < :w AND s.tsv @@ plainto_tsquery('simple', :q) "
             "ORDER BY d.position LIMIT :k")


def first_matches(conn, corpus_id, params, estimate, limit, offset):
    """PostgreSQL: the positions of a search's matches ``offset`` to ``offset + limit`` in
    position order (``params`` c, n, q; ``estimate``: the planner's count of the matches).

    The matches start at the first document that holds every word of the search
    (``tl_search_words``: a word frequent in one stretch of the corpus only, "copy8" of 20
    Newsgroups x10, the ninth of ten copies, was walked to from the start, 150,000
    documents, 540 ms), and are looked for in windows of the corpus that start at
    WALK_MARGIN times where evenly spread matches would fill the page and double (words
    are not spread evenly through a library: "day" is in 6% of the 1 M windows, and its
    51st at the 4,729th). When the corpus's ids are one run (one ingest, or appends no
    other corpus came between), a window is a range of ids, and its matches are the
    search index's intersected with the range's (:func:`_in_ranges`). Otherwise the walk
    tests each document's words, up to WALK_SHARE times as many documents as the search
    has matches, and then the list of every match is read.
    """
    n, want = params["n"], offset + limit
    start = _first_position(conn, corpus_id, params["q"])
    if n == 0 or start is None or start >= n:
        return []            # a word of the search is in no document the corpus shows
    window = WALK_MARGIN * want * n / max(estimate, 1)
    lo, hi = _id_range(conn, corpus_id, n)
    if hi - lo + 1 == n:
        return _in_ranges(conn, params["q"], lo, start, n, want, int(window) + 1)[offset:want]
    if window < estimate:
        found, at, step = [], start, int(window) + 1
        end = min(n, start + max(step, int(WALK_SHARE * estimate)))
        while len(found) < want and at < end:
            upto = min(end, at + step)
            found += conn.execute(_WALK, {**params, "s": at, "w": upto, "k": want - len(found)}).scalars().all()
            at, step = upto, 2 * step
        if len(found) >= want or at >= n:       # the page is full, or the walk saw every document
            return found[offset:want]
    # The list: a corpus's documents have ids in the order of their positions (each new row
    # takes a larger id than every row there), so the matches in id order, from the id of
    # the corpus's first document, are in position order once another corpus's are dropped.
    out, after = [], lo - 1
    at = text("SELECT position FROM tl_documents WHERE id IN :i AND corpus_id = :c AND position < :n "
              "ORDER BY position").bindparams(bindparam("i", expanding=True))
    while len(out) < want:
        k = want - len(out) + MATCH_BATCH
        with _words_by_index(conn):
            batch = conn.execute(_LIST, {"q": params["q"], "after": after, "last": hi, "k": k}).scalars().all()
        if batch:
            out += conn.execute(at, {"i": batch, "c": corpus_id, "n": n}).scalars().all()
        if len(batch) < k:           # no more matches
            break
        after = batch[-1]
    return out[offset:want]


def _in_ranges(conn, q, lo, start, n, want, step):
    """The positions of the first ``want`` matches of ``q`` from position ``start`` in a
    corpus whose ids run from ``lo`` (position = id - lo), in windows of ids of ``step``
    documents, doubling. A window's matches are the intersection of two bitmaps, the
    search index's and the id range's: only the matches' rows are read, not every row in
    the window (whose words, a compressed value stored aside, cost a read each: the walk
    that tested them took 13 ms for 7,500 posts of 20 Newsgroups x10 read cold) nor every
    match (a word of 5,140 posts: 64 ms cold; intersected with its first window, 1.5 ms).
    For a word in most documents the planner reads the range's rows instead; for a rare
    one, the window soon covers the corpus and the intersection is the index's list."""
    found = []
    with _words_by_index(conn, "enable_indexscan"):
        while len(found) < want and start < n:
            upto = min(n, start + step)
            found += [i - lo for i in conn.execute(_RANGE, {"q": q, "a": lo + start, "b": lo + upto,
                                                             "k": want - len(found)}).scalars()]
            start, step = upto, 2 * step
    return found


_RANGE = text("SELECT s.doc_id FROM tl_search s WHERE s.tsv @@ plainto_tsquery('simple', :q) "
              "AND s.doc_id >= :a AND s.doc_id < :b ORDER BY s.doc_id LIMIT :k")


# The matches of a search, in id order, read from the index alone: "+ 0" so that no other
# index tests them (by the id's, the planner walked the table in id order testing each
# row's words), and see _words_by_index.
_LIST = text("SELECT s.doc_id FROM tl_search s WHERE s.tsv @@ plainto_tsquery('simple', :q) AND s.doc_id + 0 > :after "
             "AND s.doc_id + 0 <= :last ORDER BY s.doc_id + 0 LIMIT :k")


@contextlib.contextmanager
def _words_by_index(conn, *also):
    """PostgreSQL, within: a document's words are tested in the search index only. The
    planner costs reading a document's words as reading a small row, where they are a
    compressed value stored aside (3 KB for a post): at 20 Newsgroups it read every one
    (31 ms for a word of 934 posts; the index: a few ms). ``also``: more plans to turn off
    (``enable_indexscan``: no walk of the ids in order testing each row's words, so a range
    of ids is a bitmap to intersect with the words'). Undone when the block ends; an error
    ends the transaction, and the settings with it."""
    settings = ("enable_seqscan",) + also
    for name in settings:
        conn.exec_driver_sql(f"SET LOCAL {name} = off")
    yield
    for name in settings:
        conn.exec_driver_sql(f"SET LOCAL {name} = on")


def _first_position(conn, corpus_id, q):
    """PostgreSQL: the position of the first document of the corpus at which every word of
    the search ``q`` has appeared (no match is before it), or None if a word is in none of
    its documents. The words as the index has them: PostgreSQL's parser makes them."""
    return conn.execute(text(
        "WITH q AS (SELECT unnest(tsvector_to_array(to_tsvector('simple', :q))) AS word) "
        "SELECT CASE WHEN count(*) = (SELECT count(*) FROM q) THEN max(d.position) END "
        "FROM tl_search_words w JOIN tl_documents d ON d.id = w.first_id "
        "WHERE w.corpus_id = :c AND w.word IN (SELECT word FROM q)"), {"c": corpus_id, "q": q}).scalar()


def _id_range(conn, corpus_id, n):
    """The ids of the documents at positions 0 and ``n - 1`` of the corpus (n >= 1)."""
    return conn.execute(text("SELECT min(id), max(id) FROM tl_documents WHERE corpus_id = :c AND position IN (0, :last)"),
                        {"c": corpus_id, "last": n - 1}).one()


def count_matches(conn, corpus_id, params):
    """PostgreSQL: how many documents of the corpus (``params`` c, n, q) hold the search's
    words, from the index alone when the corpus's ids are one unbroken run."""
    n = params["n"]
    if n == 0:
        return 0
    lo, hi = _id_range(conn, corpus_id, n)
    with _words_by_index(conn):
        if hi - lo + 1 == n:
            return conn.execute(text("SELECT count(*) FROM tl_search s WHERE s.tsv @@ plainto_tsquery('simple', :q) "
                                     "AND s.doc_id + 0 BETWEEN :lo AND :hi"), {"q": params["q"], "lo": lo, "hi": hi}
                                ).scalar_one()
        return conn.execute(text("SELECT count(*) FROM tl_documents d JOIN tl_search s ON s.doc_id = d.id "
                                 "WHERE d.corpus_id = :c AND d.position < :n AND s.tsv @@ plainto_tsquery('simple', :q)"),
                            params).scalar_one()
