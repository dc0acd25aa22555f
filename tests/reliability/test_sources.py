"""Odd source files: unreadable folders and files, FIFOs and sockets, link loops.

Each is an error naming the file (exit 1, no traceback), never a silent gap in the site
and never a hang.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import SEEDS, run, write_post

BROADSHEET = [sys.executable, "-m", "broadsheet"]
# Root reads every file whatever its mode, through these two capabilities: a build run
# without them meets the permissions a normal user would.
NO_OVERRIDE = "-dac_override,-dac_read_search"


def _unprivileged() -> list[str]:
    """The prefix that runs a command without root's power to read anything."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root, and setpriv (util-linux) is missing to drop root's")
    return [setpriv, f"--bounding-set={NO_OVERRIDE}", f"--inh-caps={NO_OVERRIDE}"]


def as_user(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_unprivileged(), *BROADSHEET, *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _denied(project: Path, path: Path) -> None:
    """chmod 000 `path`, and make sure that the command really cannot read it."""
    path.chmod(0)
    probe = [*_unprivileged(), sys.executable, "-c", f"open({str(path)!r}).close()"]
    if path.is_dir():
        probe[-1] = f"import os; os.listdir({str(path)!r})"
    result = subprocess.run(probe, cwd=project, capture_output=True, text=True)
    if result.returncode == 0:
        pytest.skip("this system lets the build read a chmod 000 file: cannot test it")


@pytest.fixture
def seeded_site(seeded: Path) -> Path:
    assert run(["build", "--quiet"]).code == 0
    return seeded


UNREADABLE = [
    "content/asia",
    "static/js",
    "templates",
    "content/america/does-us-afghanistan-policy-have-a-future.md",
    "static/js/search.js",
    "templates/article.html",
]


@pytest.mark.parametrize("relative", UNREADABLE)
def test_an_unreadable_source_is_an_error_naming_it(seeded_site: Path, relative: str) -> None:
    """After a good build (its cache remembers every file), `chmod 000` on a source folder
    or file: `build` and `check` fail naming it, and the last site stays."""
    before = (seeded_site / "site/index.html").read_bytes()
    target = seeded_site / relative
    try:
        _denied(seeded_site, target)
        for command in (["build"], ["check"]):
            result = as_user(seeded_site, *command)
            assert result.returncode == 1, (command, result.stdout, result.stderr)
            assert f"{relative}: cannot read this" in result.stdout + result.stderr, command
            assert "Traceback" not in result.stderr
    finally:
        target.chmod(0o755 if target.is_dir() else 0o644)
    assert (seeded_site / "site/index.html").read_bytes() == before
    assert as_user(seeded_site, "build").returncode == 0


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()


@pytest.mark.parametrize("make", [_fifo, _socket], ids=["fifo", "socket"])
@pytest.mark.parametrize("relative", ["content/asia/x.md", "static/js/x.js", "templates/x.html"])
def test_a_file_that_is_not_a_file_is_an_error(project: Path, make: object, relative: str) -> None:
    """A FIFO is never opened (opening one waits for a writer for ever)."""
    write_post(project, "asia/a.md", "---\ntitle: A\n---\n\nText.\n")
    assert callable(make)
    make(project / relative)
    for command in (["build"], ["check"]):
        result = subprocess.run(
            [*BROADSHEET, *command], cwd=project, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 1, result
        assert f"{relative}: is a " in result.stdout + result.stderr
        assert "not a file" in result.stdout + result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize("relative", ["content/loop.md", "content/asia/loop", "static/loop"])
def test_a_link_loop_in_a_source_folder(project: Path, relative: str) -> None:
    write_post(project, "asia/a.md", "---\ntitle: A\n---\n\nText.\n")
    (project / relative).symlink_to(project / relative)
    for command in (["build"], ["check"]):
        result = run(command)
        assert result.code == 1
        assert f"{relative}: is a symbolic link that loops" in result.err + result.out


@pytest.mark.parametrize("option", ["--output", "--content"])
def test_a_link_loop_given_as_a_folder(project: Path, option: str) -> None:
    (project / "loop").symlink_to(project / "loop")
    result = subprocess.run(
        [*BROADSHEET, "build", option, "loop"], cwd=project, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "loop: is a symbolic link that loops back on itself" in result.stderr


def test_check_with_content_loop(project: Path) -> None:
    (project / "loop").symlink_to(project / "loop")
    for command in (["check", "--content", "loop"], ["import", "--content", "loop", *SEEDS]):
        result = subprocess.run(
            [*BROADSHEET, *map(str, command)], cwd=project, capture_output=True, text=True
        )
        assert result.returncode == 1, command
        assert "Traceback" not in result.stderr
        assert "loop: is a symbolic link that loops back on itself" in result.stderr


@pytest.mark.parametrize("folder", ["tags", "archive", "search", "authors", "page", "sitemaps"])
def test_a_section_folder_named_like_a_site_page(project: Path, folder: str) -> None:
    write_post(project, "asia/a.md", "---\ntitle: A\n---\n\nText.\n")
    write_post(project, f"{folder}/one.md", "---\ntitle: One\n---\n\nText.\n")
    write_post(project, f"{folder}/two.md", "---\ntitle: Two\n---\n\nText.\n")
    expected = f"content/{folder}: cannot be a section: its URL /{folder}/ belongs to the"
    built, checked = run(["build"]), run(["check"])
    assert built.code == 1 and built.err.count(expected) == 1, built.err
    assert checked.code == 1 and checked.out.count(expected) == 1, checked.out


@pytest.mark.parametrize(
    ("folder", "hint"), [("feed.xml", "feed-xml"), ("Big News", "big-news"), ("x.md", "xmd")]
)
def test_a_section_folder_whose_name_is_no_slug(project: Path, folder: str, hint: str) -> None:
    """Not "section contradicts its folder" at line 1 of a post that has no section."""
    write_post(project, f"{folder}/one.md", "---\ntitle: One\n---\n\nText.\n")
    expected = (
        f"content/{folder}: cannot be a section: a section's folder name is its URL, and "
        f"must be a slug; rename the folder to '{hint}'"
    )
    built, checked = run(["build"]), run(["check"])
    assert built.code == 1 and expected in built.err, built.err
    assert checked.code == 1 and expected in checked.out, checked.out
    assert "contradicts" not in built.err + checked.out


def test_a_post_replaced_by_a_fifo_after_the_walk_is_not_waited_for(tmp_path: Path) -> None:
    """A file that became a FIFO between the walk and the read (or before a page reads
    its body again) is an error at once, not a read that waits for ever."""
    from zoneinfo import ZoneInfo

    from broadsheet.content.loader import read_post
    from broadsheet.errors import BroadsheetError
    from broadsheet.paths import read_source

    post_file = tmp_path / "content/asia/a.md"
    post_file.parent.mkdir(parents=True)
    post_file.write_text("---\ntitle: A\n---\n\nText.\n")
    post = read_post(post_file, tmp_path / "content", ZoneInfo("UTC"))
    post_file.unlink()
    os.mkfifo(post_file)
    for read in (
        lambda: read_post(post_file, tmp_path / "content", ZoneInfo("UTC")),
        lambda: dataclasses.replace(post, body_text=None).body,
        lambda: read_source(post_file),
    ):
        with pytest.raises(BroadsheetError, match="named pipe"):
            read()


def test_a_post_replaced_by_a_folder_after_the_walk_is_an_error_naming_it(
    tmp_path: Path,
) -> None:
    from broadsheet.errors import BroadsheetError
    from broadsheet.paths import read_source
    from broadsheet.sealed import read_file

    post_file = tmp_path / "a.md"
    post_file.mkdir()
    with pytest.raises(BroadsheetError, match=r"a\.md: is a folder, not a file"):
        read_source(post_file)
    assert read_file(post_file) is None  # (the build cache's reads: nothing to trust)


def test_serve_reports_odd_sources_and_recovers(project: Path, tmp_path: Path) -> None:
    """The dev server's builder: a FIFO, a link out and a link loop each show as an
    error naming them, and removing them brings the site back."""
    from broadsheet.serve.devbuild import DevBuilder, DevResult

    write_post(project, "asia/a.md", "---\ntitle: A\n---\n\nText.\n")
    (project / ".env").write_text("SECRET")
    odd = {
        "content/asia/x.md": lambda p: os.mkfifo(p),
        "static/env.txt": lambda p: p.symlink_to("../.env"),
        "templates/loop.html": lambda p: p.symlink_to(p),
    }
    dev = DevBuilder(project, tmp_path / "dev")

    def rebuild() -> DevResult:
        """A rebuild, given a generous bound: a FIFO once made it wait for ever."""
        done: list[DevResult] = []
        thread = threading.Thread(target=lambda: done.append(dev.rebuild()), daemon=True)
        thread.start()
        thread.join(120)
        assert done, "the rebuild still waits after 120 s"
        return done[0]

    try:
        assert rebuild().ok
        for relative, make in odd.items():
            make(project / relative)
            result = rebuild()
            assert not result.ok and f"{relative}: is a" in result.error, result
            (project / relative).unlink()
            assert rebuild().ok
        assert not (tmp_path / "dev/env.txt").exists()
    finally:
        dev.close()


@pytest.mark.parametrize(
    "name", [b"content/asia/bad\xff.md", b"content/sec\xfe/a.md", b"static/odd\xff.txt"]
)
def test_a_file_name_that_is_not_utf8(project: Path, name: bytes) -> None:
    """Bytes that are not UTF-8 in a name: an error naming it, not a UnicodeEncodeError."""
    write_post(project, "asia/a.md", "---\ntitle: A\n---\n\nText.\n")
    path = os.fsencode(project) + b"/" + name
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(b"---\ntitle: Odd\n---\n\nText.\n")
    shown = os.path.dirname(name).decode() + "/" if b"sec" not in name else "content/"
    for command in (["build"], ["check"]):
        result = subprocess.run(
            [*BROADSHEET, *command], cwd=project, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert f"{shown}" in result.stdout + result.stderr
        assert "its name is not UTF-8 text" in result.stdout + result.stderr


def test_a_read_only_folder_in_the_last_site_is_named_not_a_traceback(seeded: Path) -> None:
    """A folder of site/ left read-only (by a `sudo` build, say): the new site goes in
    place; the last one cannot be removed, and the error names the folder, in one line,
    at once and in the next build, until it is made writable."""
    assert run(["build"]).code == 0
    shutil.rmtree(seeded / ".broadsheet-cache")  # a cold build: a new site in place whole
    (seeded / "site/asia").chmod(0o555)
    try:
        for _ in range(2):
            result = as_user(seeded, "build")
            assert result.returncode == 1, result.stderr
            assert "Traceback" not in result.stderr
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
            assert result.stderr.startswith("error: .site.building/tree/asia/"), result.stderr
    finally:
        for path in seeded.rglob("*"):
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
    assert run(["build"]).code == 0
    assert not (seeded / ".site.building").exists()
    assert (seeded / "site/index.html").is_file()
