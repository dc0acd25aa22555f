"""The block a build's long-lived objects live in, and the workers forked inside it."""

from __future__ import annotations

import gc

from broadsheet.workers import YOUNG, long_lived, worker_pool


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
