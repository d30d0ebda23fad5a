"""c_npmi counted with numpy gives gensim's CoherenceModel figures: on random texts made to
hit every case of its sliding window (repeated words inside a window, texts shorter than
the window, empty texts) and on a trained model of real posts."""

import os

import numpy as np
import pytest
from gensim.corpora import Dictionary
from gensim.models import CoherenceModel

from textlatent.corpus import StoredCorpus
from textlatent.models.coherence import OrderedTokens, npmi_per_topic, window_counts
from textlatent.models.lda import lda_vocabulary
from textlatent.store import registry


def _ordered(tmp_path, texts, dictionary):
    ids = [np.array([dictionary.token2id[w] for w in t], dtype="<u4") for t in texts]
    path = tmp_path / "ordered.u4"
    path.write_bytes(b"".join(a.tobytes() for a in ids))
    indptr = np.concatenate([[0], np.cumsum([len(a) for a in ids])]).astype(np.int64)
    return OrderedTokens(str(path), indptr)


def _gensim(texts, dictionary, topics):
    return CoherenceModel(topics=topics, texts=texts, dictionary=dictionary, coherence="c_npmi", topn=len(topics[0]),
                          processes=1).get_coherence_per_topic()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_texts_give_gensims_figures(tmp_path, seed):
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(30)]
    # Few words, so that words repeat inside a window; lengths around the window's 10.
    texts = [[vocab[j] for j in rng.integers(0, 30 if i % 3 else 8, rng.integers(0, 25))] for i in range(300)]
    texts += [vocab[:], [], ["w1"]]
    dictionary = Dictionary(texts)
    topics = [list(rng.choice(vocab, 6, replace=False)) for _ in range(8)]
    tokens = _ordered(tmp_path, texts, dictionary)
    mine = npmi_per_topic(tokens, [[dictionary.token2id[w] for w in t] for t in topics], len(dictionary))
    assert np.allclose(mine, _gensim(texts, dictionary, topics), rtol=0, atol=1e-9)


def test_a_word_repeated_inside_the_window_counts_as_gensim_counts_it(tmp_path):
    """gensim marks a word absent once an occurrence leaves the window, though another is
    still inside: "a" is in windows 0 and 2..3 of this text, not in window 1."""
    text = ["a", "a"] + [f"x{i}" for i in range(9)] + ["a", "b"]
    dictionary = Dictionary([text])
    tokens = _ordered(tmp_path, [text], dictionary)
    occurrences, co, n = window_counts(tokens, [dictionary.token2id["a"], dictionary.token2id["b"]], len(dictionary))
    assert n == 4 and list(occurrences) == [3, 1] and co[0, 1] == 1


@pytest.mark.slow
def test_a_trained_models_topics_give_gensims_figures(trained, tmp_path):
    store = trained["config"]
    stored = StoredCorpus(store, "news")
    _, model = registry.get_model(store, trained["lda"])
    dictionary, remap = lda_vocabulary(stored, model["params"])
    topic_terms = np.load(os.path.join(registry.model_path(store, model), "topic_terms.npy"))
    ids = [list(np.argsort(-topic_terms[k])[:10]) for k in range(len(topic_terms))]
    tokens = OrderedTokens.build(stored, remap, str(tmp_path / "ordered"))
    mine = npmi_per_topic(tokens, ids, len(dictionary))
    want = _gensim(stored.texts(remap), dictionary, [[dictionary[i] for i in t] for t in ids])
    assert np.allclose(mine, want, rtol=0, atol=1e-9)
    assert model["metrics"]["coherence_c_npmi_per_topic"] == [round(x, 5) for x in mine]
