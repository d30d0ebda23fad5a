"""Caches that last the life of a server process (a model's arrays and vocabulary, a
corpus's tokenizer and phrases), kept out of the garbage collector's way.

A full collection of Python's collector visits every container object alive. A server that
has loaded a corpus's tokenizer, phrases and vocabularies holds millions of them, so the
request that happened to set one off paused for it: KWIC's first page at 1,000,000
documents took 37 ms, or about 100 ms when a full collection fell in it (p90 97 ms; with the
objects frozen, 41). After each load the objects then alive are moved to the collector's
permanent generation (``gc.freeze``), which its collections skip; reference counting still
frees them when a cache lets go of them.
"""

import functools
import gc
import threading

_settling = threading.Lock()


def settle():
    """Collect what is garbage now (cycles of caches let go of since the last settle, which
    frozen would never be collected), then freeze the rest. Costs one full collection: call
    it after loading something big, not per request."""
    with _settling:
        gc.unfreeze()
        gc.collect()
        gc.freeze()


def cache(maxsize):
    """``functools.lru_cache(maxsize)`` that settles (see :func:`settle`) after each load."""
    def wrap(fn):
        cached = functools.lru_cache(maxsize=maxsize)(fn)

        @functools.wraps(fn)
        def call(*args):
            misses = cached.cache_info().misses
            value = cached(*args)
            if cached.cache_info().misses != misses:
                settle()
            return value

        call.cache_clear, call.cache_info = cached.cache_clear, cached.cache_info
        return call
    return wrap
