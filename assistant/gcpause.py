"""Pausing CPython's cyclic garbage collector while bulk data with no reference cycles is built.

Why: opening the index of a large project creates about a million small objects (file facts,
definitions, tuples, strings), and ranking it builds a graph of as many more. The generational
collector runs every 700 net allocations and, as the heap grows, repeatedly walks all of it, finding
nothing: these are frozen dataclasses of strings, numbers and tuples, freed by reference counting
alone. On a cold pack of Django that walking was 0.3 s of 3.6 s (`bench/RESULTS.md` §2, run F).

Re-entrant and thread-safe: the collector is switched back on when the outermost pause ends, and
only if it was on when the first one began (a host application that turned it off keeps it off).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """Run the body with the cyclic collector off (reference counting still frees everything)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
