"""Who runs the jobs, and what happens when they die: a job declared dead never commits,
the heartbeat is not starved by a job's work, serve restarts its worker, nothing a
worker started outlives it, cancel stops an ingest at any stage, upload folders no job
names are removed, the CLI does not delete a corpus under a running ingest."""

import functools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from click.testing import CliRunner

from textlatent import jobs
from textlatent.errors import Conflict
from textlatent.ingest import ReadOptions, ingest, uploads
from textlatent.jobs import liveness, runner
from textlatent.models import train_lda
from textlatent.store import queries as db

from .conftest import _free_port, model_dirs, upload_news, wait_for, write_news


def _running_job(store, kind, corpus, owner):
    with store.write() as conn:
        job_id = db.insert_job(conn, kind, corpus, {})
        db.update_job(conn, job_id, status="running", worker=owner, started=db.now(), heartbeat=db.now())
    return job_id


def _declared_dead(store, job_id):
    """A progress callback that, once called, does what the reaper does to a silent job."""
    def progress(done, total, message):
        with store.write() as conn:
            db.update_job(conn, job_id, only_if_status=("running",), status="failed", error="declared dead")
    return progress


@pytest.mark.slow
def test_a_job_declared_dead_never_commits_its_corpus_or_model(config, tmp_path):
    path = write_news(tmp_path / "news.jsonl", per_group=30)
    owner = "this-host:1"
    job_id = _running_job(config, "ingest", "news", owner)
    config.on_commit = functools.partial(runner._finish_owned, job_id=job_id, owner=owner)
    with pytest.raises(runner.JobLost):
        ingest(config, "news", [str(path)], ReadOptions(), workers=1, progress=_declared_dead(config, job_id))
    with config.read() as conn:
        assert db.find_corpus(conn, "news") is None and db.get_job(conn, job_id)["status"] == "failed"

    ok = _running_job(config, "ingest", "news", owner)            # still its worker's: commits
    config.on_commit = functools.partial(runner._finish_owned, job_id=ok, owner=owner)
    summary = ingest(config, "news", [str(path)], ReadOptions(), workers=1)
    with config.read() as conn:                                   # recorded with the commit; the runner
        job = db.get_job(conn, ok)                                # marks it finished when the job ends
        assert job["status"] == "running" and job["result"]["added"] == summary.added > 100

    lda = _running_job(config, "lda", "news", owner)
    config.on_commit = functools.partial(runner._finish_owned, job_id=lda, owner=owner)
    before = model_dirs(config)
    with pytest.raises(runner.JobLost):
        train_lda(config, "news", {"num_topics": 2, "passes": 1, "workers": 1}, _declared_dead(config, lda))
    with config.read() as conn:
        assert db.list_models(conn, db.get_corpus(conn, "news")["id"]) == []
        assert db.get_job(conn, lda)["status"] == "failed"
    assert model_dirs(config) == before


class _NoQueue:
    def run_job(self, job_id):
        pass


@pytest.mark.slow
def test_the_heartbeat_is_not_starved_by_a_job_holding_the_gil(config, tmp_path, monkeypatch):
    """The issue's case: a pattern that holds the GIL for seconds inside the job (here the
    old cubic e-mail pattern, put back for the test) while a job is declared dead after three
    seconds without a heartbeat. The job must finish, never read as failed, and commit."""
    from textlatent.ingest import tokenize
    cubic = re.compile(r"\S+@\S+\.\S+")
    monkeypatch.setattr(tokenize, "preclean", lambda text, settings: cubic.sub(" ", text))
    monkeypatch.setattr(liveness, "STALE_SECONDS", 3)       # beats come every second
    monkeypatch.setattr(liveness, "ALIVE_STALE_SECONDS", 3)
    monkeypatch.setattr(config.config, "job_timeout", 120)     # a hung job fails in minutes, not an hour
    text = "a@" * 1000 + " shuttle orbit launch " * 20                # 5 s and more in one re call
    data = (json.dumps({"text": text}) + "\n").encode()
    import io
    job = jobs.submit_upload(config, "hog", [("hog.jsonl", io.BytesIO(data))], queue=_NoQueue())
    seen = []
    thread = threading.Thread(target=runner.run_job, args=(config, job["id"]))
    thread.start()
    while thread.is_alive():
        runner.reap(config)
        seen.append(jobs.get(config, job["id"])["status"])
        time.sleep(0.1)
    thread.join()
    final = jobs.get(config, job["id"])
    assert final["status"] == "finished" and "failed" not in seen, (final["error"], seen[-5:])
    with config.read() as conn:
        assert db.find_corpus(conn, "hog")["n_docs"] == 1


def test_a_job_process_is_forked_only_while_no_transaction_is_open(config):
    """A thread inside a transaction (SQLite's C library holding its process-wide mutexes)
    keeps the fork waiting until it ends, and a transaction asked for meanwhile waits for
    the fork: the child never starts with a mutex held by a thread it does not have."""
    from textlatent.store import schema
    events, inside, go = [], threading.Event(), threading.Event()

    def hold():
        with config.read() as conn:
            inside.set()
            go.wait(5)
            conn.exec_driver_sql("SELECT 1")
            time.sleep(0.3)
            events.append("transaction ended")

    def late():
        with config.read():
            events.append("late transaction began")
    holder = threading.Thread(target=hold)
    holder.start()
    inside.wait(5)
    go.set()
    threading.Timer(0.1, lambda: threading.Thread(target=late).start()).start()
    pid = schema.quiet_fork()
    if pid == 0:
        os._exit(0)
    events.append("forked")
    os.waitpid(pid, 0)
    holder.join()
    time.sleep(0.3)
    assert events == ["transaction ended", "forked", "late transaction began"]


# -- serve and its worker ------------------------------------------------------------------------

def _children(pid):
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return []
    out = []
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out += [int(p) for p in fh.read().split()]
        except FileNotFoundError:
            pass
    return out


def _descendants(pid):
    found, todo = [], [pid]
    while todo:
        kids = _children(todo.pop())
        found += kids
        todo += kids
    return found


def _alive(pid):
    return liveness.process_alive(pid)


def _wait(condition, timeout=60, what="condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


class Serve:
    """`textlatent serve` of the test's own; its pid and its worker's are known."""

    def __init__(self, tmp_path, host="127.0.0.1", *args):
        self.home, self.port = tmp_path / "home", _free_port()
        env = dict(os.environ, TEXTLATENT_HOME=str(self.home), TEXTLATENT_WORKERS="2")
        env.pop("TEXTLATENT_DATABASE_URL", None)
        env.pop("TEXTLATENT_QUEUE_URL", None)
        self.log_path = tmp_path / "serve.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "textlatent.cli", "serve", "--host", host, "--port",
                                      str(self.port), *args], env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        shown = f"[{host}]" if ":" in host else host
        self.base = f"http://{shown}:{self.port}"
        _wait(self._answers, what="serve to answer:\n" + self.log_path.read_text())

    def _answers(self):
        if self.proc.poll() is not None:
            raise AssertionError("serve ended:\n" + self.log_path.read_text())
        try:
            urllib.request.urlopen(self.base + "/api/v1/corpora", timeout=2)
            return True
        except OSError:
            return False

    def worker(self):
        """The pid of serve's worker once it runs, else None."""
        kids = [p for p in _children(self.proc.pid) if _alive(p)]
        return kids[0] if kids else None

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture
def serve_factory(tmp_path):
    started = []

    def start(*args, **kw):
        s = Serve(tmp_path, *args, **kw)
        started.append(s)
        return s
    yield start
    for s in started:
        s.stop()


def _http(base, path, data=None, method=None, headers=None):
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")


def _upload(store, tmp_path, per_group=50, name="news"):
    return upload_news(store, tmp_path, per_group=per_group, name=name)


@pytest.mark.slow
def test_serve_restarts_a_killed_worker_and_a_job_still_finishes(serve_factory, tmp_path):
    from textlatent.settings import load_settings
    from textlatent.store import Store
    serve = serve_factory()
    _wait(serve.worker, what="serve's worker")
    first = serve.worker()
    os.kill(first, signal.SIGKILL)
    _wait(lambda: serve.worker() not in (None, first), what="a new worker")
    store = Store(load_settings(home=str(serve.home)))
    job = _upload(store, tmp_path)
    assert wait_for(store, job["id"], timeout=120)["status"] == "finished"
    assert "starting another" in serve.log_path.read_text()


@pytest.mark.slow
def test_killing_serve_leaves_no_worker_or_lda_process(serve_factory, tmp_path):
    from textlatent.settings import load_settings
    from textlatent.store import Store
    serve = serve_factory()
    store = Store(load_settings(home=str(serve.home)))
    wait_for(store, _upload(store, tmp_path, per_group=100)["id"], timeout=120)
    job = jobs.submit(store, "lda", "news", {"num_topics": 4, "passes": 1000, "workers": 2})
    wait_for(store, job["id"], ("running",), until=lambda j: j["done"] > 0, timeout=120)
    # The worker, the job's process and two LdaMulticore workers (the pool may start a moment
    # after the first progress, which the k-means start already reports).
    below = []

    def all_started():
        below[:] = _descendants(serve.proc.pid)
        return len(below) >= 4
    _wait(all_started, timeout=60, what="the worker, the job's process and two LdaMulticore workers")
    os.kill(serve.proc.pid, signal.SIGKILL)
    _wait(lambda: not any(_alive(p) for p in below), timeout=30, what=f"the processes {below} to end")


@pytest.mark.slow
def test_serve_on_ipv6_loopback_and_orphan_uploads_cleaned_at_start(serve_factory, tmp_path):
    orphan = tmp_path / "home" / "uploads" / ("0" * 32)
    orphan.mkdir(parents=True)
    (orphan / "a.txt").write_text("half an upload")
    os.utime(orphan, (time.time() - 3600, time.time() - 3600))
    serve = serve_factory("::1", "--no-worker")
    assert _http(serve.base, "/api/v1/corpora") == []
    assert not orphan.exists()
    for host in (f"[::1]:{serve.port}", "[::1]"):
        assert _http(serve.base, "/api/v1/corpora", headers={"Host": host}) == []
    with pytest.raises(urllib.error.HTTPError) as e:
        _http(serve.base, "/", headers={"Host": "evil.com"})
    assert e.value.code == 400


@pytest.mark.slow
def test_cancel_stops_an_ingest_within_seconds_at_any_stage(config, tmp_path, worker_factory):
    """One 60 MB text: the job spends its time reading, decoding and tokenizing it in steps
    that report no progress; a cancel still ends it within the grace period."""
    words = ("shuttle orbit launch nasa rocket engine hockey puck goal team " * 100 + "\n").encode()
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:
        for _ in range(60 * 1024 * 1024 // len(words)):
            fh.write(words)
    with open(big, "rb") as fh:
        job = jobs.submit_upload(config, "big", [("big.txt", fh)])
    worker_factory(config)
    wait_for(config, job["id"], ("running",), timeout=60)
    time.sleep(2)                      # into the read and tokenize steps
    asked = time.monotonic()
    jobs.cancel(config, job["id"])
    job = wait_for(config, job["id"], timeout=60)
    waited = time.monotonic() - asked
    assert job["status"] == "cancelled", job
    assert waited < runner.STOP_GRACE + 2 * runner.HEARTBEAT_SECONDS + 3, waited
    with config.read() as conn:
        assert db.find_corpus(conn, "big") is None


# -- the CLI's delete ----------------------------------------------------------------------------

def test_cli_delete_refuses_while_a_job_is_pending_and_force_cancels_it(config, tmp_path):
    from textlatent.cli import cli
    ingest(config, "news", [str(write_news(tmp_path / "n.jsonl", per_group=10))], ReadOptions(), workers=1)
    job = _upload(config, tmp_path, per_group=10)
    run = CliRunner().invoke
    r = run(cli, ["--home", config.home, "delete", "news", "--yes"])
    assert r.exit_code == 1 and "pending or running" in r.output and "--force" in r.output
    with config.read() as conn:
        assert db.find_corpus(conn, "news") is not None
    r = run(cli, ["--home", config.home, "delete", "news", "--yes", "--force"])
    assert r.exit_code == 0, r.output
    assert jobs.get(config, job["id"])["status"] == "cancelled"
    with config.read() as conn:
        assert db.find_corpus(conn, "news") is None


@pytest.mark.slow
def test_cli_delete_during_a_running_ingest(config, tmp_path, worker_factory):
    from textlatent.cli import cli
    ingest(config, "news", [str(write_news(tmp_path / "n.jsonl", per_group=10))], ReadOptions(), workers=1)
    job = _upload(config, tmp_path, per_group=600)
    worker_factory(config)
    wait_for(config, job["id"], ("running",), timeout=60)
    run = CliRunner().invoke
    r = run(cli, ["--home", config.home, "delete", "news", "--yes"])
    assert r.exit_code == 1 and "pending or running" in r.output
    r = run(cli, ["--home", config.home, "delete", "news", "--yes", "--force"])
    assert r.exit_code == 0, r.output
    assert wait_for(config, job["id"])["status"] == "cancelled"
    time.sleep(2 * runner.HEARTBEAT_SECONDS)
    with config.read() as conn:
        assert db.find_corpus(conn, "news") is None           # the ingest did not bring it back


# -- upload folders and the no-worker notice -----------------------------------------------------

def test_upload_folders_no_job_names_are_removed(config, tmp_path):
    named = config.path(_upload(config, tmp_path, per_group=5)["params"]["upload_dir"])
    root = uploads.uploads_dir(config)
    orphan, young = os.path.join(root, "a" * 32), os.path.join(root, "b" * 32)
    for folder in (orphan, young):
        os.makedirs(folder)
    hour_ago = time.time() - 3600
    for folder in (orphan, named):
        os.utime(folder, (hour_ago, hour_ago))
    assert uploads.clean_orphans(config) == 1
    assert not os.path.exists(orphan) and os.path.exists(young) and os.path.exists(named)


def test_a_pending_job_says_when_no_worker_runs(config, tmp_path):
    job = _upload(config, tmp_path, per_group=5)
    assert jobs.get(config, job["id"])["message"] == runner.NO_WORKER
    with config.write() as conn:
        db.beat_worker(conn, runner.worker_name())              # this process: alive
    assert jobs.get(config, job["id"])["message"] == "waiting for a worker"
    with config.write() as conn:
        db.forget_worker(conn, runner.worker_name())
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        db.beat_worker(conn, f"{runner.socket.gethostname()}:{dead.pid}")
    assert jobs.job_json(jobs.list_jobs(config)[0])["progress"]["message"] == runner.NO_WORKER
    with pytest.raises(Conflict):
        jobs.delete_corpus(config, "news")
