"""Background jobs: ingest, training and what comes after run in a worker, never in a request.

Submitting side here (validate, record, queue; read; cancel; retry); the worker's side in
:mod:`.runner`, the kinds of job in :mod:`.kinds`, the queue in :mod:`.queue`.
"""

from ..errors import Conflict
from ..ingest import uploads
from ..store import queries as db
from ..store.schema import now
from .kinds import KINDS, MODEL_KINDS, JobKind, job_kind
from .queue import get_queue
from .runner import as_seen, reap, run_job, with_notice

ACTIVE = ("pending", "running")
SHARD_KINDS = tuple(name for name, k in KINDS.items() if k.produces == "shard")     # left out of listings
ENDED = ("finished", "failed", "cancelled")

__all__ = ["ACTIVE", "ENDED", "KINDS", "MODEL_KINDS", "JobKind", "active_jobs", "cancel", "delete_corpus", "get",
           "job_json", "list_jobs", "reap", "retry", "run_job", "submit", "submit_upload", "submit_views"]


def submit(store, kind, corpus_name, params=None, queue=None):
    """Validate, record and queue a job of ``kind`` (see :data:`KINDS`); returns its row."""
    corpus_name, params = job_kind(kind).validate(store, corpus_name, params or {})
    with store.write() as conn:
        job_id = db.insert_job(conn, kind, corpus_name, params)
    (queue or get_queue(store.config)).run_job(job_id)
    return get(store, job_id)


def submit_views(store, corpus_name, model_id, queue=None):
    """Queue the preparation of an older model's stored views, unless one is already queued."""
    for job in active_jobs(store, corpus_name):
        if job["kind"] == "views" and job["params"].get("model_id") == model_id:
            return job
    return submit(store, "views", corpus_name, {"model_id": model_id}, queue)


def submit_upload(store, corpus_name, files, options=None, queue=None):
    """Stage uploaded ``files`` (pairs of a file name and a binary stream), check that they
    read, and queue their ingest into ``corpus_name``; returns the job."""
    staged = uploads.stage(store, corpus_name, files, options)
    try:
        return submit(store, "ingest", corpus_name, staged.to_params(), queue)
    except BaseException:
        staged.discard(store)
        raise


def get(store, job_id):
    """The job (a running one whose worker died reads as failed, see :func:`runner.as_seen`;
    a pending one says so when no worker is running)."""
    with store.read() as conn:
        return with_notice(conn, [as_seen(db.get_job(conn, job_id))])[0]


def list_jobs(store, corpus_name=None, limit=50, shards=False):
    """Jobs, newest first (as :func:`get` shows them); the tokenize jobs of sharded ingests
    only with ``shards`` (an upload of a million documents makes a hundred: their ingest
    job's progress sums them)."""
    exclude = () if shards else SHARD_KINDS
    with store.read() as conn:
        return with_notice(conn, [as_seen(j) for j in db.list_jobs(conn, corpus_name, limit, exclude)])


def cancel(store, job_id):
    """Cancel a job: a pending one at once, a running one within about a second
    of its next progress call (an LDA chunk, a Word2Vec epoch, an ingest batch)."""
    reap(store, [get_row(store, job_id)])
    with store.write() as conn:
        job = db.get_job(conn, job_id)
        if job["status"] in ENDED:
            raise Conflict(f"job {job['id']} has already {job['status']}")
        if not db.update_job(conn, job["id"], only_if_status=("pending",), status="cancelled",
                             finished=now(), message="cancelled before it started"):
            db.update_job(conn, job["id"], only_if_status=("running",), cancel_requested=True,
                          message="cancelling")
    return get(store, job_id)


def retry(store, job_id, queue=None):
    """Queue a new job with the same kind, corpus and parameters as an ended one."""
    reap(store, [get_row(store, job_id)])
    job = get(store, job_id)
    if job["status"] not in ("failed", "cancelled"):
        raise Conflict(f"only failed or cancelled jobs can be retried; job {job['id']} is {job['status']}")
    return submit(store, job["kind"], job["corpus_name"], job["params"], queue)


def get_row(store, job_id):
    """The job's row as stored (no reading of a dead worker's job as failed)."""
    with store.read() as conn:
        return db.get_job(conn, job_id)


def active_jobs(store, corpus_name):
    return [j for j in list_jobs(store, corpus_name, limit=1000, shards=True) if j["status"] in ACTIVE]


def delete_corpus(store, name, force=False, wait=30.0):
    """Delete a corpus unless jobs of it are pending or running (Conflict); with ``force``,
    cancel them first and wait up to ``wait`` seconds for them to end (a running ingest
    would otherwise re-create what was deleted)."""
    import time

    from ..ingest import delete_corpus as run_delete
    active = active_jobs(store, name)
    if active and not force:
        raise Conflict(f"corpus {name!r} has {len(active)} job(s) pending or running "
                       f"({', '.join(str(j['id']) for j in active)}); cancel them first, or use --force")
    for job in active:
        try:
            cancel(store, job["id"])
        except Conflict:              # it ended meanwhile
            pass
    deadline = time.monotonic() + wait
    while active_jobs(store, name):
        if time.monotonic() > deadline:
            raise Conflict(f"the jobs of corpus {name!r} were asked to stop but are still running; "
                           "is their worker stuck? Try again")
        time.sleep(0.2)
    run_delete(store, name)


def job_json(job):
    """The job as the API and the CLI show it; ``elapsed_seconds`` is its running time so
    far (to its end once ended; None before it starts)."""
    def ts(value):
        return value.isoformat(timespec="seconds") + "Z" if value else None
    done, total = job["done"], job["total"]
    started, finished = job["started"], job["finished"]
    elapsed = ((finished or now()) - started).total_seconds() if started else None
    return {"id": job["id"], "kind": job["kind"], "corpus": job["corpus_name"], "status": job["status"],
            "progress": {"done": done, "total": total, "message": job["message"],
                         "fraction": round(min(done / total, 1.0), 4) if total else None},
            "params": {k: v for k, v in job["params"].items() if k not in ("files", "upload_dir")},
            "error": job["error"], "model_id": job["model_id"], "result": job.get("result"),
            "created": ts(job["created"]), "started": ts(started), "finished": ts(finished),
            "elapsed_seconds": None if elapsed is None else round(max(0.0, elapsed), 1),
            "url": f"/api/v1/jobs/{job['id']}"}
