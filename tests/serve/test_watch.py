"""The watcher sees every way an editor saves, ignores editors' own files, and is never
held up by what it watches; the rebuilder runs one build at a time, and never dies; and
builds again when the last build said the site changes with no edit."""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broadsheet.serve.devbuild import DevResult
from broadsheet.serve.watch import Rebuilder, Sources, Watcher, is_editor_file


def test_editors_files_are_told_apart_from_sources() -> None:
    for name in (".rice.md.swp", ".rice.md.swx", "rice.md~", ".#rice.md", "#rice.md#", "4913"):
        assert is_editor_file(name), name
    for name in ("rice.md", "site.css", "photo.swf", "4913.md", "notes~.md", "base.html"):
        assert not is_editor_file(name), name


def test_only_changes_the_build_can_see_count(tmp_path: Path) -> None:
    sources = Sources(tmp_path)
    assert sources.matters(str(tmp_path / "content/asia/rice.md"))
    assert sources.matters(str(tmp_path / "pyproject.toml"))
    assert sources.matters(str(tmp_path / "static"))  # a source folder made or removed
    assert not sources.matters(str(tmp_path / "content/asia/.rice.md.tmp"))  # hidden
    assert sources.matters(str(tmp_path / "content/.broadsheet-published"))  # read, though
    assert not sources.matters(str(tmp_path / "static/.cache/x.css"))
    assert not sources.matters(str(tmp_path / "README.md"))
    assert not sources.matters(str(tmp_path / "content/asia/rice.md~"))


@pytest.fixture
def watching(tmp_path: Path) -> Iterator[tuple[Path, queue.Queue[set[str]]]]:
    root = tmp_path / "project"
    (root / "content/asia").mkdir(parents=True)
    (root / "templates").mkdir()
    (root / "content/asia/rice.md").write_text("rice")
    batches: queue.Queue[set[str]] = queue.Queue()
    watcher = Watcher(Sources(root), batches.put)
    watcher.start()
    assert watcher.wait_ready(10)
    yield root, batches
    watcher.stop()
    watcher.join(10)
    assert not watcher.is_alive()


def next_batch(batches: queue.Queue[set[str]]) -> set[str]:
    return batches.get(timeout=20)


def test_every_way_an_editor_saves_is_seen(
    watching: tuple[Path, queue.Queue[set[str]]],
) -> None:
    root, batches = watching
    post = root / "content/asia/rice.md"

    def in_place() -> None:
        post.write_text("in place")

    def temp_and_rename() -> None:
        temporary = post.with_name(".rice.md.tmp")
        temporary.write_text("renamed over")
        os.replace(temporary, post)

    def delete_and_recreate() -> None:
        post.unlink()
        post.write_text("re-created")

    def truncate_and_write() -> None:
        with post.open("r+") as handle:
            handle.truncate(0)
            handle.flush()
            handle.write("truncated")

    for save in (in_place, temp_and_rename, delete_and_recreate, truncate_and_write):
        save()
        assert str(post) in next_batch(batches), save.__name__


def test_editors_files_start_no_rebuild(watching: tuple[Path, queue.Queue[set[str]]]) -> None:
    root, batches = watching
    asia = root / "content/asia"
    for name in (".rice.md.swp", "rice.md~", ".#rice.md", "4913", "#rice.md#"):
        (asia / name).write_text("editor's own")
        (asia / name).unlink()
    (root / "templates/base.html").write_text("a real change")
    assert next_batch(batches) == {str(root / "templates/base.html")}


def test_a_pipe_or_a_link_loop_never_holds_the_watcher(
    watching: tuple[Path, queue.Queue[set[str]]],
) -> None:
    root, batches = watching
    os.mkfifo(root / "content/asia/x.md")  # opening it would block until a writer came
    (root / "content/asia/loop").symlink_to(root / "content")
    (root / "content/asia/self").symlink_to(root / "content/asia/self")
    while str(root / "content/asia/self") not in next_batch(batches):
        pass
    (root / "content/asia/rice.md").write_text("still watched")
    while str(root / "content/asia/rice.md") not in next_batch(batches):
        pass


def test_folders_made_after_the_start_are_watched(
    watching: tuple[Path, queue.Queue[set[str]]],
) -> None:
    root, batches = watching
    (root / "static/css").mkdir(parents=True)  # static/ did not exist
    (root / "static/css/site.css").write_text("body{}")  # (while the watching restarts)
    seen = next_batch(batches)
    while "*" not in seen:  # a rebuild, for what changed while the watching restarted
        seen |= next_batch(batches)
    assert str(root / "static") in seen
    for changed in (root / "static/css/site.css", root / "content/news/first.md"):
        changed.parent.mkdir(exist_ok=True)
        changed.write_text("changed")
        # A file written the instant its folder is made can come before the OS watches
        # the new folder (inotify's race): then the folder's arrival is what is seen,
        # and the rebuild it starts reads the file with it.
        while not {str(changed), str(changed.parent)} & next_batch(batches):
            pass
    (root / "content/news/first.md").write_text("changed again")  # now watched, surely
    while str(root / "content/news/first.md") not in next_batch(batches):
        pass
    (root / "pyproject.toml").write_text("[tool.broadsheet]\n")
    while str(root / "pyproject.toml") not in next_batch(batches):
        pass


class FakeBuilder:
    """Counts builds; one can be held until released, or made to raise."""

    def __init__(self) -> None:
        self.builds = 0
        self.hold = threading.Event()
        self.hold.set()
        self.started = threading.Event()
        self.fail: Exception | None = None

    def rebuild(self) -> DevResult:
        self.builds += 1
        self.started.set()
        self.hold.wait()
        if self.fail is not None:
            raise self.fail
        return DevResult(True, 0.0)

    def stop_if_stuck(self) -> bool:
        return False


def test_changes_during_a_build_make_one_more_build() -> None:
    builder = FakeBuilder()
    done: queue.Queue[set[str]] = queue.Queue()
    rebuilder = Rebuilder(builder, lambda result, changed: done.put(changed))  # type: ignore[arg-type]
    rebuilder.start()
    builder.hold.clear()
    rebuilder.request({"a"})
    assert builder.started.wait(10)
    for path in ("b", "c", "d"):
        rebuilder.request({path})
    builder.hold.set()
    assert done.get(timeout=10) == {"a"}
    assert done.get(timeout=10) == {"b", "c", "d"}
    assert builder.builds == 2
    rebuilder.stop()
    rebuilder.join(10)


def test_the_rebuilder_outlives_whatever_a_build_raises() -> None:
    builder = FakeBuilder()
    done: queue.Queue[set[str]] = queue.Queue()
    rebuilder = Rebuilder(builder, lambda result, changed: done.put(changed))  # type: ignore[arg-type]
    rebuilder.start()
    builder.fail = RuntimeError("a bug in serve itself")
    rebuilder.request({"a"})
    assert builder.started.wait(10)
    builder.fail = None
    rebuilder.request({"b"})
    assert done.get(timeout=10) == {"b"}
    assert rebuilder.is_alive()
    rebuilder.stop()
    rebuilder.join(10)


class TimedBuilder(FakeBuilder):
    """Each build says the site changes with no edit at the next of `dues` (ISO times)."""

    def __init__(self, dues: list[str | None]) -> None:
        super().__init__()
        self.dues = dues

    def rebuild(self) -> DevResult:
        super().rebuild()
        due = self.dues.pop(0) if self.dues else None
        return DevResult(True, 0.0, valid_until=due)


def _in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def test_the_rebuilder_builds_again_when_the_site_changes_with_no_edit() -> None:
    builder = TimedBuilder([_in(0.5), None])
    done: queue.Queue[set[str]] = queue.Queue()
    rebuilder = Rebuilder(builder, lambda result, changed: done.put(changed))  # type: ignore[arg-type]
    rebuilder.start()
    rebuilder.request({"a"})
    assert done.get(timeout=10) == {"a"}
    started = time.monotonic()
    assert done.get(timeout=10) == {"*"}  # the time came: no edit, every page reloaded
    assert time.monotonic() - started >= 0.4
    time.sleep(1.5)  # the second build named no time: nothing more
    assert builder.builds == 2 and done.empty()
    rebuilder.stop()
    rebuilder.join(10)


def test_a_time_already_past_is_built_for_once_a_second_at_most() -> None:
    """A build that answers with a time already gone (its clock was set back) is not
    asked again in a loop."""
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    builder = TimedBuilder([past] * 100)
    rebuilder = Rebuilder(builder, lambda result, changed: None)  # type: ignore[arg-type]
    rebuilder.start()
    rebuilder.request({"a"})
    time.sleep(2.5)
    rebuilder.stop()
    rebuilder.join(10)
    assert 2 <= builder.builds <= 4
