"""The model registry: where model files go, provenance rows, and finding a model.

A model is trained into a temporary folder under the data directory and renamed into
place only when complete, in the same step as its row is committed; nothing is ever
overwritten, so a crash leaves the previous models untouched.
"""

import hashlib
import json
import os
import platform
import shutil
import uuid

from .. import __version__
from . import queries as db

RECENT_SECONDS = 2.0


def versions():
    import gensim
    import numpy
    import spacy
    return {"textlatent": __version__, "gensim": gensim.__version__, "spacy": spacy.__version__,
            "numpy": numpy.__version__, "python": platform.python_version()}


def corpus_fingerprint(conn, corpus):
    """sha256 of the tokenizer settings, phrases and the documents' hashes in order."""
    h = hashlib.sha256()
    h.update(json.dumps(corpus["settings"], sort_keys=True).encode())
    h.update(json.dumps(corpus["phrases"]).encode())
    for content_hash in db.content_hashes_in_order(conn, corpus["id"]):
        h.update(content_hash.encode())
    return h.hexdigest()


def new_workdir(store, prefix=".tmp-"):
    """A fresh temporary folder for a model being trained (removed on failure by the caller;
    a job's folders carry its id, so that what a killed worker left can be found)."""
    tmp = os.path.join(store.models_dir, prefix + uuid.uuid4().hex)
    os.makedirs(tmp)
    return tmp


def commit_model(store, corpus, kind, params, seed, train_seconds, metrics, workdir):
    """Move ``workdir`` into place and record the model with the corpus's fingerprint
    (taken in the same transaction); returns its id."""
    rel = os.path.join("models", uuid.uuid4().hex)
    final = store.path(rel)
    _fsync_dir_files(workdir)
    os.rename(workdir, final)
    try:
        with store.write() as conn:
            db.get_corpus(conn, corpus["name"])   # still there?
            return db.insert_model(
                conn, corpus_id=corpus["id"], kind=kind, params=params, seed=seed,
                fingerprint=corpus_fingerprint(conn, corpus), versions=versions(),
                train_seconds=round(train_seconds, 3), metrics=metrics, path=rel, labels=None)
    except BaseException:
        shutil.rmtree(final, ignore_errors=True)
        raise


def _fsync_dir_files(folder):
    for root, _, names in os.walk(folder):      # stored views keep their arrays in subfolders
        for name in names:
            with open(os.path.join(root, name), "rb") as fh:
                os.fsync(fh.fileno())


def model_path(store, model, *parts):
    return store.path(model["path"], *parts)


def find_model(store, corpus_name, model_id=None, kind=None):
    """``(corpus, model)``: model ``model_id`` of the corpus, or its newest of ``kind``."""
    with store.read() as conn:
        corpus = db.get_corpus(conn, corpus_name)
        model = db.get_model(conn, model_id, corpus_id=corpus["id"], kind=kind)
    return corpus, model


def find_model_recent(store, corpus_name, model_id=None, kind=None):
    """:func:`find_model`, remembered for two seconds: the hot path of similar-word
    queries skips two database round trips (a newly trained model shows within 2 s)."""
    return store.remembered(("model", corpus_name, str(model_id), kind), RECENT_SECONDS,
                            lambda: find_model(store, corpus_name, model_id, kind))


def get_model(store, model_id):
    """``(corpus, model)`` for a model id alone."""
    with store.read() as conn:
        model = db.get_model(conn, model_id)
        # by id: listing the corpora counts every corpus's vocabulary (15 ms on 20 Newsgroups)
        corpus = db.get_corpus_by_id(conn, model["corpus_id"])
    return corpus, model


def list_models(store, corpus_name):
    with store.read() as conn:
        corpus = db.get_corpus(conn, corpus_name)
        return db.list_models(conn, corpus["id"])


def write_json(path, data):
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, separators=(",", ":"))


def read_json(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)
