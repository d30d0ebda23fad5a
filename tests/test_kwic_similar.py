"""Words in context and similar documents: KWIC lines hold the word's forms, similar
documents follow a Hellinger (or cosine) ranking computed here, and the document page
colours words by their topic."""

import json
import os
import re

import numpy as np
import pytest
from click.testing import CliRunner

from textlatent.cli import cli
from textlatent.errors import InvalidInput, WordNotFound
from textlatent.explore.inference import corpus_terms
from textlatent.explore import kwic as kwic_module
from textlatent.explore.kwic import kwic
from textlatent.explore.similarity import similar_documents, similar_to_text
from textlatent.explore.topics import model_arrays
from textlatent.store import queries as db
from textlatent.store import registry
from web import create_app


def _corpus(store, name):
    with store.read() as conn:
        return db.get_corpus(conn, name)


def _all_lines(store, name, word, limit=50):
    lines, offset = [], 0
    while True:
        r = kwic(store, name, word, limit=limit, offset=offset)
        lines += r["lines"]
        offset += limit
        if len(r["lines"]) < limit:
            return r, lines


def _first_documents(store, corpus_id):
    """Each term's first document, read from the token streams."""
    first = {}
    for position, blob in db.iter_token_blobs(store, corpus_id):
        for t in np.unique(np.frombuffer(blob, dtype="<u4")).tolist():
            first.setdefault(t, position)
    return first


def _stored_first(store, corpus_id):
    with store.read() as conn:
        return dict(conn.exec_driver_sql("SELECT id, first_position FROM tl_terms WHERE corpus_id = ?",
                                         (corpus_id,)).all())


def test_kwic_reads_the_token_streams_from_a_terms_first_document_to_its_last(speeches, monkeypatch):
    store = speeches["config"]
    corpus = _corpus(store, "speeches")
    first = _first_documents(store, corpus["id"])
    assert _stored_first(store, corpus["id"]) == first
    with store.read() as conn:
        terms, df, _ = db.load_terms(conn, corpus["id"])
    last = {}
    for position, blob in db.iter_token_blobs(store, corpus["id"]):
        for t in np.unique(np.frombuffer(blob, dtype="<u4")).tolist():
            last[t] = position
    # a word of a few documents only, none early or late, and one of most documents
    rare = max((t for t in range(len(terms)) if 2 <= df[t] <= 3 and terms[t].isalpha()
                and last[t] < corpus["n_docs"] - 20), key=lambda t: (first[t], t))
    common = max(range(len(terms)), key=lambda t: (df[t], t))
    assert first[rare] > 40
    read = []
    real = db.iter_token_batches

    def counting(*args, **kwargs):
        for rows in real(*args, **kwargs):
            read.append([p for p, _ in rows])
            yield rows
    monkeypatch.setattr(db, "iter_token_batches", counting)
    monkeypatch.setattr(kwic_module, "BATCH", (2, 2))
    r = kwic(store, "speeches", terms[rare], limit=50)
    holding = sorted({line["position"] for line in r["lines"]})
    assert len(holding) == df[rare] and len(r["lines"]) == r["total"]
    # from the first document holding it to the batch of the last one, and no further
    assert read[0][0] == first[rare] and read[-1][-1] <= last[rare] + 1
    read.clear()
    r = kwic(store, "speeches", terms[common], limit=5)
    assert len(r["lines"]) == 5 and sum(map(len, read)) < corpus["n_docs"] // 2


def test_a_schema_8_database_learns_each_terms_first_document(tmp_path):
    from textlatent.ingest import ingest
    from textlatent.settings import load_settings
    from textlatent.store import Store, dispose_engines, schema

    from .conftest import SAMPLE
    home = str(tmp_path / "home")
    store = Store(load_settings(home=home))
    ingest(store, "inaug", [str(SAMPLE / "inaugural")])
    ingest(store, "inaug", [str(SAMPLE / "state_of_the_union")])
    corpus = _corpus(store, "inaug")
    with store.write() as conn:
        conn.exec_driver_sql("ALTER TABLE tl_terms DROP COLUMN first_position")
        conn.exec_driver_sql("UPDATE tl_meta SET value = '8' WHERE key = 'schema_version'")
    dispose_engines()
    store = Store(load_settings(home=home))
    assert schema.schema_version(store.engine) == schema.SCHEMA_VERSION
    stored = _stored_first(store, corpus["id"])
    assert stored == _first_documents(store, corpus["id"]) and len(stored) > 1000
    dispose_engines()


@pytest.mark.slow
def test_kwic_lines_hold_the_words_forms_and_every_occurrence(speeches):
    store = speeches["config"]
    corpus = _corpus(store, "speeches")
    r, lines = _all_lines(store, "speeches", "Wars")
    term = r["term"]
    assert corpus_terms(store, corpus, "war") == [term]
    assert len(lines) == r["total"] > 100
    # Each match is a form the tokenizer makes the term of, and the text around it is the document's.
    assert all(corpus_terms(store, corpus, line["match"]) == [term] for line in lines)
    assert {line["match"].lower() for line in lines} >= {"war", "wars"}
    with store.read() as conn:
        tid = next(i for i, t in enumerate(db.load_terms(conn, corpus["id"])[0]) if t == term)
    per_doc = {}
    for line in lines:
        per_doc[line["position"]] = per_doc.get(line["position"], 0) + 1
    blobs = {p: int((np.frombuffer(b, dtype="<u4") == tid).sum()) for p, b in db.iter_token_blobs(store, corpus["id"])}
    assert per_doc == {p: n for p, n in blobs.items() if n}
    first = lines[0]
    with store.read() as conn:
        text = db.get_documents(conn, corpus["id"], positions=[first["position"]], columns=("text",))[0]["text"]
    assert " ".join(text.split()).find(f"{first['left']}{first['match']}{first['right']}".strip()) >= 0


def test_kwic_of_a_phrase_and_paging(speeches):
    store = speeches["config"]
    corpus = _corpus(store, "speeches")
    with store.read() as conn:
        terms, _, cf = db.load_terms(conn, corpus["id"])
    # The most frequent learned phrase that its two words, typed, make again.
    phrase = next(t for _, t in sorted(((-c, t) for t, c in zip(terms, cf) if "_" in t))
                  if corpus_terms(store, corpus, t.replace("_", " ")) == [t])
    query = phrase.replace("_", " ")
    r = kwic(store, "speeches", query, limit=5)
    assert r["term"] == phrase and len(r["lines"]) == 5
    assert all(corpus_terms(store, corpus, line["match"]) == [phrase] and len(line["match"].split()) == 2
               for line in r["lines"])
    second = kwic(store, "speeches", query, limit=5, offset=5)["lines"]
    both = kwic(store, "speeches", query, limit=10)["lines"]
    assert r["lines"] + second == both


@pytest.mark.parametrize("word, error, needle", [
    ("zyzzyvaqq", WordNotFound, "is not in corpus"), ("the", WordNotFound, "drops it"),
    ("", InvalidInput, "give a word"), ("x" * 300, InvalidInput, "at most 200"),
])
def test_kwic_bad_words(speeches, word, error, needle):
    with pytest.raises(error, match=needle):
        kwic(speeches["config"], "speeches", word)
    r = create_app(speeches["config"]).test_client().get("/api/v1/corpora/speeches/kwic", query_string={"word": word})
    assert r.status_code == (404 if error is WordNotFound else 400) and needle in r.get_json()["error"]["message"]


def test_kwic_api_page_and_cli(speeches):
    store = speeches["config"]
    client = create_app(store).test_client()
    api = client.get("/api/v1/corpora/speeches/kwic?word=liberty&limit=7").get_json()
    assert len(api["lines"]) == 7 and set(api["lines"][0]) == {"position", "doc_id", "left", "match", "right"}
    html = client.get("/corpora/speeches/kwic?word=liberty&limit=7").data.decode()
    assert html.count('<td class="match">') == 7 and 'rel="next"' in html
    r = CliRunner().invoke(cli, ["--home", store.home, "kwic", "speeches", "liberty", "--limit", "7", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["lines"] == api["lines"]
    r = CliRunner().invoke(cli, ["--home", store.home, "kwic", "speeches", "zyzzyvaqq"])
    assert r.exit_code == 1 and "is not in corpus" in r.output


def _hellinger_ranking(theta, position, limit):
    d = np.sqrt(0.5 * ((np.sqrt(theta) - np.sqrt(theta[position])) ** 2).sum(axis=1))
    d[position] = np.inf
    order = np.lexsort((np.arange(len(d)), d))[:limit]
    return order.tolist(), d[order]


def test_similar_documents_follow_a_hellinger_ranking(speeches):
    store = speeches["config"]
    _, model = registry.get_model(store, speeches["lda"])
    theta = np.asarray(model_arrays(store, model)["doc_topics"], dtype=np.float64)
    for position in (0, 70, 123):
        got = similar_documents(store, "speeches", position, "topics", 10)["documents"]
        _, dist = _hellinger_ranking(theta, position, 10)
        assert np.allclose([d["distance"] for d in got], dist, atol=1e-4)
        # The same ranking; the library ranks by the Bhattacharyya coefficient in float32, so
        # near-duplicates (distances about 0.002, where 1 - BC is 4e-6) may swap within 1e-4.
        everyone = _hellinger_ranking(theta, position, len(theta) - 1)[1]
        d_all = np.sqrt(0.5 * ((np.sqrt(theta) - np.sqrt(theta[position])) ** 2).sum(axis=1))
        assert np.all(np.diff(d_all[[d["position"] for d in got]]) >= -1e-4)
        assert max(d_all[[d["position"] for d in got]]) <= everyone[9] + 1e-4
    text = "the tariff on imports and the currency of the banks"
    near = similar_to_text(store, "speeches", text, 5)
    mix = np.zeros(theta.shape[1])
    for k, w in near["topics"]:
        mix[k] = w
    d = np.sqrt(np.clip(1 - np.sqrt(theta) @ np.sqrt(mix), 0, 1))
    assert [x["position"] for x in near["documents"]] == np.lexsort((np.arange(len(d)), d))[:5].tolist()


@pytest.mark.slow
def test_similar_by_document_vectors_is_cosine_of_mean_word_vectors(speeches, tmp_path):
    from textlatent.models import train_word2vec
    store = speeches["config"]
    w2v = train_word2vec(store, "speeches", {"epochs": 2, "min_count": 3, "workers": 1})
    _, model = registry.get_model(store, w2v)
    folder = registry.model_path(store, model)
    unit = np.load(f"{folder}/unit.npy")
    words = registry.read_json(f"{folder}/words.json")
    corpus = _corpus(store, "speeches")
    with store.read() as conn:
        terms = db.load_terms(conn, corpus["id"])[0]
    row = {w: i for i, w in enumerate(words)}
    docs = []
    for _, blob in db.iter_token_blobs(store, corpus["id"]):
        rows = [row[terms[i]] for i in np.frombuffer(blob, dtype="<u4") if terms[i] in row]
        v = unit[rows].mean(axis=0)
        docs.append(v / np.linalg.norm(v))
    docs = np.array(docs)
    got = similar_documents(store, "speeches", 3, "vectors", 5)
    cos = docs @ docs[3]
    cos[3] = -np.inf
    assert got["model_id"] == w2v
    # The five nearest by the test's own cosines (float64 here, float32 in the library: two
    # documents within rounding of each other may come in either order, so the check is
    # that each one returned is as near as the one the test ranks in its place).
    positions = [d["position"] for d in got["documents"]]
    assert len(set(positions)) == 5 and 3 not in positions
    assert np.allclose(cos[positions], np.sort(cos)[::-1][:5], atol=1e-4)
    assert np.allclose([d["distance"] for d in got["documents"]], 1 - np.sort(cos)[::-1][:5], atol=1e-4)
    r = create_app(store).test_client().get("/api/v1/corpora/speeches/documents/3/similar?by=vectors&limit=5")
    assert r.status_code == 200 and r.get_json()["documents"] == got["documents"]
    # The document's page lists the neighbours stored with the model (found exactly at this
    # size, by a matrix product in blocks: rounding may swap near ties, as above): as near,
    # without a search over every document's vector.
    stored = similar_documents(store, "speeches", 3, "vectors", 5, stored=True)["documents"]
    near = [d["position"] for d in stored]
    assert len(set(near)) == 5 and 3 not in near and np.allclose(cos[near], np.sort(cos)[::-1][:5], atol=1e-4)
    assert np.allclose([d["distance"] for d in stored], 1 - np.sort(cos)[::-1][:5], atol=1e-4)
    page = create_app(store).test_client().get("/api/v1/corpora/speeches/documents/3").get_json()
    assert [d["position"] for d in page["similar"]["vectors"]][:5] == near
    assert len(page["similar"]["vectors"]) == 8
    os.remove(f"{folder}/doc_neighbours.npy")      # a model trained before them: the exact search
    assert similar_documents(store, "speeches", 3, "vectors", 5, stored=True)["documents"] == got["documents"]


@pytest.mark.parametrize("query, needle", [("by=words", "by must be"), ("limit=0", "limit"),
                                           ("limit=x", "limit")])
def test_similar_bad_input(speeches, query, needle):
    r = create_app(speeches["config"]).test_client().get(f"/api/v1/corpora/speeches/documents/3/similar?{query}")
    assert r.status_code == 400 and needle in r.get_json()["error"]["message"]


def test_document_page_colours_words_by_their_most_probable_topic(speeches):
    store = speeches["config"]
    _, model = registry.get_model(store, speeches["lda"])
    folder = registry.model_path(store, model)
    lam = np.load(f"{folder}/lambda.npy")
    vocab = model_arrays(store, model)["vocab"]
    corpus = _corpus(store, "speeches")
    html = create_app(store).test_client().get("/corpora/speeches/documents/10").data.decode()
    coloured = re.findall(r'<span class="t\d+" data-topic="(\d+)">([^<]+)</span>', html)
    assert len(coloured) > 100
    for k, word in coloured[:200]:
        word = word.replace("&#39;", "'")
        # The word's term inside a sentence or at its start (a capitalised word keeps its
        # form inside one: "United States" is united_states there, unite_states first).
        forms = {"_".join(corpus_terms(store, corpus, text)) for text in ("and " + word, word)}
        known = [t for t in forms if t in vocab]
        assert known and any(int(k) == int(lam[:, vocab.index(t)].argmax()) for t in known), (word, forms)
    assert html.count('<li data-position=') >= 8          # similar documents by topics
