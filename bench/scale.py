"""The scale benchmark: 20 Newsgroups x1 (the baseline), x4 and x10, and optionally a
1,000,000-document corpus of 60-word windows of gutenberg8, each on SQLite and on
PostgreSQL: ingest, LDA, Word2Vec and export times, peak memory of the whole process
tree (PSS, tokenizer children included) and peak disk, then every page and API read's
server time (Flask's test client in the process, p50 and p95).

``python -m bench scale [--sizes x1,x4,x10,1m]``; each finished (size, database) is kept
under the bench work folder, so an interrupted run resumes where it stopped. ``--keep``
keeps each build too (its data directory and PostgreSQL schema), and ``--reads`` then times
the reads again on the kept builds with the code as it is now: a 1 M build takes half an
hour, a change to a read a few minutes to measure. Each result names the commit that built
it and the one that read it.
Tasks run in child processes: ``python -m bench.scale TASK '{...}'``.
"""

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import quote

import numpy as np

from .common import GUTENBERG, NEWS, WORK, child, save

SIZES = ("x1", "x4", "x10")
LDA = {"num_topics": 20, "passes": 2, "workers": 2, "seed": 1}
W2V = {"epochs": 2, "workers": 2}
ENDPOINTS = ("index", "listing", "corpus_page", "corpus_json", "topic_page", "topics_json", "ldavis_json",
             "topic_documents", "similar", "document", "documents_list", "words_page", "infer",
             "topics_by_label", "topics_over_time", "search", "similar_documents", "kwic")
TARGET_MS = 50


# -- data ------------------------------------------------------------------------------------

def news_copies(path, copies):
    """20 Newsgroups ``copies`` times, each copy with new ids and a marker word (distinct
    hashes) and dated in a year of its own, the posts spread over its months (the posts
    carry no dates; topics over time need some)."""
    if os.path.exists(path):
        return path
    with open(NEWS, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    with open(path + ".part", "w", encoding="utf-8") as out:
        for c in range(copies):
            for j, r in enumerate(rows):
                out.write(json.dumps({**r, "id": f"{r['id']}-{c}", "text": f"copy{c} {r['text']}",
                                      "date": f"{1993 + c}-{j % 12 + 1:02d}-15"}) + "\n")
    os.replace(path + ".part", path)
    return path


def gutenberg_windows(path, n=1_000_000, width=60):
    """``n`` documents of ``width`` consecutive words of gutenberg8, evenly spread (they
    overlap), each labelled with the tenth of the text it starts in (the reading views by
    label need labels) and dated by where it starts, from 1850 to 1929 through the text
    (gutenberg8 carries no dates; topics over time need some), the month by its number."""
    if os.path.exists(path):
        return path
    words = open(GUTENBERG, encoding="utf-8").read().split()
    step = max(1, (len(words) - width) // n)
    with open(path + ".part", "w", encoding="utf-8") as out:
        for i in range(n):
            start = (i * step) % (len(words) - width)
            out.write(json.dumps({"id": str(i), "text": " ".join(words[start:start + width]),
                                  "label": f"part {start * 10 // len(words) + 1}",
                                  "date": f"{1850 + start * 80 // len(words)}-{i % 12 + 1:02d}-01"}) + "\n")
    os.replace(path + ".part", path)
    return path


def source(size):
    WORK.mkdir(parents=True, exist_ok=True)
    if size == "1m":
        return gutenberg_windows(str(WORK / "gutenberg8-1m-windows-dated.jsonl")), "label"
    return news_copies(str(WORK / f"news-{size}-dated.jsonl"), int(size[1:])), "label"


# -- measuring -------------------------------------------------------------------------------

def _tree(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except OSError:
            pass
    return out


def _pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("Pss:"))
    except (OSError, StopIteration):
        return 0


def _du(folder):
    total = 0
    for root, _, files in os.walk(folder):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_blocks * 512
            except OSError:
                pass
    return total


class Peaks:
    """Samples, every half second, the PSS of this process and all its descendants and the
    disk used under ``folder``; ``phase(name)`` starts a new set of peaks."""

    def __init__(self, folder):
        self.folder, self.peaks, self.name = folder, {}, None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def phase(self, name):
        self._sample()                 # the end of the phase before
        self.name = name
        self.peaks[name] = {"pss_mb": 0.0, "disk_mb": 0.0}
        self._sample()

    def _sample(self):
        if self.name is None:
            return
        pss = sum(_pss_kb(p) for p in _tree(os.getpid())) / 1024
        disk = _du(self.folder) / 2**20
        peak = self.peaks[self.name]
        peak["pss_mb"] = round(max(peak["pss_mb"], pss), 1)
        peak["disk_mb"] = round(max(peak["disk_mb"], disk), 1)

    def _run(self):
        while not self._stop.wait(0.5):
            self._sample()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _store(home, database_url):
    from textlatent.settings import load_settings
    from textlatent.store import Store
    return Store(load_settings(home=home, database_url=database_url, workers=2))


def _timed(fn):
    t = time.perf_counter()
    value = fn()
    return time.perf_counter() - t, value


def _lda_figures(store, model_id):
    """What the model recorded of itself: training seconds (the views apart), the passes
    the defaults chose, and its quality (c_npmi over the whole corpus, NMI with the labels)."""
    from textlatent.store import registry
    _, m = registry.get_model(store, model_id)
    keep = ("train_seconds", "coherence_c_npmi", "nmi_labels", "perplexity")
    return {**{k: m["metrics"][k] for k in keep if k in m["metrics"]}, "passes": m["params"].get("passes")}


def build(src, home, database_url, label_field):
    """Ingest, LDA, Word2Vec and a doc-topics export, each timed, with its peaks."""
    from textlatent.export import export
    from textlatent.ingest import ReadOptions, ingest
    from textlatent.models import train_lda, train_word2vec
    store = _store(home, database_url)
    out = {}
    with Peaks(home) as peaks:
        peaks.phase("ingest")
        seconds, s = _timed(lambda: ingest(store, "news", [src], ReadOptions(label_field=label_field,
                                                                             date_field="date")))
        out["ingest"] = {"seconds": round(seconds, 1), "documents": s.documents, "tokens": s.tokens,
                         "vocabulary": s.vocabulary, "phrases": s.phrases,
                         "tokens_per_s": round(s.tokens / seconds)}
        peaks.phase("lda")
        seconds, lda = _timed(lambda: train_lda(store, "news", LDA))
        out["lda"] = {"seconds": round(seconds, 1), "model_id": lda, **_lda_figures(store, lda)}
        peaks.phase("word2vec")
        seconds, w2v = _timed(lambda: train_word2vec(store, "news", W2V))
        out["word2vec"] = {"seconds": round(seconds, 1), "model_id": w2v}
        peaks.phase("export_doc_topics_csv")
        path = os.path.join(home, "doc-topics.csv")
        seconds, _ = _timed(lambda: export(store, "news", "doc-topics", "csv", path))
        out["export_doc_topics_csv"] = {"seconds": round(seconds, 1), "mb": round(os.path.getsize(path) / 2**20, 1)}
        os.remove(path)
    for phase, peak in peaks.peaks.items():
        out[phase].update(peak)
    out["database_mb"] = round(database_size(store) / 2**20, 1)
    return out


def database_size(store):
    url = store.database_url
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
    with store.read() as conn:
        return int(conn.exec_driver_sql(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
            "AND c.relkind = 'r'").scalar())


def endpoints(home, database_url, lda, w2v, n=200):
    """p50 and p95 server time (ms) of every page and API read, ``n`` requests each after a warm-up."""
    from textlatent.explore.words import load_vectors
    from textlatent.store import registry
    from web import create_app
    store = _store(home, database_url)
    client = create_app(store).test_client(use_cookies=False)     # an API client, as curl is
    _, w2v_model = registry.get_model(store, w2v)
    with store.read() as conn:
        from textlatent.store import queries as db
        n_docs = db.get_corpus(conn, "news")["n_docs"]
    words = load_vectors(store, w2v_model).words[:2000]
    rng = np.random.default_rng(0)
    get = lambda url: lambda i: client.get(url)   # noqa: E731
    calls = {
        "index": get("/"), "listing": get("/api/v1/corpora"), "corpus_page": get("/corpora/news"),
        "corpus_json": get("/api/v1/corpora/news"), "topic_page": get(f"/models/{lda}/topics"),
        "topics_json": get(f"/api/v1/models/{lda}/topics"), "ldavis_json": get(f"/api/v1/models/{lda}/ldavis.json"),
        "topic_documents": lambda i: client.get(f"/api/v1/models/{lda}/topics/{i % LDA['num_topics']}/documents"),
        "similar": lambda i: client.get(f"/api/v1/corpora/news/similar?word={quote(words[i % len(words)])}"),
        "document": lambda i: client.get(f"/api/v1/corpora/news/documents/{int(rng.integers(n_docs))}"),
        "documents_list": lambda i: client.get(f"/api/v1/corpora/news/documents?start={int(rng.integers(n_docs))}"),
        "words_page": get("/corpora/news/words"),
        "infer": lambda i: client.post(f"/api/v1/models/{lda}/infer",
                                       json={"text": "the space shuttle launch and the hockey playoffs"}),
        # The reading views (issue 14): frequent words are the searches and KWICs with most hits.
        "topics_by_label": get(f"/api/v1/models/{lda}/topics-by-label"),
        "topics_over_time": get(f"/api/v1/models/{lda}/topics-over-time"),
        "search": lambda i: client.get(f"/api/v1/corpora/news/documents?q={quote(words[i % 200])}"),
        "similar_documents": lambda i: client.get(
            f"/api/v1/corpora/news/documents/{int(rng.integers(n_docs))}/similar?by=topics"),
        "kwic": lambda i: client.get(f"/api/v1/corpora/news/kwic?word={quote(words[i % 50])}"),
    }
    with store.read() as conn:
        dated = conn.exec_driver_sql("SELECT 1 FROM tl_documents WHERE date IS NOT NULL LIMIT 1").first()
    out = {}
    for name in ENDPOINTS:
        if name == "topics_over_time" and not dated:     # the 1 M windows have no dates
            continue
        call = calls[name]
        for i in range(5):
            r = call(i)
            assert r.status_code == 200, (name, r.status_code, r.data[:300])
        times = [_timed(lambda i=i: call(i))[0] for i in range(n)]
        out[name] = {"p50_ms": round(1000 * float(np.percentile(times, 50)), 2),
                     "p95_ms": round(1000 * float(np.percentile(times, 95)), 2)}
    return out


# -- the run ---------------------------------------------------------------------------------

def code_version():
    """The commit of the code measured (``+`` if the work tree differs from it)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.strip()
        # the results this run writes are not the code it measures
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":!bench/results", ":!BENCHMARKS.md"], cwd=root,
                               capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return rev + ("+" if dirty else "")


def databases():
    """SQLite always; PostgreSQL when TEXTLATENT_BENCH_DATABASE_URL (or the tests' URL) names one."""
    out = {"sqlite": None}
    url = os.environ.get("TEXTLATENT_BENCH_DATABASE_URL") or os.environ.get("TEXTLATENT_TEST_DATABASE_URL")
    if url:
        out["postgresql"] = url
    return out


def _pg_schema(url, create=True, name=None):
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    name = name or "tl_bench_" + uuid.uuid4().hex[:8]
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {name}" if create else f"DROP SCHEMA IF EXISTS {name} CASCADE"))
    engine.dispose()
    return name, f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{name}"


def one(size, db_name, url, keep=False, reads=False):
    """Build and measure one size on one database; the result, kept in the work folder.
    ``keep``: keep the build; ``reads``: time the reads of a kept build again."""
    done = WORK / f"scale-{size}-{db_name}.json"
    if done.exists():
        r = json.loads(done.read_text())
        if reads and r.get("kept"):
            print(f"   {size} on {db_name}: endpoints again, on the kept build", flush=True)
            r["endpoints"] = child("endpoints", _module="bench.scale", home=r["kept"]["home"],
                                   database_url=r["kept"]["url"], lda=r["lda"]["model_id"],
                                   w2v=r["word2vec"]["model_id"])
            r["read_code"] = code_version()
            done.write_text(json.dumps(r, indent=1))
        elif reads:
            print(f"   {size} on {db_name}: no kept build (run with --keep first); its reads stay", flush=True)
        return r
    src, label_field = source(size)
    home = str(WORK / f"scale-{size}-{db_name}")
    shutil.rmtree(home, ignore_errors=True)
    schema = None
    if url:
        schema, url = _pg_schema(url)
    kept = False
    try:
        print(f"   {size} on {db_name}: build", flush=True)
        r = child("build", _module="bench.scale", src=src, home=home, database_url=url, label_field=label_field)
        r["build_code"] = r["read_code"] = code_version()
        print(f"   {size} on {db_name}: endpoints", flush=True)
        r["endpoints"] = child("endpoints", _module="bench.scale", home=home, database_url=url,
                               lda=r["lda"]["model_id"], w2v=r["word2vec"]["model_id"])
        if keep:
            r["kept"], kept = {"home": home, "url": url, "schema": schema}, True
    finally:
        if not kept:
            shutil.rmtree(home, ignore_errors=True)
            if schema:
                _pg_schema(databases()["postgresql"], create=False, name=schema)
    done.write_text(json.dumps(r, indent=1))
    return r


def bench_scale(run):
    sizes = run.sizes or (("x1", "x2") if run.quick else SIZES)
    out = {"conditions": (
        f"20 Newsgroups ({NEWS.name}) x1 (the baseline), x4 and x10 (each copy: new ids, a marker word, "
        "a year of its own, the posts spread over its months), "
        "and 1m = 1,000,000 overlapping 60-word windows of gutenberg8 when asked; each on SQLite and on "
        f"PostgreSQL (127.0.0.1, a schema of its own). Ingest with 2 tokenizer processes; LDA {LDA}; "
        f"Word2Vec {W2V}; the doc-topics CSV export. Peaks: PSS of the process and all its children, "
        "and disk under the data directory (SQLite file, WAL, spool, model files), sampled every 0.5 s. "
        "Endpoints: server time through Flask's test client in one process, 5 warm-up and 200 timed "
        "requests each (similar: a new word each time, document: random positions), p50 and p95 in ms; "
        "the whole run under nice -n 10 on a 2-core machine shared with other work")}
    for size in sizes:
        for db_name, url in databases().items():
            out[f"{size}_{db_name}"] = one(size, db_name, url, run.keep, run.reads)
            out["targets"] = targets(out)
            save("scale", dict(out, partial=True))      # what is done so far, if the run is stopped
    return out


# The reads the issues bound (16: pages and API reads <= 50 ms p95; 14: the reading views
# <= 50 ms, KWIC's first page <= 100 ms); infer tokenizes a text and is not a read.
LIMITS_MS = {**{name: TARGET_MS for name in ENDPOINTS if name not in ("infer", "kwic")}, "kwic": 100}
SEARCH_P50_X1_MS = 20


def targets(out):
    runs = {k: r for k, r in out.items() if isinstance(r, dict) and "endpoints" in r}
    met = {}
    for k, r in runs.items():
        over = [name for name, limit in LIMITS_MS.items() if r["endpoints"].get(name, {}).get("p95_ms", 0) > limit]
        met[f"{k}: every read's p95 <= {TARGET_MS} ms (KWIC 100 ms)"
            + (f" (over: {', '.join(over)})" if over else "")] = not over
        if k.startswith("x1_") and "search" in r["endpoints"]:
            met[f"{k}: search p50 <= {SEARCH_P50_X1_MS} ms"] = r["endpoints"]["search"]["p50_ms"] <= SEARCH_P50_X1_MS
    for k, r in runs.items():
        if k.endswith("_sqlite"):      # PostgreSQL's files are the server's, not under the data directory
            met[f"{k}: ingest peak disk <= 1.5x the database"] = r["ingest"]["disk_mb"] <= 1.5 * r["database_mb"]
        base = runs.get("x1_" + k.split("_", 1)[1])
        if base is not None and base is not r:
            met[f"{k}: ingest peak PSS <= 1.3x x1's"] = r["ingest"]["pss_mb"] <= 1.3 * base["ingest"]["pss_mb"]
    return met


def render(r, header):
    """The scale section of BENCHMARKS.md: one table of build figures, one of endpoint times."""
    runs = [k for k, v in r.items() if isinstance(v, dict) and "endpoints" in v]
    lines = [header, "", f"Conditions: {r['conditions']}", "",
             "| figure | " + " | ".join(runs) + " |", "|---|" + "---|" * len(runs)]
    rows = [("documents", "ingest", "documents"), ("tokens", "ingest", "tokens"),
            ("ingest s", "ingest", "seconds"), ("ingest tokens/s", "ingest", "tokens_per_s"),
            ("ingest peak PSS MB", "ingest", "pss_mb"), ("ingest peak disk MB (data directory)", "ingest", "disk_mb"),
            ("LDA s", "lda", "seconds"), ("LDA peak PSS MB", "lda", "pss_mb"),
            ("Word2Vec s", "word2vec", "seconds"), ("doc-topics CSV s", "export_doc_topics_csv", "seconds"),
            ("database MB", "database_mb", None)]
    for label, phase, key in rows:
        cells = [r[k][phase] if key is None else r[k][phase].get(key) for k in runs]
        lines.append(f"| {label} | " + " | ".join(f"{c:,}" if isinstance(c, (int, float)) else str(c)
                                                   for c in cells) + " |")
    lines.append("| code that built / read it | " + " | ".join(
        f"{r[k].get('build_code') or '?'} / {r[k].get('read_code') or '?'}" for k in runs) + " |")
    lines += ["", "Server time per request, p50 / p95 ms:", "",
              "| endpoint | " + " | ".join(runs) + " |", "|---|" + "---|" * len(runs)]
    for name in ENDPOINTS:
        cells = [r[k]["endpoints"].get(name, {}) for k in runs]
        lines.append(f"| {name} | " + " | ".join(f"{c.get('p50_ms')} / {c.get('p95_ms')}" for c in cells) + " |")
    lines += ["", "| target | met |", "|---|---|"]
    lines += [f"| {k} | {'yes' if ok else '**no**'} |" for k, ok in targets(r).items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import logging
    logging.disable(logging.WARNING)
    task, args = sys.argv[1], json.loads(sys.argv[2])
    print(json.dumps(globals()[task](**args), default=float))
