"""Child processes, statistics, machine facts, results files."""

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TEXTLATENT_SHARED_CORPORA", ROOT.parent / "shared" / "corpora"))
WORK = Path(os.environ.get("TEXTLATENT_BENCH_WORK", ROOT / "bench" / ".work"))
RESULTS = ROOT / "bench" / "results"
NEWS = SHARED / "20newsgroups" / "20news-bydate.jsonl"
GUTENBERG = SHARED / "gutenberg8" / "gutenberg8"
WORD_BENCH = SHARED / "word_benchmarks"


def child(task, _module="bench.child", **args):
    """Run TASK of ``_module`` (``bench.child``) in a fresh process; returns its JSON answer."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS=os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    proc = subprocess.run([sys.executable, "-m", _module, task, json.dumps(args)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"bench task {task} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def median(values):
    return round(statistics.median(values), 4) if values else None


def percentile(values, p):
    values = sorted(values)
    if not values:
        return None
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def machine():
    mem = None
    try:
        with open("/proc/meminfo") as fh:
            mem = round(int(fh.readline().split()[1]) / 1024**2, 1)
    except OSError:
        pass
    import gensim
    import numpy
    import spacy
    return {"cores": os.cpu_count(), "memory_gib": mem, "python": platform.python_version(),
            "gensim": gensim.__version__, "spacy": spacy.__version__, "numpy": numpy.__version__,
            "date": dt.date.today().isoformat()}


def load_runs(path, empty):
    """The results kept at ``path`` (a runs file several benchmarks add to), or ``empty``."""
    return json.loads(path.read_text()) if path.exists() else empty


def keep_runs(path, results):
    """Write ``results`` to ``path`` whole or not at all: kept after every run, so that an
    interrupted benchmark carries on from there."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n")
    tmp.replace(path)


def save(name, result):
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {"name": name, "machine": machine(), **result}
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
