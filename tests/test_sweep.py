"""Choosing K: a sweep trains one model per K on one vocabulary, records the figures to
compare them, recommends the K its stated rule picks, and refuses bad lists at once."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from textlatent import jobs
from textlatent.cli import cli
from textlatent.errors import InvalidInput
from textlatent.ingest import ingest
from textlatent.models import sweep
from textlatent.models.quality import topic_diversity
from textlatent.store import queries as db
from textlatent.store import registry
from web import create_app

from .conftest import SAMPLE


@pytest.fixture
def inaugural(config):
    ingest(config, "inaug", [str(SAMPLE / "inaugural")])
    return config


@pytest.fixture(scope="module")
def inaugural_for_refusals(tmp_path_factory):
    """One ingest for all the refusal cases: each checks that it stored nothing."""
    from textlatent.settings import load_settings
    from textlatent.store import Store
    store = Store(load_settings(home=str(tmp_path_factory.mktemp("refusals") / "home"), workers=2))
    ingest(store, "inaug", [str(SAMPLE / "inaugural")])
    return store


@pytest.mark.parametrize("value, values", [
    ("5,10,20,40", [5, 10, 20, 40]), ("5:20:5", [5, 10, 15, 20]), ("2:4", [2, 3, 4]),
    ([40, 5, 10, 5], [5, 10, 40]), ("3, 2", [2, 3]), (20, None), ("20", None),
])
def test_num_topics_lists_and_ranges(value, values):
    assert sweep.num_topics_values(value) == values


@pytest.mark.slow
def test_a_sweep_keeps_one_model_per_k_on_one_vocabulary(inaugural):
    store = inaugural
    r = CliRunner().invoke(cli, ["--home", store.home, "train", "lda", "inaug", "--num-topics", "2,3,5",
                                 "--passes", "2", "--workers", "1", "--json", "-q"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output)
    models = {m["num_topics"]: m for m in summary["models"]}
    assert sorted(models) == [2, 3, 5]
    rows = {m["id"]: m for m in registry.list_models(store, "inaug")}
    assert len(rows) == 3 and {rows[m["model_id"]]["params"]["num_topics"] for m in models.values()} == {2, 3, 5}
    vocabularies = {json.dumps(registry.read_json(registry.model_path(store, rows[i], "vocab.json"))) for i in rows}
    assert len(vocabularies) == 1 and len({rows[i]["params"]["no_above"] for i in rows}) == 1
    for k, m in models.items():
        tt = np.load(registry.model_path(store, rows[m["model_id"]], "topic_terms.npy"))
        assert tt.shape[0] == k
        assert m["topic_diversity"] == pytest.approx(topic_diversity(tt), abs=1e-5)
        assert m["c_npmi"] == rows[m["model_id"]]["metrics"]["coherence_c_npmi"]
    quality = {k: m["c_npmi"] * m["topic_diversity"] for k, m in models.items()}
    best = max(sorted(quality), key=lambda k: quality[k])
    assert summary["recommended"] == {"num_topics": best, "model_id": models[best]["model_id"]}
    assert "Dieng" in summary["rule"]
    assert sweep.summary(store, "inaug") == [summary]


@pytest.mark.slow
def test_a_sweep_from_the_api_is_one_job(inaugural):
    store = inaugural
    client = create_app(store).test_client()
    r = client.post("/api/v1/corpora/inaug/models", json={"kind": "lda", "params": {
        "num_topics": [2, 4], "passes": 1, "workers": 1}})
    assert r.status_code == 202, r.get_json()
    job = r.get_json()
    assert job["params"]["num_topics"] == [2, 4]
    jobs.run_job(store, job["id"])
    done = jobs.get(store, job["id"])
    assert done["status"] == "finished", done["error"]
    assert [m["num_topics"] for m in done["result"]["models"]] == [2, 4]
    assert done["model_id"] == done["result"]["recommended"]["model_id"]
    assert client.get("/api/v1/corpora/inaug/sweeps").get_json() == [done["result"]]
    html = client.get("/corpora/inaug").data.decode()
    assert 'id="sweeps"' in html and "js/analysis.js" in html


@pytest.mark.parametrize("value, needle", [
    (",", "at least one value"), ("5,,10", "no empty ones"), ([], "at least one value"),
    (",".join(str(k) for k in range(2, 15)), "at most 12"), ("2:60:2", "at most 12"),
    ("10:5:1", "STOP at least START"), ("5:40:0", "STEP at least 1"), ("a:b", "START:STOP:STEP"),
    ("2,x", "whole numbers"), ("0,5", "num_topics must be"), ("5,2000", "num_topics must be"),
    ("5,60", "cannot exceed the number of documents (59)"),
])
def test_bad_num_topics_lists_are_refused_and_store_nothing(inaugural_for_refusals, value, needle):
    store = inaugural_for_refusals
    client = create_app(store).test_client()
    r = client.post("/api/v1/corpora/inaug/models", json={"kind": "lda", "params": {"num_topics": value}})
    assert r.status_code == 400 and needle in r.get_json()["error"]["message"]
    with store.read() as conn:
        assert db.list_jobs(conn) == [] and db.list_models(conn, db.get_corpus(conn, "inaug")["id"]) == []
    if isinstance(value, str) and value:
        cli_run = CliRunner().invoke(cli, ["--home", store.home, "train", "lda", "inaug", "--num-topics", value])
        assert cli_run.exit_code == 1 and needle in cli_run.output
    with pytest.raises(InvalidInput):
        sweep.validate_sweep({"num_topics": value}, 59)
