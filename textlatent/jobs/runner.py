"""Running jobs: the worker's side.

A job is a row in ``tl_jobs`` (what to do, its status and progress) plus a message on
the huey queue that only carries the job id. The row is the truth: the queue may
deliver a message twice or lose one to a crash, and the guarded status changes below
make both harmless.

While a job runs, one heartbeat thread writes its progress and a timestamp every
second and reads whether someone asked to cancel it; the job's code only calls
``progress(done, total, message)``, which raises :class:`Cancelled` once asked.
A job whose worker died (killed, machine lost) is noticed by its missing heartbeat
or its dead process and marked ``failed`` with the reason.
"""

import datetime as dt
import errno
import glob
import logging
import os
import shutil
import socket
import threading
import time

from sqlalchemy.exc import OperationalError

from ..errors import Cancelled, TextlatentError
from ..progress import ProgressLog
from ..store import queries as db
from ..store.schema import now
from .kinds import KINDS, workdir_prefix

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0
STALE_SECONDS = 60          # no heartbeat for this long: the worker is gone
REAP_SECONDS = 10


def worker_name():
    return f"{socket.gethostname()}:{os.getpid()}"


def run_job(store, job_id):
    """Run one job to its end; called by the queue's worker. Never raises for a job's
    own failure: that is recorded on the job."""
    with store.write() as conn:
        claimed = db.update_job(conn, job_id, only_if_status=("pending",), status="running",
                                worker=worker_name(), started=now(), heartbeat=now(), message="starting")
        job = db.get_job(conn, job_id) if claimed else None
    if job is None:
        log.info("job %s is not pending any more; skipped", job_id)
        return
    kind = KINDS[job["kind"]]
    beat = _Heartbeat(store, job_id, store.job_timeout)
    beat.start()
    # The worker's log gets a progress line at least every 10 s (documents, rate, ETA).
    progress = ProgressLog(f"job {job_id} ({job['kind']} {job['corpus_name']})", forward=beat.progress).start()
    status, values = "failed", {}
    try:
        model_id, result = kind.run(store, job, progress)
        status, values = "finished", {"model_id": model_id, "result": result, "message": "finished"}
    except Cancelled:
        if beat.timed_out:
            values = {"error": f"stopped: the job ran longer than the job_timeout of {store.job_timeout} s",
                      "message": "timed out"}
        else:
            status, values = "cancelled", {"message": "cancelled"}
    except TextlatentError as e:
        values = {"error": e.message, "message": "failed"}
    except MemoryError:
        values = {"error": "out of memory", "message": "failed"}
    except OSError as e:
        values = {"error": _os_error(e), "message": "failed"}
    except OperationalError as e:
        values = {"error": _database_error(e), "message": "failed"}
    except Exception as e:     # a bug: record it, keep the worker alive
        log.exception("job %s failed", job_id)
        values = {"error": f"internal error ({type(e).__name__}: {str(e)[:300]}); see the worker's log",
                  "message": "failed"}
    finally:
        beat.stop()
        progress.stop()
    try:
        kind.ended(store, job["params"], status)
    except Exception:      # files left behind (shared storage away) must not keep the job running
        log.exception("job %s: cleaning up after it failed", job_id)
    _clean_workdirs(store, job_id)
    if values.get("error"):
        # The row is read on other hosts: a path in this worker's data directory means nothing there.
        values["error"] = values["error"].replace(store.home + os.sep, "").replace(store.home, "the data directory")
    with store.write() as conn:
        db.update_job(conn, job_id, only_if_status=("running",), status=status,
                      finished=now(), heartbeat=now(), **values)


def _os_error(e):
    if e.errno == errno.ENOSPC:
        return f"no space left on the device ({e.filename or 'writing'})"
    if e.errno == errno.EFBIG or e.errno is None:
        # EFBIG, or numpy's short write (an OSError without errno): the file was cut short
        return f"no space: a file could not be written whole ({e.filename or e})"
    return f"{e.strerror or e}: {e.filename or ''}".rstrip(": ")


_SQLITE_FULL, _SQLITE_IOERR = 13, 10
_PG_DISK_FULL = "53100"


def _database_error(e):
    """What a person should know of a database that refused a write, from its error code."""
    orig = e.orig
    code = getattr(orig, "sqlite_errorcode", None)
    if code == _SQLITE_FULL or getattr(orig, "sqlstate", None) == _PG_DISK_FULL:
        return "no space left for the database"
    if code is not None and code & 0xFF == _SQLITE_IOERR:   # a write cut short (EFBIG, EIO)
        return "the database could not be written: no space, or a failing disk"
    return f"the database refused: {str(orig)[:300]}"


class _Heartbeat:
    """Writes the job's progress and heartbeat every second; notices cancel and timeout.

    It is the only writer while the job runs, so ``progress`` itself never waits on
    the database. It logs nothing: the job forks processes, and a lock held at fork
    time must not be a logging lock.
    """

    def __init__(self, store, job_id, timeout):
        self.store, self.job_id, self.timeout = store, job_id, timeout
        self.state = (0, 0, "starting")
        self.cancel = threading.Event()
        self.timed_out = False
        self.missed = 0               # heartbeats the database did not take
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"job-{job_id}-heartbeat", daemon=True)
        self._started = time.monotonic()

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=10)

    def progress(self, done, total, message):
        self.state = (int(done), int(total), str(message)[:500])
        if self.cancel.is_set():
            raise Cancelled("cancelled")

    def _run(self):
        while not self._stop.wait(HEARTBEAT_SECONDS):
            if self.timeout and time.monotonic() - self._started > self.timeout:
                self.timed_out = True
                self.cancel.set()
            done, total, message = self.state
            if self.cancel.is_set():
                message = "stopping: " + ("time limit reached" if self.timed_out else "cancel requested")
            try:
                with self.store.write() as conn:
                    db.update_job(conn, self.job_id, only_if_status=("running",), done=done, total=total,
                                  message=message, heartbeat=now())
                    if db.get_job(conn, self.job_id)["cancel_requested"]:
                        self.cancel.set()
            except OperationalError:    # a busy database now and then must not stop the job
                self.missed += 1


# -- noticing dead workers -------------------------------------------------------------------

def is_stale(job):
    """True when a running job's worker is gone: no heartbeat for STALE_SECONDS, or a
    dead process on this host."""
    last = job["heartbeat"] or job["started"]
    if last is None or now() - last > dt.timedelta(seconds=STALE_SECONDS):
        return True
    host, _, pid = (job["worker"] or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return not _alive(int(pid))
    return False


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed, not yet reaped by its parent) is as dead as it gets.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def dead_worker_error(job):
    last = job["heartbeat"] or job["started"]
    when = f" (last heartbeat {last:%Y-%m-%d %H:%M:%S} UTC)" if last else ""
    return f"the worker {job['worker']} stopped while running this job{when}; retry it"


def as_seen(job):
    """The job as a reader should see it: a running job whose worker is gone reads as
    failed at once (the row itself is written by :func:`reap`)."""
    if job["status"] == "running" and is_stale(job):
        return dict(job, status="failed", message="failed", error=dead_worker_error(job))
    return job


def reap(store, candidates=None):
    """Mark running jobs whose worker is gone as failed, and clean what they left; returns
    their ids. Workers call it at start and every REAP_SECONDS, ``serve`` too."""
    if candidates is None:
        with store.read() as conn:
            candidates = db.running_jobs(conn)
    reaped = []
    for job in candidates:
        if job["status"] != "running" or not is_stale(job):
            continue
        with store.write() as conn:
            if db.update_job(conn, job["id"], only_if_status=("running",), status="failed",
                             finished=now(), message="failed", error=dead_worker_error(job)):
                reaped.append(job["id"])
        _clean_workdirs(store, job["id"])
    return reaped


def _clean_workdirs(store, job_id):
    for path in glob.glob(os.path.join(store.models_dir, workdir_prefix({"id": job_id}) + "*")):
        shutil.rmtree(path, ignore_errors=True)
