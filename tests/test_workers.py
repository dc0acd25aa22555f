"""The block a build's long-lived objects live in, and the workers forked inside it."""

from __future__ import annotations

import gc
import os
import signal

from broadsheet.workers import YOUNG, fork, long_lived, worker_pool


def _threshold(_: int) -> int:
    return gc.get_threshold()[0]


def test_inside_a_build_the_young_are_collected_less_often_and_afterwards_as_before() -> None:
    before = gc.get_threshold()
    with long_lived() as keep:
        assert gc.get_threshold()[0] == max(before[0], YOUNG)
        keep()
        with long_lived():  # nested (assemble inside the pipeline's block): unchanged
            assert gc.get_threshold()[0] == max(before[0], YOUNG)
        assert gc.get_freeze_count() > 0  # the outer block still holds what was kept
        with worker_pool(2) as pool:  # workers inherit it
            assert pool.map(_threshold, [1, 2]) == [max(before[0], YOUNG)] * 2
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


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
