"""Jobs: listing, one job's progress, cancel and retry (JSON; the pages poll these)."""

from flask import Blueprint, jsonify, request

from textlatent import jobs
from textlatent.errors import InvalidInput

from .db import get_store
from .responses import accepted

bp = Blueprint("jobs", __name__)


def _shards():
    """``?shards=true`` lists the tokenize jobs of sharded ingests too."""
    value = request.args.get("shards", "false").strip().lower()
    if value not in ("true", "false", "1", "0"):
        raise InvalidInput(f"shards is true or false, not {value[:50]!r}")
    return value in ("true", "1")


@bp.get("/api/v1/jobs")
def all_jobs():
    return jsonify([jobs.job_json(j) for j in jobs.list_jobs(get_store(), request.args.get("corpus"),
                                                             shards=_shards())])


@bp.get("/api/v1/corpora/<name>/jobs")
def corpus_jobs(name):
    return jsonify([jobs.job_json(j) for j in jobs.list_jobs(get_store(), name, shards=_shards())])


@bp.get("/api/v1/jobs/<job_id>")
def job(job_id):
    return jsonify(jobs.job_json(jobs.get(get_store(), job_id)))


@bp.post("/api/v1/jobs/<job_id>/cancel")
def cancel_job(job_id):
    return jsonify(jobs.job_json(jobs.cancel(get_store(), job_id)))


@bp.post("/api/v1/jobs/<job_id>/retry")
def retry_job(job_id):
    return accepted(jobs.retry(get_store(), job_id))
