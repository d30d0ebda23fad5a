"""Background jobs through the real queue: a `textlatent worker` process, huey on
SQLite (and on Redis when TEXTLATENT_TEST_REDIS_URL is set), progress, cancel,
a killed worker, retry and the time limit."""

import os
import subprocess
import sys
import time

import pytest

from textlatent import jobs
from textlatent.errors import Conflict, InvalidInput, JobNotFound
from textlatent.jobs.queue import get_queue
from textlatent.settings import load_settings
from textlatent.store import Store
from textlatent.store import queries as db
from textlatent.store import registry, schema

from .conftest import model_dirs, upload_news, wait_for, write_news

REDIS_URL = os.environ.get("TEXTLATENT_TEST_REDIS_URL")


@pytest.mark.slow
def test_ingest_and_training_run_through_the_sqlite_queue(config, tmp_path, worker_factory):
    job = upload_news(config, tmp_path)
    assert job["status"] == "pending" and job["kind"] == "ingest"
    assert os.path.exists(os.path.join(config.home, "queue.db"))      # huey's SQLite queue
    worker_factory(config)
    job = wait_for(config, job["id"])
    assert job["status"] == "finished", job["error"]
    r = job["result"]
    assert r["added"] + r["duplicates"] + r["empty"] == 400 and r["added"] > 350 and r["vocabulary"] > 1000
    assert not os.path.exists(config.path(job["params"]["upload_dir"]))   # staged files removed
    lda = jobs.submit(config, "lda", "news", {"num_topics": 4, "passes": 3})
    w2v = jobs.submit(config, "word2vec", "news", {"epochs": 2, "min_count": 2})
    lda, w2v = wait_for(config, lda["id"]), wait_for(config, w2v["id"])
    assert lda["status"] == w2v["status"] == "finished", (lda["error"], w2v["error"])
    _, model = registry.get_model(config, lda["model_id"])
    assert model["kind"] == "lda" and model["params"]["num_topics"] == 4
    assert registry.get_model(config, w2v["model_id"])[1]["kind"] == "word2vec"
    assert lda["started"] and lda["finished"] >= lda["started"]
    assert [d for d in model_dirs(config) if d.startswith(".tmp")] == []


@pytest.mark.slow
def test_progress_is_visible_while_a_job_runs_and_cancel_stops_it(config, tmp_path, worker_factory):
    worker_factory(config)
    ingest = wait_for(config, upload_news(config, tmp_path)["id"])
    assert ingest["status"] == "finished", ingest["error"]
    n_docs = ingest["result"]["documents"]
    before = model_dirs(config)
    job = jobs.submit(config, "lda", "news", {"num_topics": 4, "passes": 1000})
    running = wait_for(config, job["id"], ("running",), until=lambda j: j["done"] > 0)
    assert running["total"] == 1000 * n_docs and running["message"].startswith("LDA pass")
    asked = time.monotonic()
    assert jobs.cancel(config, job["id"])["status"] in ("running", "cancelled")
    job = wait_for(config, job["id"], timeout=30)
    assert job["status"] == "cancelled" and job["model_id"] is None
    assert time.monotonic() - asked < 10
    assert model_dirs(config) == before          # no partial model, no temporary folder
    with pytest.raises(Conflict):
        jobs.cancel(config, job["id"])


@pytest.mark.slow
def test_a_pending_job_is_cancelled_at_once_and_never_runs(config, tmp_path, worker_factory):
    job = upload_news(config, tmp_path, per_group=20)
    assert jobs.cancel(config, job["id"])["status"] == "cancelled"
    worker_factory(config)
    queue = get_queue(config.config)
    deadline = time.monotonic() + 60
    while queue.pending() and time.monotonic() < deadline:     # the worker takes the message ...
        time.sleep(0.1)
    assert queue.pending() == 0
    assert jobs.get(config, job["id"])["status"] == "cancelled"  # ... and skips it
    with config.read() as conn:
        assert db.find_corpus(conn, "news") is None


@pytest.mark.slow
def test_a_killed_worker_leaves_a_failed_job_that_a_retry_finishes(config, tmp_path, worker_factory):
    first = worker_factory(config)
    wait_for(config, upload_news(config, tmp_path)["id"])
    old = jobs.submit(config, "lda", "news", {"num_topics": 4, "passes": 2})
    old_model = wait_for(config, old["id"])["model_id"]
    job = jobs.submit(config, "lda", "news", {"num_topics": 4, "passes": 30})
    wait_for(config, job["id"], ("running",), until=lambda j: j["done"] > 0)
    assert any(d.startswith(f".tmp-job{job['id']}-") for d in model_dirs(config))
    first.kill()
    failed = jobs.get(config, job["id"])           # a reader sees the dead process at once
    assert failed["status"] == "failed" and "stopped while running" in failed["error"]
    # the previous model still serves
    from textlatent.explore.topics import topics_of
    assert len(topics_of(config, registry.get_model(config, old_model)[1], 5)) == 4
    retried = jobs.retry(config, job["id"])        # a write reaps: the row says failed, the folder is gone
    assert jobs.get_row(config, job["id"])["status"] == "failed"
    assert not any(d.startswith(".tmp") for d in model_dirs(config))
    assert retried["id"] != job["id"] and retried["params"]["passes"] == 30
    worker_factory(config)
    retried = wait_for(config, retried["id"])
    assert retried["status"] == "finished" and retried["model_id"] not in (None, old_model)


@pytest.mark.slow
def test_worker_start_marks_jobs_of_dead_workers_failed(config, tmp_path, worker_factory):
    engine = config
    with engine.write() as conn:
        job_id = db.insert_job(conn, "lda", "news", {})
        # a worker on this host whose process is gone (pid 1 is alive; take a dead one)
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        db.update_job(conn, job_id, status="running", worker=f"{os.uname().nodename}:{dead.pid}",
                         started=schema.now(), heartbeat=schema.now())
    w = worker_factory(config)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with engine.read() as conn:
            row = db.get_job(conn, job_id)
        if row["status"] == "failed":
            break
        time.sleep(0.2)
    assert row["status"] == "failed" and "stopped while running" in row["error"]
    assert w.proc.poll() is None


@pytest.mark.slow
def test_a_job_over_the_time_limit_fails_with_the_reason(tmp_path, worker_factory):
    from textlatent.ingest import ReadOptions, ingest
    config = Store(load_settings(home=str(tmp_path / "home"), workers=2, job_timeout=3))
    ingest(config, "news", [str(write_news(tmp_path / "news.jsonl", per_group=100))], ReadOptions())
    worker_factory(config)
    job = jobs.submit(config, "lda", "news", {"num_topics": 4, "passes": 1000})
    job = wait_for(config, job["id"], timeout=60)
    assert job["status"] == "failed" and "job_timeout of 3 s" in job["error"]


def test_bad_jobs_are_refused_before_they_are_queued(config, tmp_path):
    with pytest.raises(InvalidInput, match="kind"):
        jobs.submit(config, "bogus", "news", {})
    from textlatent.errors import CorpusNotFound
    with pytest.raises(CorpusNotFound):
        jobs.submit(config, "lda", "no-such-corpus", {})
    with pytest.raises(JobNotFound):
        jobs.get(config, "..%2f..")
    with pytest.raises(JobNotFound):
        jobs.get(config, 999)


@pytest.mark.skipif(not REDIS_URL, reason="set TEXTLATENT_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15) "
                                          "to run the Redis queue test")
@pytest.mark.slow
def test_jobs_run_through_a_redis_queue(tmp_path, worker_factory):
    import redis
    redis.Redis.from_url(REDIS_URL).flushdb()
    config = Store(load_settings(home=str(tmp_path / "home"), workers=2, queue_url=REDIS_URL))
    job = upload_news(config, tmp_path, per_group=50)
    assert not os.path.exists(os.path.join(config.home, "queue.db"))
    assert redis.Redis.from_url(REDIS_URL).dbsize() > 0                # the message is in Redis
    worker_factory(config)
    assert wait_for(config, job["id"])["status"] == "finished"
    lda = wait_for(config, jobs.submit(config, "lda", "news", {"num_topics": 2, "passes": 2})["id"])
    assert lda["status"] == "finished" and lda["model_id"]


@pytest.mark.slow
def test_workers_started_together_on_a_new_data_directory_all_run(config, worker_factory):
    """Each new connection to the SQLite queue sets its journal mode, which SQLite refuses at
    once ("database is locked") while another process is switching the new file to WAL: two
    workers started together lost one that way. All of them must start, beat and take jobs."""
    started = [worker_factory(config) for _ in range(4)]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with config.read() as conn:
            beats = db.worker_beats(conn)
        if len(beats) == len(started) or any(w.proc.poll() is not None for w in started):
            break
        time.sleep(0.2)
    assert [w.proc.poll() for w in started] == [None] * len(started), [
        open(os.path.join(config.home, "worker.log"), errors="replace").read()[-3000:]]
    assert len(beats) == len(started)


def test_a_queue_connection_waits_while_another_process_locks_the_new_file(tmp_path, monkeypatch):
    """SQLite refuses a journal-mode change at once, busy timeout or not, while another
    process is setting up the file: the connection is tried again until the timeout."""
    import sqlite3

    from huey.storage import SqliteStorage

    from textlatent.jobs.queue import _sqlite_storage
    real, refusals = SqliteStorage._create_connection, []

    def locked_at_first(self):
        if len(refusals) < 3:
            refusals.append(1)
            raise sqlite3.OperationalError("database is locked")
        return real(self)
    monkeypatch.setattr(SqliteStorage, "_create_connection", locked_at_first)
    storage = _sqlite_storage()("t", filename=str(tmp_path / "q.db"), timeout=5)
    storage.enqueue(b"job")
    assert len(refusals) == 3 and storage.dequeue() == b"job"

    def broken(self):
        raise sqlite3.OperationalError("disk I/O error")
    monkeypatch.setattr(SqliteStorage, "_create_connection", broken)
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        _sqlite_storage()("t", filename=str(tmp_path / "other.db"), timeout=5)


def test_a_job_process_forked_while_a_thread_uses_the_queue_can_queue(config):
    """A job's process is forked from the worker while the consumer's threads use the
    SQLite queue. Forked inside one of their transactions, it inherited SQLite's record of
    the lock, and its first message (an ingest queueing a shard) waited 30 s, then failed.
    The fork now waits for the queue's transaction to end, and the child makes its own."""
    import threading

    from textlatent.jobs.queue import forget_queues
    queue = get_queue(config.config)
    queue.pending()                                   # the queue file and its tables exist
    inside, release = threading.Event(), threading.Event()

    def hold():
        with queue.huey.storage.db(commit=True) as cursor:   # as huey's scheduler thread does
            cursor.execute("SELECT count(*) FROM task")
            inside.set()
            release.wait(5)
    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(5)
    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    pid = schema.quiet_fork(wait=10)
    if pid == 0:                                      # the child: queue a message, or say why not
        code = 1
        try:
            forget_queues()
            get_queue(config.config).huey.storage.enqueue(b"probe", 0)
            code = 0
        finally:
            os._exit(code)
    forked_after = time.monotonic() - started
    holder.join()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert forked_after >= 0.4                        # it waited for the transaction
    assert queue.pending() == 1
