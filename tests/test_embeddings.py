"""Word2Vec: neighbours, analogies, unknown words, parameters."""

import json

import numpy as np
import pytest

from textlatent.explore.words import load_vectors, similar
from textlatent.models import train_word2vec
from textlatent.store import registry
from textlatent.errors import InvalidInput, WordNotFound


def test_similar_words_are_sorted_cosines_and_match_gensim(trained):
    from gensim.models import KeyedVectors
    config = trained["config"]
    r = similar(config, "news", "puck", topn=10)
    words = [w for w, _ in r["results"]]
    sims = [s for _, s in r["results"]]
    assert len(words) == 10 and "puck" not in words and sims == sorted(sims, reverse=True)
    _, model = registry.find_model(config, "news", kind="word2vec")
    v = load_vectors(config, model)
    kv = KeyedVectors(v.vectors.shape[1])
    kv.add_vectors(v.words, np.asarray(v.vectors))
    expected = kv.most_similar("puck", topn=10)
    assert words == [w for w, _ in expected]
    assert np.allclose(sims, [s for _, s in expected], atol=1e-4)


def test_neighbours_make_sense_on_real_text(trained):
    words = {w for w, _ in similar(trained["config"], "news", "hockey", topn=15)["results"]}
    assert words & {"nhl", "team", "game", "player", "season", "league", "play", "playoff", "goal"}


def test_analogy_excludes_query_words(trained):
    r = similar(trained["config"], "news", ["space", "gun"], ["hockey"], topn=5)
    assert not {"space", "gun", "hockey"} & {w for w, _ in r["results"]}


def test_unknown_word_suggests_close_ones(trained):
    with pytest.raises(WordNotFound) as e:
        similar(trained["config"], "news", "hockei")
    assert "hockey" in e.value.details["suggestions"]["hockei"]
    assert "did you mean" in e.value.message


@pytest.mark.parametrize("words, topn, message", [
    ([""], 10, "empty"), (["x" * 10_000], 10, "at most"), (["space"], 0, "topn"),
    (["space"], 10**6, "topn"), (["space"], "lots", "topn"),
])
def test_bad_queries(trained, words, topn, message):
    with pytest.raises(InvalidInput, match=message):
        similar(trained["config"], "news", words, topn=topn)


@pytest.mark.parametrize("params", [{"window": 0}, {"window": -1}, {"vector_size": 0}, {"epochs": 0},
                                    {"min_count": 0}, {"sg": 2}])
def test_bad_word2vec_parameters_are_refused_before_training(trained, params):
    with pytest.raises(InvalidInput, match=next(iter(params))):
        train_word2vec(trained["config"], "news", params)


def test_word2vec_metrics(trained):
    _, model = registry.find_model(trained["config"], "news", kind="word2vec")
    m = model["metrics"]
    assert m["vocabulary"] > 1000 and m["corpus_words"] > 50_000 and m["words_per_second"] > 0
    # English text with a real vocabulary: the benchmarks run, and the figures are in range.
    assert "evaluation_error" not in m
    assert m["analogy_questions"] > 0 and 0 <= m["analogy_accuracy"] <= 1
    assert -1 <= m["wordsim353_spearman"] <= 1 and m["wordsim353_oov_percent"] < 100


@pytest.fixture(scope="module")
def politics(tmp_path_factory):
    """200 BBC politics articles with their phrases, and a Word2Vec model of them."""
    import shutil

    from textlatent.ingest import ingest
    from textlatent.settings import load_settings
    from textlatent.store import Store

    from .conftest import shared
    tmp = tmp_path_factory.mktemp("politics")
    folder = tmp / "politics"
    folder.mkdir()
    for f in sorted(shared("bbc_news", "politics").glob("*.txt"))[:200]:
        shutil.copy(f, folder / f.name)
    config = Store(load_settings(home=str(tmp / "home"), workers=2))
    ingest(config, "pol", [str(folder)])
    train_word2vec(config, "pol", {"epochs": 10, "min_count": 2, "workers": 1})
    return config


def test_a_query_goes_through_the_corpus_tokenizer_and_phrases(politics):
    from textlatent.store import queries as db
    with politics.read() as conn:
        phrases = {tuple(p) for p in db.get_corpus(conn, "pol")["phrases"]}
    assert ("tony", "blair") in phrases and ("prime", "minister") in phrases
    r = similar(politics, "pol", "Tony Blair")
    assert r["terms"]["positive"] == ["tony_blair"] and "tony_blair" not in dict(r["results"])
    # words that are no single term: tokenized, lemmatised, joined into the corpus's phrases
    r = similar(politics, "pol", ["the Prime Minister's elections"], ["Tony Blair"])
    assert r["terms"] == {"positive": ["prime_minister", "election"], "negative": ["tony_blair"]}
    with pytest.raises(WordNotFound, match="makes no term"):
        similar(politics, "pol", "the")


def test_phrase_queries_in_the_cli_and_the_api(politics):
    from click.testing import CliRunner

    from textlatent.cli import cli
    from web import create_app
    r = CliRunner().invoke(cli, ["--home", politics.home, "similar", "pol", "Tony Blair's elections", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["terms"]["positive"] == ["tony_blair", "election"]
    client = create_app(politics).test_client()
    body = client.get("/api/v1/corpora/pol/similar", query_string={"word": "prime minister"}).get_json()
    assert body["terms"]["positive"] == ["prime_minister"] and len(body["results"]) == 10
