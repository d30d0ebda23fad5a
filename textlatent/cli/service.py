"""Commands that run the service: serve, worker, jobs, settings, demo."""

import os
import sys

import click

from ..settings import SETTINGS
from .base import Bar, cli, config_of, emit, store_of


def _serve(config, host, port, threads, worker):
    """Run waitress in this process and, unless ``worker`` is False, a job worker
    process beside it (its own process: training never slows the pages down), restarted
    when it ends."""
    import signal

    import waitress

    from web import create_app

    from ..ingest.uploads import clean_orphans
    from ..jobs.worker import start_reaper
    from ..explore.lasting import settle
    from ..store import Store

    app = create_app(config, trusted_hosts=_trusted_hosts(host))
    store = Store(config)
    removed = clean_orphans(store)
    if removed:
        click.echo(f"removed {removed} upload folder(s) that no job names (a server stopped while staging)")
    # Jobs of workers that died read as failed at once; this writes them so (and cleans up).
    start_reaper(store)
    settle()          # the modules just imported: out of the collector's full sweeps from now on

    # SIGTERM (a service manager, a test) stops like Ctrl-C, so the worker is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    supervisor = WorkerSupervisor(config) if worker else None
    if supervisor:
        supervisor.start()
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"textlatent serving on http://{shown}:{port}/  (Ctrl-C to stop)")
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="textlatent")
    finally:
        if supervisor:
            supervisor.stop()


class WorkerSupervisor:
    """``textlatent worker`` beside serve, started again when it ends (after 1 s, doubling
    up to a minute while it keeps ending within a minute), each restart said on stderr.
    The worker stops when serve ends, even by SIGKILL (TEXTLATENT_PARENT_PID)."""

    def __init__(self, config):
        import threading
        self.env = dict(os.environ, TEXTLATENT_HOME=config.home, TEXTLATENT_DATABASE_URL=config.database_url,
                        TEXTLATENT_PARENT_PID=str(os.getpid()))
        for name in ("queue_url", "storage_url"):
            if getattr(config, name):
                self.env["TEXTLATENT_" + name.upper()] = getattr(config, name)
        self.proc = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="worker-supervisor", daemon=True)

    def start(self):
        self._thread.start()

    def _run(self):
        import subprocess
        import time
        delay = 1.0
        while not self._stopping.is_set():
            started = time.monotonic()
            self.proc = subprocess.Popen([sys.executable, "-m", "textlatent.cli", "worker"], env=self.env)
            code = self.proc.wait()
            if self._stopping.is_set():
                return
            delay = 1.0 if time.monotonic() - started > 60 else min(delay * 2, 60.0)
            click.echo(f"textlatent: the job worker (pid {self.proc.pid}) ended with status {code}; "
                       f"starting another in {delay:g} s", err=True)
            self._stopping.wait(delay)

    def stop(self):
        import subprocess
        self._stopping.set()
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _trusted_hosts(host):
    """Bound to loopback, answer only to loopback names (no DNS rebinding)."""
    if host in ("127.0.0.1", "localhost", "::1"):
        return ["127.0.0.1", "localhost", "[::1]"]
    return None


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--no-worker", is_flag=True, help="Do not start a job worker beside the server.")
@click.pass_context
def serve(ctx, host, port, threads, no_worker):
    """Serve the web pages and JSON API with waitress (a production WSGI server),
    with a job worker process beside it.

    \b
    Example:
        textlatent serve --port 5000
    """
    _serve(config_of(ctx), host, port, threads, not no_worker)


@cli.command()
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 16),
              help="Jobs run at the same time (each uses the workers setting's cores).")
@click.pass_context
def worker(ctx, concurrency):
    """Run queued jobs (ingest, training) until stopped; first marks the jobs of
    workers that died as failed.

    \b
    Example:
        TEXTLATENT_QUEUE_URL=redis://127.0.0.1:6379/0 textlatent worker
    """
    from ..jobs.worker import run_worker
    run_worker(config_of(ctx), concurrency)


@cli.command()
@click.option("--corpus", "-c", "name", help="Only this corpus's jobs.")
@click.option("--cancel", "cancel_id", type=int, help="Cancel this job.")
@click.option("--retry", "retry_id", type=int, help="Queue this failed or cancelled job again.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def jobs(ctx, name, cancel_id, retry_id, as_json):
    """List background jobs with their status and progress; cancel or retry one.

    \b
    Example:
        textlatent jobs --corpus news
    """
    from .. import jobs as lib
    store = store_of(ctx)
    if cancel_id is not None:
        rows = [lib.cancel(store, cancel_id)]
    elif retry_id is not None:
        rows = [lib.retry(store, retry_id)]
    else:
        rows = lib.list_jobs(store, name)
    data = [lib.job_json(j) for j in rows]
    emit(data, as_json, lambda d: click.echo("\n".join(
        f"{j['id']:>5}  {j['kind']:<9} {j['corpus']:<20} {j['status']:<10} {j['progress']['message']}"
        + (f"  model {j['model_id']}" if j["model_id"] else "") + (f"  error: {j['error']}" if j["error"] else "")
        for j in d) or "no jobs"))


@cli.command("settings")
def settings_cmd():
    """Print every setting with its environment variable, default and meaning."""
    for s in SETTINGS:
        click.echo(f"TEXTLATENT_{s.name.upper()}  (default: {s.default if s.default is not None else 'see below'})\n"
                   f"    {s.help}")


@cli.command()
@click.argument("source", required=False)
@click.option("--corpus", "name", default="sample", show_default=True)
@click.option("--serve/--no-serve", "serve_after", default=True, show_default=True,
              help="Serve the web app (with a job worker) when done.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--quiet", "-q", is_flag=True)
@click.pass_context
def demo(ctx, source, name, serve_after, port, quiet):
    """Ingest the bundled sample corpus (default corpora/sample), train LDA and Word2Vec,
    show topics and similar words, then serve the web app on 127.0.0.1."""
    from ..demo import run_demo
    run_demo(store_of(ctx), name, source, echo=click.echo, progress=Bar(quiet))
    if serve_after:
        click.echo(f"\nBrowse the topics at http://127.0.0.1:{port}/corpora/{name}")
        _serve(config_of(ctx), "127.0.0.1", port, 4, True)
