"""Sharded ingest: one upload's ingest job with one worker pinned to one core, against two
workers each pinned to a core of its own (``taskset``), the same data, alternating.

Each worker runs with TEXTLATENT_WORKERS=1 (one tokenizer process: its own core) and takes
shards off an SQLite queue; the time is the ingest job's, from its start to its end as its
row records them (the upload's staging and check, the same for both, excluded).
"""

import json
import os
import shutil
import subprocess
import sys
import time

from .common import WORK, median
from .scale import news_copies

TARGET = 1.7


def _run_job(src, home, n_workers, shard_documents, timeout=3600):
    """Ingest ``src`` as an upload with ``n_workers`` workers; returns the job's figures."""
    from textlatent import jobs
    from textlatent.settings import load_settings
    from textlatent.store import Store
    if os.path.exists(home):
        shutil.rmtree(home)
    env = dict(os.environ, TEXTLATENT_HOME=home, TEXTLATENT_WORKERS="1", TEXTLATENT_MAP_METHOD="none",
               TEXTLATENT_SHARD_DOCUMENTS=str(shard_documents))
    for name in ("TEXTLATENT_DATABASE_URL", "TEXTLATENT_QUEUE_URL", "TEXTLATENT_STORAGE_URL"):
        env.pop(name, None)
    store = Store(load_settings(home=home, workers=1, map_method="none", shard_documents=shard_documents))
    exe = os.path.join(os.path.dirname(sys.executable), "textlatent")
    os.makedirs(home, exist_ok=True)
    logs = [open(os.path.join(home, f"worker{i}.log"), "wb") for i in range(n_workers)]
    procs = [subprocess.Popen(["taskset", "-c", str(i), exe, "worker"], env=env, stdout=logs[i],
                              stderr=subprocess.STDOUT) for i in range(n_workers)]
    try:
        time.sleep(5)                      # the workers start (and build their tokenizers)
        with open(src, "rb") as fh:
            job = jobs.submit_upload(store, "news", [(os.path.basename(src), fh)], {"label_field": "label"})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = jobs.get(store, job["id"])
            if job["status"] in jobs.ENDED:
                break
            time.sleep(0.2)
        if job["status"] != "finished":
            raise RuntimeError(f"ingest job {job['status']}: {job['error']}")
        shards = [j for j in jobs.list_jobs(store, "news", limit=1000, shards=True) if j["kind"] == "tokenize"]
        return {"seconds": round((job["finished"] - job["started"]).total_seconds(), 2),
                "documents": job["result"]["documents"], "tokens": job["result"]["tokens"],
                "shards": len(shards),
                "shards_by_other_workers": sum(1 for j in shards if j["message"] != "finished (in the ingest job)")}
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        for fh in logs:
            fh.close()
        from textlatent.store import schema
        schema.forget_engines()


def bench_shards(run):
    copies = 1 if run.quick else 4
    src = run.news if copies == 1 else news_copies(str(WORK / f"news-x{copies}-dated.jsonl"), copies)
    shard_documents = 2_000 if run.quick else 10_000
    runs = {"1": [], "2": []}
    for rep in range(run.reps):
        for n in (1, 2):
            # A folder of its own each time: a process keeps its queue of a data directory
            # open, and a queue file removed and made again under the same name is not it.
            runs[str(n)].append(_run_job(src, str(WORK / f"shards-{n}-{rep}"), n, shard_documents))
    one = median([r["seconds"] for r in runs["1"]])
    two = median([r["seconds"] for r in runs["2"]])
    docs = runs["1"][0]["documents"]
    out = {"conditions": f"{os.path.basename(src)} ({docs:,} documents, {runs['1'][0]['tokens']:,} tokens) uploaded "
                         f"and ingested as one job in shards of {shard_documents:,} documents, by 1 worker pinned "
                         "to core 0 against 2 workers pinned to cores 0 and 1 (taskset), each with one tokenizer "
                         f"process, SQLite; {run.reps} repetitions alternating; the job's own seconds",
           "one_worker_seconds": one, "two_workers_seconds": two,
           "speedup": round(one / two, 3) if two else None,
           "one_worker_runs_seconds": [r["seconds"] for r in runs["1"]],
           "two_workers_runs_seconds": [r["seconds"] for r in runs["2"]],
           "speedup_per_repetition": [round(a["seconds"] / b["seconds"], 3) for a, b in zip(runs["1"], runs["2"])],
           "shards_taken_by_the_second_worker": [r["shards_by_other_workers"] for r in runs["2"]], "runs": runs}
    out["targets"] = {f"two workers >= {TARGET}x faster than one": bool(two) and one / two >= TARGET}
    return out


if __name__ == "__main__":       # python -m bench.shards SRC WORKERS SHARD_DOCUMENTS: one run
    print(json.dumps(_run_job(sys.argv[1], str(WORK / "shards-one"), int(sys.argv[2]), int(sys.argv[3]))))
