"""The store: one handle on a data directory and its database.

A :class:`Store` owns the engine (one per database URL per process), hands out read and
write transactions, and keeps the small caches of lookups that requests repeat. Every
library function that touches stored data takes a store as its first argument; the SQL
itself lives in :mod:`.queries`, the tables in :mod:`.schema`, model files in
:mod:`.registry`.
"""

import os
import threading
import time

from ..settings import Config, load_settings
from . import schema
from .files import open_files


class Store:
    """What a process needs to read and write a textlatent data directory."""

    def __init__(self, config):
        if not isinstance(config, Config):
            raise TypeError(f"Store() takes a textlatent Config, not {type(config).__name__}")
        self.config = config
        self.engine = schema.get_engine(config.database_url)
        self.files = open_files(config)        # uploads and model files: see .files
        self._remembered = {}
        self._lock = threading.Lock()
        # Set by a job's runner: called as on_commit(conn, model_id=..., result=...) inside the
        # transaction that commits a corpus or a model, it raises when the job is no longer
        # its worker's (declared dead, cancelled), and the transaction rolls back; with
        # finished=False the job goes on after the commit (a training job's maps).
        self.on_commit = None

    def __repr__(self):
        return f"Store(home={self.home!r}, database_url={self.database_url!r})"

    # The settings a caller most often needs, by their setting names.
    home = property(lambda self: self.config.home)
    database_url = property(lambda self: self.config.database_url)
    queue_url = property(lambda self: self.config.queue_url)
    storage_url = property(lambda self: self.config.storage_url)
    workers = property(lambda self: self.config.workers)
    job_timeout = property(lambda self: self.config.job_timeout)
    max_upload_mb = property(lambda self: self.config.max_upload_mb)

    @property
    def models_dir(self):
        return self.config.models_dir

    def path(self, *parts):
        """A path inside the data directory."""
        return os.path.join(self.config.home, *parts)

    def read(self):
        """A read transaction: ``with store.read() as conn: ...``."""
        return schema.read(self.engine)

    def write(self):
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite), committed on success."""
        return schema.write(self.engine)

    def committing(self, conn, **product):
        """Called by each transaction that commits a corpus or a model, just before it
        commits: runs ``on_commit``, which may refuse by raising."""
        if self.on_commit is not None:
            self.on_commit(conn, **product)

    def remembered(self, key, seconds, compute):
        """``compute()``, or its value from the last ``seconds`` for the same ``key``: the
        hot paths (similar-word queries) skip database round trips this way."""
        now = time.monotonic()
        with self._lock:
            hit = self._remembered.get(key)
        if hit is not None and now - hit[0] < seconds:
            return hit[1]
        value = compute()
        with self._lock:
            if len(self._remembered) > 1000:
                self._remembered.clear()
            self._remembered[key] = (now, value)
        return value

    def forget(self):
        """Drop remembered lookups (after a deletion)."""
        with self._lock:
            self._remembered.clear()


def open_store(config=None, **settings):
    """A :class:`Store` for ``config``, or for the settings given as keywords, then
    ``TEXTLATENT_*`` variables, then defaults (``open_store(home="data")``)."""
    return Store(config if config is not None else load_settings(**settings))


def dispose_engines():
    """Close pooled connections (tests, and forked worker processes)."""
    schema.dispose_engines()
