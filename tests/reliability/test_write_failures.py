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
        # Root ignores file permissions, so the refusal comes from the system call itself.
        from broadsheet import files as writer

        def refuse(source: object, target: object) -> None:
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
