"""The same storage paths against a real PostgreSQL (TEXTLATENT_TEST_DATABASE_URL)."""

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from textlatent.errors import IngestError
from textlatent.explore.inference import infer
from textlatent.explore.topics import corpus_topics
from textlatent.explore.words import similar
from textlatent.export import export
from textlatent.ingest import delete_corpus, ingest
from textlatent.models import train_lda, train_word2vec
from textlatent.settings import load_settings
from textlatent.store import Store, dispose_engines, registry, schema
from textlatent.store import queries as db

from .conftest import SAMPLE

URL = os.environ.get("TEXTLATENT_TEST_DATABASE_URL")
pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not URL, reason="set TEXTLATENT_TEST_DATABASE_URL to a PostgreSQL URL "
                                                 "to run the PostgreSQL storage tests")]


@pytest.fixture
def pg_config(tmp_path):
    """A fresh PostgreSQL schema per test, dropped afterwards."""
    schema = "tl_test_" + uuid.uuid4().hex[:10]
    admin = create_engine(URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in URL else "?"
    url = f"{URL}{sep}options=-csearch_path%3D{schema}"
    yield Store(load_settings(home=str(tmp_path / "home"), database_url=url, workers=2))
    dispose_engines()
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.mark.slow
def test_full_path_on_postgresql(pg_config, tmp_path):
    engine = pg_config.engine
    assert engine.dialect.name == "postgresql"
    assert schema.schema_version(engine) == schema.SCHEMA_VERSION
    s = ingest(pg_config, "inaug", [str(SAMPLE / "inaugural")])
    assert s.added == 59
    assert ingest(pg_config, "inaug", [str(SAMPLE / "inaugural")]).added == 0
    more = ingest(pg_config, "inaug", [str(SAMPLE / "state_of_the_union")])
    assert more.added == 65 and more.documents == 124

    lda = train_lda(pg_config, "inaug", {"num_topics": 3, "passes": 2, "workers": 1})
    rows = corpus_topics(pg_config, "inaug")["topics"]
    assert len(rows) == 3
    assert len(infer(pg_config, "inaug", "tariffs, banks and railroads of the territories")["topics"]) == 3
    train_word2vec(pg_config, "inaug", {"epochs": 2, "min_count": 2, "workers": 1})
    assert len(similar(pg_config, "inaug", "liberty", topn=3)["results"]) == 3
    export(pg_config, "inaug", "doc-topics", "csv", str(tmp_path / "dt.csv"))
    assert len((tmp_path / "dt.csv").read_text().splitlines()) == 125
    _, model = registry.find_model(pg_config, "inaug", lda)
    assert model["params"]["num_topics"] == 3


def test_failed_ingest_is_atomic_on_postgresql(pg_config, tmp_path):
    ingest(pg_config, "inaug", [str(SAMPLE / "inaugural")])
    engine = pg_config
    with engine.read() as conn:
        before = db.load_terms(conn, db.get_corpus(conn, "inaug")["id"])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "good line about tariffs"}\n{oops\n')
    with pytest.raises(IngestError, match="line 2"):
        ingest(pg_config, "inaug", [str(SAMPLE / "state_of_the_union"), str(bad)])
    with engine.read() as conn:
        c = db.get_corpus(conn, "inaug")
        assert db.load_terms(conn, c["id"]) == before and c["n_docs"] == 59
    assert_first_words(pg_config, "inaug")         # none of the words only the failed ingest saw
    delete_corpus(pg_config, "inaug")
    with engine.read() as conn:
        assert db.list_corpora(conn) == []
        assert conn.exec_driver_sql("SELECT count(*) FROM tl_search_words").scalar() == 0


def assert_first_words(store, name):
    """``tl_search_words`` holds each word of the corpus's documents with its first
    document, as Python reads the words (compared on plain ASCII words, which PostgreSQL's
    parser cannot read otherwise), and no word the documents lack."""
    from textlatent.store import search as fts

    from .test_search import _all_docs
    first = {}
    for d in _all_docs(store, name):
        for w in fts.words((d["title"] or "") + " " + d["text"]):
            first.setdefault(w, d["position"])
    with store.read() as conn:
        c = db.get_corpus(conn, name)
        stored = dict(conn.execute(text("SELECT w.word, d.position FROM tl_search_words w JOIN tl_documents d "
                                        "ON d.id = w.first_id WHERE w.corpus_id = :c"), {"c": c["id"]}).all())
    plain = {w for w in set(first) | set(stored) if w.isascii() and w.isalpha()}
    assert {w: first.get(w) for w in plain} == {w: stored.get(w) for w in plain}
    assert len(plain) > 100


def test_a_batchs_first_words_are_its_own_when_another_corpus_took_ids_inside_its_range(pg_config):
    """Two ingests side by side take interleaved ids: a batch's first words come from its
    own documents, never from the other corpus's rows between them."""
    from textlatent.store import search as fts
    ingest(pg_config, "inaug", [str(SAMPLE / "inaugural")])
    ingest(pg_config, "other", [str(SAMPLE / "state_of_the_union")])
    with pg_config.write() as conn:
        ids = dict(conn.execute(text("SELECT name, id FROM tl_corpora")).all())
        row = "(:c, :p, :k, :t, :h, 0, '')"
        insert = text("INSERT INTO tl_documents (corpus_id, position, doc_key, text, content_hash, n_tokens, tokens) "
                      f"VALUES {row}")
        # inaug's next two documents with one of other's between them (ids in that order)
        insert_at = [("inaug", 59, "zebra alpha"), ("other", 65, "quagga alpha"), ("inaug", 60, "okapi alpha")]
        for name, position, words in insert_at:
            conn.execute(insert, {"c": ids[name], "p": position, "k": f"x{position}", "t": words,
                                  "h": f"h{position}{name}"})
        fts.index_positions(conn, ids["other"], 65, 65)
        fts.index_positions(conn, ids["inaug"], 59, 60)
        noted = dict(conn.execute(text("SELECT w.word, d.corpus_id FROM tl_search_words w JOIN tl_documents d "
                                       "ON d.id = w.first_id WHERE w.corpus_id = :c"), {"c": ids["inaug"]}).all())
    assert noted["zebra"] == noted["okapi"] == ids["inaug"] and "quagga" not in noted
    assert set(noted.values()) == {ids["inaug"]}


def test_a_schema_7_database_learns_each_words_first_document(pg_config):
    from .test_search import assert_search_is_exact
    ingest(pg_config, "inaug", [str(SAMPLE / "inaugural")])
    with pg_config.write() as conn:
        conn.exec_driver_sql("DROP TABLE tl_search_words")
        conn.exec_driver_sql("UPDATE tl_meta SET value = '7' WHERE key = 'schema_version'")
    dispose_engines()
    store = Store(pg_config.config)
    assert schema.schema_version(store.engine) == schema.SCHEMA_VERSION
    assert_first_words(store, "inaug")
    assert_search_is_exact(store, "inaug")


def test_search_on_postgresql_finds_exactly_the_documents_holding_the_words(pg_config, tmp_path):
    from .conftest import write_news
    from textlatent.store import search as fts

    from .test_search import _all_docs, _found, assert_search_is_exact
    ingest(pg_config, "inaug", [str(SAMPLE / "inaugural")])
    news = write_news(tmp_path / "news.jsonl", per_group=100)
    ingest(pg_config, "news", [str(news)])
    assert_search_is_exact(pg_config, "news")
    assert_search_is_exact(pg_config, "inaug")      # ids broken by news's
    assert_search_is_exact(pg_config, "news")       # ids in one run: positions from ids
    docs = _all_docs(pg_config, "inaug")
    assert _found(pg_config, "inaug", "war", date_from="1900", date_to="1949", sort="-date") == [
        d["position"] for d in sorted(docs, key=lambda d: d["date"], reverse=True)
        if "1900" <= d["date"] <= "1949" and "war" in fts.words(d["text"])]
    before = _found(pg_config, "news", "orbit")
    delete_corpus(pg_config, "inaug")
    assert _found(pg_config, "news", "orbit") == before
    with pg_config.read() as conn:
        n = conn.exec_driver_sql("SELECT count(*) FROM tl_search").scalar()
        assert n == db.get_corpus(conn, "news")["n_docs"]


@pytest.mark.slow
def test_hosts_starting_together_create_the_schema_once(pg_config):
    import subprocess
    import sys
    dispose_engines()
    with pg_config.engine.begin() as conn:          # an empty schema again, as a new deployment's
        for table in reversed(schema.metadata.sorted_tables):
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name} CASCADE")
    code = f"from textlatent.store import schema; schema.get_engine({pg_config.database_url!r})"
    procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE) for _ in range(3)]
    errors = [p.communicate(timeout=120)[1].decode()[-500:] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    assert schema.schema_version(pg_config.engine) == schema.SCHEMA_VERSION


def test_ingest_leaves_the_planner_statistics_of_what_it_wrote(pg_config):
    """An ingest renews PostgreSQL's statistics of the tables it filled as it commits: the
    planner knows the documents are there (without them it took 18,766 documents of a
    corpus for 13 rows and tested each one's words in a search)."""
    def tuples(conn, table):
        return conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = :t AND "
                                 "relnamespace = current_schema()::regnamespace"), {"t": table}).scalar_one()

    ingest(pg_config, "inaug", [str(SAMPLE / "inaugural")])
    with pg_config.read() as conn:
        assert [tuples(conn, t) for t in ("tl_documents", "tl_search")] == [59, 59]
        assert tuples(conn, "tl_terms") == db.get_corpus(conn, "inaug")["n_terms"]
    ingest(pg_config, "inaug", [str(SAMPLE / "state_of_the_union")])
    with pg_config.read() as conn:
        assert [tuples(conn, t) for t in ("tl_documents", "tl_search")] == [124, 124]


def test_a_search_of_many_matches_is_counted_by_estimate_and_still_finds_them_all(pg_config, tmp_path,
                                                                                    monkeypatch):
    """Past EXACT_COUNT_UP_TO expected matches, PostgreSQL's count is the planner's estimate
    (``total_exact`` False) until the last page, which gives the exact number; the pages
    still hold exactly the documents with the words, in order."""
    from .conftest import write_news
    from textlatent.explore.search import list_documents
    from textlatent.store import search as fts

    from .test_search import _all_docs, assert_search_is_exact
    ingest(pg_config, "inaug", [str(SAMPLE / "inaugural")])
    ingest(pg_config, "news", [str(write_news(tmp_path / "news.jsonl", per_group=100))])
    monkeypatch.setattr(fts, "EXACT_COUNT_UP_TO", 3)
    assert_search_is_exact(pg_config, "news")
    docs = _all_docs(pg_config, "news")
    common = max(("the", "and", "of"), key=lambda w: sum(w in fts.words(d["text"]) for d in docs))
    want = [d["position"] for d in docs if common in fts.words((d["title"] or "") + " " + d["text"])]
    first = list_documents(pg_config, "news", q=common, limit=10)
    assert first["total_exact"] is False and first["total"] > 10
    assert [d["position"] for d in first["documents"]] == want[:10]
    last = list_documents(pg_config, "news", q=common, limit=10, offset=(len(want) - 1) // 10 * 10)
    assert last["total_exact"] is True and last["total"] == len(want)
    # With a filter the count stays exact.
    speeches = _all_docs(pg_config, "inaug")
    dated = list_documents(pg_config, "inaug", q=common, date_from="1900", limit=10)
    assert dated["total_exact"] is True and dated["total"] == sum(
        1 for d in speeches if d["date"] >= "1900" and common in fts.words((d["title"] or "") + " " + d["text"]))


@pytest.mark.parametrize("margin, share, batch", [(4, 0.5, 500), (1e-6, 0, 1), (1e9, 0.5, 3), (1e-6, 1e9, 500)],
                         ids=["defaults", "walk-fails-list-one-at-a-time", "list-at-once", "walk-from-one-doubling"])
def test_search_pages_are_exact_however_they_are_found(pg_config, tmp_path, monkeypatch, margin, share, batch):
    """A search's page is found by a bounded walk in position order or from the list of
    its matches in id order (store/search_pg.py: first_matches); either way the pages hold
    exactly the documents with the words, in order, and the counts are exact: in a corpus
    whose documents' ids are one run and in one whose ids straddle another corpus's
    (appended after it), also for a word only its later part holds."""
    from textlatent.store import search as fts
    from textlatent.store import search_pg

    from .conftest import write_news
    from .test_search import _all_docs, _found, assert_search_is_exact
    ingest(pg_config, "inaug", [str(SAMPLE / "inaugural")])
    ingest(pg_config, "news", [str(write_news(tmp_path / "news.jsonl", per_group=20))])
    ingest(pg_config, "inaug", [str(SAMPLE / "state_of_the_union")])
    with pg_config.read() as conn:
        ids = {name: conn.execute(text("SELECT min(d.id), max(d.id) FROM tl_documents d JOIN tl_corpora c "
                                       "ON c.id = d.corpus_id WHERE c.name = :n"), {"n": name}).one()
               for name in ("inaug", "news")}
    assert ids["inaug"][0] < ids["news"][0] < ids["news"][1] < ids["inaug"][1]
    monkeypatch.setattr(search_pg, "WALK_MARGIN", margin)
    monkeypatch.setattr(search_pg, "WALK_SHARE", share)
    monkeypatch.setattr(search_pg, "MATCH_BATCH", batch)
    monkeypatch.setattr(fts, "EXACT_COUNT_UP_TO", 3)
    assert_search_is_exact(pg_config, "inaug")      # ids broken by news's
    assert_search_is_exact(pg_config, "news")       # ids in one run: positions from ids
    assert_first_words(pg_config, "inaug")
    assert_first_words(pg_config, "news")
    docs = _all_docs(pg_config, "inaug")
    words_of = [set(fts.words((d["title"] or "") + " " + d["text"])) for d in docs]
    early = set().union(*words_of[:59])
    late = max((w for w in set().union(*words_of[59:]) - early if w.isalpha()),
               key=lambda w: (sum(w in ws for ws in words_of), w))
    want = [d["position"] for d, ws in zip(docs, words_of) if late in ws]
    assert len(want) >= 10 and min(want) >= 59
    assert _found(pg_config, "inaug", late) == want
    page = list_documents_page(pg_config, "inaug", late, limit=5, offset=3)
    assert page == want[3:8]
    # Exact counts on the first page, for each corpus, of words every document holds to one only.
    from textlatent.explore.search import list_documents
    monkeypatch.setattr(fts, "EXACT_COUNT_UP_TO", 10**9)
    for name in ("news", "inaug"):
        docs = _all_docs(pg_config, name)
        words_of = [set(fts.words((d["title"] or "") + " " + d["text"])) for d in docs]
        for word in assert_search_is_exact(pg_config, name)[:3] + ["the"]:
            r = list_documents(pg_config, name, q=word, limit=5)
            assert r["total_exact"] and r["total"] == sum(word in ws for ws in words_of), (name, word)


def list_documents_page(store, name, q, limit, offset):
    from textlatent.explore.search import list_documents
    return [d["position"] for d in list_documents(store, name, q=q, limit=limit, offset=offset)["documents"]]
