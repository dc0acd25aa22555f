"""Ctrl-C and SIGTERM held off while something must be written whole."""

from __future__ import annotations

import errno
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")

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


class Interrupted(KeyboardInterrupt, Generic[T]):
    """Ctrl-C or SIGTERM came while something was written whole (see `written_whole`):
    it was written first; `done` says what was (an import's reports, a move's lines)."""

    def __init__(self, done: T) -> None:
        super().__init__()
        self.done = done


@contextmanager
def written_whole(done: T) -> Iterator[T]:
    """stops_held() for a block that writes something that must be whole (an import,
    a move), yielding `done` to be filled in with what it did: a signal that came
    meanwhile raises Interrupted(done) once the block has ended."""
    try:
        with stops_held():
            yield done
    except KeyboardInterrupt:
        raise Interrupted(done) from None


def stopped_in(error: BaseException) -> bool:
    """Whether `error` is a clean-up's failure in the place of Ctrl-C or SIGTERM: a
    descriptor closed twice (EBADF) as the KeyboardInterrupt unwound, holding it as its
    context, or an error raised from one (`raise ... from`: a read's, a render's).
    shutil.rmtree, say, closes a folder's descriptor, then notes that it did; a stop
    between the two has its clean-up close it again. Any other error stands, even one
    raised while a stop unwound (a damaged journal found by the clean-up): the user
    must see it."""
    seen: BaseException | None = error
    for _ in range(32):  # (a chain of causes is short; never walk a cycle forever)
        if seen is None:
            return False
        if isinstance(seen, KeyboardInterrupt):
            return True
        if isinstance(seen, OSError) and seen.errno == errno.EBADF:
            return _holds_stop(seen)
        seen = seen.__cause__
    return False


def _holds_stop(error: BaseException) -> bool:
    """Whether a KeyboardInterrupt is among the errors `error` was raised from or while
    handling (its causes and contexts, a few deep)."""
    pending, seen = [error], 0
    while pending and seen < 64:
        found = pending.pop()
        seen += 1
        if isinstance(found, KeyboardInterrupt):
            return True
        pending += [e for e in (found.__cause__, found.__context__) if e is not None]
    return False
