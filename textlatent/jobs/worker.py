"""The worker process: consumes the queue and runs each job (``textlatent worker``)."""

import logging
import os
import sys
import threading

from sqlalchemy.exc import SQLAlchemyError

from ..ingest.uploads import clean_orphans
from ..store import Store
from ..store import queries as db
from . import procs
from .queue import get_queue
from .runner import REAP_SECONDS, reap, run_job, worker_name

log = logging.getLogger(__name__)


def _in_forked_child():
    import signal
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    procs.die_with_parent()           # a job's process, its tokenizer and LdaMulticore pools


def run_worker(config, concurrency=1):
    """Run a consumer until SIGINT/SIGTERM; first, and every REAP_SECONDS, fail the jobs of
    workers that died and say that this one is alive. Started by ``serve`` (which sets
    TEXTLATENT_PARENT_PID), it stops when serve ends, even by SIGKILL."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("gensim", "smart_open"):
        logging.getLogger(name).setLevel(logging.WARNING)
    parent = os.environ.get("TEXTLATENT_PARENT_PID")
    if parent and parent.isdigit():
        _stop_with_parent(int(parent))
    # huey's consumer turns SIGTERM into a "stop gracefully" flag. Processes that a job
    # forks (LdaMulticore's and the tokenizer's pools) would inherit that handler and
    # ignore their pool's terminate(), which then waits for them forever.
    os.register_at_fork(after_in_child=_in_forked_child)
    store = Store(config)
    removed = clean_orphans(store)
    if removed:
        log.info("removed %d upload folder(s) that no job names", removed)
    _reap_and_log(store)
    start_reaper(store, beat=worker_name())
    _warm_tokenizer()
    if config.map_method == "umap":
        _warm_up(config)
    q = get_queue(config)
    q.runner = lambda job_id: run_job(store, job_id)
    consumer = q.consumer(concurrency)
    log.info("textlatent worker: %d job(s) at a time, queue %s", concurrency,
             config.queue_url or os.path.join(config.home, "queue.db"))
    try:
        consumer.run()
    finally:
        _forget(store)


def _stop_with_parent(parent):
    import signal
    if os.getppid() != parent:          # serve is gone already
        log.warning("the serve process %d that started this worker is gone; stopping", parent)
        sys.exit(0)
    procs.die_with_parent(signal.SIGTERM)
    procs.watch_parent(parent, lambda: os.kill(os.getpid(), signal.SIGTERM))


def _forget(store):
    try:
        with store.write() as conn:
            db.forget_worker(conn, worker_name())
    except SQLAlchemyError:
        pass


def _warm_tokenizer():
    import time

    from ..ingest.tokenize import warm_up
    started = time.monotonic()
    try:
        warm_up()
        log.info("tokenizer ready in %.1f s", time.monotonic() - started)
    except Exception:     # each ingest builds its own, and says why if it cannot
        log.warning("could not build the tokenizer ahead of the first ingest", exc_info=True)


WARM_UP_SECONDS = 600


def _warm_up(config):
    """Fill numba's on-disk cache with what a UMAP map runs, in a process of its own, before
    the first job: each job's process, forked from this one (which never imports numba, so
    that no compiler lock or thread is copied half-held), then loads compiled code instead
    of compiling (seconds, against most of a minute)."""
    import subprocess
    import time
    started = time.monotonic()
    code = "import sys; from textlatent.explore.maps import warm_up; warm_up(sys.argv[1])"
    try:
        subprocess.run([sys.executable, "-c", code, config.home], check=True, capture_output=True,
                       timeout=WARM_UP_SECONDS)
        log.info("UMAP ready for the first map in %.1f s", time.monotonic() - started)
    except (subprocess.SubprocessError, OSError) as e:   # the first map will compile, and say why if it fails
        log.warning("could not warm UMAP up: %s", str(getattr(e, "stderr", b"") or e)[-500:])


def _reap_and_log(store):
    reaped = reap(store)
    if reaped:
        log.info("marked %d job(s) of stopped workers as failed: %s", len(reaped), reaped)


def start_reaper(store, seconds=REAP_SECONDS, beat=None):
    """A daemon thread that calls :func:`reap` every ``seconds`` (and, with ``beat`` a
    worker's name, first writes that worker's heartbeat row)."""
    thread = threading.Thread(target=_reap_every, args=(store, seconds, beat), name="reaper", daemon=True)
    thread.start()
    return thread


def _reap_every(store, seconds, beat):
    stop = threading.Event()
    while True:
        try:
            if beat:
                with store.write() as conn:
                    db.beat_worker(conn, beat)
            _reap_and_log(store)
        except SQLAlchemyError:       # the database away for a moment: try again next time
            log.warning("could not look for jobs of stopped workers", exc_info=True)
        stop.wait(seconds)
