"""Sources -> stored documents and token streams, atomically.

Pass 1 reads the sources, drops empty texts and duplicates (by content hash),
tokenizes on both cores and spools documents with their tokens to a temporary file
while learning bigram phrases. Pass 2, in one write transaction, applies the corpus's
phrases, maps terms to ids, and writes documents, token streams and vocabulary
counts: an ingest that fails anywhere leaves the corpus exactly as it was.
"""

import collections
import hashlib
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import EmptyCorpus, InvalidInput
from ..store import queries as db
from . import dates
from .phrases import apply_phrases, learn_phrases
from .sources import ReadOptions, iter_sources
from .tokenize import TokenizerSettings, tokenize_stream

log = logging.getLogger(__name__)

MAX_NAME = 200


@dataclass
class IngestSummary:
    corpus: str
    added: int = 0
    duplicates: int = 0
    empty: int = 0
    tokens: int = 0
    documents: int = 0
    vocabulary: int = 0
    phrases: int = 0
    dated: int = 0              # documents added with a date
    dates_unparsed: int = 0     # dates no known format reads (kept in metadata as date_original)
    seconds: float = 0.0
    created: bool = False
    report: list = field(default_factory=list)

    def to_dict(self):
        return dict(self.__dict__)


def valid_corpus_name(name):
    """``name`` stripped, or InvalidInput saying what a corpus name may hold."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("a corpus needs a name")
    name = name.strip()
    if len(name) > MAX_NAME or any(c in name for c in "/\\\x00") or any(ord(c) < 32 for c in name):
        raise InvalidInput(f"corpus names have at most {MAX_NAME} characters and no '/', '\\' "
                           "or control characters")
    return name


def content_hash(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ingest(store, name, paths, read_options=None, settings=None, workers=None, progress=None):
    """Add the documents of ``paths`` to corpus ``name`` (created when new).

    ``settings`` (a :class:`TokenizerSettings`) applies to a new corpus; an existing
    corpus keeps the settings it was created with. ``progress(done, total, message)``
    is called as documents are tokenized. Returns an :class:`IngestSummary`.
    """
    started = time.perf_counter()
    name = valid_corpus_name(name)
    read_options = read_options or ReadOptions()
    with store.read() as conn:
        corpus = db.find_corpus(conn, name)
        known = db.corpus_hashes(conn, corpus["id"]) if corpus else set()
    if corpus:
        frozen = TokenizerSettings.from_dict(corpus["settings"])
        if settings is not None and settings.to_dict() != frozen.to_dict():
            read_options.report.append(
                "the corpus keeps the tokenizer settings it was created with; new options were ignored")
        settings = frozen
    settings = settings or TokenizerSettings()
    summary = IngestSummary(corpus=name, created=corpus is None)
    progress = progress or (lambda done, total, message: None)

    os.makedirs(store.path("tmp"), exist_ok=True)
    with tempfile.TemporaryFile("w+", encoding="utf-8", dir=store.path("tmp")) as spool:
        learner = learn_phrases(settings) if settings.phrases and not (corpus and corpus["phrases"] is not None) else None
        n_spooled = _spool(read_options, paths, settings, workers or store.workers, known, summary,
                           spool, learner, progress)
        if n_spooled == 0 and corpus is None:
            raise EmptyCorpus(f"no text to ingest: {summary.empty} empty and {summary.duplicates} "
                              "duplicate documents, nothing else")
        phrases = learner.export() if learner is not None else None
        spool.seek(0)
        progress(summary.added + summary.duplicates + summary.empty, 0, "writing to the database")
        with store.write() as conn:
            _write(conn, name, settings, spool, phrases, summary)
    summary.report = read_options.report
    summary.seconds = round(time.perf_counter() - started, 3)
    log.info("ingest %s: %s", name, summary)
    return summary


def _spool(read_options, paths, settings, workers, known, summary, spool, learner, progress):
    seen = set(known)
    inflight = collections.deque()

    def texts():
        for rec in iter_sources(paths, read_options):
            text = rec["text"]
            if not text.strip():
                summary.empty += 1
                continue
            h = content_hash(text)
            if h in seen:
                summary.duplicates += 1
                continue
            seen.add(h)
            rec["content_hash"] = h
            inflight.append(rec)
            yield text

    n = 0
    for tokens in tokenize_stream(texts(), settings, workers=workers):
        rec = inflight.popleft()
        if not tokens:
            summary.empty += 1
            continue
        rec["unigrams"] = tokens
        _normalise_date(rec, summary, read_options.report)
        spool.write(json.dumps(rec, ensure_ascii=False))
        spool.write("\n")
        if learner is not None:
            learner.add(tokens)
        n += 1
        if n % 500 == 0:
            progress(n, 0, f"tokenized {n:,} documents")
    progress(n, 0, f"tokenized {n:,} documents")
    if summary.dates_unparsed > DATE_EXAMPLES:
        read_options.report.append(f"{summary.dates_unparsed:,} dates in all could not be read; each is kept "
                                   "in its document's metadata as date_original")
    return n


DATE_EXAMPLES = 5          # unreadable dates named one by one in the report


def _normalise_date(rec, summary, report):
    """ISO 8601 in ``rec["date"]``; the value as the source wrote it goes to the metadata
    (``date_original``) when it differs; an unreadable date is reported, never fatal."""
    raw = rec.get("date")
    try:
        iso = dates.normalise(raw)
    except ValueError as e:
        iso = None
        summary.dates_unparsed += 1
        if summary.dates_unparsed <= DATE_EXAMPLES:
            where = rec.get("line") or rec.get("source") or rec.get("doc_key")
            report.append(f"{where}: date {str(raw)[:60]!r} {e}; the document is kept without a date")
    if raw is not None and iso != raw:
        rec["meta"] = dict(rec.get("meta") or {}, date_original=str(raw)[:200])
    rec["date"] = iso


def _write(conn, name, settings, spool, learned_phrases, summary):
    corpus = db.find_corpus(conn, name)
    if corpus is None:
        corpus = db.create_corpus(conn, name, settings.to_dict())
        summary.created = True
    # Re-read under the write lock: a concurrent ingest may have added the same texts.
    known = db.corpus_hashes(conn, corpus["id"])
    phrases = corpus["phrases"] if corpus["phrases"] is not None else (learned_phrases or [])
    pairs = {tuple(p) for p in phrases}
    term_list, df, cf = db.load_terms(conn, corpus["id"])
    old_n = len(term_list)
    index = {t: i for i, t in enumerate(term_list)}
    changed = set()
    position = corpus["n_docs"]
    n_tokens = corpus["n_tokens"]
    rows = []
    for line in spool:
        rec = json.loads(line)
        if rec["content_hash"] in known:
            summary.duplicates += 1
            continue
        known.add(rec["content_hash"])
        tokens = apply_phrases(rec.pop("unigrams"), pairs) if pairs else rec.pop("unigrams")
        ids = np.empty(len(tokens), dtype="<u4")
        for j, tok in enumerate(tokens):
            i = index.get(tok)
            if i is None:
                i = index[tok] = len(term_list)
                term_list.append(tok)
                df.append(0)
                cf.append(0)
            ids[j] = i
        uniq, counts = np.unique(ids, return_counts=True)
        for i, c in zip(uniq.tolist(), counts.tolist()):
            df[i] += 1
            cf[i] += c
            if i < old_n:
                changed.add(i)
        rec.pop("line", None)
        summary.dated += rec.get("date") is not None
        rows.append(dict(rec, corpus_id=corpus["id"], position=position, n_tokens=len(tokens),
                         tokens=ids.tobytes(), title=_cut(rec.get("title"), 2000),
                         source=_cut(rec.get("source"), 1000), date=_cut(rec.get("date"), 100)))
        position += 1
        n_tokens += len(tokens)
        summary.added += 1
        summary.tokens += len(tokens)
        if len(rows) >= 1000:
            db.insert_documents(conn, rows)
            rows = []
    db.insert_documents(conn, rows)
    db.save_terms(conn, corpus["id"], old_n, term_list, df, cf, sorted(changed))
    db.finish_ingest(conn, corpus["id"], position, n_tokens,
                        [list(p) for p in sorted(pairs)] if corpus["phrases"] is None else None)
    summary.documents = position
    summary.vocabulary = len(term_list)
    summary.phrases = len(pairs)


def _cut(value, n):
    return value[:n] if isinstance(value, str) else value


def delete_corpus(store, name):
    """Delete a corpus, its documents, vocabulary and models (files included)."""
    import shutil
    with store.write() as conn:
        corpus = db.get_corpus(conn, name)
        paths = [m["path"] for m in db.list_models(conn, corpus["id"])]
        db.delete_corpus(conn, corpus["id"])
    store.forget()
    for p in paths:
        shutil.rmtree(store.path(p), ignore_errors=True)

