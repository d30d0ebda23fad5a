"""Inference on new text: a text's topic mixture under a stored LDA model, tokenized as its corpus was."""

import json
import os
import threading
from collections import Counter

import numpy as np

from ..errors import EmptyCorpus, InvalidInput, TooLarge
from ..ingest.phrases import apply_phrases
from ..ingest.tokenize import Tokenizer, TokenizerSettings
from ..store import queries as db
from ..store import registry
from . import lasting


@lasting.cache(4)
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


@lasting.cache(4)
def _tokenizer(settings_json):
    return Tokenizer(TokenizerSettings.from_dict(json.loads(settings_json)))


_pairs = {}
_pairs_lock = threading.Lock()


def _corpus_pairs(store, corpus):
    """The corpus's phrases as a set of pairs, read once per process and corpus version
    (294,702 phrases at 20 Newsgroups x10: 7 MB of JSON, 0.16 s to decode alone)."""
    key = (store.database_url, corpus["id"], str(corpus["created"]), corpus["version"])
    with _pairs_lock:
        hit = _pairs.get(key)
    if hit is None:
        with store.read() as conn:
            hit = frozenset(tuple(p) for p in db.get_phrases(conn, corpus["id"]) or [])
        with _pairs_lock:
            for old in [k for k in _pairs if k[:3] == key[:3]]:
                del _pairs[old]          # an older version of the same corpus
            if len(_pairs) >= 8:
                _pairs.clear()
            _pairs[key] = hit
        lasting.settle()
    return hit


def tokenizer_of(corpus):
    """The corpus's frozen tokenizer (one per settings and process)."""
    return _tokenizer(json.dumps(corpus["settings"], sort_keys=True))


def phrase_pairs(store, corpus):
    """The corpus's phrases as a frozenset of ``(a, b)`` pairs (see :func:`_corpus_pairs`)."""
    return _corpus_pairs(store, corpus)


def corpus_terms(store, corpus, text):
    """Tokenize ``text`` exactly as the corpus was: same settings, same phrases."""
    tokens = _tokenizer(json.dumps(corpus["settings"], sort_keys=True))([text])[0]
    pairs = _corpus_pairs(store, corpus)
    return apply_phrases(tokens, pairs) if pairs else tokens


MAX_INFER_CHARS = 200_000


def infer(store, corpus_name, text, model_id=None):
    """Topic mixture of a new text: ``{"topics": [[k, weight]...] (all K, by weight), "terms_used"}``."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("give some text to infer topics for")
    if len(text) > MAX_INFER_CHARS:
        # Tokenizing is CPU-bound and holds the GIL: a web request stays near 0.3 s of CPU.
        raise TooLarge(f"the text has {len(text):,} characters; topics are inferred for at most "
                       f"{MAX_INFER_CHARS:,} (split a longer text, or ingest it)")
    corpus, model_row = registry.find_model(store, corpus_name, model_id, kind="lda")
    model, index = _lda_for_inference(registry.model_path(store, model_row))
    terms = corpus_terms(store, corpus, text)
    counts = Counter(index[t] for t in terms if t in index)
    if not counts:
        raise EmptyCorpus("none of the text's words is in the model's vocabulary")
    gamma, _ = model.inference([sorted(counts.items())])
    theta = gamma[0] / gamma[0].sum()
    order = np.argsort(-theta)
    return {"model_id": model_row["id"], "topics": [[int(k), round(float(theta[k]), 5)] for k in order],
            "terms_used": int(sum(counts.values())), "terms_total": len(terms)}


