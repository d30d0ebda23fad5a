"""Exports: every format read back by the tool that consumes it."""

import csv
import json

import numpy as np
import pytest

from textlatent.errors import InvalidInput
from textlatent.explore.topics import model_arrays
from textlatent.export import export, safe_cell
from textlatent.store import registry


@pytest.fixture
def lda(trained):
    config = trained["config"]
    _, model = registry.find_model(config, "news", kind="lda")
    return config, model, np.asarray(model_arrays(config, model)["doc_topics"])


def test_doc_topics_csv(lda, tmp_path):
    config, model, theta = lda
    out = tmp_path / "dt.csv"
    assert export(config, "news", "doc-topics", "csv", str(out)) == [str(out)]
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["doc_id", "title", "label", "date", "topic_0", "topic_1", "topic_2", "topic_3"]
    assert len(rows) == theta.shape[0] + 1
    assert np.allclose([float(x) for x in rows[1][4:]], theta[0], atol=1e-5)
    assert rows[1][2] in ("rec.sport.hockey", "sci.space", "comp.graphics", "talk.politics.guns")


def test_doc_topics_jsonl_npy_parquet(lda, tmp_path):
    import pyarrow.parquet as pq
    config, model, theta = lda
    export(config, "news", "doc-topics", "jsonl", str(tmp_path / "dt.jsonl"))
    lines = (tmp_path / "dt.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == theta.shape[0]
    assert np.allclose(json.loads(lines[-1])["topics"], theta[-1], atol=1e-5)

    files = export(config, "news", "doc-topics", "npy", str(tmp_path / "dt.npy"))
    assert files == [str(tmp_path / "dt.npy"), str(tmp_path / "dt.ids.tsv")]
    assert np.array_equal(np.load(tmp_path / "dt.npy"), theta)
    ids = (tmp_path / "dt.ids.tsv").read_text(encoding="utf-8").splitlines()
    assert ids[0].split("\t") == ["row", "doc_id", "title", "label", "date"] and len(ids) == theta.shape[0] + 1

    export(config, "news", "doc-topics", "parquet", str(tmp_path / "dt.parquet"))
    table = pq.read_table(tmp_path / "dt.parquet")
    assert table.num_rows == theta.shape[0] and table.column_names[:4] == ["doc_id", "title", "label", "date"]
    assert np.allclose(table.column("topic_2").to_numpy(), theta[:, 2])


def test_topic_terms_csv(lda, tmp_path):
    config, model, _ = lda
    export(config, "news", "topic-terms", "csv", str(tmp_path / "tt.csv"))
    with open(tmp_path / "tt.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4 * 30 and {r["topic"] for r in rows} == {"0", "1", "2", "3"}
    first = [r for r in rows if r["topic"] == "0"]
    assert [float(r["weight"]) for r in first] == sorted((float(r["weight"]) for r in first), reverse=True)


@pytest.fixture
def labelled(trained, tmp_path):
    """A copy of the trained data directory whose LDA model has two topics named."""
    import shutil
    from textlatent.explore.topics import set_labels
    from textlatent.settings import load_settings
    from textlatent.store import Store
    home = tmp_path / "copy"
    shutil.copytree(trained["config"].home, home)
    store = Store(load_settings(home=str(home), database_url=f"sqlite:///{home / 'textlatent.db'}"))
    set_labels(store, trained["lda"], {"1": "ice hockey", "3": "=guns, laws"})
    return store


def test_labels_name_the_topic_columns_as_pandas_reads_them(labelled, tmp_path):
    import pandas as pd
    export(labelled, "news", "doc-topics", "csv", str(tmp_path / "dt.csv"))
    export(labelled, "news", "doc-topics", "parquet", str(tmp_path / "dt.parquet"))
    export(labelled, "news", "topic-terms", "csv", str(tmp_path / "tt.csv"))
    expected = ["doc_id", "title", "label", "date", "topic_0", "topic_1: ice hockey", "topic_2", "topic_3: =guns, laws"]
    for df in (pd.read_csv(tmp_path / "dt.csv"), pd.read_parquet(tmp_path / "dt.parquet")):
        assert list(df.columns) == expected
        topics = df.filter(regex=r"^topic_\d+")
        assert topics.shape[1] == 4 and np.allclose(topics.sum(axis=1), 1, atol=1e-3)
    terms = pd.read_csv(tmp_path / "tt.csv", keep_default_na=False)
    assert set(terms[terms.topic == 1].label) == {"ice hockey"} and set(terms[terms.topic == 0].label) == {""}
    assert set(terms[terms.topic == 3].label) == {"'=guns, laws"}     # a formula-looking cell is quoted


@pytest.mark.parametrize("fmt", ["word2vec", "word2vec-binary"])
@pytest.mark.slow
def test_word_vectors_read_back_by_gensim(trained, tmp_path, fmt):
    from gensim.models import KeyedVectors
    config = trained["config"]
    out = tmp_path / "v.vec"
    export(config, "news", "vectors", fmt, str(out))
    kv = KeyedVectors.load_word2vec_format(str(out), binary=fmt.endswith("binary"))
    _, model = registry.find_model(config, "news", kind="word2vec")
    vectors = np.load(registry.model_path(config, model, "vectors.npy"))
    assert kv.vectors.shape == vectors.shape
    assert np.allclose(kv["hockey"], vectors[kv.key_to_index["hockey"]], atol=1e-4)


def test_projector_tsv(trained, tmp_path):
    files = export(trained["config"], "news", "vectors", "projector", str(tmp_path / "proj"))
    vec = (tmp_path / "proj" / "vectors.tsv").read_text().splitlines()
    meta = (tmp_path / "proj" / "metadata.tsv").read_text().splitlines()
    assert len(files) == 2 and len(vec) == len(meta) > 1000
    assert len(vec[0].split("\t")) == 100


def test_bad_export_requests(trained, tmp_path):
    with pytest.raises(InvalidInput, match="csv, jsonl, npy, parquet"):
        export(trained["config"], "news", "doc-topics", "xlsx", str(tmp_path / "x"))
    with pytest.raises(InvalidInput, match="cannot export"):
        export(trained["config"], "news", "everything", "csv", str(tmp_path / "x"))


def test_formula_cells_are_neutralised():
    assert [safe_cell(v) for v in ("=SUM(A1)", "+1", "-2", "@x", "\tx", "ok", None)] == [
        "'=SUM(A1)", "'+1", "'-2", "'@x", "'\tx", "ok", None]
