"""The block a build's long-lived objects live in, and the workers forked inside it."""

from __future__ import annotations

import gc
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from broadsheet.errors import BroadsheetError
from broadsheet.workers import (
    YOUNG,
    WorkerDied,
    collector_paused,
    fork,
    long_lived,
    worker_pool,
)


def _collecting(_: int) -> tuple[bool, int]:
    return gc.isenabled(), gc.get_threshold()[0]


def test_inside_a_build_only_its_workers_collect_and_afterwards_all_is_as_before() -> None:
    """The build's own process leaves its collector paused (what it makes lives until
    the end); its forked workers collect, every YOUNG allocations."""
    before = gc.get_threshold()
    assert gc.isenabled()
    with long_lived() as keep:
        assert not gc.isenabled() and gc.get_threshold()[0] == max(before[0], YOUNG)
        keep()
        with long_lived():  # nested (assemble inside the pipeline's block): unchanged
            assert not gc.isenabled() and gc.get_threshold()[0] == max(before[0], YOUNG)
        assert not gc.isenabled()
        assert gc.get_freeze_count() > 0  # the outer block still holds what was kept
        with worker_pool(2) as pool:  # workers collect, less often
            assert pool.map(_collecting, [1, 2]) == [(True, max(before[0], YOUNG))] * 2
    assert gc.isenabled() and gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    with collector_paused():
        assert not gc.isenabled()
        with long_lived():
            assert not gc.isenabled()
        assert not gc.isenabled()  # (paused still: the outer block's to end)
    assert gc.isenabled()


def test_a_build_pauses_its_collector_and_leaves_it_running(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From the reading of its cache to the end (a build, then a build that finds
    nothing to do), the build's process does not collect by itself; after it, it
    does (serve's build process lives on)."""
    from broadsheet.config import load_config
    from broadsheet.publish import pipeline
    from broadsheet.publish.cache import load_cache

    seen: list[bool] = []

    def spying(path: Path) -> object:
        seen.append(gc.isenabled())
        return load_cache(path)

    monkeypatch.setattr(pipeline, "load_cache", spying)
    for _ in range(2):
        pipeline.build(load_config(project))
        assert gc.isenabled()
    assert seen == [False, False]


def test_a_forked_process_ends_at_once_on_ctrl_c_or_sigterm_and_the_parent_is_as_before() -> None:
    def unwind(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # as the CLI's SIGTERM handler does

    before = signal.signal(signal.SIGTERM, unwind)
    try:
        pid = fork()
        if pid == 0:
            plain = all(
                signal.getsignal(s) == signal.SIG_DFL for s in (signal.SIGINT, signal.SIGTERM)
            )
            os._exit(0 if plain else 1)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        assert signal.getsignal(signal.SIGTERM) is unwind
        assert signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, [])
        pid = fork()
        if pid == 0:
            signal.pause()  # until the signal below ends it
            os._exit(3)
        os.kill(pid, signal.SIGTERM)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == -signal.SIGTERM
    finally:
        signal.signal(signal.SIGTERM, before)


def _die_on_three(number: int) -> int:
    if number == 3:
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer does
    return number * 2


def _fail_on_two(number: int) -> int:
    if number == 2:
        raise BroadsheetError("no good", "content/asia/two.md", 4)
    return number


def _in_thread(job: Callable[[], object]) -> object:
    """job() in a thread, so that a hang fails the test instead of hanging the suite."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(job())
        except BaseException as exc:  # handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG)
    assert outcome, f"the pool still had not answered after {HANG} s"
    return outcome[0]


HANG = 60  # seconds: a bound on a hang, far above what the pool takes


def test_a_killed_worker_stops_the_pool_at_once_and_says_which_and_how() -> None:
    def job() -> object:
        with worker_pool(2, "rendering pages") as pool:
            return list(pool.imap_unordered(_die_on_three, range(8)))

    raised = _in_thread(job)
    assert isinstance(raised, WorkerDied)
    assert re.fullmatch(
        r"a worker process rendering pages \(pid \d+\) was killed by SIGKILL \(signal 9\).*",
        str(raised),
    )


def test_an_error_in_a_worker_reaches_the_build_whole_and_results_keep_their_order() -> None:
    with worker_pool(2) as pool:
        assert pool.map(_fail_on_two, [0, 1, 3, 4, 5, 6]) == [0, 1, 3, 4, 5, 6]
        assert list(pool.imap(_die_on_three, [5, 1, 4, 0])) == [10, 2, 8, 0]
        with pytest.raises(BroadsheetError) as raised:
            pool.map(_fail_on_two, range(5))
    assert str(raised.value) == "content/asia/two.md:4: no good"


def test_no_worker_outlives_its_pool() -> None:
    with worker_pool(2) as pool:
        pids = pool.map(_pid, range(4))
    for pid in set(pids):
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # already reaped


def _pid(_: int) -> int:
    return os.getpid()


def test_a_worker_killed_before_its_first_task_is_named_too() -> None:
    with pytest.raises(WorkerDied) as raised, worker_pool(2, "reading posts") as pool:
        os.kill(pool._workers[0].pid, signal.SIGKILL)
        os.waitid(os.P_PID, pool._workers[0].pid, os.WEXITED | os.WNOWAIT)  # dead, for sure
        pool.map(_pid, range(4))
    assert "a worker process reading posts" in str(raised.value)
    assert "was killed by SIGKILL" in str(raised.value)


def test_when_no_more_processes_can_start_none_is_left_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import broadsheet.workers as workers

    started: list[int] = []
    real = workers.fork

    def fork_once(quiet: bool = False) -> int:
        if started:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        pid = real(quiet)
        started.append(pid)
        return pid

    monkeypatch.setattr(workers, "fork", fork_once)
    with pytest.raises(BroadsheetError, match="cannot start worker processes"), worker_pool(2):
        pass
    with pytest.raises(ChildProcessError):
        os.waitpid(started[0], os.WNOHANG)  # the one that started is gone, and reaped


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_forked_process_dies_with_the_build() -> None:
    # The build (here a middle process) is killed: what it forked ends too, at once,
    # rather than writing on into a stage and holding the build lock.
    read, write = os.pipe()
    middle = os.fork()
    if middle == 0:
        os.close(read)
        child = fork()
        if child == 0:
            signal.pause()  # until it is killed
            os._exit(0)
        os.write(write, str(child).encode())
        signal.pause()
        os._exit(0)
    os.close(write)
    child = int(os.read(read, 32))
    os.close(read)
    os.kill(middle, signal.SIGKILL)
    os.waitpid(middle, 0)
    for _ in range(HANG * 100):
        try:
            state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return
        if state in ("Z", "X"):  # dead, and not yet reaped by whoever adopted it
            return
        time.sleep(0.01)
    os.kill(child, signal.SIGKILL)  # (not left behind by a failing test)
    raise AssertionError(f"the forked process outlived the build by {HANG} s")
