"""A new tree's recent folders, listed as its build ends (cache.settle_recent): whatever
is written into the site at any moment of that, or after, the next build still finds
and removes."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from broadsheet.publish import cache as cache_module
from broadsheet.publish import output_dir, pipeline
from tests.publish.test_incremental import cold, warm
from tests.publish.test_output_folders import _folder_names, _folders
from tests.sitecheck import tree_bytes


def _stray(site: Path, kind: str) -> None:
    if kind == "file in the root":
        (site / "stray.html").write_text("stray")
    elif kind == "file in a folder":
        (site / "asia" / "stray.html").write_text("stray")
    elif kind == "empty folder":
        (site / "asia" / "empty").mkdir()
    elif kind == "folder becomes a link":
        moved = site.parent / "moved-asia"
        (site / "asia").rename(moved)
        (site / "asia").symlink_to(moved, target_is_directory=True)
    elif kind == "root replaced by a copy":  # every inode new, a stray deep inside
        copy = site.parent / "copied"
        shutil.copytree(site, copy, symlinks=True)
        (copy / "asia" / "stray.html").write_text("stray")
        site.rename(site.parent / "old-site")
        copy.rename(site)
    elif kind == "a file replaced in place":  # same name, new inode: its parent changes
        page = site / "asia" / "index.html"
        page.with_name("new").write_bytes(page.read_bytes().replace(b"<", b"<!-- -->", 1))
        page.with_name("new").rename(page)


MOMENTS = ["before settling", "before the present", "before listing", "after listing", "saved"]
KINDS = [
    "file in the root",
    "file in a folder",
    "empty folder",
    "folder becomes a link",
    "a file replaced in place",
    "root replaced by a copy",
]


def _inject(monkeypatch: pytest.MonkeyPatch, site: Path, moment: str, kind: str) -> list[bool]:
    done: list[bool] = []
    settling: list[bool] = []

    def once() -> None:
        if not done:
            done.append(True)
            _stray(site, kind)

    def around(
        owner: Any, name: str, before: bool, when: Callable[[], bool] = lambda: True
    ) -> None:
        real = getattr(owner, name)

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if before and when():
                once()
            result = real(*args, **kwargs)
            if not before and when():
                once()
            return result

        monkeypatch.setattr(owner, name, wrapped)

    settle = getattr(pipeline, "settle_recent")  # noqa: B009 (not re-exported)

    def settle_noting(*args: Any, **kwargs: Any) -> Any:
        settling.append(True)
        if moment in ("before listing", "after listing"):
            # (a tick of the coarsest clock below between the swap and the present, so
            # that the folders are listed at all: else the stray is never written)
            time.sleep(0.025)
        try:
            return settle(*args, **kwargs)
        finally:
            settling.clear()

    monkeypatch.setattr(pipeline, "settle_recent", settle_noting)
    if moment == "before settling":
        around(pipeline, "settle_recent", before=True)
    elif moment == "before the present":
        around(pipeline, "_present", before=True, when=lambda: bool(settling))
    elif moment == "before listing":
        around(cache_module, "same_entries", before=True, when=lambda: bool(settling))
    elif moment == "after listing":
        around(cache_module, "same_entries", before=False, when=lambda: bool(settling))
    else:
        around(pipeline, "save_folders", before=False)
    return done


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("moment", "coarse"),
    [*((moment, False) for moment in MOMENTS), ("before listing", True), ("after listing", True)],
)
def test_what_is_written_as_a_new_tree_is_settled_goes_with_the_next_build(
    small: Path,
    monkeypatch: pytest.MonkeyPatch,
    moment: str,
    kind: str,
    coarse: bool,
) -> None:
    warm(small)
    site = small / "site"
    expected = cold(small)
    folders = _folder_names(small / "cold")
    shutil.rmtree(small / ".broadsheet-cache")  # the next build writes a new tree
    if coarse:  # a file system with 20 ms ticks (folders and the present alike)
        tick = 20_000_000
        stamp, present = cache_module._folder_stamp, output_dir.present

        def coarse_stamp(stat: os.stat_result) -> list[int]:
            found = stamp(stat)
            return [found[0] // tick * tick, found[1] // tick * tick, found[2]]

        def coarse_present(output: Path) -> int | None:
            moment = present(output)
            return None if moment is None else moment // tick * tick

        monkeypatch.setattr(cache_module, "_folder_stamp", coarse_stamp)
        monkeypatch.setattr(cache_module, "_files", None)  # (it takes the real times)
        monkeypatch.setattr(output_dir, "present", coarse_present)
        monkeypatch.setattr(pipeline, "present", coarse_present)
    done = _inject(monkeypatch, site, moment, kind)
    warm(small)
    assert done  # (the stray was written)
    monkeypatch.undo()
    if coarse:
        monkeypatch.setattr(cache_module, "_folder_stamp", coarse_stamp)
        monkeypatch.setattr(cache_module, "_files", None)  # (it takes the real times)
        monkeypatch.setattr(output_dir, "present", coarse_present)
        monkeypatch.setattr(pipeline, "present", coarse_present)
    warm(small)
    assert not (site / "asia").is_symlink()
    assert tree_bytes(site) == expected
    assert _folder_names(site) == folders
    assert warm(small).written == 0
    assert all(isinstance(stamp, list) for stamp in _folders(small).values())
