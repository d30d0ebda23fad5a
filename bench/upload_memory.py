"""``python -m bench.upload_memory [--mb 190]``: the web process's peak memory (VmHWM)
while it takes one large .txt upload, beside the peak after a small one, and the two
ways of checking that file measured alone in fresh processes: reading it whole (how
uploads were checked before) and a MiB at a time (now). Writes
bench/results/upload_memory.json."""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from .common import ROOT, save


def _hwm_mb(pid):
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _upload(base, name, path):
    """A multipart POST streamed from the file (the client must not be what holds it)."""
    boundary = "x" + os.urandom(8).hex()
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n{name}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = len(head) + os.path.getsize(path) + len(tail)

    def body():
        yield head
        with open(path, "rb") as fh:
            while chunk := fh.read(1024 * 1024):
                yield chunk
        yield tail
    req = urllib.request.Request(base + "/api/v1/corpora", data=body(), method="POST", headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(size)})
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=600) as r:
        return r.status, round(time.perf_counter() - t, 2)


_CHECK = """
import json, sys
from textlatent.ingest.sources import ReadOptions, iter_sources
from textlatent.ingest.uploads import count_documents
if sys.argv[1] == "whole":
    n = sum(1 for r in iter_sources([sys.argv[2]], ReadOptions()) if r["text"].strip())
else:
    n = count_documents([sys.argv[2]], ReadOptions(), "x")
print(json.dumps({"documents": n, "peak_mb": round(int(next(l for l in open("/proc/self/status")
      if l.startswith("VmHWM:")).split()[1]) / 1024, 1)}))
"""


def _check_alone(how, path):
    out = subprocess.run([sys.executable, "-c", _CHECK, how, path], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=190)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        big, small = os.path.join(tmp, "big.txt"), os.path.join(tmp, "small.txt")
        line = ("The shuttle reached orbit and the crew began the experiments planned for the flight. " * 10
                + "\n").encode()
        with open(big, "wb") as fh:
            for _ in range(args.mb * 1024 * 1024 // len(line)):
                fh.write(line)
        with open(small, "wb") as fh:
            fh.write(line * 10)
        port = _free_port()
        env = dict(os.environ, TEXTLATENT_HOME=os.path.join(tmp, "home"), TEXTLATENT_MAX_UPLOAD_MB=str(args.mb + 50))
        env.pop("TEXTLATENT_DATABASE_URL", None)
        proc = subprocess.Popen([sys.executable, "-m", "textlatent.cli", "serve", "--no-worker", "--port", str(port)],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(base + "/api/v1/corpora", timeout=2)
                    break
                except OSError:
                    time.sleep(0.2)
            started = _hwm_mb(proc.pid)
            small_status, _ = _upload(base, "small", small)
            after_small = _hwm_mb(proc.pid)
            big_status, seconds = _upload(base, "big", big)
            after_big = _hwm_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        result = {"upload_mb": args.mb, "statuses": [small_status, big_status], "upload_seconds": seconds,
                  "web_peak_mb": {"started": round(started, 1), "after_small_upload": round(after_small, 1),
                                  "after_large_upload": round(after_big, 1)},
                  "check_alone_peak_mb": {"whole_file_read (before)": _check_alone("whole", big)["peak_mb"],
                                          "a_mib_at_a_time (now)": _check_alone("stream", big)["peak_mb"]}}
    print(json.dumps(save("upload_memory", result), indent=2))


if __name__ == "__main__":
    main()
