"""An ingest in shards: read and split, tokenize each shard anywhere, commit once.

The three steps of :func:`textlatent.ingest.ingest`, cut where a job queue can spread
them over workers (the queue side is :mod:`textlatent.jobs.sharding`):

1. :func:`split` reads the sources once (cheap next to spaCy), drops empty texts and
   duplicates, normalises dates, and writes the records in shards of ``shard_documents``
   to storage (:mod:`textlatent.store.files`: the data directory, or an object store
   every host reads), announcing each shard as soon as it is whole, so that tokenizing
   starts while the split goes on;
2. :func:`tokenize_shard` tokenizes one shard, on any host: its records, their tokens as
   ids into the shard's own word list, and (for a corpus that learns phrases) the shard's
   word and word-pair counts, written back to storage;
3. :class:`Commit` claims the corpus once the upload is split, merges each shard's counts
   as it arrives and adds each shard's documents, in order, as soon as it and those before
   it are tokenized: rows and search index, without their tokens (the phrases need every
   shard's counts). Once the last shard is tokenized it decides the phrases, stores each
   document's tokens (a batch per transaction) and makes the corpus visible in one last
   transaction; until then no reader sees any of it (:mod:`.writer`).

What waits for the last shard is only phrase-dependent: deciding the phrases, encoding
the tokens (numpy, :mod:`.encode`) and storing them, the vocabulary.
"""

import gzip
import json
import logging
import os
import shutil
import tempfile
import time

import numpy as np

from ..errors import EmptyCorpus, IngestError
from ..store import queries as db
from . import writer
from .dedupe import SeenHashes
from .phrases import learn_phrases
from .pipeline import DATE_EXAMPLES, IngestSummary, _normalise_date, new_records, valid_corpus_name
from .spool import JsonLines, read_lines
from .tokenize import TokenizerSettings, _chunked, tokenize_stream
from .writer import CorpusWriter

log = logging.getLogger(__name__)

SHARD_DOCUMENTS = 10_000     # about 10 s of one core for 20 Newsgroups posts, against 0.5 s to start a shard


def split(store, name, paths, read_options, prefix, on_shard, shard_documents=SHARD_DOCUMENTS,
          progress=None, expected=0):
    """Read ``paths`` into shards ``{prefix}/in-00000.jsonl.gz``, ... in storage.

    Records with no text and duplicates (of the corpus's documents or of earlier records)
    are counted, not written; dates are normalised (an unreadable one is reported and
    dropped, as an unsharded ingest does). ``on_shard(index, key, documents)`` is called
    once each shard is stored. Returns ``(summary, keys)``: an :class:`IngestSummary`
    with the counts of empty, duplicate and undated records so far, and the shards' keys.
    """
    name = valid_corpus_name(name)
    progress = progress or (lambda done, total, message: None)
    with store.read() as conn:
        corpus = db.find_corpus(conn, name)
    summary = IngestSummary(corpus=name, created=corpus is None)
    tmp = store.path("tmp")
    os.makedirs(tmp, exist_ok=True)
    keys, shard, written = [], None, 0

    def finish(shard):
        nonlocal written
        key = f"{prefix}/in-{len(keys):05d}.jsonl.gz"
        store.files.put_file(shard.close(), key)
        keys.append(key)
        written += shard.n
        on_shard(len(keys) - 1, key, shard.n)
        progress(written + summary.empty + summary.duplicates, expected,
                 f"reading and splitting: {written:,} documents in {len(keys):,} shards")

    try:
        with SeenHashes(store, corpus["id"] if corpus else None, tmp) as seen:
            for rec in new_records(paths, read_options, seen, summary):
                _normalise_date(rec, summary, read_options.report)
                if shard is None:
                    shard = JsonLines(tmp)
                shard.add(rec)
                if shard.n >= shard_documents:
                    done, shard = shard, None
                    finish(done)
        if shard is not None and shard.n:
            done, shard = shard, None
            finish(done)
    finally:
        if shard is not None:
            shard.discard()
    if summary.dates_unparsed > DATE_EXAMPLES:
        read_options.report.append(f"{summary.dates_unparsed:,} dates in all could not be read; each is kept "
                                   "in its document's metadata as date_original")
    if not keys and corpus is None:
        raise EmptyCorpus(f"no text to ingest: {summary.empty} empty and {summary.duplicates} "
                          "duplicate documents, nothing else")
    summary.report, summary.skipped_files = read_options.report, read_options.skipped
    return summary, keys


def output_keys(input_key):
    """The keys :func:`tokenize_shard` writes for the shard ``input_key``: its records,
    its tokens, and its phrase counts."""
    folder, _, base = input_key.rpartition("/")
    folder = folder + "/" if folder else ""
    number = base.removeprefix("in-").removesuffix(".jsonl.gz")
    return (f"{folder}out-{number}.jsonl.gz", f"{folder}tokens-{number}.npz", f"{folder}counts-{number}.json.gz")


def tokenize_shard(store, input_key, settings, learn, workers=None, progress=None):
    """Tokenize the shard ``input_key`` (written by :func:`split`) with ``settings``.

    Writes, under :func:`output_keys`: the records whose text leaves tokens (the others
    are dropped and counted); their tokens (``tokens-*.npz``: ``words``, the shard's own
    words as UTF-8 JSON, ``ids``, uint32 indexes into them, every record's one after the
    other, and ``lengths``, one per record); and
    with ``learn`` the phrase learner's counts of the shard (words and adjacent pairs, for
    :meth:`Commit.add_counts`). Returns ``{"documents", "tokens", "empty"}``.
    """
    progress = progress or (lambda done, total, message: None)
    settings = settings if isinstance(settings, TokenizerSettings) else TokenizerSettings.from_dict(settings)
    tmp = store.path("tmp")
    os.makedirs(tmp, exist_ok=True)
    out_key, tokens_key, counts_key = output_keys(input_key)
    scratch = tempfile.mkdtemp(prefix="shard-", dir=tmp)
    learner = learn_phrases(settings) if learn else None
    words = {}                  # the shard's own vocabulary: word -> local id
    n = n_tokens = empty = 0
    started = time.perf_counter()
    try:
        records = list(read_lines(store.files.local_file(input_key, scratch)))
        total = len(records)
        kept, ids, lengths = [], [], []
        for rec, tokens in zip(records, tokenize_stream((r["text"] for r in records), settings,
                                                        workers=workers or store.workers)):
            if not tokens:
                empty += 1
                continue
            # Words as local ids: the commit maps each distinct word once, not each token.
            ids.append(np.fromiter((words.setdefault(t, len(words)) for t in tokens), dtype="<u4",
                                   count=len(tokens)))
            lengths.append(len(tokens))
            kept.append(rec)
            if learner is not None:
                learner.add(tokens)
            n += 1
            n_tokens += len(tokens)
            if n % 500 == 0:
                rate = n_tokens / max(time.perf_counter() - started, 1e-9)
                progress(n + empty, total, f"tokenized {n:,} of {total:,} documents ({rate:,.0f} tokens/s)")
        del records
        path = os.path.join(scratch, "tokens.npz")
        np.savez(path, ids=np.concatenate(ids) if ids else np.empty(0, dtype="<u4"),
                 lengths=np.array(lengths, dtype="<u4"),
                 words=np.frombuffer(json.dumps(list(words), ensure_ascii=False).encode("utf-8"), dtype=np.uint8))
        del ids
        if learner is not None:
            with gzip.open(os.path.join(scratch, "counts.json.gz"), "wb", compresslevel=1) as gz:
                gz.write(json.dumps(learner.counts(), ensure_ascii=False).encode("utf-8"))
        out = JsonLines(scratch)
        try:
            for rec in kept:
                out.add(rec)
        except BaseException:
            out.discard()
            raise
        # The records last: a shard whose records are stored has all its files.
        store.files.put_file(path, tokens_key)
        if learner is not None:
            store.files.put_file(os.path.join(scratch, "counts.json.gz"), counts_key)
        store.files.put_file(out.close(), out_key)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    progress(n + empty, n + empty, f"tokenized {n:,} documents, {n_tokens:,} tokens")
    return {"documents": n, "tokens": n_tokens, "empty": empty}


class Commit:
    """The last step of a sharded ingest, spread over the time the shards take: created
    once the upload is split (it claims the corpus, see :class:`.writer.CorpusWriter`), it
    merges each tokenized shard's phrase counts as they come (:meth:`add_counts`) and adds
    the shards' documents, in order, without their tokens while later shards are still
    tokenizing (:meth:`add_texts`); :meth:`write` then decides the phrases, stores every
    document's tokens and makes the corpus visible. Only that last part waits for the
    last shard."""

    def __init__(self, store, name, settings, learn, summary, progress=None):
        self.store = store
        self.learner = learn_phrases(settings) if learn else None
        self.progress = progress or (lambda done, total, message: None)
        self.summary = summary
        self.writer = CorpusWriter(store, valid_corpus_name(name), settings, summary, self.progress)
        self.positions = {}         # input key -> the positions its records were given
        self.beaten = time.monotonic()

    def _local(self, key):
        """A path on this host of the stored file ``key`` (and a scratch folder to remove)."""
        scratch = tempfile.mkdtemp(prefix="commit-", dir=self.store.path("tmp"))
        try:
            return self.store.files.local_file(key, scratch), scratch
        except FileNotFoundError as e:
            shutil.rmtree(scratch, ignore_errors=True)
            raise IngestError(f"the tokenized shard {key} is missing from storage") from e

    def add_counts(self, input_key):
        """Merge the phrase counts of the tokenized shard ``input_key`` (none to merge when
        the corpus learns no phrases)."""
        if self.learner is None:
            return
        path, scratch = self._local(output_keys(input_key)[2])
        try:
            with gzip.open(path, "rb") as fh:
                self.learner.merge(json.loads(fh.read()))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def add_texts(self, input_key):
        """Add the documents of the tokenized shard ``input_key`` (the next in order), their
        tokens still to come."""
        path, scratch = self._local(output_keys(input_key)[0])
        positions = []
        try:
            for batch in _chunked(read_lines(path), writer.BATCH):
                positions += self.writer.add(batch, with_tokens=False)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        # Each record's position, -1 for one a concurrent ingest added (8 bytes a document).
        self.positions[input_key] = np.array([-1 if p is None else p for p in positions], dtype=np.int64)
        self.beaten = time.monotonic()

    def keep_alive(self, seconds=15.0):
        """Renew the claim on the corpus when nothing was written for ``seconds``."""
        if time.monotonic() - self.beaten > seconds:
            self.writer.beat()
            self.beaten = time.monotonic()

    def write(self, input_keys, last=None):
        """Once every shard of ``input_keys`` is tokenized (and its counts merged): add the
        documents not added yet, decide the phrases, store each document's tokens, and
        make the corpus visible; ``last(conn)`` runs in that last transaction."""
        out = self.writer
        for key in input_keys:
            if key not in self.positions:
                self.add_texts(key)
        out.use_phrases(self.learner.export() if self.learner is not None else None)
        total, done = sum(int((self.positions[k] >= 0).sum()) for k in input_keys), 0
        for key in input_keys:
            path, scratch = self._local(output_keys(key)[1])
            try:
                with np.load(path, allow_pickle=False) as arrays:
                    ids, lengths = arrays["ids"], arrays["lengths"]
                    words = json.loads(arrays["words"].tobytes().decode("utf-8"))
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            mapped = out.encoder.word_ids(words)[ids] if len(ids) else np.empty(0, dtype=np.int64)
            docs = np.split(mapped, np.cumsum(lengths, dtype=np.int64)[:-1]) if len(lengths) else []
            keep = [(int(p), d) for p, d in zip(self.positions[key], docs) if p >= 0]
            for start in range(0, len(keep), writer.BATCH):
                chunk = keep[start:start + writer.BATCH]
                out.set_tokens([p for p, _ in chunk], [d for _, d in chunk])
                done += len(chunk)
                self.progress(done, total, f"writing tokens: {done:,} of {total:,} documents")
        out.finish(last)
        return self.summary

    def abandon(self):
        """Delete what this ingest wrote (after a failure or a cancel)."""
        self.writer.abandon()
