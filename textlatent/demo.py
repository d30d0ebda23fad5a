"""The README's first command: the bundled sample corpus from files to topics and neighbours."""

import os

from .errors import InvalidInput, TextlatentError
from .explore.maps import after_training
from .explore.topics import corpus_topics
from .explore.words import similar
from .ingest import ReadOptions, ingest
from .models import train_lda, train_word2vec
from .store import queries as db

SAMPLE = os.path.join("corpora", "sample")
DEMO_LDA = {"num_topics": 12, "passes": 10}
DEMO_W2V = {}                  # the defaults: epochs and min_count from the corpus size
PROBES = ["war", "economy", "freedom", "tax", "constitution"]


def run_demo(store, name, source=None, echo=print, progress=None):
    """Ingest ``source`` (default ``corpora/sample``) as corpus ``name`` and train both models
    unless the corpus already has them; then print topics and similar words."""
    source = source or SAMPLE
    if not os.path.exists(source):
        raise InvalidInput(f"{source}: not found; run this from the root of the textlatent clone "
                           "or give the sample corpus's path")
    summary = ingest(store, name, [source], ReadOptions(split="paragraphs"), progress=progress)
    _close(progress)
    echo(f"{name}: {summary.documents:,} documents, vocabulary {summary.vocabulary:,} "
         f"({summary.added:,} added now)")
    with store.read() as conn:
        corpus = db.get_corpus(conn, name)
        kinds = {m["kind"] for m in db.list_models(conn, corpus["id"])}
    if summary.added or "lda" not in kinds:
        echo("training LDA topics and mapping the documents ...")
        _mapped(store, train_lda(store, name, DEMO_LDA, progress=progress), progress)
    if summary.added or "word2vec" not in kinds:
        echo("training Word2Vec vectors and mapping the words ...")
        _mapped(store, train_word2vec(store, name, DEMO_W2V, progress=progress), progress)
    found = corpus_topics(store, name, topn=8)
    model, rows = found["model"], found["topics"]
    echo(f"\nTopics (model {model['id']}, c_npmi {model['metrics']['coherence_c_npmi']}):")
    for t in rows:
        echo(f"  {t['topic']:>2}: " + " ".join(term for term, _ in t["terms"]))
    echo("\nSimilar words:")
    for word in PROBES:
        try:
            res = similar(store, name, word, topn=6)["results"]
        except TextlatentError as e:  # a probe missing from a custom corpus is not an error
            echo(f"  {word}: {e.message}")
            continue
        echo(f"  {word}: " + ", ".join(f"{w} ({s:.2f})" for w, s in res))
    return name


def _mapped(store, model_id, progress):
    # The maps the web app shows, made as a training job makes them (the map_method setting).
    after_training(store, model_id, store.config.map_method, progress)
    _close(progress)


def _close(progress):
    if progress is not None and hasattr(progress, "close"):
        progress.close()
