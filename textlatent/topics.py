"""LDA topics: training, quality figures, the stored views, and inference.

After training, everything a view needs is computed once and saved beside the model
(topic-term and document-topic matrices, coherence, pyLDAvis's prepared data), so
reading a topic page or an export never recomputes anything.

Model files hold plain arrays (``.npy``) and JSON: loading a model never unpickles.
"""

import functools
import logging
import os
import shutil
import time

import numpy as np

from . import registry, stoplists, store
from .corpus import StoredCorpus
from .errors import Cancelled, EmptyCorpus, InvalidInput
from .kmeans import initial_topics
from .params import Param, validate
from .phrases import apply_phrases
from .tokenize import Tokenizer, TokenizerSettings

log = logging.getLogger(__name__)

LDA_PARAMS = [
    Param("num_topics", "int", 20, 1, 1000, help="number of topics"),
    Param("passes", "int", 10, 1, 1000, help="passes over the corpus"),
    Param("iterations", "int", 100, 1, 10000, help="inference iterations per document and chunk"),
    Param("chunksize", "int", 0, 0, 1_000_000,
          help="documents per training chunk; 0: an eighth of the corpus, between 64 and 2000"),
    Param("alpha", "alpha", "symmetric", 1e-6, 1e6, choices=("symmetric", "asymmetric", "auto"),
          help="document-topic prior"),
    Param("eta", "alpha", "auto", 1e-6, 1e6, choices=("symmetric", "auto"), help="topic-word prior"),
    Param("decay", "float", 0.5, 0.5, 1.0, help="learning-rate decay (kappa)"),
    Param("offset", "float", 1.0, 1.0, 1e6, help="learning-rate offset (tau0)"),
    Param("seed", "int", 1, 0, 2**31 - 1, help="random seed"),
    Param("init", "choice", "kmeans", choices=("kmeans", "random"),
          help="starting topics: k-means clusters of the documents, or gensim's random start"),
    Param("shuffle", "bool", True, help="train on the documents in a new random order each pass "
                                        "(online LDA assumes each chunk is a random sample)"),
    Param("workers", "int", 0, 0, 64,
          help="worker processes (LdaMulticore when > 1); 0: the workers setting. "
               "Only 1 worker gives bit-for-bit reproducible topics"),
    Param("no_below", "int", 5, 1, 10**9, help="drop terms in fewer documents than this"),
    # Auto: a word of one topic is in about 1/K of the documents; words in more than 1.4/K
    # of them, and at least 7%, are dropped. Chosen on 20 Newsgroups with the k-means start
    # and the SMART stop list (bench/results/lda_tuning.json, K=20, three seeds): 0.07 gave
    # c_npmi 0.136 at NMI 0.475, against 0.119 / 0.470 at 0.1 and 0.141 / 0.464 at 0.05,
    # which also drops words that name topics (window, drive, program, mail).
    Param("no_above", "float", 0, 0, 1.0,
          help="drop terms in more than this share of documents; 0: 1.4/num_topics, at least 0.07"),
    Param("keep_n", "int", 10_000, 1, 10**8, help="keep at most this many terms, most frequent first"),
    Param("stoplist", "choice", "auto", choices=stoplists.CHOICES,
          help="stop words dropped from the LDA vocabulary (the corpus keeps them): smart, the "
               "523-word SMART list (MALLET's --remove-stopwords); auto: smart for English corpora"),
]

TOPN_MAX = 1000


def no_above(p):
    """The ``no_above`` filter of validated LDA parameters ``p`` (resolving 0, auto)."""
    return p["no_above"] or min(1.0, max(0.07, 1.4 / p["num_topics"]))


def lda_vocabulary(stored, p):
    """The dictionary and remap (see ``StoredCorpus.dictionary``) of validated LDA
    parameters ``p`` or of a model's stored ones (models older than the stop list have
    no ``stoplist``: they had none)."""
    exclude = stoplists.stoplist(p.get("stoplist", "none"), stored.corpus["settings"].get("language"))
    return stored.dictionary(p["no_below"], no_above(p), p["keep_n"], exclude)


def validate_lda(params, num_docs=None):
    def checks(p):
        out = []
        if num_docs is not None and p["num_topics"] > num_docs:
            out.append(f"num_topics ({p['num_topics']}) cannot exceed the number of documents ({num_docs})")
        return out
    return validate(LDA_PARAMS, params or {}, checks)


class _Watched:
    """The training stream of one pass, reporting progress every chunk. Once ``progress``
    raises :class:`Cancelled` the rest of the pass is empty documents: gensim checks that
    a pass has as many documents as the corpus, and so finishes its update (and shuts its
    worker pool down) at once; the job stops within about one chunk."""

    def __init__(self, stream, progress, pass_, passes, every):
        self.stream, self.progress, self.pass_, self.passes, self.every = stream, progress, pass_, passes, every
        self.cancelled = False

    def __len__(self):
        return len(self.stream)

    def __iter__(self):
        n = len(self.stream)
        i = 0
        for i, doc in enumerate(self.stream):
            if i % self.every == 0:
                try:
                    self.progress(self.pass_ * n + i, self.passes * n,
                                  f"LDA pass {self.pass_ + 1} of {self.passes}: {i:,} of {n:,} documents")
                except Cancelled:
                    self.cancelled = True
                    break
            yield doc
        if self.cancelled:
            for _ in range(n - i):
                yield []


def train_lda(config, corpus_name, params=None, progress=None, workdir_prefix=".tmp-"):
    """Train an LDA model on the corpus and store it with its views; returns the model id.

    ``progress(done, total, message)`` is called during training; it may raise
    :class:`Cancelled` to stop the job (effective within one chunk).
    """
    from gensim.models import LdaModel, LdaMulticore

    progress = progress or (lambda done, total, message: None)
    stored = StoredCorpus(config, corpus_name)
    p = validate_lda(params, stored.num_docs)
    p["no_above"] = no_above(p)          # the model records the share it used
    dictionary, remap = lda_vocabulary(stored, p)
    workers = p["workers"] or config.workers
    # Online LDA learns from the updates between chunks: a small corpus needs small chunks.
    chunksize = p["chunksize"] or min(2000, max(64, -(-stored.num_docs // 8)))
    alpha, eta = p["alpha"], p["eta"]
    if eta == "symmetric":
        eta = None
    # LdaMulticore cannot learn alpha; 'auto' takes the single-core LdaModel.
    use_multicore = workers > 1 and alpha != "auto"
    common = dict(id2word=dictionary, num_topics=p["num_topics"], chunksize=chunksize, passes=1,
                  iterations=p["iterations"], alpha=alpha, eta=eta, decay=p["decay"],
                  offset=p["offset"], random_state=p["seed"], eval_every=None, dtype=np.float32)
    started = time.perf_counter()
    workdir = registry.new_workdir(config, workdir_prefix)
    try:
        progress(0, 0, "counting words")
        matrix = stored.bow_matrix(remap, os.path.join(workdir, "bow"))
        rng = np.random.RandomState(p["seed"])
        model = (LdaMulticore(workers=workers, **common) if use_multicore else LdaModel(**common))
        if p["init"] == "kmeans":
            progress(0, 0, "k-means start")
            start = initial_topics(matrix, len(dictionary), p["num_topics"], p["seed"])
            if start is not None:
                model.state.sstats[...] = start
                model.sync_state()
        for pass_ in range(p["passes"]):
            order = rng.permutation(len(matrix)) if p["shuffle"] else range(len(matrix))
            watched = _Watched(matrix.ordered(order), progress, pass_, p["passes"], chunksize)
            model.update(watched)
            if watched.cancelled:
                raise Cancelled("cancelled")
        train_seconds = time.perf_counter() - started
        progress(p["passes"] * stored.num_docs, p["passes"] * stored.num_docs, "computing topic views")
        metrics = _save_views(model, stored, dictionary, remap, matrix, workdir, progress)
        metrics["train_seconds"] = round(train_seconds, 3)
        metrics["algorithm"] = "LdaMulticore" if use_multicore else "LdaModel"
        del matrix
        shutil.rmtree(os.path.join(workdir, "bow"))
        with store.read(stored.engine) as conn:
            fp = registry.fingerprint(conn, stored.corpus)
        return registry.commit_model(config, stored.corpus, "lda", p, p["seed"], fp,
                                     time.perf_counter() - started, metrics, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _save_views(model, stored, dictionary, remap, matrix, workdir, progress):
    from gensim.models import CoherenceModel

    K = model.num_topics
    vocab = [dictionary[i] for i in range(len(dictionary))]
    lam = model.state.get_lambda().astype(np.float32)
    topic_terms = (lam / lam.sum(axis=1, keepdims=True)).astype(np.float32)
    np.save(os.path.join(workdir, "lambda.npy"), lam)
    np.save(os.path.join(workdir, "alpha.npy"), np.asarray(model.alpha, dtype=np.float64))
    np.save(os.path.join(workdir, "eta.npy"), np.asarray(model.eta, dtype=np.float64))
    np.save(os.path.join(workdir, "topic_terms.npy"), topic_terms)
    registry.write_json(os.path.join(workdir, "vocab.json"), vocab)

    # Document-topic matrix, row = document position; and the lengths pyLDAvis weighs by.
    n = len(matrix)
    theta = np.lib.format.open_memmap(os.path.join(workdir, "doc_topics.npy"), mode="w+",
                                      dtype=np.float32, shape=(n, K))
    for start in range(0, n, 2000):
        rows = range(start, min(n, start + 2000))
        _infer_rows(model, [matrix.row(i) for i in rows], rows, theta)
        progress(rows[-1] + 1, n, "topic mixtures of documents")
    theta.flush()
    doc_lengths = matrix.lengths()
    term_freq = matrix.term_freq(len(vocab))

    progress(0, 0, "coherence")
    top = [[vocab[i] for i in np.argsort(-topic_terms[k])[:10]] for k in range(K)]
    texts = stored.texts(remap)
    npmi = CoherenceModel(topics=top, texts=texts, dictionary=dictionary, coherence="c_npmi",
                          topn=10, processes=1).get_coherence_per_topic()
    umass = CoherenceModel(topics=top, corpus=matrix, dictionary=dictionary,
                           coherence="u_mass", topn=10, processes=1).get_coherence_per_topic()
    sample = [matrix.row(i) for i in range(min(n, 5000))]
    bound = float(model.log_perplexity(sample)) if sum(len(b) for b in sample) else float("nan")

    progress(0, 0, "pyLDAvis data")
    prepared = prepare_ldavis(topic_terms, np.asarray(theta), doc_lengths, vocab, term_freq)
    with open(os.path.join(workdir, "ldavis.json"), "w", encoding="utf-8") as fh:
        fh.write(prepared)
    metrics = {
        "coherence_c_npmi": _mean(npmi), "coherence_u_mass": _mean(umass),
        "coherence_c_npmi_per_topic": [_round(x) for x in npmi],
        "coherence_u_mass_per_topic": [_round(x) for x in umass],
        "log_perplexity": _round(bound), "perplexity": _round(float(np.exp2(-bound))),
        "num_terms": len(vocab), "num_docs": stored.num_docs, "num_tokens": int(term_freq.sum()),
    }
    nmi = label_nmi(stored, np.asarray(theta))
    if nmi is not None:
        metrics["nmi_labels"] = _round(nmi)
    return metrics


def _infer_rows(model, chunk, rows, theta):
    gamma, _ = model.inference(chunk)
    theta[rows] = (gamma / gamma.sum(axis=1, keepdims=True)).astype(np.float32)


def _mean(values):
    values = [v for v in values if v == v]
    return _round(sum(values) / len(values)) if values else None


def _round(x):
    return None if x is None or x != x else round(float(x), 5)


def prepare_ldavis(topic_terms, theta, doc_lengths, vocab, term_freq):
    """pyLDAvis's prepared data as JSON, topic numbers as the model's (0-based, unsorted)."""
    import pyLDAvis

    keep = doc_lengths > 0
    # pyLDAvis's scaling needs two topics to place; a single one sits at the centre.
    mds = "pcoa" if len(topic_terms) > 1 else (lambda dists: np.zeros((len(dists), 2)))
    vis = pyLDAvis.prepare(topic_term_dists=topic_terms.astype(np.float64),
                           doc_topic_dists=theta[keep].astype(np.float64),
                           doc_lengths=doc_lengths[keep], vocab=vocab,
                           term_frequency=np.maximum(term_freq, 1), sort_topics=False,
                           start_index=0, n_jobs=1, R=30, mds=mds)
    return vis.to_json()


def label_nmi(stored, theta):
    """NMI between each document's dominant topic and its label, when documents have labels."""
    labels = [d["label"] for d in store.iter_documents(stored.engine, stored.id, ("position", "label"))]
    if sum(1 for x in labels if x) < 0.5 * len(labels) or len(set(labels)) < 2:
        return None
    dominant = theta.argmax(axis=1)
    return nmi(labels, dominant.tolist())


def nmi(a, b):
    """Normalized mutual information (arithmetic mean normalisation, as scikit-learn's default)."""
    from collections import Counter
    n = len(a)
    ca, cb, cab = Counter(a), Counter(b), Counter(zip(a, b))
    mi = sum(c / n * np.log(c * n / (ca[x] * cb[y])) for (x, y), c in cab.items())
    ha = -sum(c / n * np.log(c / n) for c in ca.values())
    hb = -sum(c / n * np.log(c / n) for c in cb.values())
    return float(mi / ((ha + hb) / 2)) if ha + hb > 0 else 1.0


# -- reading a trained model ---------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def _arrays(folder):
    load = functools.partial(np.load, mmap_mode="r", allow_pickle=False)
    return {
        "vocab": registry.read_json(os.path.join(folder, "vocab.json")),
        "topic_terms": load(os.path.join(folder, "topic_terms.npy")),
        "doc_topics": load(os.path.join(folder, "doc_topics.npy")),
    }


def model_arrays(config, model):
    return _arrays(registry.model_path(config, model))


def topics(config, corpus_name, model_id=None, topn=10):
    """The model's topics: ``[{"topic", "label", "terms": [[term, weight]...], "coherence"}]``."""
    topn = validate([Param("topn", "int", 10, 1, TOPN_MAX)], {"topn": topn})["topn"]
    corpus, model = registry.find_model(config, corpus_name, model_id, kind="lda")
    return model, topics_of(config, model, topn)


def topics_of(config, model, topn=10):
    a = model_arrays(config, model)
    tt, vocab = a["topic_terms"], a["vocab"]
    labels = model.get("labels") or {}
    npmi = model["metrics"].get("coherence_c_npmi_per_topic") or []
    umass = model["metrics"].get("coherence_u_mass_per_topic") or []
    out = []
    for k in range(tt.shape[0]):
        row = np.asarray(tt[k])
        n = min(topn, len(row))
        top = np.argpartition(-row, n - 1)[:n]      # a full sort of the vocabulary costs ~1 ms a topic
        top = top[np.argsort(-row[top], kind="stable")]
        out.append({"topic": k, "label": labels.get(str(k)),
                    "terms": [[vocab[i], round(float(row[i]), 6)] for i in top],
                    "coherence_c_npmi": npmi[k] if k < len(npmi) else None,
                    "coherence_u_mass": umass[k] if k < len(umass) else None})
    return out


def topic_documents(config, model, topic, limit=10):
    """The documents where ``topic`` weighs most: ``[{position, doc_key, title, label, weight}]``."""
    a = model_arrays(config, model)
    theta = a["doc_topics"]
    K = theta.shape[1]
    limit = validate([Param("limit", "int", 10, 1, TOPN_MAX)], {"limit": limit})["limit"]
    topic = check_topic(topic, K)
    col = np.asarray(theta[:, topic])
    n = min(limit, len(col))
    top = np.argpartition(-col, n - 1)[:n]
    top = top[np.argsort(-col[top])]
    engine = store.get_engine(config.database_url)
    with store.read(engine) as conn:
        docs = {d["position"]: d for d in store.get_documents(
            conn, model["corpus_id"], positions=top.tolist(),
            columns=("id", "position", "doc_key", "title", "label"))}
    return [dict(docs[int(i)], weight=round(float(col[i]), 5)) for i in top if int(i) in docs]


@functools.lru_cache(maxsize=4)
def _lda_for_inference(folder):
    from gensim.models import LdaModel

    lam = np.load(os.path.join(folder, "lambda.npy"), allow_pickle=False)
    alpha = np.load(os.path.join(folder, "alpha.npy"), allow_pickle=False)
    eta = np.load(os.path.join(folder, "eta.npy"), allow_pickle=False)
    vocab = registry.read_json(os.path.join(folder, "vocab.json"))
    id2word = dict(enumerate(vocab))
    model = LdaModel(num_topics=lam.shape[0], id2word=id2word, alpha=alpha, eta=eta, dtype=np.float32,
                     random_state=0)
    model.state.sstats[...] = lam - eta
    model.sync_state()
    return model, {t: i for i, t in enumerate(vocab)}


@functools.lru_cache(maxsize=4)
def _corpus_tokenizer(settings_json):
    import json
    return Tokenizer(TokenizerSettings.from_dict(json.loads(settings_json)))


def corpus_terms(corpus, text):
    """Tokenize ``text`` exactly as the corpus was: same settings, same phrases."""
    import json
    tok = _corpus_tokenizer(json.dumps(corpus["settings"], sort_keys=True))
    tokens = tok([text])[0]
    pairs = {tuple(p) for p in corpus["phrases"] or []}
    return apply_phrases(tokens, pairs) if pairs else tokens


def infer(config, corpus_name, text, model_id=None):
    """Topic mixture of a new text: ``{"topics": [[k, weight]...] (all K, by weight), "terms_used"}``."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("give some text to infer topics for")
    if len(text) > 10_000_000:
        raise InvalidInput("text longer than 10,000,000 characters")
    corpus, model_row = registry.find_model(config, corpus_name, model_id, kind="lda")
    model, index = _lda_for_inference(registry.model_path(config, model_row))
    terms = corpus_terms(corpus, text)
    from collections import Counter
    counts = Counter(index[t] for t in terms if t in index)
    if not counts:
        raise EmptyCorpus("none of the text's words is in the model's vocabulary")
    gamma, _ = model.inference([sorted(counts.items())])
    theta = gamma[0] / gamma[0].sum()
    order = np.argsort(-theta)
    return {"model_id": model_row["id"], "topics": [[int(k), round(float(theta[k]), 5)] for k in order],
            "terms_used": int(sum(counts.values())), "terms_total": len(terms)}


MAX_LABEL = 200


def check_topic(topic, K):
    """A topic number of a K-topic model, from an int or a string."""
    try:
        topic = int(topic)
    except (TypeError, ValueError):
        raise InvalidInput(f"topics are whole numbers 0..{K - 1}, not {str(topic)[:50]!r}")
    if not 0 <= topic < K:
        raise InvalidInput(f"topics are 0..{K - 1}, not {topic}")
    return topic


def set_labels(config, model_id, labels):
    """Give topics names a person chose: ``{topic: label}``; an empty label removes one."""
    _, model = registry.get_model(config, model_id)
    if model["kind"] != "lda":
        raise InvalidInput(f"model {model['id']} is a {model['kind']} model; only LDA topics have labels")
    if not isinstance(labels, dict):
        raise InvalidInput('send {"labels": {"<topic>": "<label>", ...}}')
    K = model["params"]["num_topics"]
    current = dict(model.get("labels") or {})
    for key, value in labels.items():
        k = check_topic(key, K)
        if value is None or (isinstance(value, str) and not value.strip()):
            current.pop(str(k), None)
            continue
        if not isinstance(value, str) or len(value) > MAX_LABEL:
            raise InvalidInput(f"a label is text of at most {MAX_LABEL} characters")
        current[str(k)] = " ".join(value.split())
    engine = store.get_engine(config.database_url)
    with store.write(engine) as conn:
        store.get_model(conn, model["id"])
        store.set_model_labels(conn, model["id"], current)
    return current
