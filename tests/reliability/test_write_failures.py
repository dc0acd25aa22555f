"""A write that fails (permission denied, disk full) gives a clear error; the site stays."""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run
from tests.reliability.helpers import BUILD, leftovers, site_of


def fill_disk_at(limit: int):  # type: ignore[no-untyped-def]
    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # so the write fails instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_file_size


def test_a_full_disk_fails_cleanly_and_keeps_the_site(seeded: Path) -> None:
    assert run(["build"]).code == 0
    before = site_of(seeded)
    for post in (seeded / "content").rglob("*.md"):
        post.write_text(post.read_text() + "\nMore.\n")
    result = subprocess.run(
        BUILD, cwd=seeded, capture_output=True, text=True, preexec_fn=fill_disk_at(6000)
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "File too large" in result.stderr and "error: " in result.stderr
    assert site_of(seeded) == before and leftovers(seeded) == []


def test_permission_denied_fails_cleanly_and_keeps_the_site(
    seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(["build"]).code == 0
    before = site_of(seeded)
    for post in (seeded / "content").rglob("*.md"):
        post.write_text(post.read_text() + "\nMore.\n")
    if os.geteuid() != 0:
        os.chmod(seeded, 0o555)  # no new folder may be made beside site/
    else:
        # Root ignores file permissions, so the refusal comes from the system call itself
        # (for the site: a cache it cannot write is built without, see test_full_cache_disk).
        from broadsheet import files as writer

        replace = os.replace

        def refuse(source: object, target: object) -> None:
            if ".broadsheet-cache" in Path(str(target)).parts:
                return replace(source, target)  # type: ignore[arg-type]
            raise PermissionError(errno.EACCES, "Permission denied", str(target))

        monkeypatch.setattr(writer.os, "replace", refuse)
    try:
        result = run(["build"])
    finally:
        os.chmod(seeded, 0o755)
    assert result.code == 1
    assert "Permission denied" in result.err and result.err.startswith("error: ")
    assert "Traceback" not in result.err
    assert site_of(seeded) == before and leftovers(seeded) == []


def test_a_write_that_fails_halfway_through_the_commit_undoes_it(
    seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit's pages are moved into the site one by one: one that cannot be (a folder
    made read-only, say) puts back those moved before it, and the site stays the last,
    whole, never a mix; the error names the site's file, not the stage's."""
    from broadsheet.publish import output_dir
    from tests.reliability.helpers import clean_build

    assert run(["build"]).code == 0
    before = site_of(seeded)
    post = next((seeded / "content/asia").glob("afraid-of-the-gun*.md"))
    post.write_text(post.read_text().replace("title: ", "title: A new headline ", 1))
    (seeded / "content/asia/aaa-new-story.md").write_text(  # new folders in the site
        "---\ntitle: A new story\ndate: 2021-05-01\n---\n\nText.\n"
    )
    real, moved = os.replace, []

    def refuse_the_search_index(source: object, target: object) -> None:
        if ".site.building/tree" in str(source) and str(target).startswith(str(seeded / "site")):
            moved.append(target)
            if "/site/search/" in str(target):  # (moved in after the pages)
                raise PermissionError(errno.EPERM, "Operation not permitted", str(source))
        real(source, target)  # type: ignore[arg-type]

    monkeypatch.setattr(output_dir.os, "replace", refuse_the_search_index)
    result = run(["build"])
    monkeypatch.setattr(output_dir.os, "replace", real)
    assert result.code == 1 and "Traceback" not in result.err
    assert len(moved) > 3 and "aaa-new-story" in str(moved)  # some had been moved in
    refused = Path(str(moved[-1])).relative_to(seeded / "site")
    assert result.err.startswith(f"error: site/{refused}")
    assert "cannot write the site: Operation not permitted" in result.err
    assert site_of(seeded) == before and leftovers(seeded) == []
    folders = [p for p in (seeded / "site").rglob("*") if p.is_dir()]
    assert [p for p in folders if not any(p.iterdir())] == []  # none the commit made
    assert run(["build"]).code == 0
    assert site_of(seeded) == clean_build(seeded)


def test_a_stage_whose_marker_the_disk_could_not_hold_is_cleared(
    seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills as the build marks its stage: the build fails, leaves nothing in
    the way, and the next one (space freed) builds. A marker cut short by an older
    build, which the lock file names, is cleared too."""
    from broadsheet.publish import output_dir

    assert run(["build"]).code == 0
    before = site_of(seeded)
    post = next((seeded / "content/asia").glob("*.md"))
    post.write_text(post.read_text() + "\nOne more line.\n")

    class Full:
        def __init__(self, *args: object, **kwargs: object) -> None:
            self.handle = open(*args, **kwargs)  # type: ignore[call-overload]  # noqa: SIM115

        def __enter__(self) -> Full:
            return self

        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

    monkeypatch.setattr(output_dir, "open", Full, raising=False)
    result = run(["build"])
    monkeypatch.delattr(output_dir, "open")
    assert result.code == 1 and "No space left on device" in result.err
    assert site_of(seeded) == before and leftovers(seeded) == []
    # As an older Broadsheet left it: an empty marker, the lock file naming its build.
    stage = seeded / ".site.building"
    stage.mkdir()
    (stage / ".broadsheet-build").write_text("")
    build = "0123456789abcdef0123456789abcdef"
    (seeded / ".site.lock").write_text(f"broadsheet build lock\nstage {build}\n")
    result = run(["build"])
    assert result.code == 0, result.err
    assert "warning" not in result.err and leftovers(seeded) == []
