"""Two builds into one output never mix: the second waits, and says so."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.corpus import write_corpus
from broadsheet.config import load_config
from broadsheet.publish.pipeline import build
from tests.reliability.helpers import clean_build, leftovers, site_of, start_build, wait_until
from tests.sitecheck import tree_bytes


def test_a_second_build_waits_for_the_first(project: Path) -> None:
    write_corpus(project / "content", 20)
    lock = project / ".site.lock"
    with lock.open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a running build holds it
        process = start_build(project)
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "another build of site/ is running; waiting" in line
        assert process.poll() is None and not (project / "site").exists()
        fcntl.flock(held, fcntl.LOCK_UN)
    assert process.wait(timeout=120) == 0


def test_two_builds_at_once_give_one_whole_site(project: Path) -> None:
    write_corpus(project / "content", 60)
    first, second = start_build(project), start_build(project)
    assert first.wait(timeout=300) == 0 and second.wait(timeout=300) == 0
    build(load_config(project), output=project / "cold", use_cache=False, jobs=1)
    assert site_of(project) == tree_bytes(project / "cold")
    assert leftovers(project) == []


def test_serve_and_build_use_different_folders(project: Path) -> None:
    # serve builds into a private temporary folder, so a manual build never meets it.
    from broadsheet.serve.devbuild import DevBuilder

    write_corpus(project / "content", 10)
    process = start_build(project)
    dev = DevBuilder(project, project / ".." / "serve-out", {"base_url": "http://127.0.0.1:1/"})
    dev.output.mkdir()
    try:
        assert dev.rebuild().ok
    finally:
        dev.close()  # (its build process)
    assert process.wait(timeout=120) == 0
    wait_until(lambda: (project / "site/index.html").is_file())


WATCH = """
import os, sys
path, stop = sys.argv[1:]
missing = 0
print("watching", flush=True)
while not os.path.exists(stop):
    for _ in range(2000):
        if not os.path.exists(path):
            missing += 1
print(missing)
"""


def test_a_reader_never_finds_the_site_missing_while_a_new_one_is_swapped_in(
    project: Path,
) -> None:
    # As a web server over site/ would: between two renames it answered 404.
    write_corpus(project / "content", 8)
    config = load_config(project)
    build(config, jobs=1, use_cache=False)
    stop = project.parent / "stop"
    watcher = subprocess.Popen(
        [sys.executable, "-c", WATCH, str(project / "site" / "index.html"), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert watcher.stdout is not None and watcher.stdout.readline() == "watching\n"
    try:
        for _ in range(8):
            build(config, jobs=1, use_cache=False)  # each one a whole new tree, swapped in
    finally:
        stop.touch()
    assert watcher.communicate(timeout=60)[0] == "0\n"
    assert leftovers(project) == []


def test_where_folders_cannot_be_exchanged_two_renames_do(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from broadsheet.publish import output_dir

    monkeypatch.setattr(output_dir, "exchange", lambda first, second: False)
    write_corpus(project / "content", 8)
    config = load_config(project)
    build(config, jobs=1, use_cache=False)
    (project / "content/asia/new.md").write_text("---\ntitle: New\n---\n\nText.\n")
    build(config, jobs=1, use_cache=False)
    assert site_of(project) == clean_build(project)
    assert leftovers(project) == []
