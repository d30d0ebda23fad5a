"""The documents list: full-text search finds every document holding the words and only
those, filters and sorting agree with the stored data, bad input is a clear 400, and an
older database gets its index from the migration."""

import collections
import re

import numpy as np
import pytest
from click.testing import CliRunner

from textlatent.cli import cli
from textlatent.errors import InvalidInput
from textlatent.explore.search import list_documents
from textlatent.explore.topics import model_arrays
from textlatent.store import dispose_engines, registry
from textlatent.store import queries as db
from textlatent.store import search as fts
from web import create_app


def _all_docs(store, name):
    with store.read() as conn:
        corpus = db.get_corpus(conn, name)
    return list(db.iter_documents(store, corpus["id"], ("position", "title", "label", "date", "text")))


def _found(store, name, q, **filters):
    """Every position the paged list returns, page after page."""
    positions, offset = [], 0
    while True:
        r = list_documents(store, name, q=q, limit=100, offset=offset, **filters)
        positions += [d["position"] for d in r["documents"]]
        offset += 100
        if offset >= r["total"]:
            assert len(positions) == r["total"]
            return positions


def probe_words(docs, n=4):
    """Plain words of the corpus from the most common to one document's, by document frequency."""
    df = collections.Counter(w for d in docs for w in set(fts.words((d["title"] or "") + " " + d["text"]))
                             if re.fullmatch(r"[a-z]{3,}", w))
    ranked = [w for w, _ in df.most_common()]
    picks = [ranked[0], ranked[len(ranked) // 50], ranked[len(ranked) // 5], ranked[-1]]
    return picks[:n]


def assert_search_is_exact(store, name):
    """For words of every frequency, alone and two together, in any case: the documents
    found are exactly those whose title or text holds the word(s)."""
    docs = _all_docs(store, name)
    words_of = {d["position"]: set(fts.words((d["title"] or "") + " " + d["text"])) for d in docs}
    words = probe_words(docs)
    queries = [[w] for w in words] + [[words[1], words[2]]]
    for query in queries:
        want = sorted(p for p, ws in words_of.items() if all(w in ws for w in query))
        got = _found(store, name, " ".join(query).upper())
        assert got == want, (query, len(got), len(want))
    return words


def test_search_finds_exactly_the_documents_holding_the_words_sqlite(trained):
    words = assert_search_is_exact(trained["config"], "news")
    assert len(words) == 4


def test_search_snippets_mark_the_words(trained):
    r = list_documents(trained["config"], "news", q="orbit shuttle", limit=10)
    assert r["total"] > 0
    for d in r["documents"]:
        marked = [d["snippet"][a:b].lower() for a, b in d["highlights"]]
        assert marked and set(marked) <= {"orbit", "shuttle"}


def test_filters_by_label_date_and_dominant_topic_agree_with_the_store(speeches):
    store = speeches["config"]
    docs = _all_docs(store, "speeches")
    got = _found(store, "speeches", None, label="inaugural", date_from="1900", date_to="1950")
    assert got == [d["position"] for d in docs if d["label"] == "inaugural" and "1900" <= d["date"] <= "1950"]
    _, model = registry.get_model(store, speeches["lda"])
    theta = np.asarray(model_arrays(store, model)["doc_topics"])
    got = _found(store, "speeches", "war", topic="2")
    with_war = set(_found(store, "speeches", "war"))
    assert got == [p for p in range(len(docs)) if p in with_war and theta[p].argmax() == 2]
    ranked = list_documents(store, "speeches", sort="share:1", limit=5)["documents"]
    assert [d["position"] for d in ranked] == np.argsort(-theta[:, 1], kind="stable")[:5].tolist()
    newest = list_documents(store, "speeches", sort="-date", limit=3)["documents"]
    assert [d["date"] for d in newest] == sorted((d["date"] for d in docs), reverse=True)[:3]


@pytest.mark.parametrize("args, needle", [
    ({"q": ""}, "at least one word"), ({"q": "!!! ..."}, "at least one word"),
    ({"q": "x" * 10_000}, "at most 1,000 characters"),
    ({"label": "no-such-label"}, "labels: inaugural, state_of_the_union"),
    ({"topic": "9"}, "topics are 0..3"), ({"topic": "two"}, "whole numbers"),
    ({"date_from": "1990", "date_to": "1980"}, "after date_to"),
    ({"date_from": "the sixties"}, "date_from"), ({"sort": "random"}, "sort must be"),
    ({"sort": "share:x"}, "whole numbers"), ({"limit": "1000"}, "limit"),
])
def test_bad_input_is_a_clear_400(speeches, args, needle):
    with pytest.raises(InvalidInput, match=re.escape(needle)):
        list_documents(speeches["config"], "speeches", **args)
    r = create_app(speeches["config"]).test_client().get("/api/v1/corpora/speeches/documents", query_string=args)
    assert r.status_code == 400 and needle in r.get_json()["error"]["message"]


def test_all_problems_are_reported_at_once(speeches):
    with pytest.raises(InvalidInput) as e:
        list_documents(speeches["config"], "speeches", q="", topic="99", date_from="1990", date_to="1980")
    assert len(e.value.details["problems"]) == 3


@pytest.mark.parametrize("offset, limit", [(0, 10), (57, 20), (120, 10), (124, 5), (500, 10)])
def test_the_unfiltered_list_pages_through_every_document_in_order(speeches, offset, limit):
    """Without a search or filter the page is a range of positions: each page holds the
    documents at offset.. offset + limit - 1 that exist, with their titles, and the total."""
    store = speeches["config"]
    docs = _all_docs(store, "speeches")
    r = list_documents(store, "speeches", limit=limit, offset=offset)
    assert r["total"] == len(docs) == 124
    want = docs[offset:offset + limit]
    assert [(d["position"], d["title"]) for d in r["documents"]] == [(d["position"], d["title"]) for d in want]


def test_api_page_and_cli_agree(speeches):
    store = speeches["config"]
    client = create_app(store).test_client()
    api = client.get("/api/v1/corpora/speeches/documents?q=liberty&sort=date&limit=5").get_json()
    assert set(api) >= {"documents", "total"} and len(api["documents"]) == 5
    assert set(api["documents"][0]) >= {"position", "doc_id", "title", "label", "date", "snippet"}
    html = client.get("/corpora/speeches/documents?q=liberty&sort=date&limit=5").data.decode()
    assert f"1–5 of {api['total']:,} found" in html and html.count("<mark>") >= 5
    positions = [int(p) for p in re.findall(r'<tr data-position="(\d+)"', html)]
    assert positions == [d["position"] for d in api["documents"]]
    assert 'rel="next"' in html
    page = client.get("/corpora/speeches/documents?q=&label=").data.decode()   # blank fields: no filter
    assert "1–50 of 124</p>" in page
    assert "no document has the label" in client.get("/corpora/speeches/documents?label=zz").data.decode()
    r = CliRunner().invoke(cli, ["--home", store.home, "documents", "speeches", "--search", "liberty",
                                 "--sort", "date", "--limit", "5", "--json"])
    assert r.exit_code == 0, r.output
    import json
    assert json.loads(r.output)["documents"] == api["documents"]
    r = CliRunner().invoke(cli, ["--home", store.home, "documents", "speeches", "--date-from", "1990",
                                 "--date-to", "1980"])
    assert r.exit_code == 1 and "after date_to" in r.output


def test_a_version_2_database_gets_its_search_index_from_the_migration(config):
    from textlatent.ingest import ingest
    from textlatent.store import schema

    from .conftest import SAMPLE
    ingest(config, "inaug", [str(SAMPLE / "inaugural")])
    # The migration that brought the search index; the database goes back to the version before it.
    version = next(v for v, steps in schema.MIGRATIONS.items() if any("ix_doc_date" in str(x) for x in steps))
    with config.write() as conn:        # as a database made before the search index
        conn.exec_driver_sql("DROP TABLE tl_documents_fts")
        conn.exec_driver_sql("DROP INDEX ix_doc_date_position")
        conn.exec_driver_sql("DROP INDEX ix_doc_label_date")
        conn.exec_driver_sql(f"UPDATE tl_meta SET value = '{version - 1}' WHERE key = 'schema_version'")
    dispose_engines()
    from textlatent.store import Store
    store = Store(config.config)
    assert schema.schema_version(store.engine) == schema.SCHEMA_VERSION
    got = _found(store, "inaug", "liberty")
    want = [d["position"] for d in _all_docs(store, "inaug") if "liberty" in fts.words(d["text"])]
    assert got == want and len(want) > 10


@pytest.mark.slow
def test_deleting_a_corpus_empties_its_index_entries(config):
    from textlatent.ingest import delete_corpus, ingest

    from .conftest import SAMPLE
    ingest(config, "a", [str(SAMPLE / "inaugural")])
    ingest(config, "b", [str(SAMPLE / "state_of_the_union")])
    before = len(_found(config, "b", "liberty"))
    delete_corpus(config, "a")
    ingest(config, "c", [str(SAMPLE / "inaugural")])     # new rows may reuse the ids
    assert len(_found(config, "b", "liberty")) == before
    assert _found(config, "c", "liberty") == [d["position"] for d in _all_docs(config, "c")
                                              if "liberty" in fts.words(d["text"])]
    with config.read() as conn:
        n = conn.exec_driver_sql("SELECT count(*) FROM tl_documents_fts WHERE tl_documents_fts MATCH 'liberty'").scalar()
    assert n == before + len(_found(config, "c", "liberty"))


def test_date_orders_and_filters_page_through_dated_then_undated_documents(config, tmp_path):
    """Reuters stories, the first 400 by their day (many on one day) and the next 100
    uploaded without dates, in one corpus: every page of every order and filter, at a
    page size that splits the dated and undated parts mid-page, is the stored data
    sorted as documented."""
    import itertools
    import json

    from textlatent.ingest import ingest
    from textlatent.ingest.sources import ReadOptions

    from .conftest import shared
    rows = [json.loads(line) for line in itertools.islice(open(shared("reuters21578", "reuters21578.jsonl")), 500)]
    for part, (a, b) in enumerate([(0, 400), (400, 500)]):
        src = tmp_path / f"reuters{part}.jsonl"
        src.write_text("".join(json.dumps({"id": r["id"], "text": r["text"], "day": r["date"][:11],
                                           "label": (r["topics"] or ["none"])[0]}) + "\n"
                               for r in rows[a:b] if r["text"].strip()))
        ingest(config, "mixed", [str(src)], ReadOptions(id_field="id", label_field="label",
                                                        date_field="day" if part == 0 else None))
    docs = _all_docs(config, "mixed")
    dated = [d for d in docs if d["date"]]
    assert 200 < len(dated) < len(docs) and len({d["date"][:10] for d in dated}) < len(dated) / 5

    def pages(**kw):
        out, offset = [], 0
        while True:
            r = list_documents(config, "mixed", limit=7, offset=offset, **kw)
            out += [d["position"] for d in r["documents"]]
            offset += 7
            if offset >= r["total"]:
                assert len(out) == r["total"]
                return out

    undated = [d["position"] for d in docs if not d["date"]]
    assert pages(sort="date") == [d["position"] for d in sorted(dated, key=lambda d: (d["date"], d["position"]))] \
        + undated
    newest = sorted(dated, key=lambda d: d["position"])
    newest.sort(key=lambda d: d["date"], reverse=True)       # stable: ties keep position order
    assert pages(sort="-date") == [d["position"] for d in newest] + undated
    label = collections.Counter(d["label"] for d in dated).most_common(1)[0][0]
    assert pages(label=label) == [d["position"] for d in docs if d["label"] == label]
    with config.read() as conn:         # the filter's choices: each label once, in order
        corpus_id = db.get_corpus(conn, "mixed")["id"]
        every = sorted({d["label"] for d in docs})
        assert fts.labels(conn, corpus_id) == every and len(every) > 10
        assert fts.labels(conn, corpus_id, limit=4) == every[:4]
        assert fts.has_label(conn, corpus_id, label) and not fts.has_label(conn, corpus_id, label + "x")
    assert pages(label=label, sort="-date") == [d["position"] for d in newest if d["label"] == label] + [
        d["position"] for d in docs if not d["date"] and d["label"] == label]
    day = sorted(dated, key=lambda d: d["date"])[len(dated) // 2]["date"][:10]
    assert pages(date_from=day, sort="date") == [
        d["position"] for d in sorted(dated, key=lambda d: (d["date"], d["position"])) if d["date"][:10] >= day]


def test_a_filtered_list_is_counted_and_ordered_in_an_index(config):
    """The label and date filters and the date order read the (corpus, label, date,
    position) and (corpus, date, position) indexes alone: a filtered page of a million
    documents reads its own rows, not every match (see store/search.py)."""
    from sqlalchemy import text

    from textlatent.ingest import ingest

    from .conftest import SAMPLE
    ingest(config, "inaug", [str(SAMPLE / "inaugural")])
    n = "(SELECT n_docs FROM tl_corpora WHERE id = 1)"
    with config.read() as conn:
        def plan(sql):
            return " ".join(r[3] for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql)).all())
        where = f"FROM tl_documents d WHERE d.corpus_id = 1 AND +d.position < {n}"
        assert "COVERING INDEX ix_doc_label_date" in plan(f"SELECT count(*) {where} AND d.label = 'x'")
        assert "COVERING INDEX ix_doc_date_position" in plan(f"SELECT count(*) {where} AND d.date >= '1900'")
        by_date = plan(f"SELECT d.position {where} AND d.date IS NOT NULL ORDER BY d.date DESC, d.position LIMIT 5")
        assert "COVERING INDEX ix_doc_date_position" in by_date and "TEMP B-TREE FOR ORDER BY" not in by_date
