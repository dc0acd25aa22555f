"""Where a build's time goes: `BROADSHEET_TIMINGS=1 broadsheet build` prints each stage,
the CPU time the build process itself spent in it, the memory pages it touched for the
first time (minor page faults: on this kind of machine each costs system time), and
that process's peak memory so far (its workers' CPU and memory are not included)."""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

# On for any value but none, "0", "false", "no" and "off" (as a reader of =0 means it).
ENABLED = os.environ.get("BROADSHEET_TIMINGS", "").strip().lower() not in (
    "",
    "0",
    "false",
    "no",
    "off",
)


@contextmanager
def stage(name: str) -> Iterator[None]:
    if not ENABLED:
        yield
        return
    started, cpu = time.perf_counter(), time.process_time()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    try:
        yield
    finally:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        seconds, used = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"{name:<24}{seconds:8.3f} s {used:8.3f} s CPU {usage.ru_minflt - faults:7d} faults"
            f" {usage.ru_maxrss // 1024:6d} MB peak",
            file=sys.stderr,
        )
