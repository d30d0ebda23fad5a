"""Semantic axes and interpolation on the 20 Newsgroups subset's real vectors, in the
library, the CLI and the API, with the bad input they refuse."""

import json

import numpy as np
import pytest

from textlatent.cli import cli
from textlatent.errors import InvalidInput, WordNotFound
from textlatent.explore.axes import axis, interpolate, interpolate_documents
from web import create_app


@pytest.fixture
def client(trained):
    return create_app(trained["config"]).test_client()


def test_an_axis_ranks_the_poles_own_words_at_its_ends(trained):
    # Each end lists 5% of the vocabulary: on these small, noisy vectors rare words crowd
    # the very ends (on 20 Newsgroups' whole model, orbit ranks 41st of 27,528).
    from textlatent.store import registry
    end = registry.get_model(trained["config"], trained["w2v"])[1]["metrics"]["vocabulary"] // 20
    r = axis(trained["config"], "news", ["hockey", "puck"], ["orbit", "shuttle"], topn=end)
    words = [w["word"] for w in r["words"]]
    scores = [w["score"] for w in r["words"]]
    assert len(words) == 2 * end and scores == sorted(scores, reverse=True)
    assert {"orbit", "shuttle"} <= set(words[:end]) and {"hockey", "puck"} <= set(words[end:])
    assert scores[0] > 0 > scores[-1]
    assert r["from"] == ["hockey", "puck"] and r["to"] == ["orbit", "shuttle"]


def test_interpolation_starts_at_its_first_word_and_ends_at_its_last(trained):
    r = interpolate(trained["config"], "news", "hockey", "orbit", steps=6, topn=4)
    assert [s["t"] for s in r["steps"]] == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert r["steps"][0]["words"][0]["word"] == "hockey" and r["steps"][-1]["words"][0]["word"] == "orbit"
    assert all(len(s["words"]) == 4 for s in r["steps"])
    middle = {w["word"] for s in r["steps"][1:-1] for w in s["words"]}
    assert middle - {"hockey", "orbit"}          # the walk passes other words


def test_interpolation_between_documents_walks_their_topic_mixtures(trained):
    r = interpolate_documents(trained["config"], "news", 5, 900, steps=5, topn=3)
    first, last = r["steps"][0], r["steps"][-1]
    assert first["documents"][0]["similarity"] > 0.9999 and last["documents"][0]["similarity"] > 0.9999
    assert 5 in [d["position"] for d in first["documents"] if d["similarity"] > 0.9999]
    assert 900 in [d["position"] for d in last["documents"] if d["similarity"] > 0.9999]
    for step in r["steps"]:
        weights = [t["weight"] for t in step["topics"]]
        assert weights == sorted(weights, reverse=True) and 0 < sum(weights) <= 1.0001


@pytest.mark.parametrize("kwargs, error, message", [
    ({"from_words": ["hockey", "xqzzyv"], "to_words": ["orbit"]}, WordNotFound, "not in the vocabulary"),
    ({"from_words": ["xqzzyv", "qqqwwz"], "to_words": ["orbit"]}, WordNotFound, "none of the from words"),
    ({"from_words": ["orbit", "hockey"], "to_words": ["hockey, orbit"]}, InvalidInput, "same words"),
    ({"from_words": ["orbit"], "to_words": ["orbit", "space"]}, InvalidInput, "both poles"),
    ({"from_words": [], "to_words": ["orbit"]}, InvalidInput, "at least one word"),
    ({"from_words": ["orbit"], "to_words": ["space"], "topn": 0}, InvalidInput, "topn"),
])
def test_bad_axes_are_refused(trained, kwargs, error, message):
    with pytest.raises(error, match=message):
        axis(trained["config"], "news", **kwargs)


@pytest.mark.parametrize("a, b, steps, message", [
    ("hockey", "orbit", 0, "steps"), ("hockey", "orbit", 10_000, "steps"), ("hockey", "hockey", 5, "different"),
    ("hockey", "xqzzyv", 5, "vocabulary"), ("hockey puck", "orbit", 5, "one word"),
])
def test_bad_interpolations_are_refused(trained, a, b, steps, message):
    with pytest.raises((InvalidInput, WordNotFound), match=message):
        interpolate(trained["config"], "news", a, b, steps=steps)


def test_axis_and_interpolate_commands_print_json(trained):
    from click.testing import CliRunner
    home = ["--home", trained["config"].home]
    r = CliRunner().invoke(cli, home + ["axis", "news", "--from", "hockey", "--to", "orbit", "--topn", "3", "--json"])
    assert r.exit_code == 0, r.output
    words = json.loads(r.output)["words"]
    assert words == axis(trained["config"], "news", ["hockey"], ["orbit"], topn=3)["words"] and len(words) == 6
    r = CliRunner().invoke(cli, home + ["interpolate", "news", "hockey", "orbit", "--steps", "3", "--json"])
    steps = json.loads(r.output)["steps"]
    assert [s["words"][0]["word"] for s in (steps[0], steps[-1])] == ["hockey", "orbit"]
    r = CliRunner().invoke(cli, home + ["interpolate", "news", "hockey", "orbit", "--steps", "0"])
    assert r.exit_code == 1 and "steps must be" in r.output and "Traceback" not in r.output


def test_axis_and_interpolation_in_the_api(client, trained):
    r = client.get("/api/v1/corpora/news/axis?from=hockey,puck&to=orbit&topn=2")
    assert r.status_code == 200
    assert r.get_json()["words"] == axis(trained["config"], "news", ["hockey", "puck"], ["orbit"], topn=2)["words"]
    raw = client.get("/api/v1/corpora/news/axis?from=hockey&to=orbit&format=float32")
    scores = np.frombuffer(raw.data, dtype="<f4")
    from textlatent.store import registry
    assert len(scores) == registry.get_model(trained["config"], trained["w2v"])[1]["metrics"]["vocabulary"]
    assert raw.headers["X-Model-Id"] == str(trained["w2v"]) and np.all(np.abs(scores) <= 1.0001)
    steps = client.get("/api/v1/corpora/news/interpolate?from=hockey&to=orbit&steps=4").get_json()["steps"]
    assert len(steps) == 4
    docs = client.get("/api/v1/corpora/news/interpolate?from=1&to=2&of=documents&steps=3").get_json()
    assert len(docs["steps"]) == 3 and docs["steps"][0]["documents"]


@pytest.mark.parametrize("url, status, code", [
    ("axis?from=hockey,xqzzyv&to=orbit", 404, "word_not_found"),
    ("axis?from=xqzzyv&to=orbit", 404, "word_not_found"),
    ("axis?from=orbit&to=orbit", 400, "invalid_input"),
    ("axis?to=orbit", 400, "invalid_input"),
    ("axis?from=hockey&to=orbit&format=csv", 400, "invalid_input"),
    ("interpolate?from=hockey&to=orbit&steps=0", 400, "invalid_input"),
    ("interpolate?from=hockey&to=orbit&steps=10000", 400, "invalid_input"),
    ("interpolate?from=hockey&to=hockey", 400, "invalid_input"),
    ("interpolate?from=hockey", 400, "invalid_input"),
    ("interpolate?from=1&to=99999&of=documents", 400, "invalid_input"),
    ("interpolate?from=1&of=documents", 400, "invalid_input"),
    ("interpolate?from=1&to=2&of=planets", 400, "invalid_input"),
])
def test_bad_axis_and_interpolation_requests_get_4xx(client, url, status, code):
    r = client.get(f"/api/v1/corpora/news/{url}")
    assert r.status_code == status and r.get_json()["error"]["code"] == code, r.get_json()
