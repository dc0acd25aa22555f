"""A fresh checkout's sources are stamped, and vouched for by Git's index, in the output
check's first process (broadsheet.publish.checkout.CheckedAside) while the build reads
its cache. What comes back is what the build's own process would have found; and a
process that dies, a source that cannot be read, or no fork at all leaves the build to
do the work itself, with the same site or the same error."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from broadsheet import stamps
from broadsheet.config import load_config
from broadsheet.errors import BroadsheetError
from broadsheet.publish import pipeline
from broadsheet.publish.cache import BuildCache, cache_path, load_cache
from broadsheet.publish.checkout import CheckedAside
from tests.publish.test_checkout import Runner
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


def aside_of(project: Path) -> CheckedAside:
    config = load_config(project)
    where = cache_path(config, config.path(config.output_dir))
    cache = load_cache(where)
    assert cache is not None
    return CheckedAside(config, where.parent, stamps.racy_after(), cache.inputs)


def hashed_of(project: Path, inputs: dict[str, stamps.Stamp]) -> dict[str, str]:
    """The hashes this process keeps (stamps.HASHED) of the sources stamped `inputs`."""
    found = {name: stamps.HASHED.get(str(project / name), stamp) for name, stamp in inputs.items()}
    return {name: digest for name, digest in found.items() if digest is not None}


@pytest.mark.parametrize("racy", [False, True])
def test_the_other_process_finds_what_this_one_would(
    deployed: Deploy,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    racy: bool,
) -> None:
    """A deploy after a deploy, an article pushed since and a template edited on the
    runner: the stamps, the hashes the index vouched for (a template's kept for the
    build's later stages too) and the blobs to keep, taken in a forked process, are
    those this process takes (`racy`: every source hashed for its stamp)."""
    runner = Runner(deployed, monkeypatch, racy)
    runner.run(deployed.first + DAY)  # (keeps which blob hashed to what)
    pushed = runner.push()
    found: dict[str, object] = {}

    def compare(project: Path) -> None:
        template = project / "templates/article.html"
        template.write_text(template.read_text(encoding="utf-8") + "\n")
        stamps.HASHED.clear()
        here_checkout, here_inputs, here_vouched = aside_of(project)._here()
        here_hashed = hashed_of(project, here_inputs)
        stamps.HASHED.clear()
        aside = aside_of(project)
        pid = os.fork()
        if pid == 0:  # (as the output check's first process runs it)
            try:
                aside.run()
            finally:
                os._exit(0)
        aside.forked()
        with monkeypatch.context() as patch:  # (the answer is the other process's)
            patch.setattr(CheckedAside, "_here", lambda self: pytest.fail("done here"))
            checkout, inputs, vouched = aside.result()
        os.waitpid(pid, 0)
        assert aside._answer is None  # (nothing of it left open)
        assert inputs == here_inputs and vouched == here_vouched
        assert checkout.kept == here_checkout.kept and checkout.changed == here_checkout.changed
        assert checkout.pending == here_checkout.pending
        assert checkout.prefix == here_checkout.prefix and checkout.path == here_checkout.path
        # The hashes kept for the later stages: of the templates and static files the
        # index vouched for, and (racy) of every source, taken as it was stamped.
        assert hashed_of(project, inputs) == here_hashed
        if racy:
            assert all(len(stamp) == 5 for stamp in inputs.values())
            assert len(here_hashed) == len(inputs)
        else:
            assert here_hashed.keys() == {n for n in vouched if not n.endswith(".md")} != set()
        found["pending"] = sorted(checkout.pending)

    runner.run(deployed.first + 2 * DAY, meanwhile=compare)
    assert found["pending"] == sorted([pushed, "templates/article.html"])
    assert tree_bytes(runner.project / "site") == cold(
        runner.project, deployed.first + 2 * DAY, monkeypatch
    )


@pytest.mark.parametrize("how", ["answered", "killed", "no fork"])
def test_the_sources_are_stamped_once_and_the_site_is_a_cold_builds(
    deployed: Deploy,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    """In the output check's first process, as a rule: not in the build's. Here, if
    that process is killed before it answers (the out-of-memory killer, say; the
    check's second process still running), or if there is no fork at all."""
    project = fresh_clone(deployed.project, monkeypatch)
    edit_one_article(project)
    here = CheckedAside._here
    ran: list[int] = []  # (in each process's own memory)

    def counted(self: CheckedAside) -> object:
        ran.append(os.getpid())
        return here(self)

    later = deployed.first + DAY
    with monkeypatch.context() as patch:
        patch.setattr(CheckedAside, "_here", counted)
        if how == "killed":
            patch.setattr(CheckedAside, "run", lambda _: os.kill(os.getpid(), signal.SIGKILL))
        elif how == "no fork":
            patch.delattr(os, "fork")
        built(project, later, monkeypatch)
    assert ran == ([] if how == "answered" else [os.getpid()])
    assert tree_bytes(project / "site") == cold(project, later, monkeypatch)


def test_a_source_that_cannot_be_read_is_named_as_without_a_checkout(
    deployed: Deploy,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A FIFO in content/ of a fresh checkout (the other process refuses it, and says
    nothing): the build's error names it, as a build with no checkout's does, and the
    site restored is left as it was."""
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


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="lists open files by /proc")
def test_an_error_before_the_answer_leaves_nothing_open(
    deployed: Deploy,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cache's rest unreadable while the other process works: the build fails,
    with no file of the aside's left open (serve builds again and again in one process)."""
    project = fresh_clone(deployed.project, monkeypatch)
    opened = len(os.listdir("/proc/self/fd"))

    def unreadable(self: BuildCache) -> object:
        raise BroadsheetError("the cache's rest cannot be read", project)

    for _ in range(3):
        with monkeypatch.context() as patch:
            patch.setattr(BuildCache, "rest", unreadable)
            with pytest.raises(BroadsheetError, match="rest cannot be read"):
                built(project, deployed.first + DAY, monkeypatch)
    assert len(os.listdir("/proc/self/fd")) == opened
