"""Progress as log lines, for the logs of workers and of commands no terminal shows.

A :class:`ProgressLog` is a ``progress(done, total, message)`` callable, like those every
long library call takes: it keeps the latest state and, from a thread of its own, writes
one line when work starts and when a new phase starts (at most one a second), then at
least every ``every`` seconds, and one when it stops, with the rate and an estimate of the
time left::

    2026-12-01 10:02:13 progress job 7 (lda news): LDA pass 2 of 10: 6,000 of 18,846 documents [24,846/188,460, 13%, 1,402/s, ETA 1 min 57 s]

Lines are written with one ``os.write`` to standard error, not through ``logging``: jobs
fork tokenizer and LDA processes while this thread runs, and a lock a forked child
inherits held (a logging handler's, a buffered stream's) would hang it.
"""

import os
import sys
import threading
import time

EVERY_SECONDS = 10.0
PHASE_GAP_SECONDS = 1.0        # a phase's first line waits this long after the last line


def _duration(seconds):
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _stderr(line):
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):     # a captured stream: no descriptor
        sys.stderr.write(line)
        return
    os.write(fd, line.encode("utf-8", "replace"))


class ProgressLog:
    """``progress(done, total, message)`` that logs as described in the module docstring and
    hands each call on to ``forward`` (which may raise, e.g. Cancelled). Use it as a context
    manager, or call :meth:`start` and :meth:`stop`."""

    def __init__(self, name, forward=None, every=EVERY_SECONDS, write=_stderr, clock=time.monotonic):
        self.name, self.forward, self.every, self.write, self.clock = name, forward, every, write, clock
        self.state = None                  # (done, total, message)
        self._phase = None                 # (total, done at its start, time at its start)
        self._written = float("-inf")      # when the last line was written
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"progress-{name}", daemon=True)

    def __call__(self, done, total, message):
        now = self.clock()
        with self._lock:
            last = self.state
            # A new phase (another total, or a count that starts again) restarts the rate.
            new_phase = self._phase is None or total != self._phase[0] or (last and done < last[0])
            if new_phase:
                self._phase = (total, done, now)
            self.state = (done, total, message)
        # A phase's start is logged at once (from the caller's thread): a phase shorter than
        # the thread's interval would otherwise leave no line at all.
        if new_phase and now - self._written >= PHASE_GAP_SECONDS:
            self._emit()
        if self.forward is not None:
            self.forward(done, total, message)

    def line(self):
        """The line for the current state, or None before the first call."""
        with self._lock:
            if self.state is None:
                return None
            (done, total, message), (_, start_done, start_time) = self.state, self._phase
        figures = [f"{done:,}/{total:,}" if total else f"{done:,}"]
        if total:
            figures.append(f"{min(done / total, 1):.0%}")
        elapsed = self.clock() - start_time
        rate = (done - start_done) / elapsed if elapsed > 0 else 0
        if rate > 0:
            figures.append(f"{rate:,.1f}/s" if rate < 10 else f"{rate:,.0f}/s")
            if total and done < total:
                figures.append(f"ETA {_duration((total - done) / rate)}")
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        return f"{stamp} progress {self.name}: {message} [{', '.join(figures)}]\n"

    def _emit(self):
        text = self.line()
        if text is not None:
            self._written = self.clock()
            self.write(text)

    def _run(self):
        # A line whenever `every` seconds have passed since the last one.
        while not self._stop.wait(min(0.2, self.every)):
            if self.state is not None and self.clock() - self._written >= self.every:
                self._emit()

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join(timeout=5)
            self._emit()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
