"""Where a build's time goes: `BROADSHEET_TIMINGS=1 broadsheet build` prints each stage."""

from __future__ import annotations

import os
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
        print(f"{name:<24}{time.perf_counter() - started:8.3f} s", file=sys.stderr)
