"""Forked worker processes, shared by parsing, rendering and the search index merge."""

from __future__ import annotations

import multiprocessing
import signal
from multiprocessing.pool import Pool


def worker_pool(processes: int) -> Pool:
    """A pool of forked workers, which inherit what the parent set up before the call
    (copy-on-write) and leave Ctrl-C and SIGTERM to the parent, which stops them."""
    return multiprocessing.get_context("fork").Pool(processes, initializer=_quiet)


def _quiet() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
