"""A build stopped, or refused a write, while it saves the posts it parsed (the files of
posts, then the stamps' file that names them: see broadsheet.content.store) never
leaves a later build a post beside the stamp of other bytes: each build that completes
gives the site a cold build gives, byte for byte. Found by an adversarial review: an
edit, a build stopped between the two writes, the edit undone within the clock's tick."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadsheet.config import load_config
from broadsheet.content import store
from broadsheet.publish.pipeline import build
from tests.conftest import lay_out
from tests.publish.test_cache import _CoarseClock, _post_edit
from tests.publish.test_incremental import cold, warm
from tests.sitecheck import tree_bytes


@contextmanager
def failing_write(
    monkeypatch: pytest.MonkeyPatch, at: int | None = None, how: str = "stop"
) -> Iterator[None]:
    """The post cache's writes, the `at`-th of them (from 0; the stamps' file when None)
    stopped (Ctrl-C, SIGTERM, a kill) or refused (a full disk)."""
    writes = [0]
    real_whole, real_parts = store.write_sealed, store.write_sealed_parts

    def fail_here(path: Path) -> None:
        writes[0] += 1
        if (path.name == store.STAMPS) if at is None else writes[0] == at + 1:
            if how == "stop":
                raise KeyboardInterrupt
            raise OSError(28, "No space left on device")

    def whole(path: Path, payload: bytes) -> None:
        fail_here(path)
        real_whole(path, payload)

    def parts(path: Path, parts: list[bytes]) -> str:
        fail_here(path)
        return real_parts(path, parts)

    with monkeypatch.context() as patch:
        patch.setattr(store, "write_sealed", whole)
        patch.setattr(store, "write_sealed_parts", parts)
        yield


def _another_edit(project: Path) -> None:
    """An edit elsewhere, so that the next build is not a no-op."""
    other = sorted(project.glob("content/*/*.md"))[0]
    other.write_text(other.read_text() + "\nMore.\n")


@pytest.mark.parametrize("where", ["title", "body"])
def test_an_edit_undone_in_the_tick_after_a_stopped_build(
    small: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """The stopped build wrote the edited post, not the stamps' file: the post is not
    read beside the old stamp, which the undone file matches again (before the fix,
    every later build failed with "the file changed during the build")."""
    _CoarseClock(monkeypatch)  # 1-2 s timestamps: a same-size edit keeps every time
    warm(small)
    post, old, new = _post_edit(small, where)
    original = post.read_text()
    post.write_text(original.replace(old, new, 1))  # in place, same size, same tick
    with failing_write(monkeypatch), pytest.raises(KeyboardInterrupt):
        warm(small)
    post.write_text(original)  # undone, within the same tick
    _another_edit(small)
    warm(small)
    assert tree_bytes(small / "site") == cold(small)


def test_an_undone_schedule_does_not_leave_the_article_out(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The undone edit scheduled the post centuries ahead (same size: 20xx -> 29xx):
    kept beside the old stamp, it would have been left out silently, no page reading
    its body."""
    _CoarseClock(monkeypatch)
    warm(small)
    post = sorted(small.glob("content/*/*.md"))[5]
    original = post.read_text()
    assert "\ndate: 20" in original
    post.write_text(original.replace("\ndate: 20", "\ndate: 29", 1))
    with failing_write(monkeypatch), pytest.raises(KeyboardInterrupt):
        warm(small)
    post.write_text(original)
    _another_edit(small)
    warm(small)
    assert tree_bytes(small / "site") == cold(small)


# Sequences of changes to the posts and of builds, some stopped or refused a write.
STEP = st.one_of(
    st.tuples(st.sampled_from(["title", "grow", "date", "revert", "rename"]), st.integers(0, 50)),
    st.tuples(st.sampled_from(["delete", "copy", "readd"]), st.integers(0, 50)),
    st.tuples(st.just("build"), st.just(0)),
    st.tuples(st.sampled_from(["stop", "refuse"]), st.integers(0, 3)),
)


def _run(tmp: Path, steps: list[tuple[str, int]], coarse: bool) -> None:
    from benchmarks.corpus import write_corpus

    project = lay_out(tmp / "project")
    write_corpus(project / "content", 6)
    patch = pytest.MonkeyPatch()
    try:
        patch.chdir(project)
        if coarse:
            _CoarseClock(patch)
        warm(project)
        first: dict[str, str] = {}  # path -> the first text it had
        gone: list[tuple[Path, str]] = []
        for name, n in steps:
            if name in ("build", "stop", "refuse"):
                try:
                    if name == "build":
                        warm(project)
                    else:
                        with failing_write(patch, n, name):
                            warm(project)
                except KeyboardInterrupt:
                    continue
                out = project.parent / "cold"
                shutil.rmtree(out, ignore_errors=True)
                build(load_config(project), output=out, use_cache=False, jobs=1)
                assert tree_bytes(project / "site") == tree_bytes(out), steps
                continue
            _change(project, name, n, first, gone)
    finally:
        patch.undo()


def _change(
    project: Path, name: str, n: int, first: dict[str, str], gone: list[tuple[Path, str]]
) -> None:
    posts = sorted(project.glob("content/*/*.md"))
    if name == "readd":
        if gone and not gone[-1][0].exists():
            path, text = gone.pop()
            path.write_text(text)
        return
    if not posts:
        return
    post = posts[n % len(posts)]
    text = post.read_text()
    first.setdefault(str(post), text)
    if name == "title":
        line = next(x for x in text.splitlines() if x.startswith("title:"))
        word = next((w for w in line.split() if len(w) >= 5 and w.isalpha()), None)
        if word:
            swapped = "Qzzzz" if word[:5] != "Qzzzz" else "Wyyyy"
            post.write_text(text.replace(line, line.replace(word[:5], swapped, 1), 1))
    elif name == "grow":
        post.write_text(text + "\nA line more.\n")
    elif name == "date":
        flip = (
            ("\ndate: 20", "\ndate: 29") if "\ndate: 20" in text else ("\ndate: 29", "\ndate: 20")
        )
        post.write_text(text.replace(*flip, 1))
    elif name == "revert":
        post.write_text(first[str(post)])
    elif name == "rename":
        target = post.with_name(f"r{n}-{post.name}")
        if not target.exists():
            post.rename(target)
    elif name == "delete":
        gone.append((post, text))
        post.unlink()
    elif name == "copy":
        target = post.with_name(f"c{n}-{post.name}")
        if not target.exists():
            shutil.copy2(post, target)  # (cp -p: its times too)


@pytest.mark.parametrize("coarse", [True, False], ids=["coarse clock", "real clock"])
@settings(
    max_examples=int(os.environ.get("STOPS_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=1, max_size=10))
def test_any_sequence_of_changes_and_stopped_builds_builds_as_a_cold_build(
    tmp_path_factory: pytest.TempPathFactory, coarse: bool, steps: list[tuple[str, int]]
) -> None:
    _run(tmp_path_factory.mktemp("steps"), steps, coarse)


@pytest.mark.parametrize("coarse", [True, False], ids=["coarse clock", "real clock"])
def test_the_sequence_the_review_found(tmp_path: Path, coarse: bool) -> None:
    """An edit, a build stopped at the stamps' file, the edit undone, another edit."""
    steps = [("title", 1), ("stop", 1), ("revert", 1), ("grow", 2), ("build", 0)]
    _run(tmp_path, steps, coarse)
