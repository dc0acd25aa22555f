"""Helpers for fault tests: a project on disk and a build run as a separate process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.sitecheck import tree_bytes

BUILD = [sys.executable, "-m", "broadsheet", "build"]


def start_build(project: Path, *extra: str, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*BUILD, *extra],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,  # type: ignore[arg-type]
    )


def wait_until(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


def rendering(project: Path, files: int = 50) -> Callable[[], bool]:
    """True once a build's stage holds some rendered pages: it is mid-render."""
    stage = project / ".site.building" / "tree"

    def check() -> bool:
        try:
            return sum(1 for _ in stage.rglob("index.html")) >= files
        except OSError:
            return False

    return check


def site_of(project: Path) -> dict[str, bytes]:
    return tree_bytes(project / "site")


def leftovers(project: Path) -> list[str]:
    """Half-built or set-aside trees beside the site (the lock file stays, by design)."""
    return sorted(
        p.name for p in project.iterdir() if p.name.startswith(".site.") and p.name != ".site.lock"
    )


def world_readable(root: Path) -> None:
    for directory, _folders, files in os.walk(root):
        os.chmod(directory, 0o755)
        for name in files:
            os.chmod(Path(directory, name), 0o644)


def change_every_post(project: Path, mark: str = "Changed.") -> None:
    """Add (or, given again, take away) a paragraph in every post: every page changes."""
    for post in (project / "content").rglob("*.md"):
        text = post.read_text()
        added = f"\n\n{mark}\n\n"
        post.write_text(
            text.replace(added, "\n\n", 1) if added in text else text.replace("\n\n", added, 1)
        )


def clean_build(project: Path, name: str = "clean") -> dict[str, bytes]:
    """What a cold build of the project's sources makes, in a folder of its own."""
    from broadsheet.config import load_config
    from broadsheet.publish.pipeline import build

    output = project.parent / name
    build(load_config(project), output=output, use_cache=False, jobs=2)
    return tree_bytes(output)
