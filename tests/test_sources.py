"""Reading sources: every format, encodings, labels, and the errors of bad files."""

import csv
import gzip
import json
import zipfile

import pytest

from textlatent.errors import IngestError, UnsupportedSource
from textlatent.ingest.sources import ReadOptions, decode_bytes, iter_sources, split_paragraphs

from .conftest import SAMPLE, shared


def read(paths, **kw):
    return list(iter_sources([str(p) for p in paths], ReadOptions(**kw)))


def test_folder_labels_come_from_the_first_subfolder():
    docs = read([SAMPLE])
    labels = {d["label"] for d in docs}
    assert labels == {"inaugural", "state_of_the_union"}
    washington = next(d for d in docs if d["doc_key"] == "inaugural/1789-Washington.txt")
    assert washington["title"] == "1789-Washington"
    assert "Fellow-Citizens" in washington["text"]


def test_paragraph_split_handles_blank_line_and_line_per_paragraph_styles():
    sotu = (SAMPLE / "state_of_the_union" / "1945-Truman.txt").read_text(encoding="utf-8")
    paras = list(split_paragraphs(sotu))
    assert len(paras) > 50
    assert all("\n\n" not in p for p in paras)
    assert list(split_paragraphs("One para\nwrapped here.\n\nSecond one.")) == [
        "One para\nwrapped here.", "Second one."]


def test_zip_of_a_folder_keeps_labels(tmp_path):
    bbc = shared("bbc_news")
    z = tmp_path / "bbc.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for cls in ("sport", "tech"):
            for f in sorted((bbc / cls).glob("*.txt"))[:5]:
                zf.write(f, f"bbc/{cls}/{f.name}")
    docs = read([z])
    assert len(docs) == 10
    assert {d["label"] for d in docs} == {"sport", "tech"}
    assert docs[0]["source"].startswith("bbc.zip/")


def _bbc_zip(path, per_class=3, loose=()):
    """A zip of ``bbc_news/`` as it ships (README.TXT beside the class folders), cut to
    ``per_class`` files a class, with ``loose`` extra (name, text) files at its top."""
    bbc = shared("bbc_news")
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(bbc / "README.TXT", "bbc_news/README.TXT")
        for cls in ("business", "sport", "tech"):
            for f in sorted((bbc / cls).glob("*.txt"))[:per_class]:
                zf.write(f, f"bbc_news/{cls}/{f.name}")
        for name, text in loose:
            zf.writestr(f"bbc_news/{name}", text)
    return path


def test_zip_with_a_readme_beside_the_class_folders_keeps_the_labels(tmp_path):
    z = _bbc_zip(tmp_path / "bbc_news.zip", loose=[("notes.txt", "Loose notes about the markets.")])
    options = ReadOptions()
    docs = list(iter_sources([str(z)], options))
    by_key = {d["doc_key"]: d["label"] for d in docs}
    assert sorted(v for v in by_key.values() if v) == ["business"] * 3 + ["sport"] * 3 + ["tech"] * 3
    assert by_key["notes.txt"] is None                  # at the top: no class
    assert not any("README" in k for k in by_key)       # describes the corpus; not a document
    report = " ".join(options.report)
    assert "skipped README.TXT" in report and "kept without a label: notes.txt" in report


def test_folder_with_a_readme_and_loose_files(tmp_path):
    root = tmp_path / "news"
    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True)
        (root / cls / "1.txt").write_text(f"text of class {cls}")
    (root / "LICENSE.md").write_text("MIT")
    (root / "extra.txt").write_text("a loose document")
    options = ReadOptions()
    docs = list(iter_sources([str(root)], options))
    assert {d["doc_key"]: d["label"] for d in docs} == {"a/1.txt": "a", "b/1.txt": "b", "extra.txt": None}
    assert any("skipped LICENSE.md" in r for r in options.report)
    assert any("extra.txt" in r for r in options.report)
    (root / "only").mkdir()
    (root / "only" / "README.txt").write_text("about")
    with pytest.raises(IngestError, match="only README.txt"):
        read([root / "only"])


def test_csv_tsv_and_gzip_with_fields_and_metadata(tmp_path):
    src = shared("reuters21578", "reuters21578.jsonl")
    rows = [json.loads(line) for _, line in zip(range(30), open(src, encoding="utf-8"))]
    for name, delim in (("r.csv", ","), ("r.tsv", "\t")):
        with open(tmp_path / name, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, delimiter=delim)
            w.writerow(["id", "title", "date", "body", "places"])
            for r in rows:
                w.writerow([r["id"], r["title"], r["date"], r["text"], ";".join(r["places"])])
    with open(tmp_path / "r.csv", "rb") as a, gzip.open(tmp_path / "r.csv.gz", "wb") as b:
        b.write(a.read())
    for name in ("r.csv", "r.tsv", "r.csv.gz"):
        docs = read([tmp_path / name], text_field="body", title_field="title", date_field="date")
        assert len(docs) == 30
        assert docs[0]["doc_key"] == str(rows[0]["id"])
        assert docs[0]["title"] == rows[0]["title"]
        assert docs[0]["date"] == rows[0]["date"]
        assert docs[0]["meta"] == {"places": ";".join(rows[0]["places"])}


def test_jsonl_keeps_other_fields_as_metadata(news_jsonl):
    docs = read([news_jsonl], label_field="label")
    rows = [json.loads(line) for line in open(news_jsonl, encoding="utf-8")]
    assert len(docs) == len(rows) == 1200
    assert [d["label"] for d in docs] == [r["label"] for r in rows]
    assert docs[0]["meta"] == {"split": "train"}
    assert docs[0]["doc_key"].startswith("train/")


def test_encodings_utf16_bom_utf8_bom_latin1_and_nul(tmp_path):
    (tmp_path / "u16.txt").write_bytes(b"\xff\xfe" + "café au lait".encode("utf-16-le"))
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbftext\nhello world\n")
    (tmp_path / "latin.txt").write_bytes("naïve résumé über alles ".encode("latin-1") * 20)
    (tmp_path / "nul.txt").write_bytes(b"before\x00after\x07bell")
    report = []
    opts = ReadOptions(report=report)
    docs = {d["doc_key"]: d for d in iter_sources([str(tmp_path)], opts)}
    assert docs["u16.txt"]["text"] == "café au lait"
    assert docs["latin.txt"]["text"].startswith("naïve résumé")
    assert any("latin.txt" in r and "offset" in r for r in report)
    assert docs["nul.txt"]["text"] == "beforeafterbell"
    assert read([tmp_path / "bom.csv"])[0]["text"] == "hello world"


def test_binary_named_txt_is_refused(tmp_path):
    with pytest.raises(IngestError, match="binary"):
        decode_bytes(bytes(range(256)) * 40, "x.txt", [])


@pytest.mark.parametrize("content, message", [
    ('{"text": "ok"}\n{"text": \n', "line 2"),
    ('{"text": 5}\n', "not text"),
    ('{"body": "x"}\n', "no text field 'text'"),
    ('[1, 2]\n', "expected a JSON object"),
])
def test_bad_jsonl_names_the_line(tmp_path, content, message):
    p = tmp_path / "bad.jsonl"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(IngestError, match=message):
        read([p])


def test_jsonl_lone_surrogate_is_dropped(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_text('{"text": "bad \\ud800 char"}\n', encoding="utf-8")
    assert read([p])[0]["text"] == "bad  char"


def test_csv_without_the_named_column(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("body,id\nhello,1\n", encoding="utf-8")
    with pytest.raises(IngestError, match="no column 'text'; columns: body, id"):
        read([p])


def test_unsupported_type_lists_the_allowed(tmp_path):
    p = tmp_path / "data.pdf"
    p.write_bytes(b"%PDF-1.4")
    with pytest.raises(UnsupportedSource, match=r"\.csv"):
        read([p])


def test_zip_slip_and_nested_archives_are_refused(tmp_path):
    slip = tmp_path / "slip.zip"
    with zipfile.ZipFile(slip, "w") as zf:
        zf.writestr("../../evil.txt", "hello")
    with pytest.raises(IngestError, match="outside the archive"):
        read([slip])
    nested = tmp_path / "nested.zip"
    with zipfile.ZipFile(nested, "w") as zf:
        zf.writestr("inner.zip", b"PK")
    with pytest.raises(UnsupportedSource, match="nested archive"):
        read([nested])


def test_truncated_zip_is_a_clear_error(tmp_path):
    good = tmp_path / "g.zip"
    with zipfile.ZipFile(good, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.txt", "word " * 10000)
    data = good.read_bytes()
    bad = tmp_path / "bad.zip"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(IngestError):
        read([bad])


def test_missing_path(tmp_path):
    with pytest.raises(IngestError, match="no such file"):
        read([tmp_path / "nope"])
