"""2-D maps on real vectors: the 20 Newsgroups subset's Word2Vec and LDA models."""

import numpy as np
import pytest

from textlatent.store import registry
from textlatent.errors import InvalidInput, MapNotFound
from textlatent.explore import knn as knn_lib
from textlatent.explore.maps import list_maps, make_map, read_map


def _model(trained, key):
    return registry.get_model(trained["config"], trained[key])[1]


def _vocabulary(trained):
    return _model(trained, "w2v")["metrics"]["vocabulary"]


def test_word_map_has_one_finite_point_per_word_and_is_stored(trained):
    meta = make_map(trained["config"], trained["w2v"], "words", {"method": "pca"})
    stored, arrays = read_map(trained["config"], _model(trained, "w2v"), "words", "pca")
    coords = np.asarray(arrays["coords"])
    assert coords.shape == (_vocabulary(trained), 2) and np.isfinite(coords).all()
    assert stored["n"] == meta["n"] == _vocabulary(trained) and stored["method"] == "pca"
    assert coords[:, 0].std() > 0 and coords[:, 1].std() > 0
    f = stored["faithfulness"]
    assert f["k"] == 10 and 0 < f["neighbours_kept"] < 1 and 0.5 < f["trustworthiness"] <= 1
    assert f["trustworthiness_sample"] == 2000


def test_document_maps_by_topics_and_by_vectors(trained):
    n = trained["summary"].documents
    make_map(trained["config"], trained["lda"], "documents", {"method": "pca"})
    make_map(trained["config"], trained["w2v"], "documents", {"method": "pca"})
    by_topics, a = read_map(trained["config"], _model(trained, "lda"), "documents")
    by_vectors, b = read_map(trained["config"], _model(trained, "w2v"), "documents", "pca")
    assert by_topics["by"] == "topics" and by_topics["metric"] == "euclidean" and by_topics["dimensions"] == 4
    assert by_vectors["by"] == "vectors" and by_vectors["dimensions"] == 100
    for arrays in (a, b):
        assert arrays["coords"].shape == (n, 2) and np.isfinite(arrays["coords"]).all()
    vectors = np.asarray(b["vectors"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)


def test_remaking_a_map_replaces_it_whole(trained):
    config = trained["config"]
    first = make_map(config, trained["w2v"], "words", {"method": "pca"})
    second = make_map(config, trained["w2v"], "words", {"method": "pca", "seed": 2})
    meta, _ = read_map(config, _model(trained, "w2v"), "words", "pca")
    assert meta["files"] == second["files"] != first["files"]
    folder = registry.model_path(config, _model(trained, "w2v"), "maps")
    import os
    assert not any(f in os.listdir(folder) for f in first["files"].values())
    assert [m["method"] for m in list_maps(config, _model(trained, "w2v")) if m["what"] == "words"].count("pca") == 1


def test_a_model_without_a_map_and_a_words_map_of_lda_are_refused(trained_copy):
    trained = trained_copy
    from textlatent.models import train_word2vec
    fresh = train_word2vec(trained["config"], "news", {"epochs": 1, "vector_size": 10, "workers": 1})
    with pytest.raises(MapNotFound, match="no words map yet: make one with `textlatent map"):
        read_map(trained["config"], registry.get_model(trained["config"], fresh)[1], "words")
    with pytest.raises(InvalidInput, match="LDA model"):
        make_map(trained["config"], trained["lda"], "words", {"method": "pca"})
    with pytest.raises(InvalidInput, match="method"):
        make_map(trained["config"], trained["w2v"], "words", {"method": "mds"})


def test_the_neighbour_forest_finds_the_exact_neighbours_of_word_vectors(trained, monkeypatch):
    from textlatent.explore.words import load_vectors
    unit = np.asarray(load_vectors(trained["config"], _model(trained, "w2v")).unit)
    exact, sims = knn_lib.knn(unit, 11)
    assert (exact[:, 0] == np.arange(len(unit))).all() and (np.diff(sims, axis=1) <= 1e-6).all()
    brute = np.argsort(-(unit[:50] @ unit.T), axis=1)[:, :11]
    assert knn_lib.neighbours_kept(brute, exact[:50]) > 0.99
    monkeypatch.setattr(knn_lib, "EXACT_MAX", 100)
    approx, _ = knn_lib.knn(unit, 11, seed=3)
    assert knn_lib.neighbours_kept(exact, approx) > 0.9
    again, _ = knn_lib.knn(unit, 11, seed=3)
    assert np.array_equal(approx, again)


@pytest.mark.slow
def test_umap_word_map_keeps_more_neighbours_than_pca(trained):
    config = trained["config"]
    pca = make_map(config, trained["w2v"], "words", {"method": "pca"})
    umap = make_map(config, trained["w2v"], "words", {"method": "umap", "seed": 5})
    _, first = read_map(config, _model(trained, "w2v"), "words", "umap")
    first = np.array(first["coords"])
    assert np.isfinite(first).all() and first.shape == (_vocabulary(trained), 2)
    # A Word2Vec of 1,200 posts has weak neighbourhoods (both figures are low: 0.107 and
    # 0.086 here); UMAP still keeps a fifth more of them than PCA.
    assert umap["faithfulness"]["neighbours_kept"] > 1.2 * pca["faithfulness"]["neighbours_kept"]


@pytest.mark.slow
def test_umap_and_tsne_document_maps_keep_topic_neighbourhoods_and_repeat_for_a_seed(trained):
    config = trained["config"]
    pca = make_map(config, trained["lda"], "documents", {"method": "pca"})
    for method in ("umap", "tsne"):
        meta = make_map(config, trained["lda"], "documents", {"method": method})
        _, arrays = read_map(config, _model(trained, "lda"), "documents", method)
        assert np.isfinite(arrays["coords"]).all() and len(arrays["coords"]) == trained["summary"].documents
        assert meta["faithfulness"]["neighbours_kept"] > pca["faithfulness"]["neighbours_kept"], method
        first = np.array(arrays["coords"])
        make_map(config, trained["lda"], "documents", {"method": method})     # the same seed: the same map
        _, again = read_map(config, _model(trained, "lda"), "documents", method)
        assert np.array_equal(first, np.asarray(again["coords"])), method


def test_stored_document_neighbours_are_the_nearest_by_vectors(trained, tmp_path, monkeypatch):
    """Each document's neighbours stored beside a Word2Vec model: nearest first, itself
    left out, and above the exact search's size nine in ten of the exact ones."""
    import shutil

    from textlatent.explore import similarity
    folder = registry.model_path(trained["config"], _model(trained, "w2v"))
    shutil.copy(f"{folder}/{similarity.DOC_VECTORS}", tmp_path)
    vectors = np.load(tmp_path / similarity.DOC_VECTORS)
    vectors[7] = 0                 # a document with no word of the vocabulary has none
    np.save(tmp_path / similarity.DOC_VECTORS, vectors)
    monkeypatch.setattr(knn_lib, "EXACT_MAX", 100)      # 1,200 documents: the forest
    similarity.prepare_doc_neighbours(str(tmp_path), k=10)
    idx = np.load(tmp_path / similarity.NEIGHBOURS)
    sims = np.load(tmp_path / similarity.NEIGHBOUR_SIMS)
    assert idx.shape == (len(vectors), 10) and (idx[7] == -1).all()
    rows = np.array([i for i in range(len(vectors)) if i != 7])
    assert not (idx[rows] == rows[:, None]).any() and (idx[rows] != 7).all()
    assert np.allclose(sims[rows], np.einsum("ij,ikj->ik", vectors[rows], vectors[idx[rows]]), atol=1e-5)
    assert (np.diff(sims[rows], axis=1) <= 1e-6).all()
    cos = vectors[rows] @ vectors.T
    cos[np.arange(len(rows)), rows] = -np.inf
    cos[:, 7] = -np.inf
    exact = np.argsort(-cos, axis=1, kind="stable")[:, :10]
    with_self = np.concatenate([rows[:, None], exact], 1)
    assert knn_lib.neighbours_kept(with_self, np.concatenate([rows[:, None], idx[rows]], 1)) > 0.9
