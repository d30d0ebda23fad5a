"""Child tasks of the quality suite (``python -m bench.child q_...``), one corpus each.

The corpora are ingested by textlatent into ``WORK/quality/<name>`` (a user's ingest
with the label field). The baselines are written as the issue describes them, the way a
competent notebook would: the notebook is ``simple_preprocess``, gensim's stop words,
``Phrases`` bigrams, ``filter_extremes(5, 0.5)`` and ``LdaModel(alpha="auto", passes=10)``;
tomotopy is ``LDAModel(min_df=5)`` on the notebook's tokens, 1,000 Gibbs iterations, 2
workers. Training seconds are the training call alone, on every side.
"""

import json
import os
import time

import numpy as np

from .common import WORK
from .labelled import path as corpus_path


def home_of(name):
    return str(WORK / "quality" / name)


def q_ingest(name):
    from .child import ingest_textlatent
    home = home_of(name)
    done = os.path.join(home, "bench-ingested")
    if os.path.exists(done):
        return json.load(open(done))
    r = ingest_textlatent(str(corpus_path(name)), home, name=name)
    with open(done, "w") as fh:
        json.dump(r, fh)
    return r


def _rows(name):
    with open(corpus_path(name), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def notebook_tokenize(texts):
    """The notebook's token lists: ``simple_preprocess``, gensim's stop words, then
    ``Phrases`` bigrams (min_count 5, threshold 10) learned on these texts."""
    from gensim.models.phrases import Phrases
    from gensim.parsing.preprocessing import STOPWORDS
    from gensim.utils import simple_preprocess
    docs = [[w for w in simple_preprocess(t) if w not in STOPWORDS] for t in texts]
    bigram = Phrases(docs, min_count=5, threshold=10)
    return [bigram[d] for d in docs]


def same_text(text):
    """The text textlatent's tokenizer reads of a row by default: e-mail headers, quotes
    and signatures removed when the text starts like an e-mail (``--email auto``), URLs,
    e-mail addresses and runs of 50 characters without a space removed."""
    from textlatent.ingest.tokenize import TokenizerSettings, preclean
    return preclean(text, TokenizerSettings())


def notebook_tokens(name, stripped=False):
    """:func:`notebook_tokenize` of the corpus's rows (``stripped``: of the text textlatent
    reads of them, :func:`same_text`); cached on disk."""
    cache = WORK / "quality" / f"{name}.notebook-tokens{'-stripped' if stripped else ''}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    docs = notebook_tokenize([same_text(r["text"]) if stripped else r["text"] for r in _rows(name)])
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps(docs))
    os.replace(tmp, cache)
    return docs


def notebook_lda(docs, labels, num_topics, seed):
    """The notebook's LDA on token lists ``docs``: ``filter_extremes(5, 0.5)``,
    ``LdaModel(alpha="auto", passes=10)``; NMI of the dominant topics with ``labels``."""
    from gensim.corpora import Dictionary
    from gensim.models import LdaModel
    from textlatent.models.quality import nmi
    dictionary = Dictionary(docs)
    dictionary.filter_extremes(no_below=5, no_above=0.5)
    corpus = [dictionary.doc2bow(d) for d in docs]
    t = time.perf_counter()
    model = LdaModel(corpus, id2word=dictionary, num_topics=num_topics, alpha="auto", passes=10,
                     eval_every=None, random_state=seed)
    seconds = time.perf_counter() - t
    keep = [i for i, b in enumerate(corpus) if b]
    gamma, _ = model.inference([corpus[i] for i in keep])
    top = [[w for w, _ in model.show_topic(k, 10)] for k in range(num_topics)]
    return {"seconds": seconds, "nmi": nmi([labels[i] for i in keep], gamma.argmax(axis=1).tolist()),
            "topics": top}


def q_notebook(name, num_topics, seed, stripped=False):
    return notebook_lda(notebook_tokens(name, stripped), [r["label"] for r in _rows(name)], num_topics, seed)


def q_tomotopy(name, num_topics, seed, iterations=1000, stripped=False):
    from .child import tomotopy_lda
    labels = [r["label"] for r in _rows(name)]
    return tomotopy_lda(notebook_tokens(name, stripped), labels, num_topics, seed, iterations, min_df=5)


def stats_of(name):
    """The corpus's :class:`CorpusStats`, as ``train_lda`` measures them."""
    from textlatent.corpus import StoredCorpus
    from textlatent.ingest import stoplists
    from textlatent.models.lda_defaults import corpus_stats
    from .child import config
    stored = StoredCorpus(config(home_of(name)), name)
    return corpus_stats(stored, stoplists.stoplist("auto", stored.corpus["settings"].get("language")))


def q_corpus_stats(name):
    return stats_of(name).summary()


def q_textlatent(name, num_topics, seed, params=None):
    """``train_lda`` as a user runs it, with ``params`` on top of the defaults."""
    from textlatent.explore.topics import topics_of
    from textlatent.models import train_lda
    from textlatent.store import registry
    from .child import config
    c = config(home_of(name))
    model_id = train_lda(c, name, {"num_topics": num_topics, "seed": seed, **(params or {})})
    _, m = registry.get_model(c, model_id)
    top = [[w for w, _ in t["terms"]] for t in topics_of(c, m, 10)]
    return {"seconds": m["metrics"]["train_seconds"], "nmi": m["metrics"].get("nmi_labels"), "topics": top,
            "params": m["params"], "algorithm": m["metrics"]["algorithm"], "model_id": model_id}


def q_coherence(name, topic_sets):
    """c_npmi (gensim ``CoherenceModel``, top 10 words, sliding window 10) of each topic set
    on one reference per corpus: each document's textlatent tokens (every stored token)
    followed by the notebook's tokens, so that lemmas, phrases and word forms all count.
    Words missing from the reference are left out of their topic; ``coverage`` says how many."""
    from gensim.corpora import Dictionary
    from .child import _textlatent_docs, npmi_of
    rows, nb = _rows(name), notebook_tokens(name)
    tl, _, keys = _textlatent_docs(home_of(name), name, no_below=1, no_above=1.0, keep_n=10**8,
                                   stoplist="none")
    by_id = {str(r["id"]): i for i, r in enumerate(rows)}
    texts = [toks + nb[by_id[k]] if k in by_id else toks for k, toks in zip(keys, tl)]
    dictionary = Dictionary(texts)
    return [npmi_of(topics, texts, dictionary) for topics in topic_sets]


def _light_views(model, stored, dictionary, remap, matrix, workdir, progress, tokens=None):
    """For tuning runs: only the topic-term matrix and the NMI with the labels (the views
    cost as much as the training and do not change the topics)."""
    from textlatent.models.lda_views import _infer_rows
    from textlatent.models.quality import label_nmi
    from textlatent.store import registry
    lam = model.state.get_lambda()
    np.save(os.path.join(workdir, "topic_terms.npy"), (lam / lam.sum(axis=1, keepdims=True)).astype(np.float32))
    np.save(os.path.join(workdir, "doc_topics.npy"), np.zeros((0, model.num_topics), dtype=np.float32))
    registry.write_json(os.path.join(workdir, "vocab.json"), [dictionary[i] for i in range(len(dictionary))])
    theta = np.zeros((len(matrix), model.num_topics), dtype=np.float32)
    for start in range(0, len(matrix), 2000):
        rows = range(start, min(len(matrix), start + 2000))
        _infer_rows(model, [matrix.row(i) for i in rows], rows, theta)
    return {"nmi_labels": label_nmi(stored, theta)[0], "num_terms": len(dictionary)}


def q_textlatent_light(name, num_topics, seed, params=None, length_cap=None):
    """:func:`q_textlatent` without the stored views; ``length_cap`` replaces
    ``kmeans.LENGTH_CAP`` (bench.start_weight)."""
    from textlatent.models import kmeans, lda
    lda.save_views = _light_views
    if length_cap is not None:
        kmeans.LENGTH_CAP = length_cap
    return q_textlatent(name, num_topics, seed, params)
