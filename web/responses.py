"""The JSON shapes the API answers with, shared by the blueprints."""

from flask import jsonify, request

from textlatent import jobs
from textlatent.errors import InvalidInput, TooLarge


def model_json(m):
    return {"id": m["id"], "kind": m["kind"], "params": m["params"], "seed": m["seed"],
            "fingerprint": m["fingerprint"], "versions": m["versions"], "train_seconds": m["train_seconds"],
            "metrics": m["metrics"], "labels": m.get("labels") or {},
            "created": m["created"].isoformat(timespec="seconds") + "Z",
            "url": f"/api/v1/models/{m['id']}"}


def corpus_summary(c):
    return {"name": c["name"], "documents": c["n_docs"], "tokens": c["n_tokens"],
            "vocabulary": c["n_terms"], "url": f"/api/v1/corpora/{c['name']}"}


def accepted(job):
    """202 with the job, its URL in ``Location``."""
    resp = jsonify(jobs.job_json(job))
    resp.status_code = 202
    resp.headers["Location"] = f"/api/v1/jobs/{job['id']}"
    return resp


MAX_JSON_BYTES = 4 * 1024 * 1024     # a JSON body (infer's text, labels); uploads have their own limit


def json_body(shape):
    """The request's JSON object, or InvalidInput saying what to send (TooLarge past 4 MiB)."""
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise TooLarge(f"a JSON body has at most {MAX_JSON_BYTES // 1024**2} MiB")
    request.max_content_length = MAX_JSON_BYTES      # a chunked body too stops reading there
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput(f"send JSON {shape} with Content-Type: application/json")
    return body
