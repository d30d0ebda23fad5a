"""LDA: stored views, quality on labelled real text, reproducibility, inference, errors."""

import os

import numpy as np
import pytest

from textlatent.corpus import StoredCorpus
from textlatent.errors import CorpusNotFound, EmptyCorpus, InvalidInput, ModelNotFound
from textlatent.ingest import ingest
from textlatent.explore.inference import infer
from textlatent.explore.topics import corpus_topics, model_arrays, topic_documents
from textlatent.ingest.stoplists import SMART_EN, stoplist
from textlatent.models.lda import lda_vocabulary, train_lda, validate_lda
from textlatent.store import registry

from .conftest import SAMPLE


def test_trained_model_has_its_views_and_figures(trained):
    config = trained["config"]
    corpus, model = registry.find_model(config, "news", kind="lda")
    assert model["id"] == trained["lda"]
    a = model_arrays(config, model)
    theta, tt = np.asarray(a["doc_topics"]), np.asarray(a["topic_terms"])
    assert theta.shape == (corpus["n_docs"], 4) and tt.shape == (4, len(a["vocab"]))
    assert np.allclose(theta.sum(axis=1), 1, atol=1e-4) and np.allclose(tt.sum(axis=1), 1, atol=1e-4)
    m = model["metrics"]
    for key in ("coherence_c_npmi", "coherence_u_mass", "perplexity", "log_perplexity", "nmi_labels"):
        assert m[key] is not None
    assert len(m["coherence_c_npmi_per_topic"]) == 4
    assert model["params"]["num_topics"] == 4 and model["seed"] == 3
    assert model["params"]["no_above"] == pytest.approx(1.4 / 4)    # auto, as used
    assert set(model["versions"]) >= {"gensim", "spacy", "numpy", "textlatent"}
    assert len(model["fingerprint"]) == 64


def test_topics_on_four_newsgroups_are_interpretable(trained):
    """Four clearly separate groups: each group's words lead one topic, and the dominant
    topic agrees with the group labels far beyond chance."""
    config = trained["config"]
    _, model = registry.find_model(config, "news", kind="lda")
    assert model["metrics"]["nmi_labels"] > 0.4     # chance is about 0
    rows = corpus_topics(config, "news", topn=15)["topics"]
    tops = [{t for t, _ in r["terms"]} for r in rows]
    for marker in ("hockey", "space", "gun", "image"):
        assert sum(marker in t for t in tops) == 1, (marker, tops)


def test_pyldavis_data_keeps_the_model_topic_numbers(trained):
    import json
    config = trained["config"]
    _, model = registry.find_model(config, "news", kind="lda")
    with open(registry.model_path(config, model, "ldavis.json")) as fh:
        vis = json.load(fh)
    assert vis["topic.order"] == [0, 1, 2, 3]       # not re-sorted by pyLDAvis
    assert vis["mdsDat"]["topics"] == [0, 1, 2, 3]  # numbered as the model numbers them
    a = model_arrays(config, model)
    # The topic pyLDAvis lists first for topic 0 is the model's own top term of topic 0.
    tinfo = vis["tinfo"]
    first = [t for t, cat in zip(tinfo["Term"], tinfo["Category"]) if cat == "Topic0"]
    top0 = a["vocab"][int(np.argmax(a["topic_terms"][0]))]
    assert top0 in first


@pytest.mark.slow
def test_same_seed_and_one_worker_give_the_same_topics(config):
    ingest(config, "inaug", [str(SAMPLE / "inaugural")])
    params = {"num_topics": 3, "passes": 2, "workers": 1, "seed": 11, "no_below": 2}
    a, b = train_lda(config, "inaug", params), train_lda(config, "inaug", params)
    c = train_lda(config, "inaug", dict(params, seed=12))
    arrays = [np.asarray(model_arrays(config, registry.find_model(config, "inaug", m)[1])["topic_terms"])
              for m in (a, b, c)]
    assert np.array_equal(arrays[0], arrays[1])
    assert not np.array_equal(arrays[0], arrays[2])
    # The newest model is the default.
    assert registry.find_model(config, "inaug", kind="lda")[1]["id"] == c


def test_infer_and_topic_documents(trained):
    config = trained["config"]
    r = infer(config, "news", "The goalie stopped the puck and the Rangers won the hockey game in overtime")
    assert len(r["topics"]) == 4 and abs(sum(w for _, w in r["topics"]) - 1) < 1e-3
    _, model = registry.find_model(config, "news", kind="lda")
    rows = corpus_topics(config, "news", topn=10)["topics"]
    hockey = next(t["topic"] for t in rows if "hockey" in {w for w, _ in t["terms"]})
    assert r["topics"][0][0] == hockey and r["topics"][0][1] > 0.5
    docs = topic_documents(config, model, hockey, limit=5)
    assert len(docs) == 5 and [d["weight"] for d in docs] == sorted((d["weight"] for d in docs), reverse=True)
    assert sum(d["label"] == "rec.sport.hockey" for d in docs) >= 4


@pytest.mark.parametrize("params, message", [
    ({"num_topics": 0}, "num_topics"), ({"num_topics": -3}, "num_topics"), ({"num_topics": "ten"}, "num_topics"),
    ({"num_topics": 2.5}, "num_topics"), ({"num_topics": 5000}, "num_topics"), ({"passes": 0}, "passes"),
    ({"alpha": "sometimes"}, "alpha"), ({"chunksize": -1}, "chunksize"), ({"bogus": 1}, "unknown parameter"),
    ({"init": "spectral"}, "init"), ({"shuffle": "maybe"}, "shuffle must be true or false"),
    ({"stoplist": "nltk"}, "stoplist"),
])
def test_bad_parameters_are_refused_before_training(trained, params, message):
    with pytest.raises(InvalidInput, match=message):
        train_lda(trained["config"], "news", params)


def test_more_topics_than_documents_and_over_filtered_vocabulary(config, tmp_path):
    ingest(config, "tiny", [str(SAMPLE / "inaugural" / "1789-Washington.txt"),
                            str(SAMPLE / "inaugural" / "1793-Washington.txt")])
    with pytest.raises(InvalidInput, match="cannot exceed the number of documents"):
        train_lda(config, "tiny", {"num_topics": 3})
    with pytest.raises(EmptyCorpus, match="no terms are left"):
        train_lda(config, "tiny", {"num_topics": 2, "no_below": 5})


def test_far_too_many_topics_are_refused_before_training_with_the_reason(config):
    from textlatent import jobs
    ingest(config, "inaug", [str(SAMPLE / "inaugural")])
    with pytest.raises(InvalidInput, match=r"num_topics \(500\) cannot exceed the number of documents \(59\)"):
        train_lda(config, "inaug", {"num_topics": 500})
    # 50 topics fit 59 documents, not the few terms in at least 40 of them
    params = {"num_topics": 50, "no_below": 40, "no_above": 1.0}
    terms = len(lda_vocabulary(StoredCorpus(config, "inaug"), validate_lda(params))[0])
    assert terms < 50 * 3
    with pytest.raises(InvalidInput, match=rf"far too many for the vocabulary: {terms} terms .* at most {terms // 3} "):
        jobs.submit(config, "lda", "inaug", params)
    assert jobs.list_jobs(config) == [] and registry.list_models(config, "inaug") == []


@pytest.mark.slow
def test_pyldavis_scaling_of_nearly_identical_topics_is_real():
    """Many topics left at the prior (far more topics than a corpus holds) are nearly the
    same; pyLDAvis's PCoA (``eig`` of a matrix symmetric only up to rounding) made complex
    coordinates of them, and the model's views failed to save as JSON."""
    import json

    from pyLDAvis._prepare import js_PCoA

    from textlatent.models.ldavis import prepare_ldavis, topic_coordinates
    rng = np.random.default_rng(0)
    K, V = 40, 300
    tt = np.tile(rng.dirichlet(np.ones(V)), (K, 1)) + rng.random((K, V)) * 1e-9
    tt[:3] = rng.dirichlet(np.ones(V), 3)
    tt /= tt.sum(axis=1, keepdims=True)
    assert np.iscomplexobj(js_PCoA(tt))                       # the case that broke
    xy = topic_coordinates(tt)
    assert xy.shape == (K, 2) and xy.dtype == np.float64 and np.isfinite(xy).all()
    theta = rng.dirichlet(np.ones(K), 50).astype(np.float32)
    data = json.loads(prepare_ldavis(tt.astype(np.float32), theta, np.full(50, 100), [f"w{i}" for i in range(V)],
                                     np.full(V, 10)))
    assert len(data["mdsDat"]["x"]) == K
    # On distinct topics the coordinates are pyLDAvis's own (up to each axis's sign).
    distinct = rng.dirichlet(np.ones(V) * 0.1, 12)
    assert np.allclose(np.abs(topic_coordinates(distinct)), np.abs(js_PCoA(distinct).real), atol=1e-6)


@pytest.mark.slow
def test_a_view_that_fails_keeps_the_model_and_says_why(config, monkeypatch):
    from textlatent.models import lda_views as lib
    from web import create_app

    def broken(*args):
        raise TypeError("Object of type complex128 is not JSON serializable")
    monkeypatch.setattr(lib, "write_ldavis", broken)
    ingest(config, "inaug", [str(SAMPLE / "inaugural")])
    model_id = train_lda(config, "inaug", {"num_topics": 3, "passes": 2, "no_below": 2})
    _, model = registry.get_model(config, model_id)
    assert "complex128" in model["metrics"]["view_errors"]["ldavis"]
    assert model["metrics"]["coherence_c_npmi"] is not None and len(corpus_topics(config, "inaug")["topics"]) == 3
    client = create_app(config).test_client()
    r = client.get(f"/api/v1/models/{model_id}/ldavis.json")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "view_unavailable"
    assert "complex128" in r.get_json()["error"]["message"]
    page = client.get(f"/models/{model_id}/topics")
    assert page.status_code == 200 and b"could not be computed" in page.data and b'id="ldavis"' not in page.data


def test_the_stop_list_leaves_the_lda_vocabulary_not_the_corpus(trained):
    config = trained["config"]
    _, model = registry.find_model(config, "news", kind="lda")
    assert model["params"]["stoplist"] == "auto"
    stored = StoredCorpus(config, "news")
    frequent = {t for t, df in zip(stored.terms, stored.df) if df >= 20}
    stopped = frequent & SMART_EN          # "thank", "believe", "help", "new"... are stored tokens
    assert len(stopped) >= 20, stopped
    vocab = set(model_arrays(config, model)["vocab"])
    assert not vocab & SMART_EN
    p = validate_lda({"num_topics": 4, "stoplist": "none"})
    unfiltered, _ = lda_vocabulary(stored, p)
    assert len(set(unfiltered.token2id) & SMART_EN) >= 20
    # A model trained before the stop list existed records no stoplist: it had none.
    older = {k: v for k, v in p.items() if k != "stoplist"}
    assert lda_vocabulary(stored, older)[0].token2id == unfiltered.token2id
    # auto means the SMART list for English only; smart asks for it whatever the language.
    assert stoplist("auto", "en") is SMART_EN and stoplist("smart", "de") is SMART_EN
    assert not stoplist("auto", "de") and not stoplist("none", "en")


def test_unknown_corpus_and_model(trained):
    with pytest.raises(CorpusNotFound, match="Known corpora: news"):
        corpus_topics(trained["config"], "nope")
    with pytest.raises(ModelNotFound):
        corpus_topics(trained["config"], "news", model_id=999)
    with pytest.raises(ModelNotFound):      # a Word2Vec model is not an LDA model
        corpus_topics(trained["config"], "news", model_id=trained["w2v"])


def test_bow_matrix_rows_are_the_filtered_counts_in_any_order(trained, tmp_path):
    from textlatent.corpus import StoredCorpus
    stored = StoredCorpus(trained["config"], "news")
    dictionary, remap = stored.dictionary(5, 0.2, 2000)
    matrix = stored.bow_matrix(remap, str(tmp_path / "bow"))
    texts = list(stored.texts(remap))
    assert len(matrix) == len(texts) == stored.num_docs
    expected = [dictionary.doc2bow(t) for t in texts]
    assert list(matrix) == expected
    order = np.random.RandomState(0).permutation(len(matrix))
    view = matrix.ordered(order)
    assert list(view) == [expected[i] for i in order] and list(view) == list(view)   # re-iterable
    assert matrix.lengths().tolist() == [len(t) for t in texts]
    freq = matrix.term_freq(len(dictionary))
    assert freq.sum() == sum(map(len, texts)) and freq[dictionary.token2id["hockey"]] == \
        sum(t.count("hockey") for t in texts)


def test_kmeans_start_finds_the_groups(trained, tmp_path):
    """The k-means clusters the training starts from already follow the four groups."""
    from textlatent.corpus import StoredCorpus
    from textlatent.models.kmeans import _tfidf, initial_topics, spherical_kmeans
    from textlatent.models.quality import nmi
    from textlatent.store.queries import iter_documents
    stored = StoredCorpus(trained["config"], "news")
    dictionary, remap = stored.dictionary(5, 0.2, 20000)
    matrix = stored.bow_matrix(remap, str(tmp_path / "bow"))
    labels = [d["label"] for d in iter_documents(stored.store, stored.id, ("position", "label"))]
    X = _tfidf(matrix.csr(np.arange(len(matrix)), len(dictionary)))
    objective, assign = spherical_kmeans(X, 4, np.random.RandomState(1), 20)
    assert nmi(labels, assign.tolist()) > 0.35       # chance: about 0
    # The objective is the rows' summed cosine to their centres; a random split scores lower.

    def tightness(a):
        centres = np.vstack([np.asarray(X[a == c].sum(axis=0)) for c in range(4)])
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        return float(np.asarray(X @ centres.T)[np.arange(X.shape[0]), a].sum())
    assert np.isclose(objective, tightness(assign))
    assert tightness(np.random.RandomState(2).randint(4, size=X.shape[0])) < 0.8 * objective
    start = initial_topics(matrix, len(dictionary), 4, seed=1)
    assert start.shape == (4, len(dictionary))
    # Each cluster's counts add up to the corpus's counts: a full-corpus E-step's scale.
    assert np.isclose(start.sum(), matrix.term_freq(len(dictionary)).sum())
    # Sampled: scaled to the corpus; too few documents for the topics: no start.
    sampled = initial_topics(matrix, len(dictionary), 4, seed=1, sample=600)
    assert abs(sampled.sum() / start.sum() - 1) < 0.1
    assert initial_topics(matrix, len(dictionary), len(matrix) + 1, seed=1) is None


def test_kmeans_start_counts_documents_by_their_tokens():
    """LDA explains tokens, so the start weighs each document by its length: 300 short
    documents of one kind do not take the clusters that 40 long documents of two other
    kinds need. Counted once each, the short ones are split and the long ones merged."""
    import scipy.sparse as sp
    from textlatent.models.kmeans import _tfidf, initial_topics, spherical_kmeans

    rng = np.random.RandomState(0)
    short = [rng.choice(6, 2, replace=False) for _ in range(300)]           # terms 0-5, 2 tokens each
    long_ = [20 + rng.choice(20, 60) for _ in range(20)] + [40 + rng.choice(20, 60) for _ in range(20)]
    docs = [np.bincount(d, minlength=60) for d in short + long_]
    counts = sp.csr_matrix(np.vstack(docs).astype(np.float64))
    kind = np.array([0] * 300 + [1] * 20 + [2] * 20)

    def separates_long_kinds(assign):
        return set(assign[kind == 1]).isdisjoint(assign[kind == 2])

    X = _tfidf(counts)
    lengths = np.asarray(counts.sum(axis=1)).ravel()
    _, by_count = spherical_kmeans(X, 3, np.random.RandomState(1), 50)
    _, by_tokens = spherical_kmeans(X, 3, np.random.RandomState(1), 50, lengths / lengths.mean())
    assert not separates_long_kinds(by_count)
    assert separates_long_kinds(by_tokens)

    class Rows:                       # the part of a BowMatrix the start reads
        def __len__(self):
            return counts.shape[0]

        def csr(self, rows, num_terms):
            return counts[rows]
    start = initial_topics(Rows(), 60, 3, seed=1)
    # One topic each for the long kinds' terms (20-39, 40-59), one for the short ones'.
    owner = start.argmax(axis=0)
    assert len({*owner[:6]}) == 1 and len({*owner[20:40]}) == 1 and len({*owner[40:]}) == 1
    assert len({owner[0], owner[20], owner[40]}) == 3


@pytest.mark.slow
def test_start_and_order_are_parameters_with_reproducible_effects(config):
    ingest(config, "inaug", [str(SAMPLE / "inaugural")])
    base = {"num_topics": 3, "passes": 2, "workers": 1, "seed": 11, "no_below": 2}
    ids = {name: train_lda(config, "inaug", dict(base, **extra)) for name, extra in
           {"kmeans": {}, "again": {}, "random": {"init": "random"}, "ordered": {"shuffle": False},
            "once": {"start_weight": "documents"}}.items()}
    tt = {name: np.asarray(model_arrays(config, registry.find_model(config, "inaug", m)[1])["topic_terms"])
          for name, m in ids.items()}
    assert np.array_equal(tt["kmeans"], tt["again"])
    for other in ("random", "ordered", "once"):
        assert not np.allclose(tt["kmeans"], tt[other]), other
    _, model = registry.find_model(config, "inaug", ids["random"])
    assert model["params"]["init"] == "random" and model["params"]["shuffle"] is True
    assert model["params"]["start_weight"] == "tokens" and "start_weight" in model["params"]["auto"]
    _, model = registry.find_model(config, "inaug", ids["once"])
    assert model["params"]["start_weight"] == "documents" and "start_weight" not in model["params"]["auto"]
    # The bag-of-words files used for training are not kept with the model.
    assert not os.path.exists(registry.model_path(config, model, "bow"))


@pytest.mark.slow
def test_progress_counts_the_documents_of_each_pass_to_its_end(config):
    import re
    ingest(config, "inaug", [str(SAMPLE / "inaugural")])
    seen = []
    train_lda(config, "inaug", {"num_topics": 2, "passes": 3, "workers": 1, "chunksize": 16, "no_below": 2},
              progress=lambda done, total, message: seen.append((done, total, message)))
    n = StoredCorpus(config, "inaug").num_docs
    for p in (1, 2, 3):
        counts = [int(m.group(1).replace(",", "")) for _, _, msg in seen
                  if (m := re.match(rf"LDA pass {p} of 3: ([\d,]+) of {n:,} documents", msg))]
        assert counts == sorted(counts) and counts[0] == 0 and counts[-1] == n, (p, counts)
    training = [(d, t) for d, t, msg in seen if msg.startswith("LDA pass")]
    assert [d for d, _ in training] == sorted(d for d, _ in training) and training[-1] == (3 * n, 3 * n)


@pytest.mark.slow
def test_nmi_is_measured_only_against_labels_that_look_like_classes(config, trained, tmp_path):
    import json
    from textlatent.ingest import ReadOptions
    m = registry.find_model(trained["config"], "news", kind="lda")[1]["metrics"]
    assert m["nmi_classes"] == 4 and m["nmi_field"] == "label"
    path = tmp_path / "own-labels.jsonl"
    with open(path, "w") as fh:        # a label per document (a title, an id): not classes
        for f in sorted((SAMPLE / "inaugural").iterdir()):
            fh.write(json.dumps({"text": f.read_text(), "label": f.stem}) + "\n")
    ingest(config, "own", [str(path)], ReadOptions(label_field="label"))
    model_id = train_lda(config, "own", {"num_topics": 2, "passes": 1, "workers": 1, "no_below": 2})
    metrics = registry.find_model(config, "own", model_id)[1]["metrics"]
    assert "nmi_labels" not in metrics and metrics["coherence_c_npmi"] is not None
