"""Two hosts that share only PostgreSQL, Redis and an object store: `textlatent serve
--no-worker` with data directory A, `textlatent worker` with data directory B, each in a
mount namespace of its own where the other's directory is hidden under an empty tmpfs.
Upload on A, ingest and training on B, and every page, export and `similar` answered on A."""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest

from .conftest import _free_port, write_news

DATABASE_URL = os.environ.get("TEXTLATENT_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("TEXTLATENT_TEST_REDIS_URL")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (DATABASE_URL and REDIS_URL),
                       reason="set TEXTLATENT_TEST_DATABASE_URL and TEXTLATENT_TEST_REDIS_URL (.ci/run does) "
                              "to run the multi-host test"),
]


def _can_unshare():
    if not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode == 0


def _hidden(hide, argv):
    """``argv`` in a new mount namespace where the folder ``hide`` is an empty tmpfs."""
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            'mount -t tmpfs -o size=1m hidden "$0" && exec "$@"', str(hide), *argv]


@pytest.fixture
def pg_url():
    from sqlalchemy import create_engine, text
    schema = "tl_hosts_" + uuid.uuid4().hex[:10]
    admin = create_engine(DATABASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield f"{DATABASE_URL}{'&' if '?' in DATABASE_URL else '?'}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


class Hosts:
    def __init__(self, tmp_path, env):
        self.tmp, self.env, self.procs, self.logs = tmp_path, env, [], []

    def start(self, name, home, hide, args):
        log = open(self.tmp / f"{name}.log", "wb")
        env = dict(self.env, TEXTLATENT_HOME=str(home))
        proc = subprocess.Popen(_hidden(hide, [sys.executable, "-m", "textlatent.cli", *args]), env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        self.logs.append(log)
        return proc

    def log(self, name):
        return (self.tmp / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
        for log in self.logs:
            log.close()


def _get(base, path):
    with urllib.request.urlopen(base + path, timeout=120) as r:
        return r.status, r.read()


def _json(base, path, data=None):
    req = urllib.request.Request(base + path, data=json.dumps(data).encode() if data is not None else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


def _upload(base, path, fields):
    boundary = uuid.uuid4().hex
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                    for k, v in fields.items())
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
             "Content-Type: application/octet-stream\r\n\r\n").encode() + path.read_bytes()
    body += f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(base + "/api/v1/corpora", data=body,
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


def _wait(base, job, hosts, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = _json(base, job["url"])
        if job["status"] in ("finished", "failed", "cancelled"):
            assert job["status"] == "finished", (job, hosts.log("worker"))
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job['id']} still {job['status']}: {job['progress']}\n{hosts.log('worker')}")


def test_serve_and_worker_on_two_hosts_share_only_the_database_queue_and_object_store(
        tmp_path, pg_url, storage_url):
    if not _can_unshare():
        pytest.skip("needs unshare --mount (root, or user namespaces) to hide each host's data directory")
    import redis
    redis.Redis.from_url(REDIS_URL).flushdb()
    a, b = tmp_path / "host-a", tmp_path / "host-b"
    a.mkdir()
    b.mkdir()
    (b / "only-on-b").write_text("B's own file")
    probe = subprocess.run(_hidden(b, ["ls", "-A", str(b)]), capture_output=True, text=True)
    assert probe.returncode == 0 and probe.stdout.strip() == ""         # A cannot see B's folder

    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTLATENT_")}
    env.update(TEXTLATENT_DATABASE_URL=pg_url, TEXTLATENT_QUEUE_URL=REDIS_URL, TEXTLATENT_STORAGE_URL=storage_url,
               TEXTLATENT_WORKERS="2", OPENBLAS_NUM_THREADS="1")
    hosts = Hosts(tmp_path, env)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        hosts.start("serve", a, b, ["serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)])
        hosts.start("worker", b, a, ["worker"])
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(base, "/api/v1/corpora")
                break
            except OSError:
                assert time.monotonic() < deadline, hosts.log("serve")
                time.sleep(0.3)

        job = _wait(base, _upload(base, write_news(tmp_path / "news.jsonl", per_group=100),
                                  {"name": "news", "label_field": "label"}), hosts)
        assert job["result"]["added"] > 300
        lda = _wait(base, _json(base, "/api/v1/corpora/news/models",
                                {"kind": "lda", "params": {"num_topics": 4, "passes": 2}}), hosts)["model_id"]
        w2v = _wait(base, _json(base, "/api/v1/corpora/news/models",
                                {"kind": "word2vec", "params": {"epochs": 2, "min_count": 2}}), hosts)["model_id"]

        pages = ["/", "/api/v1/corpora", "/corpora/news", "/api/v1/corpora/news", "/corpora/news/words",
                 "/corpora/news/documents/0", "/api/v1/corpora/news/documents/3", f"/api/v1/models/{lda}",
                 f"/models/{lda}/topics", f"/api/v1/models/{lda}/topics", f"/api/v1/models/{lda}/ldavis.json",
                 f"/api/v1/models/{lda}/topics/2/documents", "/api/v1/corpora/news/similar?word=game",
                 "/api/v1/jobs"]
        pages += [f"/api/v1/models/{lda}/doc-topics?format={f}" for f in ("csv", "jsonl", "npy", "parquet")]
        pages += [f"/api/v1/models/{lda}/topic-terms"]
        pages += [f"/api/v1/models/{w2v}/vectors?format={f}" for f in ("word2vec", "word2vec-binary", "projector")]
        for path in pages:
            status, body = _get(base, path)
            assert status == 200 and body, path
        similar = _json(base, "/api/v1/corpora/news/similar?word=game&topn=5")
        assert len(similar["results"]) == 5
        assert len(_json(base, f"/api/v1/models/{lda}/infer", {"text": "the goalie and the playoffs"})["topics"]) == 4
        lines = _get(base, f"/api/v1/models/{lda}/doc-topics?format=csv")[1].decode().splitlines()
        assert len(lines) == 1 + job["result"]["documents"]

        # No row names either host's folders; A fetched the models into its own cache.
        from sqlalchemy import create_engine, text
        engine = create_engine(pg_url)
        with engine.connect() as conn:
            rows = [dict(r) for q in ("SELECT * FROM tl_jobs", "SELECT * FROM tl_models")
                    for r in conn.execute(text(q)).mappings()]
        engine.dispose()
        # Jobs: the ingest, its one shard (tokenized on B, read from the object store), two
        # trainings; then the two models.
        assert sorted(r["kind"] for r in rows if "status" in r) == ["ingest", "lda", "tokenize", "word2vec"]
        assert len(rows) == 6
        for row in rows:
            dumped = json.dumps(row, default=str)
            assert str(tmp_path) not in dumped, dumped
        assert (a / "cache" / "models").is_dir() and not (a / "models").exists()
        assert (b / "only-on-b").exists()
    finally:
        hosts.stop()
