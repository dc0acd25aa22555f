"""A deploy after a deploy, each from a fresh clone: the sources Git's index vouches for
(see broadsheet.publish.checkout) are not read again, only those pushed since; a
file changed behind Git's back, a damaged record of the blobs, or no Git at all, and
every source is read as before. The site is a cold build's every time."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from broadsheet import gitindex, stamps
from broadsheet.content import loader
from broadsheet.publish.cache import CACHE_DIR
from broadsheet.publish.checkout import BLOBS
from tests.publish.test_deploy import DAY, Deploy, built, cold, deployed, git  # noqa: F401
from tests.sitecheck import tree_bytes

SOURCES = ("content", "templates", "static", "pyproject.toml")


class Runner:
    """The workflow's runs, one after another: a clone of `origin` in the same
    workspace, the CI cache restored, a build (a new process each), the cache saved."""

    def __init__(self, deploy: Deploy, monkeypatch: pytest.MonkeyPatch, racy: bool) -> None:
        self.origin = deploy.project.with_name("origin")
        deploy.project.rename(self.origin)
        self.project = deploy.project
        self.saved = deploy.project.parent / "actions-cache"
        self.monkeypatch = monkeypatch
        if not racy:  # as on a runner: the checkout is seconds old when the build starts
            monkeypatch.setattr(stamps, "_clock", lambda: time.time_ns() + stamps.RACY_NS + 10**9)

    def run(self, epoch: int, meanwhile: object = None) -> list[str]:
        """A deploy at `epoch`; the sources it read, to hash or to parse (relative to the
        project)."""
        if self.project.exists():
            shutil.rmtree(self.project)
        git("clone", "-q", str(self.origin), str(self.project), cwd=self.origin.parent)
        # Git's entries for the files written in its index's own tick are racy (see
        # broadsheet.gitindex): a few of a runner's checkout, all of so small a clone.
        # `git status` a tick later refreshes them, as Git does before it trusts them.
        time.sleep(0.05)
        git("status", "--short", cwd=self.project)
        for name in (CACHE_DIR, "site"):
            shutil.copytree(self.saved / name, self.project / name, symlinks=True)
        self.monkeypatch.chdir(self.project)
        if callable(meanwhile):
            meanwhile(self.project)
        stamps.HASHED.clear()  # (a new process)
        read: list[str] = []
        digest = stamps.content_hash

        def counted(path: str, *args: object) -> str:
            relative = Path(path).relative_to(self.project).as_posix()
            if relative.startswith(SOURCES):
                read.append(relative)
            return digest(path, *args)  # type: ignore[arg-type]

        parse = loader.read_source

        def parsed(path: Path) -> bytes:
            read.append(path.relative_to(self.project).as_posix())
            return parse(path)

        with self.monkeypatch.context() as patch:
            patch.setattr(stamps, "content_hash", counted)
            patch.setattr(loader, "read_source", parsed)
            built(self.project, epoch, self.monkeypatch)
        for name in (CACHE_DIR, "site"):
            shutil.rmtree(self.saved / name)
            shutil.copytree(self.project / name, self.saved / name, symlinks=True)
        return read

    def push(self, edit: str = "A correction, pushed.") -> str:
        """An article edited and committed in the origin: its path."""
        article = sorted((self.origin / "content/europe").glob("*.md"))[0]
        text = article.read_text(encoding="utf-8")
        article.write_text(text.replace("\n\n", f"\n\n{edit}\n\n", 1), encoding="utf-8")
        git("commit", "-q", "-am", edit, cwd=self.origin)
        return article.relative_to(self.origin).as_posix()


def sources_of(project: Path) -> set[str]:
    return {
        p.relative_to(project).as_posix()
        for name in SOURCES
        for p in [project / name, *(project / name).rglob("*")]
        if p.is_file()
    }


@pytest.mark.parametrize("racy", [False, True])
def test_a_deploy_after_a_deploy_reads_only_the_sources_pushed_since(
    deployed: Deploy,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    racy: bool,
) -> None:
    """The first deploy with a cache reads every source and keeps which blob hashed to
    what; the next reads only the article pushed since (`racy`: built the moment the
    clone is done, each source hashed for its stamp, as benchmarks/run.py does)."""
    runner = Runner(deployed, monkeypatch, racy)
    first = runner.run(deployed.first + DAY)
    assert set(first) == sources_of(runner.project)
    assert (runner.project / CACHE_DIR / BLOBS).is_file()
    edited = runner.push()
    read = runner.run(deployed.first + 2 * DAY)
    assert set(read) == {edited}  # (parsed; and hashed once, for the next deploy)
    assert tree_bytes(runner.project / "site") == cold(
        runner.project, deployed.first + 2 * DAY, monkeypatch
    )
    # and the one after: nothing pushed, nothing read
    assert runner.run(deployed.first + 2 * DAY) == []


def test_a_source_changed_behind_gits_back_is_read_and_built(
    deployed: Deploy,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An article rewritten after the checkout, to the same size, its modification time
    set back to the one Git took: its change time shows it, so it is read, and its
    page is the new text's."""
    runner = Runner(deployed, monkeypatch, racy=False)
    runner.run(deployed.first + DAY)
    name = sorted((runner.origin / "content/asia").glob("*.md"))[0].relative_to(runner.origin)

    def rewrite(project: Path) -> None:
        path = project / name
        before = path.stat()
        text = path.read_text(encoding="utf-8")
        changed = text.replace("the", "THE", 1)
        assert changed != text and len(changed) == len(text)
        path.write_text(changed, encoding="utf-8")
        import os

        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    read = runner.run(deployed.first + 2 * DAY, meanwhile=rewrite)
    assert set(read) == {name.as_posix()}  # (hashed, then parsed)
    assert tree_bytes(runner.project / "site") == cold(
        runner.project, deployed.first + 2 * DAY, monkeypatch
    )


def test_a_damaged_record_of_the_blobs_has_every_source_read(
    deployed: Deploy,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runner = Runner(deployed, monkeypatch, racy=False)
    runner.run(deployed.first + DAY)
    record = runner.saved / CACHE_DIR / BLOBS
    data = bytearray(record.read_bytes())
    data[len(data) // 2] ^= 1
    record.write_bytes(bytes(data))
    edited = runner.push()
    read = runner.run(deployed.first + 2 * DAY)
    assert set(read) == sources_of(runner.project) and edited in read
    assert tree_bytes(runner.project / "site") == cold(
        runner.project, deployed.first + 2 * DAY, monkeypatch
    )
    assert runner.run(deployed.first + 2 * DAY) == []  # (kept again)


def test_an_edit_between_commits_does_not_read_the_index(
    deployed: Deploy,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An author's loop: builds after edits, no Git command between them, read no index
    (only one written since the build cache is)."""
    project = deployed.project
    article = sorted((project / "content/europe").glob("*.md"))[0]
    reads: list[Path] = []
    index = gitindex.read_index
    monkeypatch.setattr(gitindex, "read_index", lambda f: reads.append(f) or index(f))
    monkeypatch.setattr(
        "broadsheet.publish.checkout.read_index", lambda f: reads.append(f) or index(f)
    )
    for n in range(2):
        article.write_text(article.read_text() + f"\nEdit {n}.\n")
        built(project, deployed.first, monkeypatch)
    assert reads == []
    time.sleep(0.01)
    git("commit", "-q", "-am", "edits", cwd=project)  # (the index written since)
    built(project, deployed.first, monkeypatch)
    assert reads == [project]
