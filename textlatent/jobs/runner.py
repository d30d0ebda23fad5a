"""Running jobs: the worker's side.

A job is a row in ``tl_jobs`` (what to do, its status and progress) plus a message on
the huey queue that only carries the job id. The row is the truth: the queue may
deliver a message twice or lose one to a crash, and the guarded status changes below
make both harmless.

A job runs in a process of its own, forked by the worker, which writes its progress
and a heartbeat every second (the job's own work, however long it holds the GIL, cannot
starve it) and passes on a cancel or the time limit; the job's code only calls
``progress(done, total, message)``, which raises :class:`Cancelled` once asked, and a
job that does not stop within STOP_GRACE seconds is killed. The transaction that commits
a job's corpus or model also marks the job finished, only if it is still running for
its worker: a job declared dead never commits. A job whose worker died (killed, machine
lost) is noticed by its missing heartbeat or its dead process and marked ``failed``.
"""

import datetime as dt
import errno
import functools
import glob
import logging
import os
import shutil
import signal
import socket
import time

from sqlalchemy.exc import OperationalError

from ..errors import Cancelled, Conflict, TextlatentError
from ..progress import ProgressLog
from ..store import queries as db
from ..store import schema
from ..store.schema import now
from . import procs
from .kinds import KINDS, workdir_prefix
from .liveness import is_stale, process_alive, worker_name
from .queue import forget_queues

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0
REAP_SECONDS = 10
STOP_GRACE = 3.0            # a cancelled job that has not stopped by then is killed


class JobLost(Conflict):
    """The job is no longer this worker's: it was declared stopped, or cancelled."""


def run_job(store, job_id):
    """Run one job to its end in a process of its own, this one writing its heartbeat;
    called by the queue's worker. Never raises for a job's own failure: that is recorded
    on the job. Returns the job's final status (None when it was not pending)."""
    owner = worker_name()
    with store.write() as conn:
        claimed = db.update_job(conn, job_id, only_if_status=("pending",), status="running",
                                worker=owner, started=now(), heartbeat=now(), message="starting")
        job = db.get_job(conn, job_id) if claimed else None
    if job is None:
        log.info("job %s is not pending any more; skipped", job_id)
        return None
    shared = procs.SharedProgress()
    pid = schema.quiet_fork()
    if pid == 0:                                      # the job's process: never returns
        code = 1
        try:
            os.setpgid(0, 0)                          # its own group: a stop takes its pools too
            procs.die_with_parent()
            code = _run_in_child(store.config, job, owner, shared)
        finally:
            os._exit(code)
    try:
        os.setpgid(pid, pid)                          # (both sides: whichever runs first)
    except OSError:
        pass
    status = _watch(store, job, owner, pid, shared)
    try:
        KINDS[job["kind"]].ended(store, job["params"], status)
    except Exception:      # files left behind (shared storage away) must not keep the job running
        log.exception("job %s: cleaning up after it failed", job_id)
    _clean_workdirs(store, job_id)
    return status


def _run_in_child(config, job, owner, shared):
    from ..store import Store
    schema.forget_engines()          # the parent's pooled connections are not this process's
    forget_queues()                  # nor its queue's
    store = Store(config)
    store.on_commit = functools.partial(_finish_owned, job_id=job["id"], owner=owner)

    def progress(done, total, message):
        shared.write(done, total, str(message)[:500])
        if shared.flag != procs.NONE:
            raise Cancelled("cancelled")
    # The worker's log gets a progress line at least every 10 s (documents, rate, ETA).
    logged = ProgressLog(f"job {job['id']} ({job['kind']} {job['corpus_name']})", forward=progress).start()
    try:
        status, values = _execute(store, job, logged, shared)
    finally:
        logged.stop()
    if values.get("error"):
        # The row is read on other hosts: a path in this worker's data directory means nothing there.
        values["error"] = values["error"].replace(store.home + os.sep, "").replace(store.home, "the data directory")
    if status == "finished":
        # Before the row says finished (the worker's own clean-up comes after): whoever
        # sees the job finished sees its upload gone.
        KINDS[job["kind"]].ended(store, job["params"], status)
    with store.write() as conn:      # what it committed is on the row already (_finish_owned)
        db.update_job(conn, job["id"], only_if_status=("running",), only_if_worker=owner, status=status,
                      finished=now(), heartbeat=now(), **values)
    return 0


def _finish_owned(conn, job_id, owner, model_id=None, result=None):
    """Inside each transaction that commits something the job made (a corpus, a model):
    record it on the job, only if the job is still running and this worker's; otherwise
    refuse, so that a job declared dead (or cancelled) never commits what it made. A job
    may commit several things (a K sweep's models); it is marked finished when it ends."""
    values = {k: v for k, v in (("model_id", model_id), ("result", result)) if v is not None}
    if not db.update_job(conn, job_id, only_if_status=("running",), only_if_worker=owner, heartbeat=now(),
                         **values):
        raise JobLost(f"job {job_id} is no longer running for worker {owner} (declared stopped, or "
                      "cancelled): what it made was not committed")


def _execute(store, job, progress, shared):
    """``(status, values)`` of running the job: what its row should say."""
    try:
        model_id, result = KINDS[job["kind"]].run(store, job, progress)
        values = {"message": "finished"}
        if model_id is not None:
            values["model_id"] = model_id
        if result is not None:
            values["result"] = result
        return "finished", values
    except Cancelled:
        if shared.flag == procs.TIMEOUT:
            return "failed", _timed_out(store)
        return "cancelled", {"message": "cancelled"}
    except JobLost as e:
        log.warning("%s", e.message)
        return "failed", {}
    except TextlatentError as e:
        return "failed", {"error": e.message, "message": "failed"}
    except MemoryError:
        return "failed", {"error": "out of memory", "message": "failed"}
    except OSError as e:
        return "failed", {"error": _os_error(e), "message": "failed"}
    except OperationalError as e:
        return "failed", {"error": _database_error(e), "message": "failed"}
    except Exception as e:     # a bug: record it
        log.exception("job %s failed", job["id"])
        return "failed", {"error": f"internal error ({type(e).__name__}: {str(e)[:300]}); see the worker's log",
                          "message": "failed"}


def _timed_out(store):
    return {"error": f"stopped: the job ran longer than the job_timeout of {store.job_timeout} s",
            "message": "timed out"}


def _watch(store, job, owner, pid, shared):
    """Write the heartbeat of the job's process ``pid`` until it ends; pass on a cancel or
    the time limit, and kill its process group when it has not stopped STOP_GRACE seconds
    later (a step that calls no ``progress``: reading one big file, the final write).
    Returns the job's final status."""
    started, beat, stop_at, missed = time.monotonic(), 0.0, None, 0
    while True:
        ended, wait_status = os.waitpid(pid, os.WNOHANG)
        if ended:
            break
        t = time.monotonic()
        if t - beat >= HEARTBEAT_SECONDS:
            beat = t
            done, total, message = shared.read()
            if shared.flag != procs.NONE:
                message = "stopping: " + ("time limit reached" if shared.flag == procs.TIMEOUT else "cancel requested")
            try:
                with store.write() as conn:
                    db.update_job(conn, job["id"], only_if_status=("running",), only_if_worker=owner, done=done,
                                  total=total, message=message, heartbeat=now())
                    cancel = db.get_job(conn, job["id"])["cancel_requested"]
            except OperationalError:    # a busy database now and then must not stop the job
                missed, cancel = missed + 1, False
            if shared.flag == procs.NONE and store.job_timeout and t - started > store.job_timeout:
                shared.flag = procs.TIMEOUT
            elif shared.flag == procs.NONE and cancel:
                shared.flag = procs.CANCEL
            if shared.flag != procs.NONE and stop_at is None:
                stop_at = t + STOP_GRACE
        if stop_at is not None and t > stop_at:
            _kill_group(pid)
        time.sleep(0.05)
    return _ended(store, job, owner, wait_status, shared.flag)


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _ended(store, job, owner, wait_status, flag):
    """The job's final status once its process ended; written here when the process could
    not write it (killed after a cancel, crashed)."""
    with store.write() as conn:
        row = db.get_job(conn, job["id"])
        if row["status"] != "running" or row["worker"] != owner:
            return row["status"]
        if flag == procs.CANCEL:
            status, values = "cancelled", {"message": f"cancelled (stopped after {STOP_GRACE:g} s)"}
        elif flag == procs.TIMEOUT:
            status, values = "failed", _timed_out(store)
        else:
            how = (f"was killed by signal {os.WTERMSIG(wait_status)}" if os.WIFSIGNALED(wait_status)
                   else f"exited with status {os.waitstatus_to_exitcode(wait_status)}")
            status, values = "failed", {"error": f"the job's process {how}; see the worker's log",
                                        "message": "failed"}
        db.update_job(conn, job["id"], only_if_status=("running",), only_if_worker=owner, status=status,
                      finished=now(), heartbeat=now(), **values)
    return status


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


# -- noticing dead workers -------------------------------------------------------------------

WORKER_STALE_SECONDS = 3 * REAP_SECONDS
NO_WORKER = "no worker is running: start `textlatent worker`"


def workers_alive(conn):
    """True when some worker wrote its heartbeat row lately (and, on this host, still runs)."""
    for name, last in db.worker_beats(conn).items():
        if now() - last > dt.timedelta(seconds=WORKER_STALE_SECONDS):
            continue
        host, _, pid = name.rpartition(":")
        if socket.gethostname().endswith(host) and pid.isdigit() and not process_alive(int(pid)):
            continue
        return True
    return False


def with_notice(conn, jobs):
    """``jobs`` with the message of pending ones saying so when no worker is running."""
    if not any(j["status"] == "pending" for j in jobs) or workers_alive(conn):
        return jobs
    return [dict(j, message=NO_WORKER) if j["status"] == "pending" else j for j in jobs]


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
