"""The command line, as a user types it: results, JSON output, and clean errors."""

import json

import pytest
from click.testing import CliRunner

from textlatent.cli import cli

from .conftest import SAMPLE


@pytest.fixture
def run(tmp_path):
    runner = CliRunner()
    home = str(tmp_path / "clihome")

    def invoke(*args, input=None):
        return runner.invoke(cli, ["--home", home, *args], input=input, catch_exceptions=False)
    return invoke


@pytest.mark.slow
def test_ingest_train_query_export(run, tmp_path):
    r = run("ingest", str(SAMPLE / "inaugural"), "--corpus", "inaug", "--quiet", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["added"] == 59
    r = run("ingest", str(SAMPLE / "inaugural"), "--corpus", "inaug")
    assert r.exit_code == 0 and "0 documents added, 59 duplicates skipped" in r.output
    r = run("corpora")
    assert r.exit_code == 0 and "inaug\t59 documents" in r.output

    r = run("train", "lda", "inaug", "--num-topics", "3", "--passes", "2", "--no-below", "2", "--quiet")
    assert r.exit_code == 0 and "model 1 (lda)" in r.output and "c_npmi" in r.output
    r = run("train", "word2vec", "inaug", "--epochs", "3", "--min-count", "2", "--quiet")
    assert r.exit_code == 0 and "model 2 (word2vec)" in r.output

    r = run("topics", "inaug", "--topn", "5", "--json")
    topics = json.loads(r.output)["topics"]
    assert len(topics) == 3 and all(len(t["terms"]) == 5 for t in topics)
    r = run("topics", "inaug")
    assert r.exit_code == 0 and r.output.count("c_npmi") == 4

    r = run("infer", "inaug", "-", "--json", input="Slavery, tariffs, banks and the railroads of the territories")
    assert r.exit_code == 0 and len(json.loads(r.output)["topics"]) == 3

    r = run("similar", "inaug", "liberty", "--topn", "4", "--json")
    assert r.exit_code == 0 and len(json.loads(r.output)["results"]) == 4
    r = run("similar", "inaug", "government", "people", "--negative", "war")
    assert r.exit_code == 0 and len(r.output.splitlines()) == 10

    r = run("models", "inaug", "--json")
    assert [m["kind"] for m in json.loads(r.output)] == ["word2vec", "lda"]

    out = tmp_path / "dt.csv"
    r = run("export", "inaug", "doc-topics", "--format", "csv", "--output", str(out))
    assert r.exit_code == 0 and out.exists() and len(out.read_text().splitlines()) == 60


@pytest.mark.parametrize("args, message", [
    (["topics", "nope"], "no corpus named 'nope'"),
    (["train", "lda", "nope"], "no corpus named 'nope'"),
    (["similar", "nope", "word"], "no corpus named 'nope'"),
    (["ingest", "/no/such/dir", "--corpus", "x"], "no such file"),
])
def test_errors_are_one_line_and_exit_non_zero(run, args, message):
    r = run(*args)
    assert r.exit_code == 1
    assert message in r.output and "Traceback" not in r.output


def test_parameter_and_input_errors(run, tmp_path):
    run("ingest", str(SAMPLE / "inaugural"), "--corpus", "inaug", "--quiet")
    r = run("train", "lda", "inaug", "--num-topics", "0")
    assert r.exit_code == 1 and "num_topics must be a whole number 1..1000, not '0'" in r.output
    r = run("train", "lda", "inaug", "--num-topics", "100")
    assert r.exit_code == 1 and "cannot exceed the number of documents (59)" in r.output
    csv_file = tmp_path / "t.csv"
    csv_file.write_text("body\nhello there\n")
    r = run("ingest", str(csv_file), "--corpus", "inaug")
    assert r.exit_code == 1 and "no column 'text'" in r.output and "(--text-field)" in r.output
    r = run("similar", "inaug", "liberty")
    assert r.exit_code == 1 and "no word2vec model yet" in r.output
    r = run("corpora", "--json")
    assert json.loads(r.output)[0]["n_docs"] == 59       # nothing changed by the failures


def test_tokenize_shows_what_the_corpus_pipeline_makes_of_a_text(run):
    run("ingest", str(SAMPLE / "inaugural"), "--corpus", "inaug", "--quiet")
    text = "Taxes rose in Wales. The data show better politics, and the crises deepened."
    r = run("tokenize", "inaug", text, "--json")
    assert r.exit_code == 0, r.output
    tokens = json.loads(r.output)["tokens"]
    assert {"tax", "wales", "data", "politics", "crisis"} <= set(tokens) and "taxis" not in tokens
    r = run("tokenize", "inaug", "-", input="the United States")
    assert r.exit_code == 0 and r.output.split() == ["united_states"]     # the corpus's phrase
    r = run("tokenize", "inaug", "  ")
    assert r.exit_code == 1 and "give some text" in r.output
