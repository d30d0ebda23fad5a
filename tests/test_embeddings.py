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
        phrases = {tuple(p) for p in db.get_phrases(conn, db.get_corpus(conn, "pol")["id"])}
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


def test_auto_epochs_and_min_count_are_chosen_from_the_corpus_size_and_recorded(config):
    from textlatent.ingest import ingest
    from textlatent.models.word2vec import auto_params, validate_w2v

    from .conftest import SAMPLE
    ingest(config, "two", [str(SAMPLE / "inaugural" / "1789-Washington.txt"),
                           str(SAMPLE / "inaugural" / "1797-Adams.txt")])
    model_id = train_word2vec(config, "two", {"epochs": "auto", "workers": 1})     # min_count left unset
    _, model = registry.get_model(config, model_id)
    with config.read() as conn:
        from textlatent.store import queries as db
        n_tokens = db.get_corpus(conn, "two")["n_tokens"]
    _, chosen = auto_params(validate_w2v({}), n_tokens)
    assert model["metrics"]["auto"] == chosen and set(chosen) == {"epochs", "min_count"}
    assert {k: model["params"][k] for k in chosen} == chosen       # the model records the values used
    assert auto_params(validate_w2v({}), 50 * n_tokens)[1]["epochs"] <= chosen["epochs"]   # more text, fewer passes
    assert validate_w2v({"epochs": 7})["epochs"] == 7
    with pytest.raises(InvalidInput, match="epochs must be a whole number 1..1000 or auto"):
        validate_w2v({"epochs": "often"})


def test_degenerate_vectors_are_measured_and_warned_about():
    from textlatent.models.word2vec import degenerate_warnings, frequent_neighbour_cosine
    rng = np.random.default_rng(0)
    common = rng.normal(size=50)
    alike = common + 0.05 * rng.normal(size=(300, 50))      # every vector near one direction
    spread = rng.normal(size=(300, 50))
    unit = lambda m: m / np.linalg.norm(m, axis=1, keepdims=True)  # noqa: E731
    assert frequent_neighbour_cosine(unit(alike)) > 0.9 > frequent_neighbour_cosine(unit(spread))
    warned = degenerate_warnings({"mean_top10_cosine": frequent_neighbour_cosine(unit(alike))})
    assert len(warned) == 1 and "degenerate" in warned[0]
    assert degenerate_warnings({"mean_top10_cosine": frequent_neighbour_cosine(unit(spread))}) == []


@pytest.mark.slow
def test_bbc_word2vec_with_the_defaults_is_not_noise(config, tmp_path):
    """BBC news (2,127 articles) with every Word2Vec parameter left at its default: the
    exported vectors score WordSim353 >= 0.35, and frequent words are not all alike."""
    from gensim.models import KeyedVectors

    from textlatent.export import export
    from textlatent.ingest import ingest

    from .conftest import shared
    ingest(config, "bbc", [str(shared("bbc_news"))])
    model_id = train_word2vec(config, "bbc")
    out = tmp_path / "bbc.vec"
    export(config, "bbc", "vectors", "word2vec", str(out), model_id)
    kv = KeyedVectors.load_word2vec_format(str(out))
    _, spearman, oov = kv.evaluate_word_pairs(str(shared("word_benchmarks", "wordsim353.tsv")))
    assert spearman[0] >= 0.35 and oov < 50
    frequent = kv.index_to_key[:200]                       # the file lists words by frequency
    top10 = [s for w in frequent for _, s in kv.most_similar(w, topn=10)]
    assert np.mean(top10) < 0.9
    _, model = registry.get_model(config, model_id)
    assert model["metrics"]["warnings"] == [] and model["params"]["epochs"] == model["metrics"]["auto"]["epochs"]
