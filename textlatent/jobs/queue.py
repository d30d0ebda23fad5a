"""The job queue: huey, on SQLite in the data directory or on Redis.

The queue only carries job ids (the job itself is a database row, see
:mod:`textlatent.jobs`), so losing or repeating a message loses nothing. This module
knows nothing of jobs: the worker hands it the function that runs one.
"""

import contextlib
import logging
import os
import threading

from ..errors import InvalidInput
from ..store.schema import outside_fork

log = logging.getLogger(__name__)

_queues = {}
_lock = threading.Lock()


class Queue:
    """A huey instance with textlatent's one task registered on it. ``runner(job_id)`` is
    what a consumer calls for each message; a process that only queues jobs sets none."""

    def __init__(self, config):
        self.config = config
        self.runner = None
        self.huey = _make_huey(config)

        @self.huey.task(name="textlatent.run_job")
        def _run(job_id):
            if self.runner is None:
                raise RuntimeError("this queue has no runner: only a worker consumes jobs")
            self.runner(job_id)

        self._task = _run

    def run_job(self, job_id):
        self._task(job_id)

    def pending(self):
        return self.huey.pending_count()

    def consumer(self, concurrency=1):
        # Thread workers: a job forks its own processes (tokenizers, LdaMulticore),
        # and the consumer's parent must not be a process worker's fork of a fork.
        return self.huey.create_consumer(workers=concurrency, worker_type="thread", periodic=False,
                                         check_worker_health=True, initial_delay=0.1, max_delay=1.0)


def _sqlite_storage():
    """huey's SQLite storage, whose connections wait for a lock instead of failing: each new
    connection sets the journal mode, and SQLite answers "database is locked" at once,
    without waiting out the busy timeout, while another process is switching the file to
    WAL. Two workers started together on a new data directory lost one that way."""
    import sqlite3
    import time

    from huey.storage import SqliteStorage

    class WaitingSqliteStorage(SqliteStorage):
        @contextlib.contextmanager
        def db(self, commit=False, close=False):
            # A job's process is forked from the worker while the consumer's threads use
            # the queue: forked inside one of their transactions, it inherited SQLite's
            # record of the lock and its first message ("queue this shard") waited 30 s
            # for it, then failed the ingest. Forks wait for the queue as for the database.
            with outside_fork(), super().db(commit, close) as cursor:
                yield cursor

        def _create_connection(self):
            deadline = time.monotonic() + self._timeout
            while True:
                try:
                    return super()._create_connection()
                except sqlite3.OperationalError as e:
                    if "locked" not in str(e) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
    return WaitingSqliteStorage


def _make_huey(config):
    from huey import RedisHuey, SqliteHuey
    url = config.queue_url
    if not url:
        os.makedirs(config.home, exist_ok=True)
        return SqliteHuey("textlatent", filename=os.path.join(config.home, "queue.db"), results=False,
                          utc=True, timeout=30, storage_class=_sqlite_storage())
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("textlatent", url=url, results=False, utc=True)
    raise InvalidInput(f"TEXTLATENT_QUEUE_URL must be a redis:// URL (or unset for SQLite), not {url[:100]!r}")


def forget_queues():
    """In a forked child (a job's process): drop the parent's queues without closing their
    SQLite connections (closing them here would act on the parent's), so that new ones,
    with connections of this process, are made."""
    global _lock
    _lock = threading.Lock()
    _queues.clear()


def get_queue(config):
    """One queue per (data directory, queue URL) per process."""
    key = (config.home, config.database_url, config.queue_url)
    with _lock:
        q = _queues.get(key)
        if q is None:
            q = _queues[key] = Queue(config)
        return q
