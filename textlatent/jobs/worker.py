"""The worker process: consumes the queue and runs each job (``textlatent worker``)."""

import logging
import os
import threading

from sqlalchemy.exc import SQLAlchemyError

from ..store import Store
from .queue import get_queue
from .runner import REAP_SECONDS, reap, run_job

log = logging.getLogger(__name__)


def _default_signals():
    import signal
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def run_worker(config, concurrency=1):
    """Run a consumer until SIGINT/SIGTERM; first, and every REAP_SECONDS, fail the jobs of
    workers that died."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("gensim", "smart_open"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # huey's consumer turns SIGTERM into a "stop gracefully" flag. Processes that a job
    # forks (LdaMulticore's and the tokenizer's pools) would inherit that handler and
    # ignore their pool's terminate(), which then waits for them forever.
    os.register_at_fork(after_in_child=_default_signals)
    store = Store(config)
    _reap_and_log(store)
    start_reaper(store)
    if config.map_method == "umap":
        threading.Thread(target=_warm_up, args=(store,), name="umap-warm-up", daemon=True).start()
    q = get_queue(config)
    q.runner = lambda job_id: run_job(store, job_id)
    consumer = q.consumer(concurrency)
    log.info("textlatent worker: %d job(s) at a time, queue %s", concurrency,
             config.queue_url or os.path.join(config.home, "queue.db"))
    consumer.run()


def _warm_up(store):
    """Ready UMAP while no job waits (numba: loading its cache, or compiling the first
    time); a map job that starts meanwhile waits only for what is left of it."""
    from ..explore.maps import warm_up
    try:
        warm_up(store.home)
    except Exception:       # a map job will meet the same problem and report it
        log.warning("could not warm UMAP up", exc_info=True)


def _reap_and_log(store):
    reaped = reap(store)
    if reaped:
        log.info("marked %d job(s) of stopped workers as failed: %s", len(reaped), reaped)


def start_reaper(store, seconds=REAP_SECONDS):
    """A daemon thread that calls :func:`reap` every ``seconds``."""
    thread = threading.Thread(target=_reap_every, args=(store, seconds), name="reaper", daemon=True)
    thread.start()
    return thread


def _reap_every(store, seconds):
    stop = threading.Event()
    while not stop.wait(seconds):
        try:
            _reap_and_log(store)
        except SQLAlchemyError:       # the database away for a moment: try again next time
            log.warning("could not look for jobs of stopped workers", exc_info=True)
