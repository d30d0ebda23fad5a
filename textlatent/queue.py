"""The job queue: huey, on SQLite in the data directory or on Redis.

The queue only carries job ids (the job itself is a database row, see
:mod:`textlatent.jobs`), so losing or repeating a message loses nothing.
"""

import logging
import os
import threading

from .errors import InvalidInput

log = logging.getLogger(__name__)

_queues = {}
_lock = threading.Lock()


class Queue:
    """A huey instance with textlatent's one task registered on it."""

    def __init__(self, config):
        self.config = config
        self.huey = _make_huey(config)

        @self.huey.task(name="textlatent.run_job")
        def _run(job_id):
            from .jobs import run_job
            run_job(self.config, job_id)

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


def _make_huey(config):
    from huey import RedisHuey, SqliteHuey
    url = config.queue_url
    if not url:
        os.makedirs(config.home, exist_ok=True)
        return SqliteHuey("textlatent", filename=os.path.join(config.home, "queue.db"), results=False,
                          utc=True, timeout=30)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("textlatent", url=url, results=False, utc=True)
    raise InvalidInput(f"TEXTLATENT_QUEUE_URL must be a redis:// URL (or unset for SQLite), not {url[:100]!r}")


def get_queue(config):
    """One queue per (data directory, queue URL) per process."""
    key = (config.home, config.database_url, config.queue_url)
    with _lock:
        q = _queues.get(key)
        if q is None:
            q = _queues[key] = Queue(config)
        return q


def _default_signals():
    import signal
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def run_worker(config, concurrency=1):
    """Run a consumer until SIGINT/SIGTERM; first fail the jobs of workers that died."""
    from .jobs import reap
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("gensim", "smart_open"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # huey's consumer turns SIGTERM into a "stop gracefully" flag. Processes that a job
    # forks (LdaMulticore's and the tokenizer's pools) would inherit that handler and
    # ignore their pool's terminate(), which then waits for them forever.
    os.register_at_fork(after_in_child=_default_signals)
    reaped = reap(config)
    if reaped:
        log.info("marked %d job(s) of stopped workers as failed: %s", len(reaped), reaped)
    q = get_queue(config)
    consumer = q.consumer(concurrency)
    log.info("textlatent worker: %d job(s) at a time, queue %s", concurrency,
             config.queue_url or os.path.join(config.home, "queue.db"))
    consumer.run()
