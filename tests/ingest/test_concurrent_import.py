"""Imports, builds and `serve` share content/ through a lock: imports at once lose no
article, and a build waits for an import rather than read half of it."""

from __future__ import annotations

import fcntl
import os
import random
import select
import subprocess
import sys
from pathlib import Path

import pytest

from broadsheet.locks import content_lock
from tests.ingest.test_pages import body_paragraphs

HEADLINES = [f"Talks resume at the border {n}" for n in range(100)]


def raw_file(path: Path, tag: str) -> None:
    blocks = ["Connect with us"]
    for title in HEADLINES:
        blocks += ["ASIA", title, "Published", "on", f"{tag}: the story of {title}."]
    path.write_text("\n\n".join([*blocks, "MOST READ", "Turkey"]) + "\n", encoding="utf-8")


def start(project: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "broadsheet", *args],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def first_line(process: subprocess.Popen[str]) -> str:
    """The first line the process writes to stderr, or "" after a minute (no hang)."""
    assert process.stderr is not None
    ready, _, _ = select.select([process.stderr], [], [], 60)
    return process.stderr.readline() if ready else ""


def imported(project: Path) -> list[str]:
    return sorted(
        body_paragraphs(p.read_text(encoding="utf-8"))[0]
        for p in (project / "content").rglob("*.md")
    )


def test_imports_at_once_lose_no_article(project: Path) -> None:
    for tag in "ABC":
        raw_file(project / f"{tag}.txt", tag)
    expected = sorted(f"{tag}: the story of {t}." for tag in "ABC" for t in HEADLINES)
    rng = random.Random(2)
    for _ in range(4):
        for post in (project / "content").rglob("*"):
            if post.is_file():
                post.unlink()
        order = rng.sample("ABC", 3)
        processes = [start(project, "import", f"{tag}.txt") for tag in order]
        for process in processes:
            _, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
            assert "Traceback" not in err
        assert imported(project) == expected


def test_an_import_waits_for_a_reader_and_says_so(project: Path) -> None:
    raw_file(project / "a.txt", "A")
    content = project / "content"
    with content_lock(content, shared=True):
        process = start(project, "import", "a.txt")
        line = first_line(process)
        assert "waiting for a build or import reading content/ to finish" in line
        assert not list(content.rglob("*.md"))  # nothing written while the build reads
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert len(imported(project)) == len(HEADLINES)


def test_the_lock_is_on_content_itself_and_goes_with_the_process(project: Path) -> None:
    content = project / "content"
    with content_lock(content, shared=False):
        fd = os.open(content, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                raise AssertionError("content/ was not locked")
            except BlockingIOError:
                pass
        finally:
            os.close(fd)
    assert sorted(p.name for p in content.iterdir()) == []  # no lock file left behind


def test_a_build_waits_for_an_import_and_says_so(project: Path) -> None:
    raw_file(project / "a.txt", "A")
    with content_lock(project / "content", shared=False):
        process = start(project, "build", "--quiet")
        line = first_line(process)
        assert "waiting for an import into content/ to finish" in line
        assert not (project / "site").exists()
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err


def locked(content: Path) -> bool:
    """Whether someone holds the content lock (probed from a descriptor of our own)."""
    fd = os.open(content, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def test_a_build_reads_posts_under_the_lock(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from broadsheet.config import load_config
    from broadsheet.publish import assemble
    from broadsheet.publish.pipeline import build

    raw_file(project / "a.txt", "A")
    content = project / "content"
    seen: list[bool] = []
    reading = assemble.load_site

    def probe(*args: object, **kwargs: object) -> object:
        seen.append(locked(content))
        return reading(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(assemble, "load_site", probe)
    build(load_config(project), output=project / "site", use_cache=False, jobs=1)
    # (serve's builds are this build() too, run in its build process: tests/serve)
    assert seen == [True]
    assert not locked(content)  # and let go afterwards
