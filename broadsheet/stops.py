"""Ctrl-C and SIGTERM held off while something must be written whole."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

STOPS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stops_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block is done, then act as they would have.

    Python runs signal handlers in the main thread whichever thread the signal reached
    (a process with a library's thread alive may have it handed to that one, which a
    signal mask of the main thread's would not stop), so they are held there, by
    handlers that only take note; another thread's block is never interrupted by them
    anyway. Nested blocks hold them until the outermost ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    held = {stop: signal.signal(stop, lambda number, _: caught.append(number)) for stop in STOPS}
    try:
        yield
    finally:
        for stop, handler in held.items():
            signal.signal(stop, signal.SIG_DFL if handler is None else handler)
        if caught:
            handler = held[signal.Signals(caught[0])]
            if callable(handler):
                handler(caught[0], None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), caught[0])
