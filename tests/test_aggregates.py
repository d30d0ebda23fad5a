"""Topics by label and over time: prepared at training time, equal to the means of the
doc-topics export, prepared by a job for older models, and the bad-input answers."""

import csv
import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from textlatent import jobs
from textlatent.cli import cli
from textlatent.explore import aggregates
from textlatent.export import export
from textlatent.ingest import ReadOptions, ingest
from textlatent.models import train_lda
from textlatent.settings import load_settings
from textlatent.store import Store, registry
from web import create_app

from .conftest import SAMPLE, shared


def _export_rows(config, corpus, tmp_path, model_id=None):
    out = tmp_path / f"{corpus}-dt.csv"
    export(config, corpus, "doc-topics", "csv", str(out), model_id)
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    K = sum(1 for c in rows[0] if c.startswith("topic_"))
    theta = np.array([[float(r[f"topic_{k}"]) for k in range(K)] for r in rows])
    return rows, theta


def _expected(keys, theta):
    """{key: (mean shares, documents, dominant counts)} computed from the export."""
    out = {}
    for key in sorted(set(k for k in keys if k is not None)):
        rows = theta[[k == key for k in keys]]
        out[key] = (rows.mean(axis=0), len(rows), np.bincount(rows.argmax(axis=1), minlength=theta.shape[1]))
    return out


def test_topics_by_label_are_the_means_of_the_doc_topics_export(speeches, tmp_path):
    config = speeches["config"]
    _, model = registry.get_model(config, speeches["lda"])
    rows, theta = _export_rows(config, "speeches", tmp_path)
    got = aggregates.by_label(config, model)
    want = _expected([r["label"] for r in rows], theta)
    assert got["labels"] == list(want) == ["inaugural", "state_of_the_union"]
    for name, shares, n, dom in zip(got["labels"], got["shares"], got["documents"], got["dominant"]):
        assert np.allclose(shares, want[name][0], atol=1e-3) and n == want[name][1]
        assert dom == want[name][2].tolist()


def test_topics_over_time_by_year_from_the_file_names(speeches, tmp_path):
    config = speeches["config"]
    _, model = registry.get_model(config, speeches["lda"])
    rows, theta = _export_rows(config, "speeches", tmp_path)
    got = aggregates.over_time(config, model, "year")
    want = _expected([r["date"][:4] for r in rows], theta)
    assert got["periods"] == list(want) and got["periods"][0] == "1789" and got["undated"] == 0
    assert got["documents"] == [want[p][1] for p in got["periods"]]
    assert np.allclose(got["shares"], [want[p][0] for p in got["periods"]], atol=1e-3)
    # 1789..2021 is more than 60 years and the dates are years: the default is years.
    assert aggregates.over_time(config, model)["period"] == "year"
    with pytest.raises(Exception, match="period must be one of year, month, week, day"):
        aggregates.over_time(config, model, "decade")


@pytest.fixture(scope="module")
def wires(tmp_path_factory):
    """Every 70th Reuters-21578 wire (Feb-Oct 1987, dates as Reuters writes them), 5 topics."""
    tmp = tmp_path_factory.mktemp("wires")
    src = shared("reuters21578", "reuters21578.jsonl")
    path = tmp / "wires.jsonl"
    with open(src, encoding="utf-8") as fh, open(path, "w", encoding="utf-8") as out:
        for i, line in enumerate(fh):
            if i % 70 == 0:
                out.write(line)
    config = Store(load_settings(home=str(tmp / "home"), workers=2))
    ingest(config, "wires", [str(path)], ReadOptions(title_field="title", date_field="date"))
    lda = train_lda(config, "wires", {"num_topics": 5, "passes": 2, "workers": 1})
    return config, lda


def test_reuters_wires_charted_by_month_agree_with_the_export(wires, tmp_path):
    config, lda = wires
    _, model = registry.get_model(config, lda)
    rows, theta = _export_rows(config, "wires", tmp_path)
    got = aggregates.over_time(config, model, "month")
    want = _expected([r["date"][:7] or None for r in rows], theta)
    assert got["periods"] == list(want) and len(got["periods"]) >= 5      # Reuters has Feb, Mar, Apr, Jun, Oct
    assert got["periods"][0] == "1987-02" and got["documents"] == [want[p][1] for p in got["periods"]]
    assert np.allclose(got["shares"], [want[p][0] for p in got["periods"]], atol=1e-3)
    weeks = aggregates.over_time(config, model, "week")
    assert sum(weeks["documents"]) == sum(got["documents"]) and weeks["periods"][0].startswith("1987-W")
    # About 34 weeks from late February to October: weeks are the finest period with at most 60.
    assert aggregates.over_time(config, model)["period"] == "week"


def test_cli_exports_topics_over_time_and_by_label(wires, speeches, tmp_path):
    import pyarrow.parquet as pq
    config, lda = wires
    r = CliRunner().invoke(cli, ["--home", config.home, "export", "wires", "topics-over-time", "--period", "month",
                                 "--format", "csv", "--output", str(tmp_path / "t.csv")])
    assert r.exit_code == 0, r.output
    with open(tmp_path / "t.csv", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == ["period", "topic", "share", "documents"] and table[1][:2] == ["1987-02", "0"]
    _, model = registry.get_model(config, lda)
    months = aggregates.over_time(config, model, "month")
    assert len(table) == 1 + 5 * len(months["periods"])
    home = speeches["config"].home
    r = CliRunner().invoke(cli, ["--home", home, "export", "speeches", "topics-by-label", "--format", "parquet",
                                 "--output", str(tmp_path / "l.parquet")])
    assert r.exit_code == 0, r.output
    t = pq.read_table(tmp_path / "l.parquet")
    assert t.column_names == ["label", "topic", "share", "documents"] and t.num_rows == 2 * 4
    assert sum(t.column("documents").to_pylist()) == 124


@pytest.mark.slow
def test_a_model_without_aggregates_gets_them_from_a_job(tmp_path):
    config = Store(load_settings(home=str(tmp_path / "home"), workers=1))
    ingest(config, "inaug", [str(SAMPLE / "inaugural")])
    lda = train_lda(config, "inaug", {"num_topics": 2, "passes": 1, "workers": 1})
    _, model = registry.get_model(config, lda)
    before = aggregates.over_time(config, model, "year")
    folder = registry.model_path(config, model)
    for name in os.listdir(folder):                          # as a model trained before them
        if name.startswith(aggregates.PREFIX):
            os.remove(os.path.join(folder, name))
    client = create_app(config).test_client()
    r = client.get(f"/api/v1/models/{lda}/topics-over-time?period=year")
    assert r.status_code == 202 and r.get_json()["kind"] == "views"
    again = client.get(f"/api/v1/models/{lda}/topics-over-time").get_json()
    assert again["id"] == r.get_json()["id"]          # one job, not one per request
    jobs.run_job(config, again["id"])                  # what the worker does
    assert jobs.get(config, again["id"])["status"] == "finished"
    r = client.get(f"/api/v1/models/{lda}/topics-over-time?period=year")
    assert r.status_code == 200
    got = r.get_json()
    assert got["periods"] == before["periods"] and got["shares"] == before["shares"]
    assert [t["topic"] for t in got["topics"]] == [0, 1]
    csv_text = client.get(f"/api/v1/models/{lda}/topics-over-time?period=year&format=csv").data.decode()
    assert csv_text.splitlines()[0] == "period,topic,share,documents"
    assert len(csv_text.splitlines()) == 1 + 2 * len(got["periods"])


@pytest.mark.parametrize("url, needle", [
    ("topics-over-time?period=decade", "period must be one of"),
    ("topics-over-time?period=year&format=xlsx", "csv, parquet"),
    ("topics-by-label?period=year&format=csv", "topics-over-time only"),
])
def test_bad_aggregate_requests_are_400(speeches, url, needle):
    client = create_app(speeches["config"]).test_client()
    r = client.get(f"/api/v1/models/{speeches['lda']}/{url}")
    assert r.status_code == 400 and needle in r.get_json()["error"]["message"]


def test_no_dates_or_no_labels_are_clear_errors(tmp_path):
    config = Store(load_settings(home=str(tmp_path / "home"), workers=1))
    p = tmp_path / "plain.jsonl"
    p.write_text("\n".join(json.dumps({"text": f"budget taxes rail roads number {i} " * 5 + w})
                           for i, w in enumerate(["war peace", "bank money", "farm crops"] * 20)))
    ingest(config, "plain", [str(p)])
    lda = train_lda(config, "plain", {"num_topics": 2, "passes": 1, "workers": 1, "no_below": 1})
    client = create_app(config).test_client()
    r = client.get(f"/api/v1/models/{lda}/topics-over-time")
    assert r.status_code == 400 and "no dates" in r.get_json()["error"]["message"]
    r = client.get(f"/api/v1/models/{lda}/topics-by-label")
    assert r.status_code == 400 and "no labels" in r.get_json()["error"]["message"]
    r = CliRunner().invoke(cli, ["--home", config.home, "export", "plain", "topics-over-time", "--period", "month",
                                 "--format", "csv", "--output", str(tmp_path / "t.csv")])
    assert r.exit_code == 1 and "no dates" in r.output and not (tmp_path / "t.csv").exists()
