"""Background jobs: ingest and training run by a worker, never inside a web request.

A job is a row in ``tl_jobs`` (what to do, its status and progress) plus a message
on the huey queue that only carries the job id. The row is the truth: the queue
may deliver a message twice or lose one to a crash, and the guarded status changes
below make both harmless.

While a job runs, one heartbeat thread writes its progress and a timestamp every
second and reads whether someone asked to cancel it; the training code only calls
``progress(done, total, message)``, which raises :class:`Cancelled` once asked.
A job whose worker died (killed, machine lost) is noticed by its missing heartbeat
or its dead process and marked ``failed`` with the reason.
"""

import datetime as dt
import glob
import logging
import os
import shutil
import socket
import threading
import time

from . import store
from .errors import Cancelled, Conflict, InvalidInput, TextlatentError

log = logging.getLogger(__name__)

KINDS = ("ingest", "lda", "word2vec")
ACTIVE = ("pending", "running")
ENDED = ("finished", "failed", "cancelled")
HEARTBEAT_SECONDS = 1.0
STALE_SECONDS = 60          # no heartbeat for this long: the worker is gone


# -- submitting ------------------------------------------------------------------------------

def validate(config, kind, corpus_name, params):
    """Check a job before it is queued, so that bad parameters get an answer at once."""
    from .ingest import check_name
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, not {str(kind)[:50]!r}")
    if kind == "ingest":
        return check_name(corpus_name), params
    from .errors import EmptyCorpus
    engine = store.get_engine(config.database_url)
    with store.read(engine) as conn:
        corpus = store.get_corpus(conn, corpus_name)     # CorpusNotFound for an unknown corpus
    if not corpus["n_tokens"]:
        raise EmptyCorpus(f"corpus {corpus['name']!r} has no tokens to train on")
    if kind == "lda":
        from .topics import validate_lda
        return corpus["name"], validate_lda(params, corpus["n_docs"])
    from .embeddings import validate_w2v
    return corpus["name"], validate_w2v(params)


def submit(config, kind, corpus_name, params=None, queue=None):
    """Validate, record and queue a job; returns its row as a dict."""
    corpus_name, params = validate(config, kind, corpus_name, params or {})
    engine = store.get_engine(config.database_url)
    with store.write(engine) as conn:
        job_id = store.insert_job(conn, kind, corpus_name, params)
    enqueue(config, job_id, queue)
    return get(config, job_id)


def submit_ingest(config, corpus_name, files, upload_dir, read_options, tokenizer=None, queue=None):
    """Queue the ingest of staged files (see :mod:`textlatent.uploads`)."""
    params = {"files": list(files), "upload_dir": upload_dir, "read": dict(read_options)}
    if tokenizer:
        params["tokenizer"] = tokenizer
    engine = store.get_engine(config.database_url)
    with store.write(engine) as conn:
        job_id = store.insert_job(conn, "ingest", corpus_name, params)
    enqueue(config, job_id, queue)
    return get(config, job_id)


def enqueue(config, job_id, queue=None):
    from .queue import get_queue
    (queue or get_queue(config)).run_job(job_id)


def get(config, job_id):
    """The job, after checking that a running one still has a live worker."""
    engine = store.get_engine(config.database_url)
    with store.read(engine) as conn:
        job = store.get_job(conn, job_id)
    if job["status"] == "running" and _is_stale(job):
        reap(config, [job])
        with store.read(engine) as conn:
            job = store.get_job(conn, job_id)
    return job


def list_jobs(config, corpus_name=None, limit=50):
    engine = store.get_engine(config.database_url)
    with store.read(engine) as conn:
        rows = store.list_jobs(conn, corpus_name, limit)
    stale = [j for j in rows if j["status"] == "running" and _is_stale(j)]
    if stale:
        reap(config, stale)
        with store.read(engine) as conn:
            rows = store.list_jobs(conn, corpus_name, limit)
    return rows


def cancel(config, job_id):
    """Cancel a job: a pending one at once, a running one within about a second
    of its next progress call (an LDA chunk, a Word2Vec epoch, an ingest batch)."""
    engine = store.get_engine(config.database_url)
    with store.write(engine) as conn:
        job = store.get_job(conn, job_id)
        if job["status"] in ENDED:
            raise Conflict(f"job {job['id']} has already {job['status']}")
        if not store.update_job(conn, job["id"], only_if_status=("pending",), status="cancelled",
                                finished=store.now(), message="cancelled before it started"):
            store.update_job(conn, job["id"], only_if_status=("running",), cancel_requested=True,
                             message="cancelling")
    return get(config, job_id)


def retry(config, job_id, queue=None):
    """Queue a new job with the same kind, corpus and parameters as an ended one."""
    job = get(config, job_id)
    if job["status"] not in ("failed", "cancelled"):
        raise Conflict(f"only failed or cancelled jobs can be retried; job {job['id']} is {job['status']}")
    if job["kind"] == "ingest":
        p = job["params"]
        if not all(os.path.exists(f) for f in p.get("files", [])):
            raise Conflict("the uploaded files of this job are gone; upload them again")
        return submit_ingest(config, job["corpus_name"], p["files"], p["upload_dir"], p.get("read", {}),
                             p.get("tokenizer"), queue)
    return submit(config, job["kind"], job["corpus_name"], job["params"], queue)


def active_jobs(config, corpus_name):
    return [j for j in list_jobs(config, corpus_name, limit=1000) if j["status"] in ACTIVE]


# -- running ---------------------------------------------------------------------------------

def worker_name():
    return f"{socket.gethostname()}:{os.getpid()}"


def run_job(config, job_id):
    """Run one job to its end; called by the queue's worker. Never raises for a job's
    own failure: that is recorded on the job."""
    engine = store.get_engine(config.database_url)
    with store.write(engine) as conn:
        claimed = store.update_job(conn, job_id, only_if_status=("pending",), status="running",
                                   worker=worker_name(), started=store.now(), heartbeat=store.now(),
                                   message="starting")
        job = store.get_job(conn, job_id) if claimed else None
    if job is None:
        log.info("job %s is not pending any more; skipped", job_id)
        return
    beat = _Heartbeat(config, job_id, config.job_timeout)
    beat.start()
    status, values = "failed", {}
    try:
        model_id, result = _execute(config, job, beat.progress)
        status, values = "finished", {"model_id": model_id, "result": result, "message": "finished"}
    except Cancelled:
        if beat.timed_out:
            values = {"error": f"stopped: the job ran longer than the job_timeout of {config.job_timeout} s",
                      "message": "timed out"}
        else:
            status, values = "cancelled", {"message": "cancelled"}
    except TextlatentError as e:
        values = {"error": e.message, "message": "failed"}
    except MemoryError:
        values = {"error": "out of memory", "message": "failed"}
    except OSError as e:
        values = {"error": _os_error(e), "message": "failed"}
    except Exception as e:     # a bug, or the database refusing: record it, keep the worker alive
        if "disk is full" in str(e) or "No space left" in str(e):
            values = {"error": "no space left for the database", "message": "failed"}
        elif "disk I/O error" in str(e):      # SQLite's word for a write cut short (EFBIG, EIO)
            values = {"error": "the database could not be written: no space, or a failing disk",
                      "message": "failed"}
        else:
            log.exception("job %s failed", job_id)
            values = {"error": f"internal error ({type(e).__name__}: {str(e)[:300]}); see the worker's log",
                      "message": "failed"}
    finally:
        beat.stop()
    if status == "finished" or job["kind"] != "ingest":
        _clean_uploads(job)
    _clean_workdirs(config, job_id)
    with store.write(engine) as conn:
        store.update_job(conn, job_id, only_if_status=("running",), status=status,
                         finished=store.now(), heartbeat=store.now(), **values)


def _os_error(e):
    if e.errno == 28:
        return f"no space left on the device ({e.filename or 'writing'})"
    if e.errno == 27 or (e.errno is None and "requested and" in str(e)):
        # EFBIG, or numpy's short write: the file could not be written whole
        return f"no space: a file could not be written whole ({e.filename or e})"
    return f"{e.strerror or e}: {e.filename or ''}".rstrip(": ")


def _execute(config, job, progress):
    kind, p = job["kind"], job["params"]
    if kind == "ingest":
        from .ingest import ingest
        from .sources import ReadOptions
        from .tokenize import TokenizerSettings
        settings = TokenizerSettings.from_dict(p["tokenizer"]) if p.get("tokenizer") else None
        summary = ingest(config, job["corpus_name"], p["files"], ReadOptions(**p.get("read", {})),
                         settings, progress=progress)
        return None, summary.to_dict()
    workdir_prefix = f".tmp-job{job['id']}-"
    if kind == "lda":
        from .topics import train_lda
        return train_lda(config, job["corpus_name"], p, progress, workdir_prefix=workdir_prefix), None
    from .embeddings import train_word2vec
    return train_word2vec(config, job["corpus_name"], p, progress, workdir_prefix=workdir_prefix), None


class _Heartbeat:
    """Writes the job's progress and heartbeat every second; notices cancel and timeout.

    It is the only writer while the job runs, so ``progress`` itself never waits on
    the database. It logs nothing: the job forks processes, and a lock held at fork
    time must not be a logging lock.
    """

    def __init__(self, config, job_id, timeout):
        self.config, self.job_id, self.timeout = config, job_id, timeout
        self.state = (0, 0, "starting")
        self.cancel = threading.Event()
        self.timed_out = False
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
        engine = store.get_engine(self.config.database_url)
        while not self._stop.wait(HEARTBEAT_SECONDS):
            if self.timeout and time.monotonic() - self._started > self.timeout:
                self.timed_out = True
                self.cancel.set()
            done, total, message = self.state
            if self.cancel.is_set():
                message = "stopping: " + ("time limit reached" if self.timed_out else "cancel requested")
            try:
                with store.write(engine) as conn:
                    store.update_job(conn, self.job_id, only_if_status=("running",), done=done, total=total,
                                     message=message, heartbeat=store.now())
                    if store.get_job(conn, self.job_id)["cancel_requested"]:
                        self.cancel.set()
            except Exception:    # a busy database now and then must not stop the job
                pass


# -- noticing dead workers -------------------------------------------------------------------

def _is_stale(job):
    last = job["heartbeat"] or job["started"]
    if last is None or store.now() - last > dt.timedelta(seconds=STALE_SECONDS):
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


def reap(config, candidates=None):
    """Mark running jobs whose worker is gone as failed, and clean what they left."""
    engine = store.get_engine(config.database_url)
    if candidates is None:
        with store.read(engine) as conn:
            candidates = [j for j in store.list_jobs(conn, limit=10_000) if j["status"] == "running"]
    reaped = []
    for job in candidates:
        if not _is_stale(job):
            continue
        last = job["heartbeat"] or job["started"]
        with store.write(engine) as conn:
            if store.update_job(conn, job["id"], only_if_status=("running",), status="failed",
                                finished=store.now(), message="failed",
                                error=f"the worker {job['worker']} stopped while running this job "
                                      f"(last heartbeat {last:%Y-%m-%d %H:%M:%S} UTC); retry it"):
                reaped.append(job["id"])
        _clean_workdirs(config, job["id"])
    return reaped


def _clean_workdirs(config, job_id):
    for path in glob.glob(os.path.join(config.models_dir, f".tmp-job{job_id}-*")):
        shutil.rmtree(path, ignore_errors=True)


def _clean_uploads(job):
    folder = job["params"].get("upload_dir") if job["kind"] == "ingest" else None
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def uploads_dir(config):
    return os.path.join(config.home, "uploads")


def job_json(job):
    """The job as the API and the CLI show it."""
    def ts(value):
        return value.isoformat(timespec="seconds") + "Z" if value else None
    done, total = job["done"], job["total"]
    return {"id": job["id"], "kind": job["kind"], "corpus": job["corpus_name"], "status": job["status"],
            "progress": {"done": done, "total": total, "message": job["message"],
                         "fraction": round(min(done / total, 1.0), 4) if total else None},
            "params": {k: v for k, v in job["params"].items() if k not in ("files", "upload_dir")},
            "error": job["error"], "model_id": job["model_id"], "result": job.get("result"),
            "created": ts(job["created"]), "started": ts(job["started"]), "finished": ts(job["finished"]),
            "url": f"/api/v1/jobs/{job['id']}"}
