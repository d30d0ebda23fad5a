"""Whether a job's worker is alive: names of workers and the staleness of a heartbeat.

Shared by the runner (which reaps jobs of dead workers) and a sharded ingest (which takes
over the shards of dead ones).
"""

import datetime as dt
import os
import socket

from ..store.schema import now

STALE_SECONDS = 60          # no heartbeat for this long: the worker is gone
ALIVE_STALE_SECONDS = 600   # the same for a worker process seen alive on this host


def worker_name():
    return f"{socket.gethostname()}:{os.getpid()}"


def is_stale(job):
    """True when a running job's worker is gone: a dead process on this host, or no
    heartbeat for STALE_SECONDS (for a live process on this host, ALIVE_STALE_SECONDS:
    an SQLite write of a large ingest holds the lock that heartbeats wait for)."""
    last = job["heartbeat"] or job["started"]
    host, _, pid = (job["worker"] or "").rpartition(":")
    local = host == socket.gethostname() and pid.isdigit()
    if local and not process_alive(int(pid)):
        return True
    limit = ALIVE_STALE_SECONDS if local else STALE_SECONDS
    return last is None or now() - last > dt.timedelta(seconds=limit)


def process_alive(pid):
    """Whether process ``pid`` of this host runs (a zombie does not)."""
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
