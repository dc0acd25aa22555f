"""Where a build's time goes: `BROADSHEET_TIMINGS=1 broadsheet build` prints each stage
and the build process's peak memory so far (its workers' are not included)."""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

ENABLED = bool(os.environ.get("BROADSHEET_TIMINGS"))


@contextmanager
def stage(name: str) -> Iterator[None]:
    if not ENABLED:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        seconds = time.perf_counter() - started
        print(f"{name:<24}{seconds:8.3f} s {peak:6d} MB peak", file=sys.stderr)
