"""Fixtures: temporary data directories, real text from ../shared/corpora, trained models.

Each test that writes gets its own data directory under ``tmp_path``; the expensive
things (a tokenized corpus with trained LDA and Word2Vec models) are built once per
session and only read by the tests that use them.
"""

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from textlatent import jobs
from textlatent.settings import load_settings
from textlatent.store import Store, dispose_engines

ROOT = Path(__file__).resolve().parents[1]


def _shared_corpora():
    """``TEXTLATENT_SHARED_CORPORA``, else ../shared/corpora beside this checkout, else beside
    the checkout it was cloned from (a clone in a temporary folder has nothing beside it)."""
    if os.environ.get("TEXTLATENT_SHARED_CORPORA"):
        return Path(os.environ["TEXTLATENT_SHARED_CORPORA"])
    here = ROOT.parent / "shared" / "corpora"
    try:
        origin = subprocess.run(["git", "-C", str(ROOT), "config", "--get", "remote.origin.url"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        origin = ""
    if not here.exists() and origin and os.path.isdir(origin):
        beside_origin = Path(origin).resolve().parent / "shared" / "corpora"
        if beside_origin.exists():
            return beside_origin
    return here


SHARED = _shared_corpora()
SAMPLE = ROOT / "corpora" / "sample"


def shared(*parts):
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs the shared corpora at {SHARED} (set TEXTLATENT_SHARED_CORPORA)")
    return path


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    # Never touch a real user's data directory, whatever the test forgets to pass.
    monkeypatch.setenv("TEXTLATENT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TEXTLATENT_DATABASE_URL", raising=False)
    monkeypatch.delenv("TEXTLATENT_QUEUE_URL", raising=False)
    # Maps after each training by PCA: a second, not UMAP's compile and epochs (the map
    # tests choose their methods themselves).
    monkeypatch.setenv("TEXTLATENT_MAP_METHOD", "pca")

    monkeypatch.delenv("TEXTLATENT_STORAGE_URL", raising=False)


@pytest.fixture
def config(tmp_path):
    return Store(load_settings(home=str(tmp_path / "home"), workers=2))


@pytest.fixture
def news_jsonl(tmp_path):
    """The first 300 posts of each of four 20 Newsgroups groups, as JSONL (real text)."""
    return write_news(tmp_path / "news.jsonl", per_group=300)


NEWS_GROUPS = ("rec.sport.hockey", "sci.space", "comp.graphics", "talk.politics.guns")


def write_news(path, per_group=300, groups=NEWS_GROUPS):
    src = shared("20newsgroups", "20news-bydate.jsonl")
    counts = dict.fromkeys(groups, 0)
    with open(src, encoding="utf-8") as fh, open(path, "w", encoding="utf-8") as out:
        for line in fh:
            row = json.loads(line)
            if row["label"] in counts and counts[row["label"]] < per_group:
                counts[row["label"]] += 1
                out.write(json.dumps(row) + "\n")
            if all(c >= per_group for c in counts.values()):
                break
    return path


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """A 20 Newsgroups subset (4 groups x 300 posts) with an LDA and a Word2Vec model."""
    from textlatent.ingest import ReadOptions, ingest
    from textlatent.models import train_lda, train_word2vec

    tmp = tmp_path_factory.mktemp("trained")
    config = Store(load_settings(home=str(tmp / "home"), workers=2, map_method="pca"))
    path = write_news(tmp / "news.jsonl", per_group=300)
    summary = ingest(config, "news", [str(path)], ReadOptions(label_field="label"))
    lda = train_lda(config, "news", {"num_topics": 4, "passes": 10, "workers": 1, "seed": 3})
    w2v = train_word2vec(config, "news", {"epochs": 10, "min_count": 3, "workers": 1})
    return {"config": config, "summary": summary, "lda": lda, "w2v": w2v, "path": path}


@pytest.fixture(scope="module")
def trained_copy(trained, tmp_path_factory):
    """A copy of ``trained`` that a test module may add models to (the shared one's newest
    models are what other modules read)."""
    import shutil
    import sqlite3
    home = tmp_path_factory.mktemp("trained-copy") / "home"
    shutil.copytree(os.path.join(trained["config"].home, "models"), home / "models")
    with sqlite3.connect(os.path.join(trained["config"].home, "textlatent.db")) as src, \
            sqlite3.connect(home / "textlatent.db") as dst:
        src.backup(dst)
    store = Store(load_settings(home=str(home), workers=2, map_method="pca"))
    return {**trained, "config": store}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """`textlatent serve` with its job worker, on a free port of 127.0.0.1, over a fresh
    data directory (tmp_path/home); stopped at the end. Yields the base URL."""
    home = tmp_path / "home"
    port = _free_port()
    env = dict(os.environ, TEXTLATENT_HOME=str(home), TEXTLATENT_WORKERS="2")
    env.pop("TEXTLATENT_DATABASE_URL", None)
    env.pop("TEXTLATENT_QUEUE_URL", None)
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "textlatent.cli", "serve", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/api/v1/corpora", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                log.close()
                pytest.fail("textlatent serve did not start:\n" + (tmp_path / "serve.log").read_text())
            time.sleep(0.2)
    yield base
    proc.terminate()          # serve stops its worker on SIGTERM
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
    log.close()


@pytest.fixture(scope="session")
def object_store(tmp_path_factory):
    """A real S3-compatible server, moto's standalone server in a process of its own on
    127.0.0.1, for the session; yields its endpoint URL."""
    pytest.importorskip("moto.server", reason="needs moto[server] (pip install '.[test]')")
    pytest.importorskip("s3fs", reason="needs s3fs (pip install '.[test]')")
    port = _free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(endpoint, timeout=2)
            break
        except urllib.error.HTTPError:
            break                       # it answers
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("moto_server did not start")
            time.sleep(0.2)
    yield endpoint
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


@pytest.fixture
def storage_url(object_store, monkeypatch):
    """A fresh bucket on the test's object store, as a TEXTLATENT_STORAGE_URL (the AWS_*
    variables hold the test credentials, for this process and the ones it starts)."""
    import uuid

    import s3fs
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    bucket = "textlatent-" + uuid.uuid4().hex[:12]
    s3fs.S3FileSystem(endpoint_url=object_store).mkdir(bucket)
    return f"s3://{bucket}/data?endpoint_url={object_store}"


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory):
    """Where tests keep what a person may want to look at (screenshots):
    $TEXTLATENT_TEST_ARTIFACTS, or a folder of the session's temporary directory."""
    path = Path(os.environ.get("TEXTLATENT_TEST_ARTIFACTS") or tmp_path_factory.mktemp("artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def take(iterable, n):
    return list(itertools.islice(iterable, n))


class Worker:
    """A `textlatent worker` process of the test's own, stopped at the end."""

    def __init__(self, config):
        env = dict(os.environ, TEXTLATENT_HOME=config.home, TEXTLATENT_DATABASE_URL=config.database_url,
                   TEXTLATENT_WORKERS=str(config.workers), TEXTLATENT_JOB_TIMEOUT=str(config.job_timeout))
        for name in ("queue_url", "storage_url"):
            env.pop("TEXTLATENT_" + name.upper(), None)
            if getattr(config, name):
                env["TEXTLATENT_" + name.upper()] = getattr(config, name)
        os.makedirs(config.home, exist_ok=True)
        self.log = open(os.path.join(config.home, "worker.log"), "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "textlatent.cli", "worker"], env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self):
        """SIGKILL the worker and everything it started (its training processes)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc.poll() is None:
            self.kill()
        self.log.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test, for fixtures that say more when it failed.
    outcome = yield
    report = outcome.get_result()
    setattr(item, "report_" + report.when, report)


@pytest.fixture
def worker_factory(request):
    started = []

    def start(config):
        w = Worker(config)
        started.append(w)
        return w
    yield start
    for w in started:
        w.stop()
    call = getattr(request.node, "report_call", None)
    if call is not None and call.failed:
        # A job that failed in a worker says why in the worker's log, which the test
        # process does not see; CI keeps nothing else of it.
        for w in started:
            with open(w.log.name, "rb") as fh:
                tail = fh.read()[-6000:].decode("utf-8", "replace")
            print(f"--- the last of {w.log.name} ---\n{tail}", file=sys.stderr)


def wait_for(config, job_id, states=jobs.ENDED, timeout=180, until=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = jobs.get(config, job_id)
        if job["status"] in states and (until is None or until(job)):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job['status']} ({job['message']}) after {timeout} s")


def upload_news(config, tmp_path, per_group=100, name="news"):
    path = write_news(tmp_path / "news.jsonl", per_group=per_group)
    with open(path, "rb") as fh:
        return jobs.submit_upload(config, name, [("news.jsonl", fh)], {"label_field": "label"})


def model_dirs(config):
    return sorted(os.listdir(config.models_dir)) if os.path.isdir(config.models_dir) else []



@pytest.fixture(scope="session", autouse=True)
def _dispose_engines():
    yield
    dispose_engines()


@pytest.fixture(scope="session")
def speeches(tmp_path_factory):
    """The bundled sample (inaugural and State of the Union addresses: two labels, a year
    each from the file names), 124 documents, with a 4-topic LDA model."""
    from textlatent.ingest import ingest
    from textlatent.models import train_lda

    tmp = tmp_path_factory.mktemp("speeches")
    config = Store(load_settings(home=str(tmp / "home"), workers=2))
    summary = ingest(config, "speeches", [str(SAMPLE)])
    lda = train_lda(config, "speeches", {"num_topics": 4, "passes": 3, "workers": 1, "seed": 2})
    return {"config": config, "summary": summary, "lda": lda}
