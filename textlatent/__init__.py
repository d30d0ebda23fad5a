"""textlatent: topic models and word vectors for a corpus, from files to views.

Data flows one way: files -> documents -> token streams -> bag-of-words -> models
-> precomputed views (topic tables, pyLDAvis data, nearest neighbours) -> exports.

The library works without the CLI or the web app::

    import textlatent
    store = textlatent.open_store(home="data")
    textlatent.ingest(store, "news", ["news.jsonl"], textlatent.ReadOptions(label_field="label"))
    model_id = textlatent.train_lda(store, "news", {"num_topics": 20})
    textlatent.topics(store, "news")["topics"][0]["terms"][:5]

Names are loaded on first use, so ``import textlatent`` stays cheap.
"""

__version__ = "0.1.0"

import importlib

# name -> (module, what it does): the public API, one line each.
API = {
    "open_store": ("store", "a Store handle on a data directory: open_store(home=..., database_url=...)"),
    "Store": ("store", "the handle every function below takes first: engine, transactions, caches"),
    "load_settings": ("settings", "settings from keywords, TEXTLATENT_* variables and defaults"),
    "ReadOptions": ("ingest", "how to read sources: text_field, label_field, date_field, split, ..."),
    "TokenizerSettings": ("ingest", "how a new corpus is tokenized: language, lemmas, phrases, stop words"),
    "ingest": ("ingest", "add the documents of files, folders, zips, CSV or JSONL to a corpus"),
    "delete_corpus": ("ingest", "delete a corpus with its documents and models"),
    "train_lda": ("models", "train LDA topics on a corpus and store them with their views; returns the model id"),
    "train_word2vec": ("models", "train Word2Vec vectors on a corpus; returns the model id"),
    "topics": ("explore.topics:corpus_topics", "a model's topics with their top terms and coherence"),
    "topic_documents": ("explore.topics", "the documents where a topic weighs most"),
    "set_labels": ("explore.topics", "name a model's topics"),
    "infer": ("explore.inference", "the topic mixture of a new text"),
    "similar": ("explore.words", "nearest words by cosine similarity, or an analogy"),
    "export": ("export", "write doc-topics, topic-terms or word vectors in formats other tools read"),
    "submit": ("jobs", "queue a background job (ingest, lda, word2vec) for a worker"),
}

__all__ = ["__version__", *API]


def __getattr__(name):
    if name not in API:
        raise AttributeError(f"module 'textlatent' has no attribute {name!r}")
    module, _, attr = API[name][0].partition(":")
    value = getattr(importlib.import_module(f".{module}", __name__), attr or name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
