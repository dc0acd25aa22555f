"""The build cache's hashes of the sources (what a fresh clone's build compares, its
files' times all new) come from the bytes the build read to parse the posts: a cold
build reads no post file a second time to hash it."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from broadsheet import stamps
from broadsheet.config import load_config
from broadsheet.publish.cache import CACHE_DIR, cache_path, load_cache
from tests.publish.test_deploy import Deploy, built, cold, deployed, fresh_clone, git
from tests.publish.test_incremental import warm
from tests.sitecheck import tree_bytes

__all__ = ["deployed"]  # (the fixture, shared with the deploy tests)


def test_a_cold_build_hashes_its_posts_as_it_reads_them(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    later = time.time_ns() + 2 * stamps.RACY_NS
    monkeypatch.setattr(stamps, "_clock", lambda: later)  # no file is racy (else hashed)
    content = str(small / "content") + os.sep
    read: list[str] = []
    real = stamps.content_hash
    monkeypatch.setattr(stamps, "content_hash", lambda p, *a: read.append(p) or real(p, *a))
    warm(small)
    assert [path for path in read if path.startswith(content) and path.endswith(".md")] == []
    cache = load_cache(cache_path(load_config(small), (small / "site").resolve()))
    assert cache is not None
    assert cache.input_hashes.keys() == cache.inputs.keys()
    for name, recorded in cache.input_hashes.items():
        assert recorded == real(str(small / name)), name


def test_a_deploy_with_a_post_in_windows_line_endings_rewrites_nothing(
    deployed: Deploy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its digest is of its text as normalised, not of its bytes: a fresh clone's
    build must still find it unchanged, and the site as a cold build makes it."""
    project = deployed.project
    post = project / "content/asia/crlf.md"
    post.write_bytes(b"---\r\ntitle: Windows\r\ndate: 2019-05-05\r\n---\r\n\r\nLine one.\r\n")
    (project / ".gitattributes").write_text("*.md -text\n")  # its bytes kept as they are
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", "a post from Windows", cwd=project)
    built(project, deployed.first, monkeypatch)
    saved = project.parent / "actions-cache"
    shutil.rmtree(saved)
    for name in (CACHE_DIR, "site"):
        shutil.copytree(project / name, saved / name, symlinks=True)
    clone = fresh_clone(project, monkeypatch)
    assert (clone / "content/asia/crlf.md").read_bytes().count(b"\r\n") == 6
    later = deployed.first + 1
    result = built(clone, later, monkeypatch)
    assert tree_bytes(clone / "site") == cold(clone, later, monkeypatch)
    assert result.written == 0
