"""The writer's numpy encoder against the rule it replaces, written out here per token:
phrases joined left to right (``apply_phrases``), then each term's id from the corpus's
vocabulary, a new term taking the next id at its first occurrence, and the counts."""

import random

import numpy as np

from textlatent.ingest.encode import Encoder
from textlatent.ingest.phrases import apply_phrases
from textlatent.ingest.writer import _Vocabulary


def reference(old_terms, docs, pairs):
    """``(term ids per document, terms, df, cf, first)`` by the per-token rule (``first``:
    each new term's first document)."""
    terms = list(old_terms)
    index = {t: i for i, t in enumerate(terms)}
    df, cf, first = [0] * len(terms), [0] * len(terms), []
    out = []
    for position, tokens in enumerate(docs):
        ids = []
        for tok in apply_phrases(tokens, pairs):
            if tok not in index:
                index[tok] = len(terms)
                terms.append(tok)
                df.append(0)
                cf.append(0)
                first.append(position)
            ids.append(index[tok])
        for i in set(ids):
            df[i] += 1
        for i in ids:
            cf[i] += 1
        out.append(ids)
    return out, terms, df, cf, first


def encoded(old_terms, docs, pairs, batch):
    vocab = _Vocabulary(list(old_terms), [0] * len(old_terms), [0] * len(old_terms))
    enc = Encoder(vocab, pairs)
    out = []
    for start in range(0, len(docs), batch):
        chunk = docs[start:start + batch]
        if start % 2:      # as a shard stores them: local ids into the shard's own word list
            words = sorted({w for d in chunk for w in d})
            local = {w: i for i, w in enumerate(words)}
            mapped = enc.word_ids(words)
            ids = [mapped[np.array([local[w] for w in d])] for d in chunk]
        else:
            ids = [enc.word_ids(d) for d in chunk]
        out += [a.tolist() for a in enc.encode(ids, range(start, start + len(chunk)))]
    df, cf, changed = enc.counts()
    return out, vocab.terms, df, cf, changed, enc.first_positions()


def test_the_encoder_joins_phrases_and_numbers_terms_as_the_per_token_rule():
    rng = random.Random(7)
    words = [f"w{i}" for i in range(30)] + ["a", "b", "c", "a_b"]
    pairs = {("a", "b"), ("b", "c"), ("c", "a"), ("b", "b"), ("w1", "w2"), ("w2", "w1"), ("zz", "yy")}
    for trial in range(200):
        docs = [[rng.choice(words[:8] + ["a", "b", "c"] * 3 + (["a_b"] if trial % 3 == 0 else []))
                 for _ in range(rng.randint(1, 12))] for _ in range(rng.randint(1, 40))]
        old = rng.sample(words, rng.randint(0, 10)) + (["a_b", "b_c"] if trial % 4 == 0 else [])
        old = list(dict.fromkeys(old))
        ids, terms, df, cf, first = reference(old, docs, pairs)
        got_ids, got_terms, got_df, got_cf, changed, got_first = encoded(old, docs, pairs, batch=rng.randint(1, 15))
        assert got_terms == terms and got_ids == ids, (old, docs)
        assert got_df == df and got_cf == cf and got_first == first
        assert changed == [i for i in range(len(old)) if df[i] or cf[i]]


def test_runs_of_pairs_join_left_to_right_and_never_across_documents():
    pairs = {("a", "b"), ("b", "c")}
    vocab = _Vocabulary([], [], [])
    enc = Encoder(vocab, pairs)
    docs = [["a", "b", "c"], ["b", "c", "b", "c"], ["a"], ["b", "x"], ["a", "b", "a", "b", "c"]]
    out = enc.encode([enc.word_ids(d) for d in docs], range(len(docs)))
    assert [[vocab.terms[i] for i in d] for d in out] == [
        ["a_b", "c"], ["b_c", "b_c"], ["a"], ["b", "x"], ["a_b", "a_b", "c"]]
    # "a" ending document 3 and "b" starting document 4 do not join


def test_each_new_term_notes_its_first_document_whatever_order_the_batches_come_in():
    """A sharded ingest encodes its shards as they finish: a term's first document is the
    lowest position holding it, not the first encoded."""
    vocab = _Vocabulary(["old"], [1], [1])
    enc = Encoder(vocab, set())
    late = [["x", "y", "old"], ["x"]]          # positions 11, 10
    early = [["z"], ["y", "z"], ["old"]]       # positions 3, 4, 5
    enc.encode([enc.word_ids(d) for d in late], [11, 10])
    enc.encode([enc.word_ids(d) for d in early], [3, 4, 5])
    first = dict(zip(vocab.terms[1:], enc.first_positions()))
    assert first == {"x": 10, "y": 4, "z": 3}
