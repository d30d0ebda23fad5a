"""Maps through the API and the map job: binary points, one point's neighbours, exports,
bad input answered with 4xx, and a web process that never imports numba."""

import csv
import gzip
import io
import json
import struct
import subprocess
import sys

import numpy as np
import pytest

from textlatent import jobs
from textlatent.explore.maps import make_map
from textlatent.models import train_word2vec
from textlatent.store import registry
from web import create_app

from .conftest import ROOT


@pytest.fixture(scope="module")
def mapped(trained_copy):
    """The trained models (a copy: tests here add models) with PCA maps of their words and documents."""
    trained = trained_copy
    for model_id, what in ((trained["w2v"], "words"), (trained["w2v"], "documents"), (trained["lda"], "documents")):
        make_map(trained["config"], model_id, what, {"method": "pca"})
    return trained_copy


@pytest.fixture
def client(mapped):
    return create_app(mapped["config"]).test_client()


def parse_points(data):
    """The page's reading of the binary points: header, then the arrays it lists."""
    assert data[:8] == b"TLMAP1\0\0"
    (length,) = struct.unpack("<I", data[8:12])
    header = json.loads(data[12:12 + length])
    offset, arrays = 12 + length, {}
    for a in header["arrays"]:
        size = a["length"] * {"float32": 4, "uint16": 2, "uint8": 1, "utf8": 1}[a["type"]]
        raw = data[offset:offset + size]
        arrays[a["name"]] = raw.decode("utf-8") if a["type"] == "utf8" else np.frombuffer(raw, dtype=a["type"])
        offset += size + (-size % 4)
    assert offset == len(data)
    return header, arrays


def test_word_points_are_compact_binary_with_words_and_topics(client, mapped):
    vocabulary = registry.get_model(mapped["config"], mapped["w2v"])[1]["metrics"]["vocabulary"]
    r = client.get(f"/api/v1/models/{mapped['w2v']}/maps/words/points")
    assert r.status_code == 200 and r.mimetype == "application/octet-stream"
    header, a = parse_points(r.data)
    assert header["n"] == vocabulary and header["method"] == "pca" and header["lda_model_id"] == mapped["lda"]
    assert a["xy"].shape == (2 * vocabulary,) and np.isfinite(a["xy"]).all()
    words = texts(client, mapped["w2v"], "words")
    assert len(words) == vocabulary and len(a["topic"]) == len(a["freq"]) == vocabulary
    puck = words.index("puck")
    assert a["topic"][puck] < 4 and a["freq"][0] >= a["freq"][-1]      # words come most frequent first
    assert len(header["topics"]) == 4
    assert len(r.data) / vocabulary <= 12 + 2000 / vocabulary       # xy 8, topic 2, freq 1, padding; the header
    for what in ("points", "texts"):
        url = f"/api/v1/models/{mapped['w2v']}/maps/words/{what}"
        plain = client.get(url)
        zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped.data) == plain.data
        again = client.get(url, headers={"If-None-Match": plain.headers["ETag"]})
        assert again.status_code == 304
    assert client.get(f"/api/v1/models/{mapped['w2v']}/maps/words/texts").headers["ETag"] != r.headers["ETag"]


def texts(client, model_id, what):
    """A map's words or titles, as the page reads them: one line a point."""
    r = client.get(f"/api/v1/models/{model_id}/maps/{what}/texts")
    assert r.status_code == 200 and r.mimetype == "text/plain" and r.mimetype_params.get("charset") == "utf-8"
    return r.data.decode("utf-8").split("\n")


def test_document_points_carry_labels_and_titles(client, mapped):
    header, a = parse_points(client.get(f"/api/v1/models/{mapped['lda']}/maps/documents/points").data)
    n = mapped["summary"].documents
    assert header["n"] == n and header["by"] == "topics" and len(a["label"]) == n
    assert sorted(header["labels"]) == ["comp.graphics", "rec.sport.hockey", "sci.space", "talk.politics.guns"]
    titles = texts(client, mapped["lda"], "documents")
    assert set(np.unique(a["label"])) <= set(range(4)) and len(titles) == n and all(titles)
    assert (a["topic"] < 4).all()


def test_one_point_lists_its_topics_and_nearest_neighbours(client, mapped):
    words = texts(client, mapped["w2v"], "words")
    puck = words.index("puck")
    info = client.get(f"/api/v1/models/{mapped['w2v']}/maps/words/points/{puck}?topn=5").get_json()
    assert info["word"] == "puck" and len(info["neighbours"]) == 5 and info["topics"]
    assert all(words[n["index"]] == n["word"] for n in info["neighbours"])
    doc = client.get(f"/api/v1/models/{mapped['lda']}/maps/documents/points/3").get_json()
    assert doc["position"] == 3 and len(doc["neighbours"]) == 10 and doc["url"].endswith("/documents/3")
    assert doc["topics"] and 3 not in [n["index"] for n in doc["neighbours"]]


def test_map_exports_from_the_api(client, mapped):
    rows = list(csv.reader(io.StringIO(client.get(f"/api/v1/models/{mapped['w2v']}/word-map").data.decode())))
    assert rows[0] == ["word", "x", "y", "frequency", "topic"] and len(rows) - 1 == parse_points(
        client.get(f"/api/v1/models/{mapped['w2v']}/maps/words/points").data)[0]["n"]
    r = client.get(f"/api/v1/models/{mapped['w2v']}/doc-map?format=parquet")
    import pyarrow.parquet as pq
    table = pq.read_table(io.BytesIO(r.data))
    assert table.column_names == ["doc_id", "title", "label", "date", "x", "y", "topic"]
    assert table.num_rows == mapped["summary"].documents


@pytest.mark.parametrize("url, status, code", [
    ("/maps/words/points/99999999", 400, "invalid_input"),
    ("/maps/words/points/-1", 400, "invalid_input"),
    ("/maps/words/points/x", 400, "invalid_input"),
    ("/maps/words/points/1?topn=0", 400, "invalid_input"),
    ("/maps/planets/points", 400, "invalid_input"),
    ("/maps/words/points?method=mds", 400, "invalid_input"),
    ("/maps/words/points?method=tsne", 404, "map_not_found"),
    ("/maps/planets/texts", 400, "invalid_input"),
    ("/maps/words/texts?method=tsne", 404, "map_not_found"),
    ("/word-map?format=xlsx", 400, "invalid_input"),
])
def test_bad_map_requests_get_4xx(client, mapped, url, status, code):
    r = client.get(f"/api/v1/models/{mapped['w2v']}{url}")
    assert r.status_code == status and r.get_json()["error"]["code"] == code, r.data


def test_a_model_without_maps_and_bad_map_jobs_are_refused(client, mapped):
    fresh = train_word2vec(mapped["config"], "news", {"epochs": 1, "vector_size": 8, "workers": 1})
    for url in (f"/api/v1/models/{fresh}/maps/words/points", f"/api/v1/models/{fresh}/word-map",
                f"/api/v1/models/{fresh}/maps/documents/points/0"):
        r = client.get(url)
        assert r.status_code == 404 and "map yet: make one" in r.get_json()["error"]["message"], url
    assert client.get(f"/api/v1/models/{fresh}/maps").get_json() == []
    for body in ({"what": "planets"}, {"what": "words", "params": {"method": "mds"}},
                 {"what": "words", "params": {"seed": -1}}, {"what": "words", "params": "fast"}, {}):
        r = client.post(f"/api/v1/models/{fresh}/maps", json=body)
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_input", (body, r.get_json())
    assert client.post(f"/api/v1/models/{mapped['lda']}/maps", json={"what": "words"}).status_code == 400
    assert client.post("/api/v1/models/99999/maps", json={"what": "words"}).status_code == 404


@pytest.mark.slow
def test_a_map_job_makes_the_map_and_a_training_job_maps_its_model(mapped):
    store = mapped["config"]
    fresh = train_word2vec(store, "news", {"epochs": 1, "vector_size": 8, "workers": 1})
    job = jobs.submit(store, "map", "news", {"model_id": fresh, "what": "words", "method": "pca", "seed": 4})
    jobs.run_job(store, job["id"])
    job = jobs.get(store, job["id"])
    assert job["status"] == "finished" and job["model_id"] == fresh, job["error"]
    assert job["result"]["method"] == "pca" and job["result"]["n"] > 1000
    train = jobs.submit(store, "lda", "news", {"num_topics": 2, "passes": 1, "workers": 1})
    assert train["params"]["map"] == "pca"                     # the map_method setting of the tests
    jobs.run_job(store, train["id"])
    train = jobs.get(store, train["id"])
    assert train["status"] == "finished", train["error"]
    assert [m["what"] for m in train["result"]["maps"]] == ["documents"]
    skip = jobs.submit(store, "lda", "news", {"num_topics": 2, "passes": 1, "workers": 1, "map": False})
    assert skip["params"]["map"] == "none"
    jobs.cancel(store, skip["id"])                              # nothing runs it here
    with pytest.raises(Exception, match="map must be"):
        jobs.submit(store, "lda", "news", {"num_topics": 2, "map": "mds"})


def test_the_map_page_reads_the_stored_map_and_loads_nothing_from_outside(client, mapped):
    import re
    # The fixture's model by id: tests here add newer models, with maps or without.
    r = client.get(f"/corpora/news/map/words?model={mapped['w2v']}")
    html = r.data.decode()
    assert r.status_code == 200 and f'data-points-url="/api/v1/models/{mapped["w2v"]}/maps/words/points' in html
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert all(ref.startswith("/") for ref in refs) and "<script>" not in html
    assert client.get("/static/js/maps.js").status_code == 200
    assert client.get(f"/corpora/news/map/documents?by=vectors&model={mapped['w2v']}").status_code == 200
    assert client.get("/corpora/news/map/planets").status_code == 400
    assert client.get("/corpora/nope/map/words").status_code == 404


@pytest.mark.slow
def test_the_web_process_never_imports_numba(mapped):
    """Serving a map only reads arrays: numba's compile stays in the worker."""
    code = ("import sys, json; from textlatent.settings import load_settings; from web import create_app; "
            f"c = create_app(load_settings(home={mapped['config'].home!r})).test_client(); "
            f"assert c.get('/api/v1/models/{mapped['w2v']}/maps/words/points').status_code == 200; "
            f"assert c.get('/api/v1/models/{mapped['w2v']}/maps/words/points/3').status_code == 200; "
            "assert c.get('/corpora/news/map/words').status_code == 200; "
            "print(json.dumps([m for m in ('numba', 'umap', 'pynndescent', 'openTSNE') if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


@pytest.mark.slow
def test_train_makes_its_maps_unless_told_not_to_and_the_map_and_export_commands(mapped, tmp_path):
    from click.testing import CliRunner

    from textlatent.cli import cli
    home = ["--home", mapped["config"].home]
    run = lambda *args: CliRunner().invoke(cli, home + list(args))  # noqa: E731
    r = run("train", "lda", "news", "--num-topics", "2", "--passes", "1", "--workers", "1", "-q", "--json")
    assert r.exit_code == 0, r.output
    trained = json.loads(r.output)
    assert [(m["what"], m["method"]) for m in trained["maps"]] == [("documents", "pca")]
    r = run("train", "lda", "news", "--num-topics", "2", "--passes", "1", "--workers", "1", "-q", "--json", "--no-map")
    assert r.exit_code == 0 and json.loads(r.output)["maps"] == []
    r = run("map", "news", "documents", "--model", str(trained["id"]), "--method", "pca", "--seed", "3", "-q", "--json")
    assert r.exit_code == 0 and json.loads(r.output)["seed"] == 3
    r = run("map", "news", "words", "--model", str(trained["id"]))
    assert r.exit_code == 1 and "LDA model" in r.output and "Traceback" not in r.output
    r = run("map", "news", "documents", "--by", "vectors", "--model", str(trained["id"]))
    assert r.exit_code == 1 and "word2vec model" in r.output
    out = tmp_path / "words.csv"
    r = run("export", "news", "word-map", "--format", "csv", "--output", str(out))
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["word", "x", "y", "frequency", "topic"] and len(rows) > 1000
