"""Processes of the job machinery: children that die with their parent, a parent that
is watched, and the progress a job's process shares with the worker that watches it.

A job runs in a process of its own (see :mod:`.runner`): its work may hold the GIL as
long as it likes (a regular expression, a JSON decode, spaCy), the worker's heartbeat
runs elsewhere. Every process below a worker dies with its parent (``PR_SET_PDEATHSIG``
on Linux), so killing a worker, even with SIGKILL, leaves no tokenizer or LdaMulticore
process behind.
"""

import ctypes
import ctypes.util
import mmap
import os
import signal
import struct
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1
_libc = None


def die_with_parent(sig=signal.SIGKILL):
    """Ask the kernel to send ``sig`` to this process when its parent ends (Linux; a no-op
    elsewhere). Returns True when it was set. A parent that ended before the call is
    noticed too: the process signals itself."""
    global _libc
    if not sys.platform.startswith("linux"):
        return False
    parent = os.getppid()
    try:
        if _libc is None:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        ok = _libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False
    if ok and parent == 1:          # reparented already: the parent is gone
        os.kill(os.getpid(), sig)
    return ok


def watch_parent(parent_pid, on_gone, seconds=1.0):
    """A daemon thread that calls ``on_gone()`` once this process's parent is no longer
    ``parent_pid`` (it ended and the process was reparented): where PDEATHSIG is missing,
    or was cleared by an exec."""
    def run():
        while os.getppid() == parent_pid:
            time.sleep(seconds)
        on_gone()
    thread = threading.Thread(target=run, name="parent-watch", daemon=True)
    thread.start()
    return thread


_HEAD = struct.Struct("<Qqq H")        # sequence, done, total, message length
_MESSAGE = 1500                        # 500 characters of UTF-8
_FLAG = _HEAD.size + _MESSAGE
NONE, CANCEL, TIMEOUT = 0, 1, 2


class SharedProgress:
    """Progress (``done, total, message``) written by a job's process and read by its
    worker, plus a stop flag the other way, in memory shared across ``fork``.

    A sequence number makes the reads consistent without a lock (a lock held by a
    process killed mid-write would stay held): the writer makes it odd while writing,
    the reader keeps a state only when it read the same even number before and after.
    """

    def __init__(self):
        self._mem = mmap.mmap(-1, _FLAG + 1)     # anonymous and shared: both sides of a fork see it
        self._seq = 0
        self._last = (0, 0, "starting")

    def write(self, done, total, message):
        data = str(message).encode("utf-8", "replace")[:_MESSAGE]
        self._seq += 1
        self._mem[0:8] = struct.pack("<Q", self._seq)
        self._mem[8:_HEAD.size + len(data)] = struct.pack("<qqH", int(done), int(total), len(data)) + data
        self._seq += 1
        self._mem[0:8] = struct.pack("<Q", self._seq)

    def read(self):
        """The last whole state written: ``(done, total, message)``."""
        before = struct.unpack("<Q", self._mem[0:8])[0]
        if before == 0:
            return self._last
        _, done, total, n = _HEAD.unpack(self._mem[:_HEAD.size])
        message = self._mem[_HEAD.size:_HEAD.size + min(n, _MESSAGE)].decode("utf-8", "replace")
        if before % 2 == 0 and struct.unpack("<Q", self._mem[0:8])[0] == before:
            self._last = (done, total, message)
        return self._last

    @property
    def flag(self):
        """NONE, or why the job should stop: CANCEL or TIMEOUT (set by the worker)."""
        return self._mem[_FLAG]

    @flag.setter
    def flag(self, value):
        self._mem[_FLAG] = value
