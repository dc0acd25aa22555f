"""Forked worker processes, shared by parsing, rendering and the search index merge."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import pickle
import selectors
import signal
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

from broadsheet.errors import BroadsheetError

T = TypeVar("T")
R = TypeVar("R")

_STOPS = (signal.SIGINT, signal.SIGTERM)
HEADER = 8  # bytes of length in front of every message between two of the build's processes


def fork(quiet: bool = False) -> int:
    """os.fork() for a process that does one job and leaves with os._exit(): Ctrl-C and
    SIGTERM wait across the fork until the new process has given them their plain
    meaning (end at once; with `quiet`, Ctrl-C is ignored and left to the parent), so
    that it never unwinds through the build's own cleanup. On Linux the new process
    also dies with its parent: killed with the build, it writes nothing more and lets go
    of the build lock at once. Raises OSError as os.fork() does."""
    prctl = _prctl()  # (looked up here, once, rather than in every new process)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    parent = os.getpid()
    try:
        pid = os.fork()
        if pid == 0:
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN if quiet else signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                _die_with(parent, prctl)
                gc.enable()  # (the build pauses the collector: see long_lived; not its workers)
            except BaseException:
                os._exit(1)
        return pid
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _die_with(parent: int, prctl: Any) -> None:
    if prctl is not None:
        prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before that took effect
        os._exit(1)


@cache
def _prctl() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


class WorkerDied(BroadsheetError):
    """A worker process ended without answering: killed (the out-of-memory killer sends
    SIGKILL), or crashed."""


@dataclass
class _Worker:
    """A forked worker process, its pipes, and the task it is on."""

    pid: int
    tasks: int  # the build writes tasks here
    results: int  # and reads answers here
    received: bytearray = field(default_factory=bytearray)
    task: int | None = None  # the number of the task it is working on


class Workers:
    """Forked processes that run `function(item)` for the items given to map(), imap()
    or imap_unordered(), as multiprocessing.Pool does, but never wait for ever: a
    worker that dies (its answer pipe closes) stops the build at once with WorkerDied,
    which names the process and the signal that killed it."""

    def __init__(self, processes: int, doing: str):
        self.doing = doing
        self._workers: list[_Worker] = []
        self._selector = selectors.DefaultSelector()
        try:
            for _ in range(max(1, processes)):
                self._workers.append(self._start())
        except OSError as exc:  # no more processes allowed, say: none is left behind
            self.close(kill=True)
            raise BroadsheetError(f"cannot start worker processes: {exc.strerror or exc}") from exc
        except BaseException:
            self.close(kill=True)
            raise

    def _start(self) -> _Worker:
        task_read, task_write = os.pipe()
        result_read, result_write = os.pipe()
        try:
            pid = fork(quiet=True)
        except OSError:
            for fd in (task_read, task_write, result_read, result_write):
                os.close(fd)
            raise
        if pid == 0:
            code = 0
            try:
                os.close(task_write)
                os.close(result_read)
                for other in self._workers:  # theirs are the build's to close
                    os.close(other.tasks)
                    os.close(other.results)
                _serve(task_read, result_write)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        os.close(task_read)
        os.close(result_write)
        worker = _Worker(pid, task_write, result_read)
        self._selector.register(result_read, selectors.EVENT_READ, worker)
        return worker

    def map(self, function: Callable[[T], R], items: Iterable[T]) -> list[R]:
        return list(self.imap(function, items))

    def imap(self, function: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """The results in the order of `items`."""
        waiting: dict[int, R] = {}
        next_number = 0
        for number, result in self._run(function, items):
            waiting[number] = result
            while next_number in waiting:
                yield waiting.pop(next_number)
                next_number += 1

    def imap_unordered(self, function: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """The results as they come."""
        for _, result in self._run(function, items):
            yield result

    def _run(self, function: Callable[[T], R], items: Iterable[T]) -> Iterator[tuple[int, R]]:
        """One task at a time per worker: it is always reading when it is sent one, and
        the build always reading when it answers, so that neither waits on the other."""
        todo = enumerate(items)
        busy = 0
        for worker in self._workers:
            busy += self._send(worker, function, todo)
        while busy:
            for key, _ in self._selector.select():
                worker = key.data
                answer = self._receive(worker)
                if answer is None:
                    continue
                number, (ok, value) = answer
                busy -= 1
                if not ok:
                    raise value
                yield number, value
                busy += self._send(worker, function, todo)

    def _send(
        self, worker: _Worker, function: Callable[[T], R], todo: Iterator[tuple[int, T]]
    ) -> int:
        for number, item in todo:
            worker.task = number
            try:
                _write_message(worker.tasks, (function, item))
            except BrokenPipeError:  # it died before it read the task
                raise self._died(worker) from None
            return 1
        return 0

    def _receive(self, worker: _Worker) -> tuple[int, tuple[bool, Any]] | None:
        chunk = os.read(worker.results, 1 << 20)
        if not chunk:
            raise self._died(worker)
        worker.received += chunk
        if len(worker.received) < HEADER:
            return None
        size = int.from_bytes(worker.received[:HEADER], "big")
        if len(worker.received) < HEADER + size:
            return None
        data = bytes(worker.received[HEADER : HEADER + size])
        del worker.received[: HEADER + size]
        number, worker.task = worker.task, None
        assert number is not None
        return number, pickle.loads(data)

    def _died(self, worker: _Worker) -> WorkerDied:
        self._workers.remove(worker)
        self._selector.unregister(worker.results)
        _close(worker)
        try:
            _, status = os.waitpid(worker.pid, 0)
        except ChildProcessError:
            how = "ended"
        else:
            if os.WIFSIGNALED(status):
                number = os.WTERMSIG(status)
                how = f"was killed by {_signal_name(number)}"
                if number == signal.SIGKILL:
                    how += " (the out-of-memory killer sends that signal)"
            else:
                how = f"ended with exit code {os.waitstatus_to_exitcode(status)}"
        return WorkerDied(
            f"a worker process {self.doing} (pid {worker.pid}) {how}; the build stopped"
        )

    def close(self, kill: bool) -> None:
        """End the workers and wait for them: at once (`kill`), or once they have read
        that there is nothing more to do."""
        for worker in self._workers:
            if kill:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, signal.SIGKILL)
            _close(worker)
        for worker in self._workers:
            with contextlib.suppress(ChildProcessError):
                _wait_for(worker.pid)
        self._workers = []
        self._selector.close()


def _wait_for(pid: int) -> None:
    while True:
        try:
            os.waitpid(pid, 0)
            return
        except InterruptedError:
            continue


def _signal_name(number: int) -> str:
    try:
        return f"{signal.Signals(number).name} (signal {number})"
    except ValueError:
        return f"signal {number}"


def _close(worker: _Worker) -> None:
    for fd in (worker.tasks, worker.results):
        with contextlib.suppress(OSError):
            os.close(fd)


def _serve(tasks: int, results: int) -> None:
    """A worker's life: read a task, run it, write the answer; until the pipe closes."""
    with os.fdopen(tasks, "rb") as reader:
        while True:
            header = reader.read(HEADER)
            if len(header) < HEADER:
                return  # the build is done with us (or gone)
            function, item = pickle.loads(reader.read(int.from_bytes(header, "big")))
            try:
                answer: tuple[bool, Any] = (True, function(item))
            except Exception as exc:
                answer = (False, _portable(exc))
            try:
                _write_message(results, answer)
            except BrokenPipeError:
                return


def _portable(exc: Exception) -> Exception:
    """`exc` if it survives pickling (with the worker's traceback as a note), else a
    RuntimeError that tells what it was."""
    text = "".join(traceback.format_exception(exc))
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"in a worker process:\n{text}")
    if not isinstance(exc, BroadsheetError):
        exc.add_note(f"in a worker process:\n{text}")
    return exc


def _write_message(fd: int, message: object) -> None:
    write_framed(fd, pickle.dumps(message, pickle.HIGHEST_PROTOCOL))


def write_framed(fd: int, data: bytes) -> None:
    """Write `data` to the pipe `fd` whole, after its length (HEADER bytes, big-endian):
    a message between two of the build's processes."""
    view = memoryview(len(data).to_bytes(HEADER, "big") + data)
    while view:
        view = view[os.write(fd, view) :]


def read_exactly(reading: int, size: int) -> bytes | None:
    """`size` bytes from the pipe `reading`; None if it ends first (b"" at its end)."""
    parts, left = [], size
    while left:
        part = os.read(reading, min(left, 1 << 20))
        if not part:
            return b"" if left == size else None
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


@contextmanager
def worker_pool(processes: int, doing: str = "of the build") -> Iterator[Workers]:
    """A pool of forked workers, which inherit what the parent set up before the call
    (copy-on-write, parked outside the garbage collector first: see long_lived()) and
    leave Ctrl-C to the parent, which stops them when the block ends (and waits for
    them, so that none still writes once it has)."""
    with long_lived() as keep:
        keep()
        pool = Workers(processes, doing)
        try:
            yield pool
        except BaseException:
            pool.close(kill=True)
            raise
        pool.close(kill=False)


@contextmanager
def long_lived() -> Iterator[Callable[[], None]]:
    """A block in which what the build has read and planned stays until the end: the
    function it gives (gc.freeze) parks every object made so far outside the garbage
    collector, so that the collector does not walk the posts and pages again each time
    it runs, nor copy them, page by page, in a forked worker. The outermost block lets
    them go again when it ends (the dev server lives on and builds again).

    Inside it, the collector does not run by itself in this process: most of what a
    build makes lives until the end, and each collection walked the young part of it
    again (an edit's build made 1.4 million objects at 10,000 articles, and its 150
    collections took 0.1 s of 1.6). What little garbage a build leaves in cycles is
    collected when it is let go (pipeline's "let the plan go", or the block's end).
    A forked process collects as before (see fork), every YOUNG allocations rather than
    Python's 700: a worker renders thousands of pages, each context a cycle.
    """
    global _held
    if _held:  # (inside the outermost block: as it set things)
        yield gc.freeze
        return
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], YOUNG), *thresholds[1:])
    _held = True
    try:
        with collector_paused():
            yield gc.freeze
    finally:
        _held = False
        gc.unfreeze()
        gc.set_threshold(*thresholds)


# Whether this process is inside the outermost long_lived block (a forked worker
# inherits it). Not gc.get_freeze_count() > 0: that counts the frozen objects one by
# one, a million at 10,000 articles (16 ms of an edit's build).
_held = False


YOUNG = 10_000


@contextmanager
def collector_paused() -> Iterator[None]:
    """A block in which this process's garbage collector does not run by itself (a
    build: see long_lived), as it was again after it."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
