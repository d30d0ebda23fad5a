"""An uploaded ingest as shard jobs that any worker can tokenize.

The ingest job (the coordinator) splits the upload into shards (see
:mod:`textlatent.ingest.shards`) and queues a ``tokenize`` job for each as soon as it
is stored. Every worker that takes one off the queue tokenizes it; the coordinator
takes the shards nobody has started yet itself, one at a time, so an ingest with a
single worker runs as before, and one with more finishes sooner. A shard's job is
claimed by the same guarded status change as every job (pending -> running, once), so
no shard is tokenized twice; a shard whose worker died (its job reads as failed) is
tokenized again by the coordinator. Once every shard is done the coordinator writes
the corpus, invisible until its last transaction. A cancel or a failure of the
coordinator cancels its shards and removes their files.
"""

import logging
import time
from dataclasses import dataclass, field

from ..errors import Conflict, InvalidInput
from ..ingest.pipeline import corpus_settings, valid_corpus_name
from ..ingest.shards import Commit, split, tokenize_shard
from ..store import queries as db
from ..store.schema import now
from .liveness import is_stale, worker_name
from .queue import get_queue

log = logging.getLogger(__name__)

KIND = "tokenize"
POLL_SECONDS = 0.5
BEAT_SECONDS = 1.0


@dataclass
class _Shard:
    index: int
    key: str
    documents: int
    job_id: int
    result: dict | None = None        # once tokenized and its counts merged
    row: dict = field(default_factory=dict)


def run_ingest(store, job, staged, read_options, settings, progress):
    """Ingest the upload ``staged`` of ingest job ``job`` in shards; returns its
    :class:`IngestSummary`. ``progress`` is the job's (it raises Cancelled once asked)."""
    started = time.perf_counter()
    name = valid_corpus_name(job["corpus_name"])
    _, settings, frozen_phrases = corpus_settings(store, name, settings, read_options)
    learn = settings.phrases and not frozen_phrases
    prefix = f"{staged.folder}/shards-job{job['id']}"
    expected = staged.documents or 0
    queue = get_queue(store.config)
    shards = []
    me = worker_name()

    def on_shard(index, key, documents):
        params = {"parent": job["id"], "shard": index, "input": key, "documents": documents,
                  "tokenizer": settings.to_dict(), "learn": learn}
        with store.write() as conn:
            job_id = db.insert_job(conn, KIND, name, params)
        shards.append(_Shard(index, key, documents, job_id))
        try:
            queue.run_job(job_id)
        except Exception:
            # The queue only offers the shard to other workers; this job tokenizes every
            # shard no one has started. huey's SQLite queue once answered "database is
            # locked" after 30 s on a loaded machine, and the whole ingest failed for it.
            log.warning("shard %d (job %d) could not be queued; this ingest job will tokenize it",
                        index, job_id, exc_info=True)

    commit = None
    try:
        with staged.local_paths(store) as paths:
            summary, keys = split(store, name, paths, read_options, prefix, on_shard,
                                  store.config.shard_documents, progress, expected)
        marks = [time.perf_counter()]
        commit = Commit(store, name, settings, learn, summary, progress)
        _tokenize_all(store, shards, commit, me, progress)
        marks.append(time.perf_counter())
        summary.empty += sum(s.result["empty"] for s in shards)

        def last_transaction(conn):
            # The job is finished in the transaction that makes the corpus visible, or not at all.
            summary.seconds = round(time.perf_counter() - started, 3)
            summary.shards = len(shards)
            store.committing(conn, result=summary.to_dict())
        commit.write(keys, last_transaction)
        marks.append(time.perf_counter())
    except BaseException:
        if commit is not None:
            commit.abandon()
        raise
    finally:
        _stop_shards(store, shards, me)
        store.files.remove(prefix)
    log.info("ingest %s in %d shards: read and split in %.1f s, tokenized in %.1f s, then written in %.1f s",
             name, len(shards), marks[0] - started, marks[1] - marks[0], marks[2] - marks[1])
    return summary


def _tokenize_all(store, shards, commit, me, progress):
    """Until every shard is tokenized and merged: merge those finished elsewhere and add
    the documents of those tokenized in order, take the next pending one here, or wait;
    progress is the sum over the shards."""
    total = sum(s.documents for s in shards)
    added = 0                   # shards whose documents are in (a prefix of the shards)
    while True:
        with store.read() as conn:
            rows = db.get_jobs(conn, [s.job_id for s in shards])
        waiting = []
        for s in shards:
            s.row = rows[s.job_id]
            if s.result is not None:
                continue
            status = s.row["status"]
            if status == "finished":
                commit.add_counts(s.key)
                s.result = s.row["result"]
            elif status in ("failed", "cancelled") or (status == "running" and is_stale(s.row)):
                # Its worker died, or it was cancelled on its own: tokenize it here.
                log.warning("shard %d (job %d) %s on %s; tokenizing it here", s.index, s.job_id, status,
                            s.row["worker"])
                _run_here(store, s, commit, me, progress, shards, total, claim=False)
            else:
                waiting.append(s)
        while added < len(shards) and shards[added].result is not None:
            commit.add_texts(shards[added].key)
            added += 1
        if not waiting:
            return
        for s in waiting:
            if s.row["status"] == "pending" and _run_here(store, s, commit, me, progress, shards, total):
                break
        else:
            commit.keep_alive()
            progress(_done(shards), total, _message(shards, total))
            time.sleep(POLL_SECONDS)


def _done(shards):
    return sum(s.documents if s.result is not None else min(s.row.get("done") or 0, s.documents)
               for s in shards)


def _message(shards, total):
    elsewhere = sum(1 for s in shards if s.result is None and s.row.get("status") == "running")
    finished = sum(1 for s in shards if s.result is not None)
    return (f"tokenizing: {_done(shards):,} of {total:,} documents; {finished} of {len(shards)} shards done"
            + (f", {elsewhere} running" if elsewhere else ""))


def _run_here(store, shard, commit, me, progress, shards, total, claim=True):
    """Tokenize ``shard`` in this process (its job claimed first, unless ``claim`` is False:
    a shard whose own job failed). Returns False when another worker claimed it first."""
    if claim:
        with store.write() as conn:
            if not db.update_job(conn, shard.job_id, only_if_status=("pending",), status="running", worker=me,
                                 started=now(), heartbeat=now(), message="tokenizing (in the ingest job)"):
                return False
    base = _done(shards) - min(shard.row.get("done") or 0, shard.documents)
    beat = [0.0]

    def shard_progress(done, shard_total, message):
        t = time.monotonic()
        if claim and t - beat[0] >= BEAT_SECONDS:
            beat[0] = t
            with store.write() as conn:
                db.update_job(conn, shard.job_id, only_if_status=("running",), only_if_worker=me, done=done,
                              total=shard_total, message=message, heartbeat=now())
        commit.keep_alive()
        progress(base + min(done, shard.documents), total,
                 f"tokenizing shard {shard.index + 1} of {len(shards)} here: {message}")

    p = shard.row.get("params") or {}
    result = tokenize_shard(store, shard.key, p.get("tokenizer"), p.get("learn"), progress=shard_progress)
    if claim:
        with store.write() as conn:
            db.update_job(conn, shard.job_id, only_if_status=("running",), only_if_worker=me, status="finished",
                          finished=now(), heartbeat=now(), done=shard.documents, total=shard.documents,
                          message="finished (in the ingest job)", result=result)
    commit.add_counts(shard.key)
    shard.result = result
    return True


def _stop_shards(store, shards, me):
    """Cancel the shards' jobs that have not ended: pending ones and those running here at
    once, those running elsewhere at their next progress call."""
    if not shards:
        return
    try:
        with store.write() as conn:
            for s in shards:
                if db.update_job(conn, s.job_id, only_if_status=("pending",), status="cancelled",
                                 finished=now(), message="cancelled: its ingest ended"):
                    continue
                if not db.update_job(conn, s.job_id, only_if_status=("running",), only_if_worker=me,
                                     status="cancelled", finished=now(), message="cancelled: its ingest ended"):
                    db.update_job(conn, s.job_id, only_if_status=("running",), cancel_requested=True,
                                  message="cancelling: its ingest ended")
    except Exception:       # they will fail on their own, their files being gone
        log.warning("could not cancel the shard jobs of an ended ingest", exc_info=True)


# -- the job kind ----------------------------------------------------------------------------

def validate_tokenize(store, corpus_name, params):
    parent = (params or {}).get("parent")
    raise InvalidInput("tokenize jobs are made by ingest jobs, one per shard of an upload"
                       + (f"; retry ingest job {parent} instead" if parent else ""))


def run_tokenize(store, job, progress):
    p = job["params"]
    with store.read() as conn:
        parent = db.get_job(conn, p["parent"])
    if parent["status"] != "running":
        raise Conflict(f"its ingest job {parent['id']} has {parent['status']}")
    return None, tokenize_shard(store, p["input"], p["tokenizer"], p["learn"], progress=progress)
