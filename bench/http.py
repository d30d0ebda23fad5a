"""A `textlatent serve` of the benchmark's own on 127.0.0.1, and a small HTTP client."""

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid

from .common import ROOT


class Server:
    def __init__(self, home, worker=True, threads=4):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = dict(os.environ, TEXTLATENT_HOME=home, OPENBLAS_NUM_THREADS="1")
        env.pop("TEXTLATENT_DATABASE_URL", None)
        cmd = [sys.executable, "-m", "textlatent.cli", "serve", "--port", str(self.port), "--threads", str(threads)]
        if not worker:
            cmd.append("--no-worker")
        os.makedirs(home, exist_ok=True)
        self.log = open(os.path.join(home, "serve.log"), "ab")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.get("/api/v1/corpora")
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("textlatent serve did not start")
                time.sleep(0.2)

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)

    def get(self, path, conn=None):
        c = conn or self.conn()
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        if conn is None:
            c.close()
        return r.status, body

    def post_json(self, path, data):
        c = self.conn()
        c.request("POST", path, body=json.dumps(data), headers={"Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, json.loads(r.read())

    def upload(self, path, fields):
        """Multipart POST /api/v1/corpora, the file streamed from disk."""
        boundary = uuid.uuid4().hex
        head = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                        for k, v in fields.items())
        head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{os.path.basename(path)}"\r\nContent-Type: application/octet-stream\r\n\r\n').encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        size = len(head) + os.path.getsize(path) + len(tail)
        c = self.conn()
        c.putrequest("POST", "/api/v1/corpora")
        c.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        c.putheader("Content-Length", str(size))
        c.endheaders()
        c.send(head)
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                c.send(chunk)
        c.send(tail)
        r = c.getresponse()
        return r.status, json.loads(r.read())

    def wait_job(self, job, timeout=1800):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, body = self.get(job["url"])
            job = json.loads(body)
            if job["status"] in ("finished", "failed", "cancelled"):
                return job
            time.sleep(0.25)
        raise RuntimeError(f"job {job['id']} did not end")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
        self.log.close()


def latencies(server, paths):
    """One keep-alive connection, requests in turn: seconds per request."""
    c = server.conn()
    out = []
    for p in paths:
        t = time.perf_counter()
        status, _ = server.get(p, c)
        out.append(time.perf_counter() - t)
        assert status == 200, (status, p)
    c.close()
    return out


def throughput(server, paths, clients=8, seconds=5.0):
    """Requests per second from ``clients`` threads, each on its own keep-alive connection."""
    stop = time.monotonic() + seconds
    counts = [0] * clients

    def run(i):
        c = server.conn()
        k = i
        while time.monotonic() < stop:
            server.get(paths[k % len(paths)], c)
            counts[i] += 1
            k += clients
        c.close()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return sum(counts) / (time.perf_counter() - t)


def wrk(server, paths, connections=8, seconds=10, threads=1):
    """``wrk`` (if installed: bench/setup.sh) cycling through ``paths``: requests/s and
    latency percentiles in ms; None without wrk."""
    import re
    import shutil
    import tempfile
    if not shutil.which("wrk"):
        return None
    lua = "local paths = {" + ", ".join(json.dumps(p) for p in paths) + "}\n" + (
        "local i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(\"GET\", paths[i])\nend\n")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua)
    try:
        out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", fh.name,
                              f"http://127.0.0.1:{server.port}"], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(fh.name)
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    pct = {m.group(1): float(m.group(2)) * units[m.group(3)]
           for m in re.finditer(r"^\s+(50|90|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": pct.get("50"), "p90_ms": pct.get("90"), "p99_ms": pct.get("99"),
            "non_2xx": int(errors.group(1)) if errors else 0, "connections": connections, "seconds": seconds}
