"""A fresh checkout's sources are stamped, and vouched for by Git's index, in the
build's own process (broadsheet.publish.checkout.Checkout) while the output check's
process walks the restored site: once, with or without fork, and whatever becomes of
that process; a source that cannot be read is named as in a build without a checkout,
and the build leaves nothing open."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from broadsheet.errors import BroadsheetError
from broadsheet.publish import pipeline
from broadsheet.publish.cache import BuildCache, OutputCheck
from broadsheet.publish.checkout import Checkout
from tests.publish.test_deploy import (  # noqa: F401
    DAY,
    Deploy,
    built,
    cold,
    deployed,
    edit_one_article,
    fresh_clone,
)
from tests.sitecheck import tree_bytes


@pytest.fixture(autouse=True)
def no_hang() -> Iterator[None]:
    """A build that waits forever on a process that is gone fails here instead."""

    def stuck(*_: object) -> None:
        raise TimeoutError("the build waited on a process that was gone")

    before = signal.signal(signal.SIGALRM, stuck)
    signal.alarm(120)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, before)


@pytest.mark.parametrize("how", ["forked", "killed", "no fork"])
def test_the_sources_are_stamped_once_and_the_site_is_a_cold_builds(
    deployed: Deploy,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    how: str,
) -> None:
    """In the build's own process, once: with the output checked in a forked process,
    that process killed before it answers (the out-of-memory killer, say), or no fork at
    all. The site is a cold build's every time."""
    project = fresh_clone(deployed.project, monkeypatch)
    edit_one_article(project)
    vouch = Checkout.vouch
    log = tmp_path / "vouched.log"  # (a file: any process's call is seen)

    def counted(self: Checkout, *args: Any) -> Any:
        with log.open("a", encoding="utf-8") as out:
            out.write(f"{os.getpid()}\n")
        return vouch(self, *args)

    here, check_share = os.getpid(), OutputCheck._check_share

    def killed(self: OutputCheck, *args: Any) -> Any:
        if os.getpid() != here:  # (the forked check: this process checks again)
            os.kill(os.getpid(), signal.SIGKILL)
        return check_share(self, *args)

    later = deployed.first + DAY
    with monkeypatch.context() as patch:
        patch.setattr(Checkout, "vouch", counted)
        if how == "killed":
            patch.setattr(OutputCheck, "_check_share", killed)
        elif how == "no fork":
            patch.delattr(os, "fork")
        built(project, later, monkeypatch)
    assert log.read_text(encoding="utf-8").split() == [str(os.getpid())]
    assert tree_bytes(project / "site") == cold(project, later, monkeypatch)


def test_a_source_that_cannot_be_read_is_named_as_without_a_checkout(
    deployed: Deploy,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A FIFO in content/ of a fresh checkout: the build's error names it, as a build
    with no checkout's does, and the site restored is left as it was."""
    project = fresh_clone(deployed.project, monkeypatch)
    before = tree_bytes(project / "site")
    os.mkfifo(project / "content/asia/pipe.md")
    with pytest.raises(BroadsheetError) as raised:
        built(project, deployed.first + DAY, monkeypatch)
    assert "content/asia/pipe.md" in str(raised.value)
    assert tree_bytes(project / "site") == before
    monkeypatch.setattr(pipeline, "checked_out_since", lambda *_: False)
    with pytest.raises(BroadsheetError) as plain:
        built(project, deployed.first + DAY, monkeypatch)
    assert str(plain.value) == str(raised.value)


def _children() -> list[str]:
    """This process's child processes (running, or ended and not reaped)."""
    tasks = Path(f"/proc/{os.getpid()}/task")
    return sorted(
        pid for task in tasks.iterdir() for pid in (task / "children").read_text().split()
    )


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="lists open files by /proc")
@pytest.mark.parametrize("where", ["the cache's rest", "the code's state", "interrupted"])
def test_an_error_before_the_answer_leaves_nothing_open(
    deployed: Deploy,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    """An error while the output check's process works (the cache's rest unreadable; the
    state folder not writable, once the rest is read; Ctrl-C there): the build fails,
    with no pipe of the check's left open and no check process left behind (serve builds
    again and again in one process)."""
    project = fresh_clone(deployed.project, monkeypatch)
    opened, before = len(os.listdir("/proc/self/fd")), _children()

    def fails(*_: object) -> None:
        if where == "interrupted":
            raise KeyboardInterrupt
        raise BroadsheetError(f"{where} cannot be read", project)

    target = (BuildCache, "rest") if where == "the cache's rest" else (pipeline, "_for_this_code")
    for _ in range(3):
        with monkeypatch.context() as patch:
            patch.setattr(*target, fails)
            with pytest.raises((BroadsheetError, KeyboardInterrupt)):
                built(project, deployed.first + DAY, monkeypatch)
    assert len(os.listdir("/proc/self/fd")) == opened
    assert _children() == before
