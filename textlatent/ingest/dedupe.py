"""Which documents of an ingest are new: in memory that does not grow with the corpus.

A document is a duplicate when its content hash is already in the corpus (asked of the
database a batch at a time, through its unique index) or came earlier in the same
ingest (kept in an on-disk set: a SQLite file of 32-byte digests in the data
directory's ``tmp``). Holding the hashes in Python sets cost about 160 MB per million
documents, twice over.
"""

import os
import sqlite3
import uuid

from ..store import queries as db

BATCH = 500


class SeenHashes:
    """``new(hashes)`` -> which of a batch of hex hashes are new, recording them as seen."""

    def __init__(self, store, corpus_id, folder):
        self.store, self.corpus_id = store, corpus_id
        os.makedirs(folder, exist_ok=True)
        self.path = os.path.join(folder, f"seen-{uuid.uuid4().hex}.db")
        self.db = sqlite3.connect(self.path)
        # A scratch file: nothing to recover after a crash, so no journal and no syncs.
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE seen (h BLOB PRIMARY KEY) WITHOUT ROWID")

    def new(self, hashes):
        """A list of booleans, one per hash of ``hashes`` (at most a few thousand): True for
        a hash neither in the corpus nor seen before in this ingest (nor earlier in the batch)."""
        if not hashes:
            return []
        stored = set()
        if self.corpus_id is not None:
            with self.store.read() as conn:
                stored = db.existing_hashes(conn, self.corpus_id, hashes)
        digests = [bytes.fromhex(h) for h in hashes]
        marks = ",".join("?" * len(digests))
        seen = {r[0] for r in self.db.execute(f"SELECT h FROM seen WHERE h IN ({marks})", digests)}
        out, fresh = [], set()
        for h, d in zip(hashes, digests):
            is_new = h not in stored and d not in seen and d not in fresh
            if is_new:
                fresh.add(d)
            out.append(is_new)
        self.db.executemany("INSERT INTO seen VALUES (?)", [(d,) for d in fresh])
        return out

    def close(self):
        self.db.close()
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
