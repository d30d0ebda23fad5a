"""One timed task per process: ``python -m bench.child TASK '{"arg": ...}'`` prints one JSON line.

The baselines are written the way a competent notebook would: plain calls with the
same parameters where they correspond, no sabotage.
"""

import json
import os
import resource
import sys
import time

import numpy as np


def rss_mb():
    """Peak RSS in MB of this process and of its largest child. This process's from
    /proc's VmHWM: Linux carries ``ru_maxrss`` across exec, so a child started by a large
    parent would report the parent's size (the memory benchmark once read 1.5 GB so)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        with open("/proc/self/status") as fh:
            own = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        pass
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return round(own, 1), round(kids, 1)


def config(home, **kw):
    from textlatent.settings import load_settings
    from textlatent.store import Store
    return Store(load_settings(home=home, workers=2, **kw))


def read_jsonl(path, limit=None):
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            rows.append(json.loads(line))
            if limit and len(rows) >= limit:
                break
    return rows


# -- 1. ingest -----------------------------------------------------------------------------

def ingest_textlatent(src, home, name="news", label_field="label", lemmas=True):
    from textlatent.ingest import ReadOptions, ingest
    from textlatent.ingest.tokenize import TokenizerSettings
    t = time.perf_counter()
    s = ingest(config(home), name, [src], ReadOptions(label_field=label_field),
               settings=None if lemmas else TokenizerSettings(lemmas=False))
    return {"seconds": time.perf_counter() - t, "documents": s.documents, "tokens": s.tokens,
            "vocabulary": s.vocabulary, "rss_mb": rss_mb()}


def ingest_script(src):
    """One process: spaCy blank English + lookup lemmatizer, stop words and non-words
    dropped, then a gensim Dictionary and bag-of-words."""
    import spacy
    from gensim.corpora import Dictionary
    t = time.perf_counter()
    texts = [r["text"] for r in read_jsonl(src)]
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    docs = [[tok.lemma_.lower() for tok in doc if tok.is_alpha and not tok.is_stop]
            for doc in nlp.pipe(texts, batch_size=256)]
    dictionary = Dictionary(docs)
    bow = [dictionary.doc2bow(d) for d in docs]
    return {"seconds": time.perf_counter() - t, "documents": len(bow), "tokens": sum(map(len, docs)),
            "vocabulary": len(dictionary), "rss_mb": rss_mb()}


def raw_words(src):
    n = 0
    for r in read_jsonl(src):
        n += len(r["text"].split())
    return {"words": n}


# -- 2. LDA ----------------------------------------------------------------------------------

def lda_textlatent(home, name, seed, params=None):
    from textlatent.explore.topics import topics_of
    from textlatent.models import train_lda
    from textlatent.store import registry
    c = config(home)
    p = {"num_topics": 20, "seed": seed, **(params or {})}
    t = time.perf_counter()
    model_id = train_lda(c, name, p)
    wall = round(time.perf_counter() - t, 2)
    _, m = registry.get_model(c, model_id)
    top = [[w for w, _ in t["terms"]] for t in topics_of(c, m, 10)]
    return {"seconds": m["metrics"]["train_seconds"], "wall_seconds": wall, "nmi": m["metrics"].get("nmi_labels"),
            "own_c_npmi": m["metrics"]["coherence_c_npmi"], "topics": top, "model_id": model_id,
            "params": m["params"], "rss_mb": rss_mb()}


def sweep_textlatent(home, name, values, params=None):
    """One K sweep job's training (``train_topics`` with a list of K): wall seconds, the
    models' ids and each one's own train seconds."""
    from textlatent.models.sweep import train_sweep
    from textlatent.store import registry
    c = config(home)
    t = time.perf_counter()
    made = train_sweep(c, name, {"num_topics": list(values), "seed": 1, **(params or {})})
    seconds = round(time.perf_counter() - t, 2)
    ids = [m["model_id"] for m in made["models"]]
    per_model = [registry.get_model(c, i)[1]["metrics"]["train_seconds"] for i in ids]
    return {"seconds": seconds, "model_ids": ids, "train_seconds": per_model, "rss_mb": rss_mb()}


def _notebook_tokens(src):
    from gensim.parsing.preprocessing import STOPWORDS
    from gensim.utils import simple_preprocess
    rows = read_jsonl(src)
    return rows, [[w for w in simple_preprocess(r["text"]) if w not in STOPWORDS] for r in rows]


def lda_notebook(src, seed):
    """simple_preprocess, stop words, Dictionary.filter_extremes, LdaMulticore(passes=10)."""
    from gensim.corpora import Dictionary
    from gensim.models import LdaMulticore
    from textlatent.models.quality import nmi
    rows, docs = _notebook_tokens(src)
    dictionary = Dictionary(docs)
    dictionary.filter_extremes(no_below=5, no_above=0.5)
    corpus = [dictionary.doc2bow(d) for d in docs]
    t = time.perf_counter()
    model = LdaMulticore(corpus, id2word=dictionary, num_topics=20, passes=10, workers=2, random_state=seed)
    seconds = time.perf_counter() - t
    keep = [i for i, b in enumerate(corpus) if b]
    dominant = [max(model.get_document_topics(corpus[i], minimum_probability=0), key=lambda x: x[1])[0]
                for i in keep]
    top = [[w for w, _ in model.show_topic(k, 10)] for k in range(20)]
    return {"seconds": seconds, "nmi": nmi([rows[i]["label"] for i in keep], dominant), "topics": top,
            "rss_mb": rss_mb()}


def _textlatent_docs(home, name, **params):
    """textlatent's stored tokens, filtered like its LDA defaults (or the ``params`` given)."""
    from textlatent.corpus import StoredCorpus, TextStream
    from textlatent.models.lda import lda_vocabulary, validate_lda
    from textlatent.store import queries as db
    p = validate_lda({"num_topics": 20, **params})
    stored = StoredCorpus(config(home), name)
    _, remap = lda_vocabulary(stored, p)
    docs = list(TextStream(stored, remap))
    labels = [d["label"] for d in db.iter_documents(stored.store, stored.id, ("position", "label"))]
    keys = [d["doc_key"] for d in db.iter_documents(stored.store, stored.id, ("position", "doc_key"))]
    return docs, labels, keys


def lda_tomotopy(home, name, seed, iterations=200):
    """tomotopy's collapsed Gibbs LDA on textlatent's tokens (2 workers)."""
    docs, labels, _ = _textlatent_docs(home, name)
    return tomotopy_lda(docs, labels, 20, seed, iterations)


def tomotopy_lda(docs, labels, num_topics, seed, iterations, **options):
    """tomotopy ``LDAModel(k=num_topics, **options)`` on the non-empty token lists of
    ``docs``, trained ``iterations`` Gibbs iterations with 2 workers."""
    import tomotopy as tp
    from textlatent.models.quality import nmi
    model = tp.LDAModel(k=num_topics, seed=seed, **options)
    kept = []
    for i, d in enumerate(docs):
        if d:
            model.add_doc(d)
            kept.append(i)
    t = time.perf_counter()
    model.train(iterations, workers=2)
    seconds = time.perf_counter() - t
    dominant = [int(np.argmax(doc.get_topic_dist())) for doc in model.docs]
    top = [[w for w, _ in model.get_topic_words(k, 10)] for k in range(num_topics)]
    return {"seconds": seconds, "nmi": nmi([labels[i] for i in kept], dominant), "topics": top,
            "rss_mb": rss_mb()}


def coherence(src, home, name, systems):
    """c_npmi of every system's topics on one reference: for each post, textlatent's
    tokens followed by the notebook's (so that lemmas, phrases and word forms all count)."""
    from gensim.corpora import Dictionary
    rows, nb = _notebook_tokens(src)
    tl, _, keys = _textlatent_docs(home, name, no_below=1, no_above=1.0, keep_n=10**8, stoplist="none")
    by_id = {str(r.get("id")): i for i, r in enumerate(rows)}
    texts = []
    for k, toks in zip(keys, tl):
        i = by_id.get(k)
        texts.append(toks + (nb[i] if i is not None else []))
    dictionary = Dictionary(texts)
    return {label: [npmi_of(topics, texts, dictionary) for topics in runs] for label, runs in systems.items()}


def npmi_of(topics, texts, dictionary):
    """c_npmi of ``topics`` (lists of words) on ``texts`` (gensim CoherenceModel, top 10):
    words missing from the reference are left out, ``coverage`` says how many stayed."""
    from gensim.models import CoherenceModel
    kept = [[w for w in t if w in dictionary.token2id] for t in topics]
    coverage = sum(map(len, kept)) / max(1, sum(map(len, topics)))
    kept = [t for t in kept if len(t) >= 2]
    cm = CoherenceModel(topics=kept, texts=texts, dictionary=dictionary, coherence="c_npmi",
                        topn=10, processes=1)
    return {"c_npmi": float(cm.get_coherence()), "coverage": round(coverage, 3)}


# -- 3. Word2Vec -----------------------------------------------------------------------------

W2V = {"vector_size": 100, "window": 5, "min_count": 5, "epochs": 5, "sg": 0, "negative": 5, "workers": 2}


def _evaluate(kv):
    from textlatent.models.word2vec import evaluate
    return evaluate(kv)


def w2v_textlatent(home, name, params=None):
    from textlatent.models import train_word2vec
    from textlatent.store import registry
    c = config(home)
    model_id = train_word2vec(c, name, {**W2V, **(params or {})})
    m = registry.get_model(c, model_id)[1]["metrics"]
    return {"seconds": m["train_seconds"], "words_per_second": m["words_per_second"],
            "corpus_words": m["corpus_words"], "vocabulary": m["vocabulary"],
            "analogy": m.get("analogy_accuracy"), "wordsim353": m.get("wordsim353_spearman"),
            "model_id": model_id, "rss_mb": rss_mb()}


def token_file(home, name, path):
    """textlatent's stored token stream as the file its Word2Vec training reads."""
    import shutil
    from textlatent.corpus import StoredCorpus
    from textlatent.models.word2vec import _write_corpus_file
    written, n = _write_corpus_file(StoredCorpus(config(home), name), os.path.dirname(path))
    shutil.move(written, path)
    return {"words": n}


def w2v_gensim(path, params=None):
    from gensim.models import Word2Vec
    p = {**W2V, **(params or {})}
    with open(path) as fh:
        words = sum(len(line.split()) for line in fh)
    t = time.perf_counter()
    model = Word2Vec(corpus_file=path, **p)
    seconds = time.perf_counter() - t
    figures = _evaluate(model.wv)
    return {"seconds": seconds, "words_per_second": words * p["epochs"] / seconds, "corpus_words": words,
            "vocabulary": len(model.wv), "analogy": figures.get("analogy_accuracy"),
            "wordsim353": figures.get("wordsim353_spearman"), "rss_mb": rss_mb()}


# -- 4. similar words ------------------------------------------------------------------------

def bandwidth_bound(nbytes):
    """Seconds to read ``nbytes`` once from memory, from the read bandwidth measured now."""
    a = np.ones(256 * 1024 * 1024 // 4, dtype=np.float32)       # 256 MiB, past every cache
    best = min(_timed(lambda: a.sum()) for _ in range(7))
    return nbytes / (a.nbytes / best), a.nbytes / best


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def similar_library(home, name, model_id, n=2000, topn=10):
    from gensim.models import KeyedVectors
    from textlatent.explore.words import load_vectors, similar
    from textlatent.store import registry
    c = config(home)
    _, model = registry.get_model(c, model_id)
    vecs = load_vectors(c, model)
    rng = np.random.default_rng(0)
    words = [vecs.words[i] for i in rng.integers(0, min(len(vecs.words), 20000), n)]
    for w in words[:50]:
        similar(c, name, w, topn=topn, model_id=model_id)
    lib = [_timed(lambda w=w: similar(c, name, w, topn=topn, model_id=model_id)) for w in words]
    core = [_timed(lambda w=w: vecs.nearest([w], (), topn)) for w in words]
    kv = KeyedVectors(vecs.unit.shape[1])
    kv.add_vectors(list(vecs.words), np.load(registry.model_path(c, model, "vectors.npy")))
    kv.fill_norms()
    for w in words[:50]:
        kv.most_similar(w, topn=topn)
    gen = [_timed(lambda w=w: kv.most_similar(w, topn=topn)) for w in words]
    bound, bw = bandwidth_bound(vecs.unit.nbytes)
    ms = lambda xs, p: round(1000 * float(np.percentile(xs, p)), 3)  # noqa: E731
    return {"vocabulary": len(vecs.words), "dim": int(vecs.unit.shape[1]),
            "library_p50_ms": ms(lib, 50), "library_p99_ms": ms(lib, 99),
            "nearest_p50_ms": ms(core, 50), "gensim_p50_ms": ms(gen, 50), "gensim_p99_ms": ms(gen, 99),
            "scan_bound_ms": round(bound * 1000, 3), "bandwidth_gb_s": round(bw / 1e9, 2), "words": words[:200]}


# -- 5. topic page ---------------------------------------------------------------------------

def topic_page(home, model_id, n=200):
    from textlatent.explore.topics import model_arrays
    from textlatent.store import registry
    from web import create_app
    c = config(home)
    client = create_app(c).test_client()
    for _ in range(10):
        client.get(f"/models/{model_id}/topics")
        client.get(f"/api/v1/models/{model_id}/ldavis.json")
    page = [_timed(lambda: client.get(f"/models/{model_id}/topics")) for _ in range(n)]
    data = [_timed(lambda: client.get(f"/api/v1/models/{model_id}/ldavis.json")) for _ in range(n)]
    # The notebook: pyLDAvis.prepare + prepared_data_to_html on the trained model's arrays
    # (cheaper than pyLDAvis.gensim_models.prepare, which also re-infers every document).
    import pyLDAvis
    from textlatent.corpus import StoredCorpus, to_bow
    from textlatent.models.lda import lda_vocabulary
    corpus, m = registry.get_model(c, model_id)
    a = model_arrays(c, m)
    stored = StoredCorpus(c, corpus["name"])
    _, remap = lda_vocabulary(stored, m["params"])
    lengths = np.zeros(stored.num_docs, dtype=np.int64)
    tf = np.zeros(len(a["vocab"]), dtype=np.int64)
    for position, ids in stored.token_ids():
        for i, n in to_bow(ids, remap):
            tf[i] += n
            lengths[position] += n
    keep = lengths > 0
    t = time.perf_counter()
    prepared = pyLDAvis.prepare(np.asarray(a["topic_terms"], dtype=np.float64),
                                np.asarray(a["doc_topics"], dtype=np.float64)[keep], lengths[keep],
                                a["vocab"], np.maximum(tf, 1))
    pyLDAvis.prepared_data_to_html(prepared)
    scratch = time.perf_counter() - t
    ms = lambda xs, p: round(1000 * float(np.percentile(xs, p)), 3)  # noqa: E731
    return {"page_p50_ms": ms(page, 50), "page_p99_ms": ms(page, 99), "data_p50_ms": ms(data, 50),
            "data_p99_ms": ms(data, 99), "prepare_from_scratch_s": round(scratch, 3)}


# -- 7. memory -------------------------------------------------------------------------------

def memory(src, home, copies, passes=2):
    from textlatent.ingest import ReadOptions, ingest
    from textlatent.models import train_lda
    path = os.path.join(home, f"news-x{copies}.jsonl")
    os.makedirs(home, exist_ok=True)
    with open(src, encoding="utf-8") as fh, open(path, "w", encoding="utf-8") as out:
        rows = [json.loads(line) for line in fh]
        for c in range(copies):
            for r in rows:      # new id, and a marker so that the content hash differs too
                out.write(json.dumps({**r, "id": f"{r['id']}-{c}", "text": f"copy{c} {r['text']}"}) + "\n")
    del rows
    t = time.perf_counter()
    c = config(home)
    s = ingest(c, "news", [path], ReadOptions(label_field="label"))
    after_ingest = rss_mb()
    train_lda(c, "news", {"num_topics": 20, "passes": passes})
    return {"documents": s.documents, "tokens": s.tokens, "seconds": time.perf_counter() - t,
            "rss_after_ingest_mb": after_ingest, "rss_mb": rss_mb()}


if __name__ == "__main__":
    task, args = sys.argv[1], json.loads(sys.argv[2])
    import logging
    logging.disable(logging.WARNING)
    if task.startswith("maps."):             # the maps benchmark keeps its tasks in bench/maps.py
        from bench import maps
        result = getattr(maps, task[5:])(**args)
    else:
        from . import quality_tasks
        result = (getattr(quality_tasks, task, None) or globals()[task])(**args)
    print(json.dumps(result, default=float))
