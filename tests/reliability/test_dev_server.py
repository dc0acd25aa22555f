"""The dev server keeps drafts on this machine and never lists or serves outside its folder."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from broadsheet.serve.server import is_loopback, resolve_inside


def test_only_loopback_hosts_count_as_this_machine() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "192.168.1.5", "::", "example.org"))


def test_binding_elsewhere_prints_a_warning(seeded: Path) -> None:
    # 192.0.2.1 is a documentation address, on no machine: the bind fails, harmlessly.
    result = subprocess.run(
        [sys.executable, "-m", "broadsheet", "serve", "--host", "192.0.2.1", "--port", "0"],
        cwd=seeded,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "warning: serving on 192.0.2.1 makes your drafts visible" in result.stderr
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cannot listen on 192.0.2.1" in result.stderr


def test_requests_never_leave_the_output_folder(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "asia").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text("secret")
    (site / "link").symlink_to(tmp_path / "secret.txt")
    assert resolve_inside(site, "asia/") == (site / "asia").resolve()
    for hostile in ("../secret.txt", "asia/../../secret.txt", "link", "/../secret.txt", "a\0b"):
        assert resolve_inside(site, hostile) is None, hostile


def test_a_killed_servers_folder_is_removed_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from broadsheet.serve import server

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    sessions = {}
    for name, pid in (("killed", gone.pid), ("running", os.getpid()), ("pipe", None)):
        folder = tmp_path / f"broadsheet-serve-{name}"
        (folder / "site").mkdir(parents=True)
        if pid is None:
            os.mkfifo(folder / "serve.pid")  # never opened: it would block
        else:
            (folder / "serve.pid").write_text(f"{pid}\n")
        sessions[name] = folder
    (tmp_path / "broadsheet-serve-old").mkdir()  # an older version's: no serve.pid
    new = server._new_session()
    assert (new / "serve.pid").read_text() == f"{os.getpid()}\n"
    assert not sessions["killed"].exists()
    assert sessions["running"].exists() and sessions["pipe"].exists()
    assert (tmp_path / "broadsheet-serve-old").exists()
