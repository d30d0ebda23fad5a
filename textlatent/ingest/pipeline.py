"""Sources -> stored documents and token streams, atomically.

Pass 1 reads the sources, drops empty texts and duplicates (by content hash, see
:mod:`.dedupe`), tokenizes on both cores and spools documents with their tokens to a
compressed temporary file while learning bigram phrases. Pass 2 (:mod:`.writer`) applies
the corpus's phrases, maps terms to ids, and writes documents, token streams and
vocabulary counts, a batch per transaction, invisible until its last step: an ingest
that fails anywhere leaves the corpus exactly as it was.
"""

import collections
import hashlib
import logging
import os
import time
import unicodedata
from dataclasses import dataclass, field

from ..errors import EmptyCorpus, InvalidInput
from ..store import queries as db
from . import dates, writer
from .dedupe import BATCH as DEDUPE_BATCH
from .dedupe import SeenHashes
from .phrases import learn_phrases
from .sources import ReadOptions, iter_sources
from .spool import JsonLines
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
    shards: int = 0             # shard jobs of a sharded ingest (0: tokenized in one process)
    created: bool = False
    report: list = field(default_factory=list)
    skipped_files: list = field(default_factory=list)     # source/file names not read as documents

    def to_dict(self):
        return dict(self.__dict__)


# Characters a name may not hold: controls, and the invisible ones (format characters such
# as U+200B zero width space and the bidirectional overrides U+202A-U+202E, U+2066-U+2069;
# line and paragraph separators; unassigned, private and surrogate code points): "ab" and
# "a\u200bb" would be two corpora that look alike, an override would show a name reversed.
_NAME_REFUSED = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def valid_corpus_name(name):
    """``name`` stripped and in Unicode NFC (so that the NFC and NFD spellings of "café" are
    one corpus), or InvalidInput saying what a corpus name may hold."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("a corpus needs a name")
    name = unicodedata.normalize("NFC", name.strip())
    if len(name) > MAX_NAME or any(c in name for c in "/\\") or name in (".", ".."):
        raise InvalidInput(f"corpus names have at most {MAX_NAME} characters, no '/' or '\\', "
                           "and are not '.' or '..'")
    bad = sorted({f"U+{ord(c):04X}" for c in name if unicodedata.category(c) in _NAME_REFUSED})
    if bad:
        raise InvalidInput("corpus names hold no control or invisible characters (such as zero-width "
                           f"spaces or right-to-left overrides); found {', '.join(bad[:5])}")
    return name


def content_hash(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def corpus_settings(store, name, settings, read_options):
    """``(corpus row or None, tokenizer settings, phrases frozen)`` for an ingest into
    ``name``: an existing corpus keeps the settings it was created with (the report says
    so when others were asked for), and the phrases it learned once it has some."""
    with store.read() as conn:
        corpus = db.find_corpus(conn, name)
        frozen_phrases = bool(corpus) and db.has_phrases(conn, corpus["id"])
    if corpus:
        frozen = TokenizerSettings.from_dict(corpus["settings"])
        if settings is not None and settings.to_dict() != frozen.to_dict():
            read_options.report.append(
                "the corpus keeps the tokenizer settings it was created with; new options were ignored")
        settings = frozen
    return corpus, settings or TokenizerSettings(), frozen_phrases


def ingest(store, name, paths, read_options=None, settings=None, workers=None, progress=None, expected=None):
    """Add the documents of ``paths`` to corpus ``name`` (created when new).

    ``settings`` (a :class:`TokenizerSettings`) applies to a new corpus; an existing
    corpus keeps the settings it was created with. ``progress(done, total, message)``
    is called as documents are tokenized and written; its total is ``expected``, the
    number of documents the sources hold when known (an upload counts them), else 0
    while tokenizing. Returns an :class:`IngestSummary`.
    """
    started = time.perf_counter()
    name = valid_corpus_name(name)
    read_options = read_options or ReadOptions()
    corpus, settings, frozen_phrases = corpus_settings(store, name, settings, read_options)
    summary = IngestSummary(corpus=name, created=corpus is None)
    progress = progress or (lambda done, total, message: None)

    os.makedirs(store.path("tmp"), exist_ok=True)
    with JsonLines(store.path("tmp")) as spool:
        learner = learn_phrases(settings) if settings.phrases and not frozen_phrases else None
        with SeenHashes(store, corpus["id"] if corpus else None, store.path("tmp")) as seen:
            n_spooled = _spool(read_options, paths, settings, workers or store.workers, seen, summary,
                               spool, learner, progress, expected or 0)
        if n_spooled == 0 and corpus is None:
            raise EmptyCorpus(f"no text to ingest: {summary.empty} empty and {summary.duplicates} "
                              "duplicate documents, nothing else")
        phrases = learner.export() if learner is not None else None
        learner = None          # its counts (100 MB at 20 Newsgroups) are not needed to write
        progress(0, n_spooled, "writing to the database")
        summary.report, summary.skipped_files = read_options.report, read_options.skipped

        def last_transaction(conn):
            # The job is finished in the transaction that makes the corpus visible, or not at all.
            summary.seconds = round(time.perf_counter() - started, 3)
            store.committing(conn, result=summary.to_dict())
        writer.write(store, name, settings, spool.records(), phrases, summary, progress, n_spooled,
                     last_transaction)
    log.info("ingest %s: %s", name, summary)
    return summary


def new_records(paths, read_options, seen, summary):
    """The records of ``paths`` with text that are new (not in the corpus, not seen before in
    this ingest: ``seen``, a :class:`SeenHashes`), each with its ``content_hash``; empty
    texts and duplicates are counted in ``summary``."""
    def admitted(batch):
        for rec, new in zip(batch, seen.new([r["content_hash"] for r in batch])):
            if new:
                yield rec
            else:
                summary.duplicates += 1

    batch = []
    for rec in iter_sources(paths, read_options):
        if not rec["text"].strip():
            summary.empty += 1
            continue
        rec["content_hash"] = content_hash(rec["text"])
        batch.append(rec)
        if len(batch) >= DEDUPE_BATCH:
            yield from admitted(batch)
            batch = []
    yield from admitted(batch)


def _spool(read_options, paths, settings, workers, seen, summary, spool, learner, progress, expected):
    inflight = collections.deque()

    def texts():
        for rec in new_records(paths, read_options, seen, summary):
            inflight.append(rec)
            yield rec["text"]

    n = n_tokens = 0
    started = time.perf_counter()

    def report():
        rate = n_tokens / max(time.perf_counter() - started, 1e-9)
        progress(n + summary.empty + summary.duplicates, expected,
                 f"tokenized {n:,} documents, {n_tokens:,} tokens ({rate:,.0f} tokens/s)")

    for tokens in tokenize_stream(texts(), settings, workers=workers):
        rec = inflight.popleft()
        if not tokens:
            summary.empty += 1
            continue
        rec["unigrams"] = tokens
        _normalise_date(rec, summary, read_options.report)
        spool.add(rec)
        if learner is not None:
            learner.add(tokens)
        n += 1
        n_tokens += len(tokens)
        if n % 500 == 0:
            report()
    report()
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


def delete_corpus(store, name):
    """Delete a corpus, its documents, vocabulary and models (files included)."""
    with store.write() as conn:
        corpus = db.get_corpus(conn, name)
        paths = [m["path"] for m in db.list_models(conn, corpus["id"])]
        db.delete_corpus(conn, corpus["id"])
    store.forget()
    for p in paths:
        store.files.remove(p)

