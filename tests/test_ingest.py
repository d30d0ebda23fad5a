"""Ingest: summary, idempotence, incremental vocabulary, atomicity."""

import json

import numpy as np
import pytest
from sqlalchemy import func, select

from textlatent.errors import EmptyCorpus, IngestError, InvalidInput
from textlatent.ingest import ReadOptions, delete_corpus, ingest
from textlatent.store import queries as db
from textlatent.store import schema

from .conftest import SAMPLE


def counts(config, name):
    engine = config
    with engine.read() as conn:
        c = db.find_corpus(conn, name)
        if c is None:
            return None
        terms, df, cf = db.load_terms(conn, c["id"])
        n_docs = conn.execute(select(func.count()).select_from(schema.documents)
                              .where(schema.documents.c.corpus_id == c["id"])).scalar()
        blobs = [b for _, b in db.iter_token_blobs(engine, c["id"])]
    return {"corpus": c, "terms": terms, "df": df, "cf": cf, "n_docs": n_docs, "blobs": blobs}


def test_ingest_summary_and_stored_streams(config):
    s = ingest(config, "inaugural", [str(SAMPLE / "inaugural")])
    assert s.added == 59 and s.documents == 59 and s.duplicates == 0 and s.created
    assert s.tokens > 50_000 and s.vocabulary > 3000
    c = counts(config, "inaugural")
    assert c["n_docs"] == 59
    ids = [np.frombuffer(b, dtype="<u4") for b in c["blobs"]]
    # The stored vocabulary counts are exactly what the stored streams hold.
    cf = np.bincount(np.concatenate(ids), minlength=len(c["terms"]))
    df = np.bincount(np.concatenate([np.unique(x) for x in ids]), minlength=len(c["terms"]))
    assert cf.tolist() == c["cf"] and df.tolist() == c["df"]
    assert sum(len(x) for x in ids) == s.tokens
    words = set(c["terms"])
    assert {"constitution", "liberty", "government"} <= words
    assert "the" not in words and "and" not in words      # stop words
    # lemmas (plurals these speeches never capitalise; "Governments" inside a sentence stays)
    assert {"blessing", "duty", "principle"} <= words and not {"blessings", "duties", "principles"} & words


@pytest.mark.slow
def test_ingest_twice_adds_nothing_and_new_files_only_add_themselves(config, tmp_path):
    first = ingest(config, "s", [str(SAMPLE / "inaugural")])
    again = ingest(config, "s", [str(SAMPLE / "inaugural")])
    assert again.added == 0 and again.duplicates == 59 and again.documents == 59
    more = ingest(config, "s", [str(SAMPLE / "inaugural"), str(SAMPLE / "state_of_the_union")])
    assert more.added == 65 and more.duplicates == 59 and more.documents == 124
    c = counts(config, "s")
    assert c["n_docs"] == 124 and len(c["terms"]) == more.vocabulary > first.vocabulary
    ids = np.concatenate([np.frombuffer(b, dtype="<u4") for b in c["blobs"]])
    assert np.bincount(ids, minlength=len(c["terms"])).tolist() == c["cf"]
    positions = [p for p, _ in db.iter_token_blobs(config, c["corpus"]["id"])]
    assert positions == list(range(124))


def test_failed_ingest_leaves_the_corpus_exactly_as_it_was(config, tmp_path):
    ingest(config, "s", [str(SAMPLE / "inaugural")])
    before = counts(config, "s")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "A perfectly good first line about budgets."}) + "\n{broken\n")
    with pytest.raises(IngestError, match="bad.jsonl line 2"):
        ingest(config, "s", [str(SAMPLE / "state_of_the_union"), str(bad)])
    after = counts(config, "s")
    assert after["n_docs"] == before["n_docs"] and after["cf"] == before["cf"]
    assert after["terms"] == before["terms"] and after["corpus"]["n_tokens"] == before["corpus"]["n_tokens"]
    # A failed first ingest creates no corpus at all.
    with pytest.raises(IngestError):
        ingest(config, "new", [str(bad)])
    assert counts(config, "new") is None


def test_empty_and_stopword_only_texts_are_skipped(config, tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text("\n".join(json.dumps({"text": t}) for t in
                           ["", "   ", "the and of to", "Rockets reached orbit above the launch pad."]) + "\n")
    s = ingest(config, "d", [str(p)])
    assert s.added == 1 and s.empty == 3
    with pytest.raises(EmptyCorpus):
        only_stop = tmp_path / "stop.jsonl"
        only_stop.write_text(json.dumps({"text": "the and of"}) + "\n")
        ingest(config, "stop", [str(only_stop)])


@pytest.mark.slow
def test_corpus_keeps_its_tokenizer_settings(config, tmp_path):
    from textlatent.ingest import TokenizerSettings
    ingest(config, "s", [str(SAMPLE / "inaugural")], settings=TokenizerSettings(phrases=False))
    s = ingest(config, "s", [str(SAMPLE / "state_of_the_union")], settings=TokenizerSettings(phrases=True))
    assert s.phrases == 0
    assert any("kept" in r or "keeps" in r for r in s.report)


@pytest.mark.slow
def test_paragraphs_and_phrases(config):
    s = ingest(config, "p", [str(SAMPLE)], ReadOptions(split="paragraphs"))
    assert s.documents > 5000
    assert s.phrases > 100
    c = counts(config, "p")
    assert "united_states" in c["terms"] and "unite_state" not in c["terms"]   # a name keeps its form


@pytest.mark.slow
def test_bad_names_and_delete(config):
    with pytest.raises(InvalidInput):
        ingest(config, "../x", [str(SAMPLE / "inaugural")])
    ingest(config, "gone", [str(SAMPLE / "inaugural")])
    delete_corpus(config, "gone")
    assert counts(config, "gone") is None


@pytest.mark.slow
def test_bbc_zipped_as_it_ships_keeps_its_class_labels(config, tmp_path):
    """bbc_news/ zipped whole (README.TXT beside the class folders): every article keeps its
    folder's label; the README is skipped, and the summary says so."""
    import collections
    import zipfile

    from .conftest import shared
    bbc = shared("bbc_news")
    z = tmp_path / "bbc_news.zip"
    expected, seen = collections.Counter(), set()
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(bbc / "README.TXT", "bbc_news/README.TXT")
        for cls in sorted(p.name for p in bbc.iterdir() if p.is_dir()):
            for f in sorted((bbc / cls).glob("*.txt")):
                zf.write(f, f"bbc_news/{cls}/{f.name}")
                if f.read_bytes() not in seen:        # the first copy of a duplicate is kept
                    seen.add(f.read_bytes())
                    expected[cls] += 1
    s = ingest(config, "bbc", [str(z)])
    with config.read() as conn:
        corpus_id = db.get_corpus(conn, "bbc")["id"]
    stored = collections.Counter(d["label"] for d in db.iter_documents(config, corpus_id, ("position", "label")))
    assert stored == expected and None not in stored
    assert s.added == sum(expected.values()) and s.duplicates == 2225 - s.added
    assert any("skipped README.TXT" in line for line in s.report)
    assert s.skipped_files == ["bbc_news.zip/README.TXT"]
