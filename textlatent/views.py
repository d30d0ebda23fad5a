"""What each page shows, read in one transaction; the page and its JSON twin both call these."""

from .explore.documents import overview_in
from .jobs import SHARD_KINDS
from .jobs.runner import as_seen
from .store import queries as db


def corpora(store):
    """Every corpus row, by name, with ``n_terms`` (its vocabulary size)."""
    with store.read() as conn:
        return db.list_corpora(conn)


def home(store, recent_jobs=10):
    """The index: ``{"corpora": corpus rows (with n_terms), "jobs": the newest jobs}``."""
    with store.read() as conn:
        return {"corpora": db.list_corpora(conn),
                "jobs": [as_seen(j) for j in db.list_jobs(conn, limit=recent_jobs, exclude_kinds=SHARD_KINDS)]}


def corpus_page(store, name, recent_jobs=20):
    """A corpus: ``{"overview": see explore.documents.overview, "models": newest first,
    "jobs": newest first}``."""
    with store.read() as conn:
        corpus = db.get_corpus(conn, name)
        # Frequent terms and sample documents change only with an ingest, that is with the
        # version: two queries fewer per page (on PostgreSQL each round trip counts).
        key = ("overview", corpus["id"], str(corpus["created"]), corpus["version"])
        return {"overview": store.remembered(key, 3600, lambda: overview_in(conn, corpus)),
                "models": db.list_models(conn, corpus["id"]),
                "jobs": [as_seen(j) for j in db.list_jobs(conn, corpus["name"], recent_jobs, SHARD_KINDS)]}


def words_page(store, name):
    """The corpus row, its Word2Vec models (newest first) and whether it has any yet."""
    with store.read() as conn:
        corpus = db.get_corpus(conn, name)
        models = db.list_models(conn, corpus["id"], kind="word2vec")
        return {"corpus": corpus, "models": models, "has_vectors": bool(models)}
