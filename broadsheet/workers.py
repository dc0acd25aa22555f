"""Forked worker processes, shared by parsing, rendering and the search index merge."""

from __future__ import annotations

import gc
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.pool import Pool


def fork() -> int:
    """os.fork() for a process that does one job and leaves with os._exit(): Ctrl-C and
    SIGTERM wait across the fork until the new process has given them their plain
    meaning (end at once), so that it never unwinds through the build's own cleanup.
    Raises OSError as os.fork() does."""
    stops = {signal.SIGINT, signal.SIGTERM}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    try:
        pid = os.fork()
        if pid == 0:
            try:
                for stop in stops:
                    signal.signal(stop, signal.SIG_DFL)
            except BaseException:
                os._exit(1)
        return pid
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


@contextmanager
def worker_pool(processes: int) -> Iterator[Pool]:
    """A pool of forked workers, which inherit what the parent set up before the call
    (copy-on-write, parked outside the garbage collector first: see long_lived()) and
    leave Ctrl-C and SIGTERM to the parent, which stops them when the block ends."""
    import multiprocessing  # (only here: a rebuild after an edit forks no pool)

    with long_lived() as keep:
        keep()
        with multiprocessing.get_context("fork").Pool(processes, initializer=_quiet) as pool:
            yield pool


def _quiet() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def long_lived() -> Iterator[Callable[[], None]]:
    """A block in which what the build has read and planned stays until the end: the
    function it gives (gc.freeze) parks every object made so far outside the garbage
    collector, so that the collector does not walk the posts and pages again each time
    it runs, nor copy them, page by page, in a forked worker. The outermost block lets
    them go again when it ends (the dev server lives on and builds again).

    Inside it, the youngest generation is collected every YOUNG allocations rather than
    Python's 700: most of what a build makes lives until the end, and each collection
    of the older generations walks it again (0.1 s of an edit's rebuild, now 0.04 s).
    """
    outermost = gc.get_freeze_count() == 0
    thresholds = gc.get_threshold()
    if outermost:
        gc.set_threshold(max(thresholds[0], YOUNG), *thresholds[1:])
    try:
        yield gc.freeze
    finally:
        if outermost:
            gc.unfreeze()
            gc.set_threshold(*thresholds)


YOUNG = 10_000
