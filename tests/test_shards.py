"""Sharded ingest: an upload split into shards that any worker tokenizes, committed once.

The corpus a sharded ingest writes is the one an ingest in one process writes from the
same file (documents, token streams, vocabulary counts, phrases); a shard taken by
another worker, or left by a dead one, is tokenized exactly once more; a cancel leaves
neither a corpus nor shard files.
"""

import datetime as dt
import os
import threading
import time

import numpy as np
import pytest

from textlatent import jobs
from textlatent.ingest import ReadOptions, ingest
from textlatent.ingest.shards import Commit, output_keys, split, tokenize_shard
from textlatent.jobs import sharding
from textlatent.jobs.runner import worker_name
from textlatent.settings import load_settings
from textlatent.store import Store
from textlatent.store import queries as db
from textlatent.store.schema import now

from .conftest import write_news


def snapshot(store, name):
    """What an ingest stored, by value: documents in order with their tokens as terms,
    the vocabulary with its counts, the phrases."""
    with store.read() as conn:
        corpus = db.get_corpus(conn, name)
        terms, df, cf = db.load_terms(conn, corpus["id"])
        phrases = sorted(map(tuple, db.get_phrases(conn, corpus["id"]) or []))
        docs = db.get_documents(conn, corpus["id"], columns=("position", "doc_key", "label", "content_hash",
                                                             "n_tokens", "tokens"))
        first = dict(conn.exec_driver_sql("SELECT id, first_position FROM tl_terms WHERE corpus_id = ?",
                                          (corpus["id"],)).all())
    rows = [(d["position"], d["doc_key"], d["label"], d["content_hash"], d["n_tokens"],
             tuple(terms[i] for i in np.frombuffer(d["tokens"], dtype="<u4"))) for d in docs]
    vocab = {t: (a, b, first[i]) for i, (t, a, b) in enumerate(zip(terms, df, cf))}
    return {"n_docs": corpus["n_docs"], "n_tokens": corpus["n_tokens"], "docs": rows, "vocab": vocab,
            "phrases": phrases}


@pytest.fixture(scope="module")
def news_file(tmp_path_factory):
    # 20 Newsgroups posts, a few of them twice (duplicates are dropped by both paths).
    path = write_news(tmp_path_factory.mktemp("shards") / "news.jsonl", per_group=150)
    lines = open(path, encoding="utf-8").read().splitlines()
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("\n".join(lines[:5]) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def unsharded(news_file, tmp_path_factory):
    store = Store(load_settings(home=str(tmp_path_factory.mktemp("one") / "home"), workers=1))
    summary = ingest(store, "news", [news_file], ReadOptions(label_field="label"))
    return summary, snapshot(store, "news")


def sharded(store, path, shard_documents, order=reversed):
    """The library's sharded ingest in this process: split, tokenize the shards in
    ``order`` (they finish in any order), commit."""
    from textlatent.ingest.pipeline import corpus_settings
    options = ReadOptions(label_field="label")
    _, settings, frozen = corpus_settings(store, "news", None, options)
    learn = settings.phrases and not frozen
    summary, keys = split(store, "news", [path], options, "uploads/u/shards", lambda *a: None,
                          shard_documents=shard_documents)
    commit = Commit(store, "news", settings, learn, summary)
    results, done, added = [], set(), 0
    for key in order(keys):
        results.append(tokenize_shard(store, key, settings, learn))
        commit.add_counts(key)
        done.add(key)
        while added < len(keys) - 1 and keys[added] in done:   # texts before the phrases are known
            commit.add_texts(keys[added])
            added += 1
    summary.empty += sum(r["empty"] for r in results)
    commit.write(keys)
    return summary, keys


def test_shards_committed_once_store_what_one_process_stores(news_file, unsharded, tmp_path):
    store = Store(load_settings(home=str(tmp_path / "home"), workers=1))
    announced = []
    _, keys = split(store, "news", [news_file], ReadOptions(label_field="label"), "uploads/a/shards",
                    lambda i, key, n: announced.append((i, key, n)), shard_documents=170)
    assert len(keys) == 4 and [a[1] for a in announced] == keys and sum(a[2] for a in announced) == 600
    assert [a[2] for a in announced] == [170, 170, 170, 90]

    summary, keys = sharded(store, news_file, 170, order=lambda keys: [keys[1], keys[0], keys[3], keys[2]])
    one_summary, expected = unsharded
    got = snapshot(store, "news")
    assert got["docs"] == expected["docs"]
    assert got["vocab"] == expected["vocab"] and got["phrases"] == expected["phrases"]
    assert len(got["phrases"]) > 20            # the phrases were learned across the shards' counts
    assert (got["n_docs"], got["n_tokens"]) == (expected["n_docs"], expected["n_tokens"])
    assert (summary.added, summary.duplicates, summary.empty) == \
        (one_summary.added, one_summary.duplicates, one_summary.empty)
    assert summary.duplicates == 5
    for key in keys:                            # each shard's files are in storage
        assert store.files.exists(key) and all(store.files.exists(k) for k in output_keys(key))


def test_a_second_sharded_ingest_keeps_the_corpus_phrases_and_adds_only_new_documents(news_file, tmp_path):
    store = Store(load_settings(home=str(tmp_path / "home"), workers=1))
    lines = open(news_file, encoding="utf-8").read().splitlines()
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text("\n".join(lines[:400]) + "\n", encoding="utf-8")
    second.write_text("\n".join(lines[300:]) + "\n", encoding="utf-8")
    sharded(store, str(first), 150)
    before = snapshot(store, "news")
    summary, _ = sharded(store, str(second), 150)
    after = snapshot(store, "news")
    assert after["phrases"] == before["phrases"]           # learned by the first ingest, kept
    assert after["docs"][:len(before["docs"])] == before["docs"]
    assert summary.duplicates >= 100 and summary.added == after["n_docs"] - before["n_docs"] > 150
    whole = Store(load_settings(home=str(tmp_path / "whole"), workers=1))
    ingest(whole, "news", [str(first)], ReadOptions(label_field="label"))
    ingest(whole, "news", [str(second)], ReadOptions(label_field="label"))
    assert snapshot(whole, "news") == after              # as two ingests in one process


def _store(tmp_path, **settings):
    return Store(load_settings(home=str(tmp_path / "home"), workers=1, map_method="none", **settings))


def _upload(store, news_file):
    with open(news_file, "rb") as fh:
        return jobs.submit_upload(store, "news", [("news.jsonl", fh)], {"label_field": "label"})


def _shard_jobs(store, parent_id):
    return [j for j in jobs.list_jobs(store, "news", limit=100, shards=True)
            if j["kind"] == sharding.KIND and j["params"]["parent"] == parent_id]


def _run_in_thread(store, job_id):
    thread = threading.Thread(target=jobs.run_job, args=(store, job_id), daemon=True)
    thread.start()
    return thread


def _wait_for_shards(store, parent_id, n, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shards = _shard_jobs(store, parent_id)
        if len(shards) >= n:
            return sorted(shards, key=lambda j: j["params"]["shard"])
        time.sleep(0.02)
    raise AssertionError(f"ingest job {parent_id} queued {len(_shard_jobs(store, parent_id))} shards, not {n}")


@pytest.mark.slow
def test_a_shard_taken_by_another_worker_is_tokenized_there_and_once(news_file, unsharded, tmp_path):
    store = _store(tmp_path, shard_documents=200)
    job = _upload(store, news_file)
    coordinator = _run_in_thread(store, job["id"])           # the ingest job, in a process of its own
    last = _wait_for_shards(store, job["id"], 3)[-1]
    # Another worker (this test's process) takes the last shard while the ingest job
    # tokenizes the first ones.
    assert jobs.run_job(store, last["id"]) == "finished"
    coordinator.join(timeout=120)
    job = jobs.get(store, job["id"])
    assert job["status"] == "finished", job["error"]
    assert job["result"]["shards"] == 3
    shards = _shard_jobs(store, job["id"])
    assert all(s["status"] == "finished" for s in shards)
    by_us = [s for s in shards if s["worker"] == worker_name()]
    assert [s["id"] for s in by_us] == [last["id"]]          # ours, and only ours
    assert all(s["worker"] != worker_name() and s["message"] == "finished (in the ingest job)"
               for s in shards if s["id"] != last["id"])
    assert snapshot(store, "news") == unsharded[1]
    assert not store.files.exists(job["params"]["upload_dir"])  # upload and shard files removed


@pytest.mark.slow
def test_a_shard_whose_worker_died_is_tokenized_by_the_ingest_job(news_file, unsharded, tmp_path):
    store = _store(tmp_path, shard_documents=200)
    job = _upload(store, news_file)
    coordinator = _run_in_thread(store, job["id"])
    last = _wait_for_shards(store, job["id"], 3)[-1]
    with store.write() as conn:     # claimed by a worker on another host, silent for two minutes
        assert db.update_job(conn, last["id"], only_if_status=("pending",), status="running",
                             worker="elsewhere:4242", started=now(), heartbeat=now() - dt.timedelta(minutes=2))
    coordinator.join(timeout=120)
    job = jobs.get(store, job["id"])
    assert job["status"] == "finished", job["error"]
    assert snapshot(store, "news") == unsharded[1]


def test_a_shard_the_queue_refuses_is_tokenized_by_the_ingest_job(news_file, unsharded, tmp_path, monkeypatch):
    """A queue that fails to take a shard's message (huey's SQLite queue said "database
    is locked" once on a loaded machine) does not fail the ingest: its job tokenizes
    every shard nobody started, and the corpus is the one an unsharded ingest makes."""
    import sqlite3

    from textlatent.jobs.queue import Queue
    store = _store(tmp_path, shard_documents=200)
    job = _upload(store, news_file)
    offered = tmp_path / "offered"           # the job runs in a process of its own
    real = Queue.run_job

    def refusing(self, job_id):
        with store.read() as conn:
            kind = db.get_job(conn, job_id)["kind"]
        if kind == sharding.KIND:
            with open(offered, "a") as fh:
                fh.write(f"{job_id}\n")
            raise sqlite3.OperationalError("database is locked")
        return real(self, job_id)
    monkeypatch.setattr(Queue, "run_job", refusing)
    jobs.run_job(store, job["id"])
    job = jobs.get(store, job["id"])
    assert job["status"] == "finished", job["error"]
    assert len(offered.read_text().split()) == job["result"]["shards"] >= 3
    assert {j["status"] for j in _shard_jobs(store, job["id"])} == {"finished"}
    assert snapshot(store, "news") == unsharded[1]


@pytest.mark.slow
def test_cancelling_a_sharded_ingest_cancels_its_shards_and_leaves_nothing(news_file, tmp_path):
    store = _store(tmp_path, shard_documents=100)
    job = _upload(store, news_file)
    coordinator = _run_in_thread(store, job["id"])
    last = _wait_for_shards(store, job["id"], 6)[-1]
    with store.write() as conn:     # another worker, alive, holds the last shard: the ingest waits for it
        assert db.update_job(conn, last["id"], only_if_status=("pending",), status="running",
                             worker="elsewhere:4242", started=now(), heartbeat=now())
    deadline = time.monotonic() + 60
    while "running" not in jobs.get(store, job["id"])["message"] and time.monotonic() < deadline:
        time.sleep(0.1)             # "... 5 of 6 shards done, 1 running"
    jobs.cancel(store, job["id"])
    coordinator.join(timeout=60)
    assert jobs.get(store, job["id"])["status"] == "cancelled"
    ended = {s["id"]: s for s in _shard_jobs(store, job["id"])}
    assert len(ended) == 6 and all(s["status"] == "finished" for i, s in ended.items() if i != last["id"])
    assert ended[last["id"]]["cancel_requested"] and "its ingest ended" in ended[last["id"]]["message"]
    with store.read() as conn:
        assert db.find_corpus(conn, "news", hidden=True) is None
    folder = store.files.path(job["params"]["upload_dir"])
    assert os.path.isdir(folder)                               # the upload stays, for a retry ...
    assert not [n for n in os.listdir(folder) if n.startswith("shards-")]   # ... its shards do not
    assert jobs.retry(store, job["id"])["status"] == "pending"


def test_a_tokenize_job_is_not_submitted_or_retried_on_its_own(tmp_path):
    store = _store(tmp_path)
    with pytest.raises(Exception, match="made by ingest jobs"):
        jobs.submit(store, sharding.KIND, "news", {"parent": 3})


def test_phrases_scored_with_numpy_are_gensims_own(news_file):
    from textlatent.ingest.phrases import learn_phrases
    from textlatent.ingest.sources import iter_sources
    from textlatent.ingest.tokenize import TokenizerSettings, tokenize_stream
    settings = TokenizerSettings()
    texts = [r["text"] for r in iter_sources([news_file], ReadOptions(label_field="label"))]
    learner = learn_phrases(settings)
    for tokens in tokenize_stream(texts, settings, workers=1):
        learner.add(tokens)
    ours, gensims = learner.export(), learner.export_with_gensim()
    assert len(ours) > 20 and ours == gensims
    # Near the threshold too: with a threshold that half the candidate pairs pass.
    learner.threshold = 1.0
    assert learner.export() == learner.export_with_gensim() and len(learner.export()) > len(ours)


def test_phrase_counts_are_gensims_own_past_the_cap(news_file, monkeypatch):
    """The learner's arrays count what gensim's Phrases counted, batch by batch, pruning
    included: the same words and pairs, counts, min_reduce and phrases."""
    from gensim.models.phrases import Phrases, original_scorer

    from textlatent.ingest import phrases
    from textlatent.ingest.sources import iter_sources
    from textlatent.ingest.tokenize import TokenizerSettings, tokenize_stream
    monkeypatch.setattr(phrases, "BATCH_DOCUMENTS", 50)
    monkeypatch.setattr(phrases, "MAX_VOCABULARY", 20_000)
    settings = TokenizerSettings()
    learner = phrases.learn_phrases(settings)
    model = Phrases(min_count=settings.phrase_min_count, threshold=settings.phrase_threshold, delimiter=" ",
                    connector_words=frozenset(), max_vocab_size=20_000, scoring=original_scorer)
    flush = learner._flush

    def both():                 # gensim's add_vocab on each batch the learner counts
        model.add_vocab([[learner.word_names[i] for i in doc.tolist()] for doc in learner.batch])
        flush()
    monkeypatch.setattr(learner, "_flush", both)
    texts = [r["text"] for r in iter_sources([news_file], ReadOptions(label_field="label"))]
    for tokens in tokenize_stream(texts, settings, workers=1):
        learner.add(tokens)
    assert learner.counts() == {"vocab": model.vocab, "min_reduce": model.min_reduce, "words": model.corpus_word_count}
    assert model.min_reduce > 3            # pruned again and again
    assert learner.export() == sorted(k.split(" ", 1) for k in model.export_phrases())


def test_listings_leave_shard_jobs_out_unless_asked(news_file, tmp_path):
    from web import create_app
    store = _store(tmp_path, shard_documents=100)
    job = _upload(store, news_file)
    assert jobs.run_job(store, job["id"]) == "finished"     # its shards tokenized in the ingest job
    shown = [j["kind"] for j in jobs.list_jobs(store)]
    assert shown == ["ingest"]
    assert sorted({j["kind"] for j in jobs.list_jobs(store, shards=True)}) == ["ingest", "tokenize"]
    client = create_app(store.config).test_client()
    assert [j["kind"] for j in client.get("/api/v1/jobs").get_json()] == ["ingest"]
    listed = client.get("/api/v1/corpora/news/jobs?shards=true").get_json()
    assert len([j for j in listed if j["kind"] == "tokenize"]) == jobs.get(store, job["id"])["result"]["shards"] == 6
    r = client.get("/api/v1/jobs?shards=maybe")
    assert r.status_code == 400 and "shards is true or false" in r.get_json()["error"]["message"]
    assert "tokenize" not in client.get("/").get_data(as_text=True)    # the recent jobs on the index page
