"""Pages that stay fast at any size: what a request reads, and the schema migration that
moved the phrases out of the corpus row."""

import gc
import json
import os
import weakref

import numpy as np
import pytest
from sqlalchemy import event

from textlatent.explore import inference, lasting
from textlatent.explore.topics import model_arrays, topic_documents
from textlatent.ingest import ingest
from textlatent.ingest.pipeline import content_hash
from textlatent.settings import load_settings
from textlatent.store import Store, dispose_engines, registry, schema, search
from textlatent.store import queries as db
from web import create_app

from .conftest import SAMPLE


class Statements:
    """The SQL an engine runs while recording."""

    def __init__(self, engine):
        self.engine, self.seen, self.on = engine, [], False
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        if self.on:
            self.seen.append(" ".join(statement.split()))

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._record)


def test_no_page_reads_the_phrases_or_scans_documents(trained):
    store = trained["config"]
    lda, w2v = trained["lda"], trained["w2v"]
    with store.read() as conn:
        assert db.get_corpus(conn, "news")["n_phrases"] > 0      # there are phrases to avoid
    client = create_app(store).test_client()
    urls = ["/", "/api/v1/corpora", "/corpora/news", "/api/v1/corpora/news", f"/models/{lda}/topics",
            f"/api/v1/models/{lda}/topics", f"/api/v1/models/{lda}/ldavis.json",
            f"/api/v1/models/{lda}/topics/1/documents?limit=20", "/api/v1/corpora/news/similar?word=puck",
            f"/api/v1/models/{w2v}", "/corpora/news/words", "/corpora/news/documents?start=100",
            "/api/v1/corpora/news/documents/7", "/corpora/news/documents/7"]
    recorder = Statements(store.engine)
    first = []
    try:
        for _ in range(2):
            for url in urls:
                recorder.on = True
                assert client.get(url).status_code == 200, url
                recorder.on = False
            first = first or list(recorder.seen)
    finally:
        recorder.close()
    assert recorder.seen
    # A query's tokenizer (similar words typed as the corpus spells them) reads the phrases
    # once per process and corpus version; no page reads them again.
    assert len([s for s in recorder.seen if "tl_phrases" in s]) == len([s for s in first if "tl_phrases" in s]) <= 1
    # a read of documents names its rows (positions), a range of positions, or stops at a few
    docs = [s for s in recorder.seen if "FROM tl_documents" in s]
    assert docs and all(" IN (" in s or "LIMIT" in s or "d.position >= ? AND d.position < ?" in s
                        for s in docs), docs
    # nor is the vocabulary counted: the row keeps its size
    assert not [s for s in recorder.seen if "count(" in s.lower() and "tl_terms" in s]


@pytest.mark.slow
def test_inference_reads_the_phrases_once_per_corpus_version(config):
    ingest(config, "inaug", [str(SAMPLE / "inaugural")])
    with config.read() as conn:
        corpus = db.get_corpus(conn, "inaug")
        pairs = db.get_phrases(conn, corpus["id"])
    assert corpus["n_phrases"] == len(pairs) > 0 and corpus["version"] == 1
    a, b = pairs[0]
    recorder = Statements(config.engine)
    recorder.on = True
    try:
        first = inference.corpus_terms(config, corpus, f"{a} {b} and {a} {b}")
        second = inference.corpus_terms(config, corpus, f"{a} {b}")
    finally:
        recorder.close()
    assert first == [f"{a}_{b}", f"{a}_{b}"] and second == [f"{a}_{b}"]
    assert len([s for s in recorder.seen if "tl_phrases" in s]) == 1
    # a new ingest makes a new version, and the cache follows it
    ingest(config, "inaug", [str(SAMPLE / "state_of_the_union")])
    with config.read() as conn:
        newer = db.get_corpus(conn, "inaug")
    assert newer["version"] == 2 and newer["n_phrases"] == corpus["n_phrases"]   # phrases stay frozen
    assert inference.corpus_terms(config, newer, f"{a} {b}") == [f"{a}_{b}"]


def test_topic_documents_come_from_the_stored_ranking(trained):
    store = trained["config"]
    _, model = registry.get_model(store, trained["lda"])
    a = model_arrays(store, model)
    theta = np.asarray(a["doc_topics"])
    assert a["topic_docs"].shape == (theta.shape[1], min(1000, len(theta)))
    for k in range(theta.shape[1]):
        docs = topic_documents(store, model, k, limit=15)
        weights = [d["weight"] for d in docs]
        assert len(docs) == 15 and weights == sorted(weights, reverse=True)
        # the 15 heaviest documents of the column, whatever ties do to their order
        assert weights[-1] >= round(float(np.sort(theta[:, k])[-15]), 5)


@pytest.mark.slow
def test_a_version_2_database_is_migrated(tmp_path):
    home = tmp_path / "old"
    store = Store(load_settings(home=str(home)))
    ingest(store, "inaug", [str(SAMPLE / "inaugural")])
    with store.read() as conn:
        corpus = db.get_corpus(conn, "inaug")
        pairs = db.get_phrases(conn, corpus["id"])
        fingerprint = registry.corpus_fingerprint(conn, corpus)
    # Put the database back into version 2's shape: phrases in the corpus row.
    with store.write() as conn:
        for sql in ("ALTER TABLE tl_corpora ADD COLUMN phrases JSON",
                    "UPDATE tl_corpora SET phrases = (SELECT pairs FROM tl_phrases WHERE corpus_id = tl_corpora.id)",
                    "DROP TABLE tl_phrases", "DROP INDEX ix_terms_cf", "ALTER TABLE tl_corpora DROP COLUMN n_terms",
                    "ALTER TABLE tl_corpora DROP COLUMN n_phrases", "ALTER TABLE tl_corpora DROP COLUMN version",
                    "UPDATE tl_meta SET value = '2' WHERE key = 'schema_version'"):
            conn.exec_driver_sql(sql)
    dispose_engines()
    store = Store(load_settings(home=str(home)))
    assert schema.schema_version(store.engine) == schema.SCHEMA_VERSION
    with store.read() as conn:
        migrated = db.get_corpus(conn, "inaug")
        assert db.get_phrases(conn, migrated["id"]) == pairs
        assert migrated["n_phrases"] == len(pairs) and migrated["n_terms"] == corpus["n_terms"] > 0
        assert registry.corpus_fingerprint(conn, migrated) == fingerprint
        columns = [r[1] for r in conn.exec_driver_sql("PRAGMA table_info(tl_corpora)")]
        indexes = [r[1] for r in conn.exec_driver_sql("PRAGMA index_list(tl_terms)")]
    assert "phrases" not in columns and "ix_terms_cf" in indexes
    assert ingest(store, "inaug", [str(SAMPLE / "state_of_the_union")]).phrases == len(pairs)
    dispose_engines()


def test_duplicates_are_found_without_holding_every_hash(config, tmp_path):
    first = tmp_path / "first.jsonl"
    first.write_text("".join(json.dumps({"id": str(i), "text": f"tariffs and railroads of territory {i}"}) + "\n"
                             for i in range(1200)))
    assert ingest(config, "c", [str(first)]).added == 1200
    # the corpus holds 0..1199; this file repeats 600 of them, and 300 new texts twice each
    again = tmp_path / "again.jsonl"
    rows = [f"tariffs and railroads of territory {i}" for i in range(600, 1200)]
    rows += [f"banks and canals of state {i}" for i in range(300)] * 2
    again.write_text("".join(json.dumps({"text": t}) + "\n" for t in rows))
    s = ingest(config, "c", [str(again)])
    assert (s.added, s.duplicates, s.documents) == (300, 900, 1500)
    assert not [f for f in os.listdir(config.path("tmp")) if f.startswith("seen-")]
    with config.read() as conn:
        corpus = db.get_corpus(conn, "c")
        assert db.existing_hashes(conn, corpus["id"], [content_hash(t) for t in rows[:3]]) == {
            content_hash(t) for t in rows[:3]}


def _texts(path, n, word):
    path.write_text("".join(json.dumps({"id": f"{word}{i}", "text": f"{word} railroads tariffs {i}"}) + "\n"
                            for i in range(n)))
    return str(path)


def _raw_documents(store):
    with store.read() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM tl_documents").scalar()


class Stop(Exception):
    pass


@pytest.mark.slow
def test_documents_written_in_batches_stay_invisible_until_the_last_step(config, tmp_path):
    ingest(config, "c", [_texts(tmp_path / "a.jsonl", 500, "old")])
    with config.read() as conn:
        before = db.get_corpus(conn, "c")
    seen = []

    def watch(done, total, message):
        if message.startswith("writing documents") and done >= 2000:
            # two batches are committed, yet every reader sees the corpus as it was
            with config.read() as conn:
                now = db.get_corpus(conn, "c")
                listed = {c["name"] for c in db.list_corpora(conn)}
                assert db.find_corpus(conn, "new") is None and listed == {"c"}
            assert (now["n_docs"], now["n_tokens"], now["version"]) == (500, before["n_tokens"], 1)
            assert len(list(db.iter_documents(config, now["id"]))) == 500
            with config.read() as conn:                   # nor does a search find them
                assert search.find(conn, now["id"], ["more"])[1] == 0
                assert search.find(conn, now["id"], [])[1] == 500
            seen.append(_raw_documents(config))
            raise Stop()
    with pytest.raises(Stop):
        ingest(config, "c", [_texts(tmp_path / "b.jsonl", 3500, "more")], progress=watch)
    assert seen and seen[0] >= 2500                     # they were in the table, hidden
    assert _raw_documents(config) == 500                # and the failure removed them
    with pytest.raises(Stop):                           # a new corpus is hidden, then gone
        ingest(config, "new", [_texts(tmp_path / "c.jsonl", 2500, "new")], progress=watch)
    with config.read() as conn:
        assert db.find_corpus(conn, "new", hidden=True) is None
    s = ingest(config, "c", [str(tmp_path / "b.jsonl")])
    assert (s.added, s.documents) == (3500, 4000) and _raw_documents(config) == 4000
    with config.write() as conn:        # the search index dropped the failed rows' entries too
        conn.exec_driver_sql("INSERT INTO tl_documents_fts(tl_documents_fts, rank) VALUES ('integrity-check', 1)")
        assert search.find(conn, before["id"], ["more"])[1] == 3500


@pytest.mark.slow
def test_an_ingest_killed_while_writing_is_cleaned_by_the_next(config, tmp_path, monkeypatch):
    from textlatent.ingest import writer
    ingest(config, "c", [_texts(tmp_path / "a.jsonl", 300, "old")])

    def stop(done, total, message):
        if message.startswith("writing documents") and done >= 1000:
            raise Stop()
    with monkeypatch.context() as m:
        m.setattr(writer, "_abandon", lambda *args: None)       # as if the process died here
        with pytest.raises(Stop):
            ingest(config, "c", [_texts(tmp_path / "b.jsonl", 2500, "more")], progress=stop)
        with pytest.raises(Stop):
            ingest(config, "hidden", [_texts(tmp_path / "h.jsonl", 1500, "hid")], progress=stop)
    assert _raw_documents(config) == 300 + 1000 + 1000
    with config.read() as conn:
        assert [c["name"] for c in db.list_corpora(conn)] == ["c"]
        assert db.claim_ingest(conn, db.get_corpus(conn, "c")["id"], "someone", 3600) is False   # still held
    with config.write() as conn:                                    # a minute later: stale
        conn.exec_driver_sql("UPDATE tl_ingests SET heartbeat = '2000-01-01 00:00:00'")
    s = ingest(config, "c", [str(tmp_path / "b.jsonl")])
    assert (s.added, s.duplicates, s.documents) == (2500, 0, 2800)
    s = ingest(config, "hidden", [str(tmp_path / "h.jsonl")])
    assert s.created and (s.added, s.documents) == (1500, 1500)
    assert _raw_documents(config) == 2800 + 1500


def test_the_corpus_page_reads_its_overview_once_per_version(config, tmp_path):
    from textlatent import views
    ingest(config, "c", [_texts(tmp_path / "a.jsonl", 40, "old")])
    first = views.corpus_page(config, "c")["overview"]
    recorder = Statements(config.engine)
    recorder.on = True
    try:
        again = views.corpus_page(config, "c")["overview"]
    finally:
        recorder.close()
    assert again == first and not [s for s in recorder.seen if "tl_terms" in s or "tl_documents" in s]
    ingest(config, "c", [_texts(tmp_path / "b.jsonl", 10, "new")])
    after = views.corpus_page(config, "c")["overview"]
    assert (first["documents"], after["documents"]) == (40, 50) and after["vocabulary"] > first["vocabulary"]


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()


def test_a_cache_load_is_moved_out_of_the_collectors_sweeps(unfrozen):
    class Node:
        pass

    @lasting.cache(1)
    def load(key):
        node = Node()
        node.self = node            # a cycle: only the collector frees it
        return node

    first = load("a")
    assert gc.is_tracked(first)
    assert not any(o is first for o in gc.get_objects())      # frozen: no generation holds it
    assert gc.get_freeze_count() > 0
    assert load("a") is first
    gone = weakref.ref(first)
    del first
    load("b")                       # evicts "a"; the next settle collects its cycle
    assert gone() is None


def test_a_corpus_tokenizer_once_loaded_is_out_of_the_collectors_sweeps(config, unfrozen):
    inference._tokenizer.cache_clear()
    gc.unfreeze()
    ingest(config, "sample", [str(SAMPLE / "inaugural")])
    with config.read() as conn:
        corpus = db.get_corpus(conn, "sample")
    tokenizer = inference.tokenizer_of(corpus)
    assert not any(o is tokenizer for o in gc.get_objects())
