"""Faults that must lose nothing, and load: real worker and server processes that the
tests start (and alone kill) on 127.0.0.1."""

import concurrent.futures as cf
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
from sqlalchemy import text

from textlatent import jobs
from textlatent.explore.topics import topics_of
from textlatent.ingest import ReadOptions, ingest
from textlatent.models import train_lda
from textlatent.store import queries as db
from textlatent.store import registry

from .conftest import model_dirs, wait_for, write_news

pytestmark = pytest.mark.slow     # every test here starts processes


def integrity_ok(config):
    with config.engine.connect() as conn:
        return conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"


def corpus_row(config, name):
    with config.read() as conn:
        return db.find_corpus(conn, name)


def test_kill_9_mid_ingest_leaves_no_partial_corpus(config, tmp_path, worker_factory):
    path = write_news(tmp_path / "news.jsonl", per_group=600, groups=(
        "rec.sport.hockey", "sci.space", "comp.graphics", "talk.politics.guns", "sci.med", "rec.autos"))
    with open(path, "rb") as fh:
        job = jobs.submit_upload(config, "news", [("news.jsonl", fh)], {"label_field": "label"})
    w = worker_factory(config)
    wait_for(config, job["id"], ("running",), until=lambda j: j["done"] > 0, timeout=60)
    w.kill()
    failed = jobs.get(config, job["id"])
    assert failed["status"] == "failed" and "stopped while running" in failed["error"]
    assert corpus_row(config, "news") is None                 # nothing of it shows
    with config.read() as conn:
        # rows of a batch written before the kill stay hidden until the next ingest drops them
        assert conn.execute(text("SELECT count(*) FROM tl_corpora WHERE version > 0")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM tl_terms")).scalar() == 0
    assert integrity_ok(config)
    retried = jobs.retry(config, job["id"])                   # the uploaded file was kept for this
    worker_factory(config)
    done = wait_for(config, retried["id"])
    assert done["status"] == "finished", (done["status"], done["error"], done["message"])
    n_docs = corpus_row(config, "news")["n_docs"]
    assert n_docs > 3000
    with config.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM tl_documents")).scalar() == n_docs
    assert not os.path.exists(config.path(job["params"]["upload_dir"]))


@pytest.fixture
def news_with_model(config, tmp_path):
    ingest(config, "news", [str(write_news(tmp_path / "news.jsonl", per_group=100))],
           ReadOptions(label_field="label"))
    return train_lda(config, "news", {"num_topics": 4, "passes": 2})


def limited_worker(config, headroom):
    """A worker whose files may not grow past the database's size plus ``headroom``
    (``prlimit --fsize``): the database still takes small writes, big files fail."""
    with config.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    limit = os.path.getsize(os.path.join(config.home, "textlatent.db")) + headroom
    env = dict(os.environ, TEXTLATENT_HOME=config.home)
    env.pop("TEXTLATENT_QUEUE_URL", None)
    env.pop("TEXTLATENT_DATABASE_URL", None)
    return subprocess.Popen(["prlimit", f"--fsize={limit}", sys.executable, "-m", "textlatent.cli", "worker"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def run_with_limited_worker(config, job, headroom):
    proc = limited_worker(config, headroom)
    try:
        return wait_for(config, job["id"], timeout=120)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_disk_full_during_training_fails_with_no_space_and_keeps_the_old_model(config, news_with_model):
    before = model_dirs(config)
    job = jobs.submit(config, "lda", "news", {"num_topics": 200, "passes": 1, "no_below": 1})
    # 200 topics x 10,000 terms: its arrays are 8 MB each, past the limit.
    job = run_with_limited_worker(config, job, 1024 * 1024)
    assert job["status"] == "failed" and "no space" in job["error"], job["error"]
    assert model_dirs(config) == before                       # no partial model, no temporary folder
    _, old = registry.get_model(config, news_with_model)
    assert len(topics_of(config, old, 5)) == 4                # the previous model still loads
    assert integrity_ok(config)


def test_disk_full_during_ingest_keeps_the_corpus_as_it_was(config, tmp_path, news_with_model):
    before = corpus_row(config, "news")
    more = write_news(tmp_path / "more.jsonl", per_group=300, groups=("sci.med", "rec.autos"))
    with open(more, "rb") as fh:
        job = jobs.submit_upload(config, "news", [("more.jsonl", fh)], {"label_field": "label"})
    job = run_with_limited_worker(config, job, 256 * 1024)
    assert job["status"] == "failed" and "no space" in job["error"], job["error"]
    after = corpus_row(config, "news")
    assert (after["n_docs"], after["n_tokens"], after["updated"]) == (
        before["n_docs"], before["n_tokens"], before["updated"])
    assert integrity_ok(config)


# -- load ---------------------------------------------------------------------------------------

def _post_upload(base, name, content, filename=None, **fields):
    boundary = "x" + os.urandom(8).hex()
    parts = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                    for k, v in {"name": name, **fields}.items())
    body = (parts + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename or name + ".txt"}"\r\n\r\n').encode() + content + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(base + "/api/v1/corpora", data=body, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.status, json.loads(r.read())


def _get(base, path):
    with urllib.request.urlopen(base + path, timeout=120) as r:
        return r.status, json.loads(r.read())


def _post_json(base, path, data):
    req = urllib.request.Request(base + path, data=json.dumps(data).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.status, json.loads(r.read())


def _wait_http(base, job_id, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, job = _get(base, f"/api/v1/jobs/{job_id}")
        if job["status"] in jobs.ENDED:
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not end: {job}")


def test_load_uploads_searches_during_training_and_queued_jobs(server, tmp_path):
    sample = os.path.join(os.path.dirname(__file__), "..", "corpora", "sample", "inaugural")
    texts = [open(os.path.join(sample, f), "rb").read() for f in sorted(os.listdir(sample))[:24]]
    # 24 concurrent uploads: all accepted, all ingested (no "database is locked").
    with cf.ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(lambda i: _post_upload(server, f"speech{i}", texts[i]), range(24)))
    assert [s for s, _ in answers] == [202] * 24
    ended = [_wait_http(server, job["id"]) for _, job in answers]
    assert [j["status"] for j in ended] == ["finished"] * 24, [j["error"] for j in ended if j["error"]]

    # A corpus to search and to train on: 20 Newsgroups posts through the upload too.
    data = write_news(tmp_path / "news.jsonl", per_group=150).read_bytes()
    _, job = _post_upload(server, "news", data, "news.jsonl", label_field="label")
    assert _wait_http(server, job["id"])["status"] == "finished"
    _, w2v = _post_json(server, "/api/v1/corpora/news/models", {"kind": "word2vec", "params": {"epochs": 3,
                                                                                              "min_count": 2}})
    assert _wait_http(server, w2v["id"])["status"] == "finished"

    # Training jobs queued at once (more than the worker runs together): all end, none stuck.
    queued = [_post_json(server, "/api/v1/corpora/news/models",
                         {"kind": "lda", "params": {"num_topics": 4, "passes": 3, "seed": s}})[1] for s in range(4)]
    # 32 concurrent similar-word searches while those train.
    words = ["hockey", "space", "gun", "image", "team", "orbit", "law", "graphic"]
    time.sleep(1.0)

    def search(i):
        t = time.perf_counter()
        status, body = _get(server, f"/api/v1/corpora/news/similar?word={words[i % len(words)]}&topn=10")
        return status, time.perf_counter() - t, len(body["results"])
    with cf.ThreadPoolExecutor(32) as pool:
        results = list(pool.map(search, range(192)))
    assert all(status == 200 and n == 10 for status, _, n in results)
    p95 = float(np.percentile([t for _, t, _ in results], 95))
    print(f"similar under load (32 clients, during training): p95 {p95 * 1000:.1f} ms")
    running = [_get(server, f"/api/v1/jobs/{j['id']}")[1]["status"] for j in queued]
    assert "running" in running or "pending" in running        # the searches did overlap training
    ended = [_wait_http(server, j["id"], timeout=600) for j in queued]
    assert {j["status"] for j in ended} <= {"finished", "failed"} and all(
        j["status"] == "finished" for j in ended), [j["error"] for j in ended]
