"""Pass 2 of an ingest: the spooled documents into the database, a batch per transaction.

One transaction for the whole write kept the database and its log at twice the corpus's
final size (1.94 GB for a 695 MB database at a million documents). Instead:

- the ingest claims the corpus (``tl_ingests``: one writer per corpus; another ingest
  waits, and a claim whose heartbeat is older than STALE_SECONDS, a killed process's, is
  taken over and its rows dropped);
- documents go in a thousand per transaction at positions from the corpus's ``n_docs``
  up, which no reader sees (:func:`textlatent.store.queries.visible`), and a new corpus
  is hidden (version 0) meanwhile;
- one last short transaction adds the vocabulary and raises ``n_docs``: the documents
  appear all at once. A failure or a cancel deletes what was written; the corpus reads
  exactly as before throughout.
"""

import logging
import os
import socket
import time
import uuid

import numpy as np

from ..errors import Conflict
from ..store import queries as db
from .phrases import apply_phrases
from .tokenize import _chunked

log = logging.getLogger(__name__)

BATCH = 1000
STALE_SECONDS = 60        # a batch commits in well under a second; a minute without one: gone


class _Vocabulary:
    """The corpus's terms with their counts, growing as documents are mapped to term ids."""

    def __init__(self, terms, df, cf):
        self.terms, self.df, self.cf = terms, df, cf
        self.old_n = len(terms)
        self.index = {t: i for i, t in enumerate(terms)}
        self.changed = set()        # ids of older terms whose counts changed

    def ids(self, tokens):
        """``tokens`` as a uint32 array of term ids, counting them."""
        ids = np.empty(len(tokens), dtype="<u4")
        for j, tok in enumerate(tokens):
            i = self.index.get(tok)
            if i is None:
                i = self.index[tok] = len(self.terms)
                self.terms.append(tok)
                self.df.append(0)
                self.cf.append(0)
            ids[j] = i
        uniq, counts = np.unique(ids, return_counts=True)
        for i, c in zip(uniq.tolist(), counts.tolist()):
            self.df[i] += 1
            self.cf[i] += c
            if i < self.old_n:
                self.changed.add(i)
        return ids


def write(store, name, settings, records, learned_phrases, summary, progress, n_spooled, last=None):
    """Write ``records`` (spooled dicts with ``unigrams`` and ``content_hash``) into corpus
    ``name`` (created with ``settings`` when new), filling ``summary``; ``last(conn)`` runs
    inside the final transaction, the one that makes the documents visible."""
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    corpus, frozen, vocab = _claim(store, name, settings, owner, summary, progress)
    cid = corpus["id"]
    try:
        pairs = {tuple(p) for p in (frozen if frozen is not None else (learned_phrases or []))}
        position, n_tokens = corpus["n_docs"], corpus["n_tokens"]
        for batch in _chunked(records, BATCH):
            with store.write() as conn:
                _still_ours(conn, cid, owner)
                stored = db.existing_hashes(conn, cid, [r["content_hash"] for r in batch])
                rows = []
                for rec in batch:
                    if rec["content_hash"] in stored:     # a concurrent ingest added it meanwhile
                        summary.duplicates += 1
                        continue
                    tokens = rec.pop("unigrams")
                    tokens = apply_phrases(tokens, pairs) if pairs else tokens
                    rec.pop("line", None)
                    summary.dated += rec.get("date") is not None
                    rows.append(dict(rec, corpus_id=cid, position=position, n_tokens=len(tokens),
                                     tokens=vocab.ids(tokens).tobytes(), title=_cut(rec.get("title"), 2000),
                                     source=_cut(rec.get("source"), 1000), date=_cut(rec.get("date"), 100)))
                    position += 1
                    n_tokens += len(tokens)
                    summary.added += 1
                    summary.tokens += len(tokens)
                db.insert_documents(conn, rows)
            progress(summary.added, n_spooled, f"writing documents: {summary.added:,} of {n_spooled:,}")
        with store.write() as conn:
            _still_ours(conn, cid, owner)
            db.save_terms(conn, cid, vocab.old_n, vocab.terms, vocab.df, vocab.cf, sorted(vocab.changed))
            db.finish_ingest(conn, cid, position, n_tokens, len(vocab.terms),
                             [list(p) for p in sorted(pairs)] if frozen is None else None)
            db.release_ingest(conn, cid, owner)
            summary.documents = position
            summary.vocabulary = len(vocab.terms)
            summary.phrases = len(pairs)
            if last is not None:
                last(conn)
    except BaseException:
        _abandon(store, cid, owner, summary.created)
        raise
    summary.documents = position
    summary.vocabulary = len(vocab.terms)
    summary.phrases = len(pairs)


def _claim(store, name, settings, owner, summary, progress):
    """``(corpus, frozen phrases or None, vocabulary)`` once this ingest holds the corpus."""
    while True:
        with store.write() as conn:
            corpus = db.find_corpus(conn, name, hidden=True)
            if corpus is None:
                corpus = db.create_corpus(conn, name, settings.to_dict())     # hidden until the end
                summary.created = True
            if db.claim_ingest(conn, corpus["id"], owner, STALE_SECONDS):
                if corpus["version"] == 0 and not summary.created:
                    # A first ingest that never finished: start the corpus afresh.
                    db.delete_corpus(conn, corpus["id"])
                    corpus = db.create_corpus(conn, name, settings.to_dict())
                    summary.created = True
                    db.claim_ingest(conn, corpus["id"], owner, STALE_SECONDS)
                db.drop_staged(conn, corpus["id"])                 # rows of a killed ingest
                return corpus, db.get_phrases(conn, corpus["id"]), _Vocabulary(*db.load_terms(conn, corpus["id"]))
        progress(0, 0, "waiting for another ingest into this corpus to finish")
        time.sleep(1.0)


def _still_ours(conn, corpus_id, owner):
    if not db.beat_ingest(conn, corpus_id, owner):
        raise Conflict("another ingest took this corpus over (this one had stalled); run it again")


def _abandon(store, corpus_id, owner, created):
    """Delete what a failed or cancelled ingest wrote, if it still holds the corpus. If the
    database refuses now, the rows stay invisible and the next ingest's claim drops them."""
    try:
        with store.write() as conn:
            if db.beat_ingest(conn, corpus_id, owner):
                if created:
                    db.delete_corpus(conn, corpus_id)
                else:
                    db.drop_staged(conn, corpus_id)
                    db.release_ingest(conn, corpus_id, owner)
    except Exception:
        log.warning("could not remove the rows of an unfinished ingest; the next ingest will", exc_info=True)


def _cut(value, n):
    return value[:n] if isinstance(value, str) else value
