"""Dates at ingest: the formats read, file-name dates, the original kept, failures reported."""

import json

import pytest

from textlatent.export import export
from textlatent.ingest import ReadOptions, dates, ingest
from textlatent.store import queries as db

from .conftest import SAMPLE, shared


@pytest.mark.parametrize("raw, iso", [
    ("26-FEB-1987 15:01:01.79", "1987-02-26T15:01:01"),     # Reuters
    ("27-MAR-1987 00:02:59.13&#5;&#5;&#5;RM", "1987-03-27T00:02:59"),     # Reuters, with debris
    ("1987-02-26", "1987-02-26"), ("1987-02-26T15:01:01+02:00", "1987-02-26T13:01:01Z"),
    ("2021-01-20 12:00", "2021-01-20T12:00:00"), ("1945", "1945"), ("1945-4", "1945-04"),
    ("Tue, 6 Apr 1993 17:22:10 -0500", "1993-04-06T22:22:10Z"),        # e-mail and news headers
    ("February 26, 1987", "1987-02-26"), ("26 February 1987", "1987-02-26"), ("Feb 26 1987", "1987-02-26"),
    ("02/26/1987", "1987-02-26"), ("26/02/1987", "1987-02-26"), ("26.02.1987", "1987-02-26"),
    ("March 1987", "1987-03"), ("  ", None), (None, None),
])
def test_dates_in_common_formats_become_iso(raw, iso):
    assert dates.normalise(raw) == iso


@pytest.mark.parametrize("raw", ["yesterday", "2023-02-30", "13/13/1987", "x" * 500])
def test_what_is_not_a_date_is_refused(raw):
    with pytest.raises(ValueError):
        dates.normalise(raw)


def test_file_names_that_start_with_a_date():
    assert dates.from_file_name("1945-Truman.txt") == "1945"
    assert dates.from_file_name("1987-02-26_wire.txt") == "1987-02-26"
    assert dates.from_file_name("001.txt") is None and dates.from_file_name("2001.txt") is None
    assert dates.from_file_name("12345-x.txt") is None


def test_period_ends_take_in_the_whole_period():
    assert dates.end_bound("1987-12") == "1988-01" and dates.end_bound("1987") == "1988"
    assert dates.end_bound("1987-02-28") == "1987-03-01"
    assert "1987-12-31T23:59:59" < dates.end_bound("1987-12")


def _docs(store, name, columns=("position", "title", "date", "meta")):
    with store.read() as conn:
        return db.get_documents(conn, db.get_corpus(conn, name)["id"], columns=columns)


def test_reuters_dates_are_stored_iso_with_the_original_and_failures_reported(config, tmp_path):
    src = shared("reuters21578", "reuters21578.jsonl")
    rows = list({r["text"]: r for r in map(json.loads, open(src, encoding="utf-8")) if r["id"] <= 60}.values())[:40]
    assert len(rows) == 40
    rows[5]["date"] = "the day after"
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    s = ingest(config, "wires", [str(path)], ReadOptions(title_field="title", date_field="date"))
    assert s.added == 40 and s.dated == 39 and s.dates_unparsed == 1
    assert any("the day after" in line and "r.jsonl line 6" in line for line in s.report)
    docs = _docs(config, "wires")
    assert docs[0]["date"] == "1987-02-26T15:01:01"
    assert docs[0]["meta"]["date_original"] == "26-FEB-1987 15:01:01.79"
    assert docs[5]["date"] is None and docs[5]["meta"]["date_original"] == "the day after"
    # Every stored date is the ISO form of what Reuters wrote.
    for doc, row in zip(docs, rows):
        if doc["date"]:
            assert doc["date"] == dates.normalise(row["date"])


@pytest.mark.slow
def test_sample_speeches_carry_their_year_from_the_file_name(config):
    s = ingest(config, "speeches", [str(SAMPLE)])
    assert s.dated == s.added == 124 and s.dates_unparsed == 0
    docs = {d["doc_key"]: d for d in _docs(config, "speeches", ("doc_key", "title", "date", "meta"))}
    truman = docs["state_of_the_union/1945-Truman.txt"]
    assert truman["date"] == "1945" and truman["meta"] is None
    assert truman["title"] == "PRESIDENT HARRY S. TRUMAN'S ADDRESS BEFORE A JOINT SESSION OF THE CONGRESS"
    # "Fellow-Citizens of the Senate ...:" is a salutation, not a headline: the file names it.
    washington = docs["inaugural/1789-Washington.txt"]
    assert washington["title"] == "1789-Washington" and washington["date"] == "1789"


def test_first_lines_title_folder_documents_unless_turned_off(config, tmp_path):
    bbc = shared("bbc_news")
    folder = tmp_path / "bbc"
    for cls in ("business", "tech"):
        (folder / cls).mkdir(parents=True)
        for f in sorted((bbc / cls).glob("*.txt"))[:3]:
            (folder / cls / f.name).write_bytes(f.read_bytes())
    ingest(config, "bbc", [str(folder)])
    first_lines = {(folder / cls / f.name).read_text(encoding="latin-1").split("\n")[0].strip()
                   for cls in ("business", "tech") for f in (folder / cls).iterdir()}
    assert {d["title"] for d in _docs(config, "bbc")} == first_lines
    ingest(config, "bbc-names", [str(folder)], ReadOptions(first_line_title=False))
    assert {d["title"] for d in _docs(config, "bbc-names")} == {"001", "002", "003"}


def test_cli_turns_first_line_titles_off_and_reports_dates(config, tmp_path):
    from click.testing import CliRunner
    from textlatent.cli import cli
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "1999-12-31-party.txt").write_text("Party like it is 1999\n\nThe text of the party report.",
                                                 encoding="utf-8")
    r = CliRunner().invoke(cli, ["--home", config.home, "ingest", str(folder), "-c", "p", "--no-first-line-title",
                                 "--json", "-q"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["dated"] == 1
    assert _docs(config, "p")[0]["title"] == "1999-12-31-party"
    assert _docs(config, "p")[0]["date"] == "1999-12-31"




def test_doc_topics_exports_carry_an_iso_date_column(config, tmp_path):
    import csv

    import pyarrow.parquet as pq
    from textlatent.models import train_lda
    ingest(config, "speeches", [str(SAMPLE / "inaugural")])
    train_lda(config, "speeches", {"num_topics": 2, "passes": 1, "workers": 1})
    export(config, "speeches", "doc-topics", "csv", str(tmp_path / "dt.csv"))
    with open(tmp_path / "dt.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["date"] for r in rows] == [d["date"] for d in _docs(config, "speeches")]
    assert rows[0]["date"] == "1789" and rows[-1]["date"] == "2021"
    export(config, "speeches", "doc-topics", "parquet", str(tmp_path / "dt.parquet"))
    assert pq.read_table(tmp_path / "dt.parquet").column("date").to_pylist() == [r["date"] for r in rows]
