"""Uploads and model files through the storage interface: the data directory, and a real
S3-compatible server (moto's, in its own process on 127.0.0.1) shared by two data
directories that stand for two hosts."""

import io
import json
import os

import pytest

from textlatent import jobs
from textlatent.errors import InvalidInput, StorageError
from textlatent.explore.topics import topics_of
from textlatent.explore.words import similar
from textlatent.export import export
from textlatent.ingest import delete_corpus
from textlatent.models import train_lda, train_word2vec
from textlatent.settings import load_settings
from textlatent.store import Store, files, registry
from web import create_app

from .conftest import upload_news


@pytest.mark.slow
def test_an_upload_job_names_storage_keys_and_no_host_path(config, tmp_path):
    job = upload_news(config, tmp_path, per_group=20)
    params = jobs.get_row(config, job["id"])["params"]
    assert params["files"] and all(f.startswith("uploads/") and not os.path.isabs(f) for f in params["files"])
    assert config.home not in json.dumps(params) and str(tmp_path) not in json.dumps(params)
    assert all(os.path.isfile(config.path(f)) for f in params["files"])
    jobs.run_job(config, job["id"])
    done = jobs.get(config, job["id"])
    assert done["status"] == "finished", done["error"]
    assert done["result"]["added"] > 50
    assert not os.path.exists(config.path(params["upload_dir"]))


def test_keys_stay_inside_the_storage(config):
    for bad in ("/etc/passwd", "../secret", "models/../../x", "", "c:/x"):
        with pytest.raises(InvalidInput):
            config.files.path(bad)


def test_a_model_folder_carries_its_checksums(trained):
    store = trained["config"]
    _, model = registry.get_model(store, trained["lda"])
    folder = registry.model_path(store, model)
    manifest = json.load(open(os.path.join(folder, files.MANIFEST)))
    assert {"lambda.npy", "doc_topics.npy", "ldavis.json", "vocab.json"} <= set(manifest["files"])
    assert files.check_folder(folder, manifest) == []
    assert model["path"].startswith("models/") and not os.path.isabs(model["path"])


def _host(tmp_path, name, storage_url):
    return Store(load_settings(home=str(tmp_path / name), storage_url=storage_url, workers=1,
                               database_url=f"sqlite:///{tmp_path / 'shared.db'}"))


@pytest.mark.slow
def test_a_folder_every_host_mounts_serves_as_shared_storage(tmp_path):
    url = (tmp_path / "mounted").as_uri()
    a, b = _host(tmp_path, "a", url), _host(tmp_path, "b", url)
    job = upload_news(a, tmp_path, per_group=15)
    jobs.run_job(b, job["id"])
    assert jobs.get(a, job["id"])["status"] == "finished"
    lda = train_lda(b, "news", {"num_topics": 2, "passes": 1, "workers": 1, "init": "random"})
    _, model = registry.get_model(a, lda)
    assert (tmp_path / "mounted" / model["path"] / files.MANIFEST).exists()
    assert len(topics_of(a, model, 3)) == 2
    assert files.check_folder(a.path("cache", model["path"]), json.load(
        open(tmp_path / "mounted" / model["path"] / files.MANIFEST))) == []


@pytest.mark.slow
def test_uploads_and_models_live_in_the_object_store(storage_url, tmp_path):
    a, b = _host(tmp_path, "a", storage_url), _host(tmp_path, "b", storage_url)
    assert a.files.shared and b.files.shared
    job = upload_news(a, tmp_path, per_group=60)
    params = job["params"]
    assert all(a.files.exists(f) for f in params["files"])
    assert not os.path.isdir(a.path("uploads")) or os.listdir(a.path("uploads")) == []   # nothing kept on A
    jobs.run_job(b, job["id"])                          # B reads the upload from the store
    done = jobs.get(a, job["id"])
    assert done["status"] == "finished", done["error"]
    assert not any(a.files.exists(f) for f in params["files"])

    lda = train_lda(b, "news", {"num_topics": 4, "passes": 2, "workers": 1})
    w2v = train_word2vec(b, "news", {"epochs": 2, "min_count": 2, "workers": 1})
    _, model = registry.get_model(a, lda)
    assert a.files.exists(f"{model['path']}/{files.MANIFEST}")
    assert not os.path.exists(a.path("cache", model["path"]))        # A has not read it yet

    client = create_app(a).test_client(use_cookies=False)
    for url in ("/", "/corpora/news", f"/models/{lda}/topics", f"/api/v1/models/{lda}/ldavis.json",
                f"/api/v1/models/{lda}/topics/0/documents", "/api/v1/corpora/news/similar?word=game",
                f"/api/v1/models/{lda}/doc-topics?format=parquet", f"/api/v1/models/{w2v}/vectors"):
        with client.get(url) as r:               # streamed downloads close with the response
            assert r.status_code == 200 and r.data, (url, r.data[:300])
    cached = a.path("cache", model["path"])
    manifest = json.load(open(os.path.join(cached, files.MANIFEST)))
    assert files.check_folder(cached, manifest) == []
    export(a, "news", "topic-terms", "csv", str(tmp_path / "tt.csv"))
    assert len((tmp_path / "tt.csv").read_text().splitlines()) == 1 + 4 * 30

    # A damaged copy in a host's cache is found by its checksum and fetched again.
    with open(os.path.join(cached, "topic_terms.npy"), "r+b") as fh:
        fh.seek(200)
        fh.write(b"\xff" * 16)
    again = _host(tmp_path, "a", storage_url)          # a new process on host A
    assert len(topics_of(again, registry.get_model(again, lda)[1], 5)) == 4
    assert files.check_folder(cached, manifest) == []

    # A damaged object in the store is refused, never served.
    damaged = registry.get_model(a, w2v)[1]["path"]
    a.files.fs.pipe(a.files.remote(f"{damaged}/unit.npy"), b"not the vectors")
    fresh = _host(tmp_path, "c", storage_url)
    with pytest.raises(StorageError, match="checksum"):
        similar(fresh, "news", "game")
    r = create_app(fresh).test_client().get("/api/v1/corpora/news/similar?word=game")
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "storage_unavailable"

    delete_corpus(a, "news")
    assert not a.files.exists(model["path"]) and not os.path.exists(cached)


@pytest.mark.slow
def test_an_object_store_that_does_not_answer_is_a_503_and_stores_nothing(tmp_path, monkeypatch):
    pytest.importorskip("s3fs")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    store = _host(tmp_path, "a", "s3://nowhere/data?endpoint_url=http://127.0.0.1:1")   # nothing listens there
    client = create_app(store).test_client()
    r = client.post("/api/v1/corpora", data={"name": "c", "file": (io.BytesIO(b"some words of text"), "a.txt")},
                    content_type="multipart/form-data")
    error = r.get_json()["error"]
    assert r.status_code == 503 and error["code"] == "storage_unavailable" and "connect" in error["message"]
    assert client.get("/api/v1/jobs").get_json() == []
    assert os.listdir(store.path("uploads")) == []


def test_a_failed_job_names_no_path_of_its_worker(config, tmp_path):
    job = upload_news(config, tmp_path, per_group=5)
    staged = jobs.get_row(config, job["id"])["params"]["files"][0]
    os.remove(config.path(staged))                    # gone before a worker took the job
    jobs.run_job(config, job["id"])
    failed = jobs.get(config, job["id"])
    assert failed["status"] == "failed" and config.home not in failed["error"]
    assert failed["error"].startswith(staged), failed["error"]
