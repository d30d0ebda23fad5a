"""Where terms stand in a text: tokenizing the stretches around a term's written forms finds
exactly the spans that tokenizing the whole text finds, on real posts (e-mail headers,
quotes, phrases) and real speeches, and the stored token counts agree with them."""

import numpy as np
import pytest

from textlatent.explore import spans
from textlatent.explore.inference import phrase_pairs, tokenizer_of
from textlatent.store import queries as db


def _corpus(store, name):
    with store.read() as conn:
        return db.get_corpus(conn, name)


def _terms_to_check(store, corpus, n_frequent=60, n_other=60):
    """The most frequent terms, phrases among them, and a spread of rarer ones."""
    with store.read() as conn:
        terms, df, _ = db.load_terms(conn, corpus["id"])
    order = np.argsort(-np.asarray(df), kind="stable")
    rng = np.random.default_rng(7)
    rare = rng.choice(order[n_frequent:np.count_nonzero(np.asarray(df) >= 3)], n_other, replace=False)
    phrases = [i for i in order if "_" in terms[i]][:20]
    return [(int(i), terms[i]) for i in list(order[:n_frequent]) + list(rare) + phrases]


def _whole_text(store, corpus, text, term):
    return [(a, b) for a, b, t in spans.term_spans(store, corpus, text) if t == term]


@pytest.mark.slow
@pytest.mark.parametrize("fixture, name, docs_per_term", [("trained", "news", 8), ("speeches", "speeches", 4)])
def test_stretches_around_the_forms_find_what_the_whole_text_does(request, fixture, name, docs_per_term):
    store = request.getfixturevalue(fixture)["config"]
    corpus = _corpus(store, name)
    tokenizer, pairs = tokenizer_of(corpus), phrase_pairs(store, corpus)
    assert pairs, "the fixture's corpus has phrases, so that their joins are checked too"
    checked = settled = found = 0
    blobs = [(p, np.frombuffer(b, dtype="<u4")) for p, b in db.iter_token_blobs(store, corpus["id"])]
    with store.read() as conn:
        texts = {d["position"]: d["text"] for d in db.get_documents(conn, corpus["id"], columns=("position", "text"))}
    for term_id, term in _terms_to_check(store, corpus):
        holding = [(p, int((ids == term_id).sum())) for p, ids in blobs if (ids == term_id).any()][:docs_per_term]
        assert holding, term
        for position, stored in holding:
            text = texts[position]
            whole = _whole_text(store, corpus, text, term)
            fast = spans._around_forms(tokenizer, pairs, text, term)
            checked += 1
            if fast is not None:
                settled += 1
                assert fast == whole, (term, position)
            assert spans.occurrences(store, corpus, text, term, expected=stored) == whole
            found += len(whole)
    # The stretches decide nearly every document: the whole text is the exception.
    assert checked > 300 and settled >= 0.95 * checked, (settled, checked)
    assert found > checked


def test_a_lemma_at_the_start_of_a_sentence_is_found_as_ingest_counts_it(speeches):
    """"Taxes" that opens a sentence is ``tax`` (looked up in lower case there), as the
    stored tokens have it; inside a sentence a capitalised word keeps its form."""
    store = speeches["config"]
    corpus = _corpus(store, "speeches")
    text = "We met. Taxes are high, and the Taxes Office knows it. Our taxes rose."
    assert [text[a:b] for a, b in spans.occurrences(store, corpus, text, "tax")] == ["Taxes", "taxes"]
    assert [text[a:b] for a, b in spans.occurrences(store, corpus, text, "taxes")] == ["Taxes"]
    assert tokenizer_of(corpus)([text])[0].count("tax") == 2
