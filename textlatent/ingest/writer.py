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

from ..errors import Conflict
from ..store import queries as db
from ..store import schema
from .encode import Encoder
from .tokenize import _chunked

log = logging.getLogger(__name__)

BATCH = 1000
STALE_SECONDS = 60        # a batch commits in well under a second; a minute without one: gone


class _Vocabulary:
    """The corpus's terms with their counts (lists indexed by term id), as loaded; this
    ingest's new terms are appended to ``terms`` (see :class:`.encode.Encoder`)."""

    def __init__(self, terms, df, cf):
        self.terms, self.df, self.cf = terms, df, cf
        self.old_n = len(terms)
        self.index = {t: i for i, t in enumerate(terms)}


def _word_ids(encoder, rec, shard_maps):
    """The record's unigrams as word ids: from ``unigrams`` (strings), or from ``word_ids``,
    ``(local ids, the shard's vocabulary)`` as a tokenized shard stores them."""
    if "unigrams" in rec:
        return encoder.word_ids(rec.pop("unigrams"))
    local, words = rec.pop("word_ids")
    mapping = shard_maps.get(id(words))
    if mapping is None:
        shard_maps.clear()               # shards come one after the other
        mapping = shard_maps[id(words)] = (encoder.word_ids(words), words)
    return mapping[0][local]


class CorpusWriter:
    """Writes one ingest into corpus ``name`` (created with ``settings`` when new): holds
    its claim, adds documents at positions from ``n_docs`` up (invisible), and makes them
    visible in :meth:`finish`. A document's rows may go in before its tokens are known
    (:meth:`add` without tokens, then :meth:`set_tokens`): a sharded ingest writes each
    shard's texts while later shards are still being tokenized. Any failure before
    :meth:`finish` ends calls :meth:`abandon` (or the next ingest's claim drops the rows)."""

    def __init__(self, store, name, settings, summary, progress):
        self.store, self.summary, self.progress = store, summary, progress
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        corpus, self.frozen, self.vocab = _claim(store, name, settings, self.owner, summary, progress)
        self.corpus_id = corpus["id"]
        self.position, self.n_tokens = corpus["n_docs"], corpus["n_tokens"]
        self.pairs = None
        self.encoder = None

    def use_phrases(self, learned):
        """Set the phrases (the corpus's own once it has some, else ``learned``) before
        any tokens are encoded."""
        # As given (sorted [a, b] pairs, each once): a set of tuples beside them took 34 MB
        # at 20 Newsgroups x10's 340,000 phrases.
        self.pairs = self.frozen if self.frozen is not None else (learned or [])
        self.encoder, self._shard_maps = Encoder(self.vocab, self.pairs), {}

    def beat(self):
        """Renew the claim (a long step between writes would otherwise look like a dead ingest)."""
        with self.store.write() as conn:
            _still_ours(conn, self.corpus_id, self.owner)

    def add(self, batch, with_tokens=True):
        """Insert the records of ``batch`` (at most a few thousand) that the corpus does not
        hold yet, in one transaction; with ``with_tokens`` their unigrams are encoded now,
        else their rows hold no tokens until :meth:`set_tokens`. Returns the positions
        given to them, one per record (None for a record a concurrent ingest added)."""
        summary = self.summary
        with self.store.write() as conn:
            _still_ours(conn, self.corpus_id, self.owner)
            stored = db.existing_hashes(conn, self.corpus_id, [r["content_hash"] for r in batch])
            kept = [rec for rec in batch if rec["content_hash"] not in stored]
            summary.duplicates += len(batch) - len(kept)     # a concurrent ingest added them meanwhile
            if with_tokens:
                encoded = self.encoder.encode([self.word_ids(rec) for rec in kept],
                                              range(self.position, self.position + len(kept)))
            else:
                encoded = [None] * len(kept)
            rows, positions = [], []
            for rec in batch:
                if rec["content_hash"] in stored:
                    positions.append(None)
                    continue
                ids = encoded[len(rows)]
                rec.pop("line", None)
                summary.dated += rec.get("date") is not None
                rows.append(dict(rec, corpus_id=self.corpus_id, position=self.position,
                                 n_tokens=0 if ids is None else len(ids), tokens=b"" if ids is None else ids.tobytes(),
                                 title=_cut(rec.get("title"), 2000), source=_cut(rec.get("source"), 1000),
                                 date=_cut(rec.get("date"), 100)))
                positions.append(self.position)
                self.position += 1
                summary.added += 1
                if ids is not None:
                    self.n_tokens += len(ids)
                    summary.tokens += len(ids)
            db.insert_documents(conn, rows)
        return positions

    def word_ids(self, rec):
        return _word_ids(self.encoder, rec, self._shard_maps)

    def set_tokens(self, positions, docs):
        """Encode ``docs`` (word-id arrays, see :meth:`.encode.Encoder.word_ids`) and store
        them as the tokens of the documents at ``positions`` (added without tokens)."""
        encoded = self.encoder.encode(docs, positions)
        with self.store.write() as conn:
            _still_ours(conn, self.corpus_id, self.owner)
            db.set_tokens(conn, self.corpus_id, positions, [ids.tobytes() for ids in encoded],
                          [len(ids) for ids in encoded])
        n = sum(len(ids) for ids in encoded)
        self.n_tokens += n
        self.summary.tokens += n

    def finish(self, last=None):
        """The last transaction: the vocabulary, the new counts, the phrases of a new
        corpus; the documents become visible. ``last(conn)`` runs inside it."""
        summary, vocab = self.summary, self.vocab
        with self.store.write() as conn:
            _still_ours(conn, self.corpus_id, self.owner)
            df, cf, changed = self.encoder.counts()
            db.save_terms(conn, self.corpus_id, vocab.old_n, vocab.terms, df, cf, changed,
                          self.encoder.first_positions())
            db.finish_ingest(conn, self.corpus_id, self.position, self.n_tokens, len(vocab.terms),
                             [list(p) for p in sorted(self.pairs)] if self.frozen is None else None)
            db.release_ingest(conn, self.corpus_id, self.owner)
            summary.documents = self.position
            summary.vocabulary = len(vocab.terms)
            summary.phrases = len(self.pairs)
            if last is not None:
                last(conn)
        try:
            schema.refresh_statistics(self.store.engine)
        except Exception:        # the corpus is committed; the autovacuum renews them later
            log.warning("could not renew the planner's statistics after the ingest", exc_info=True)

    def abandon(self):
        _abandon(self.store, self.corpus_id, self.owner, self.summary.created)


def write(store, name, settings, records, learned_phrases, summary, progress, n_spooled, last=None):
    """Write ``records`` (spooled dicts with ``unigrams`` and ``content_hash``) into corpus
    ``name`` (created with ``settings`` when new), filling ``summary``; ``last(conn)`` runs
    inside the final transaction, the one that makes the documents visible."""
    out = CorpusWriter(store, name, settings, summary, progress)
    try:
        out.use_phrases(learned_phrases)
        for batch in _chunked(records, BATCH):
            out.add(batch)
            progress(summary.added, n_spooled, f"writing documents: {summary.added:,} of {n_spooled:,}")
        out.finish(last)
    except BaseException:
        out.abandon()
        raise


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
