"""A deploy after a deploy, each from a fresh clone: the sources Git's index vouches for
(see broadsheet.publish.checkout) are not read again, only those pushed since; a
file changed behind Git's back, a damaged record of the blobs, or no Git at all, and
every source is read as before. The site is a cold build's every time."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from broadsheet import gitindex, stamps
from broadsheet.content import loader
from broadsheet.publish.cache import CACHE_DIR, load_cache
from broadsheet.publish.checkout import BLOBS, vouch_entries_python
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
        return build_checkout(self.project, self.saved, epoch, self.monkeypatch, meanwhile)

    def push(self, edit: str = "A correction, pushed.") -> str:
        """An article edited and committed in the origin: its path."""
        article = sorted((self.origin / "content/europe").glob("*.md"))[0]
        text = article.read_text(encoding="utf-8")
        article.write_text(text.replace("\n\n", f"\n\n{edit}\n\n", 1), encoding="utf-8")
        git("commit", "-q", "-am", edit, cwd=self.origin)
        return article.relative_to(self.origin).as_posix()


def build_checkout(
    project: Path,
    saved: Path,
    epoch: int,
    monkeypatch: pytest.MonkeyPatch,
    meanwhile: object = None,
) -> list[str]:
    """The rest of a workflow's run once Git has checked `project` out: the CI cache
    restored from `saved` (if it was saved yet), a build at `epoch` (a new process),
    the cache saved; the sources it read, to hash or to parse (relative to the project).
    `meanwhile(project)` is called before the build."""
    # Git's entries for the files written in its index's own tick are racy (see
    # broadsheet.gitindex): a few of a runner's checkout, all of so small a clone.
    # `git status` a tick later refreshes them, as Git does before it trusts them.
    time.sleep(0.05)
    git("status", "--short", cwd=project)
    for name in (CACHE_DIR, "site"):
        if (saved / name).exists():
            shutil.copytree(saved / name, project / name, symlinks=True)
    monkeypatch.chdir(project)
    if callable(meanwhile):
        meanwhile(project)
    stamps.HASHED.clear()  # (a new process)
    # (kept in a file: any of the build's processes may read)
    log = project.parent / "sources-read.log"
    log.unlink(missing_ok=True)
    digest, parse = stamps.content_hash, loader.read_source

    def note(relative: str) -> None:
        with log.open("a", encoding="utf-8") as out:
            out.write(f"{relative}\n")

    def counted(path: str, *args: object) -> str:
        relative = Path(path).relative_to(project).as_posix()
        if relative.startswith(SOURCES):
            note(relative)
        return digest(path, *args)  # type: ignore[arg-type]

    def parsed(path: Path) -> bytes:
        note(path.relative_to(project).as_posix())
        return parse(path)

    with monkeypatch.context() as patch:
        patch.setattr(stamps, "content_hash", counted)
        patch.setattr(loader, "read_source", parsed)
        built(project, epoch, monkeypatch)
    read = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    for name in (CACHE_DIR, "site"):
        shutil.rmtree(saved / name, ignore_errors=True)
        shutil.copytree(project / name, saved / name, symlinks=True)
    return read


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
    judged: list[str] = []  # the posts kept from the cache but judged by their file again
    same = loader._same
    with monkeypatch.context() as patch:
        patch.setattr(loader, "_same", lambda c, s: judged.append(c[1].path.name) or same(c, s))
        read = runner.run(deployed.first + 2 * DAY)
    assert set(read) == {edited}  # (parsed; and hashed once, for the next deploy)
    assert judged == [Path(edited).name]  # (the others: by the hash the cache checked)
    assert tree_bytes(runner.project / "site") == cold(
        runner.project, deployed.first + 2 * DAY, monkeypatch
    )
    # and the one after: nothing pushed, nothing read
    assert runner.run(deployed.first + 2 * DAY) == []
    # What the cache keeps of every source: its stamp, and (`racy`) the hash of its bytes
    # taken at that stamp (so that a later edit within the same tick is seen).
    (where,) = (runner.project / CACHE_DIR).glob("build-*.json")
    cache = load_cache(where)
    assert cache is not None and cache.inputs.keys() == sources_of(runner.project)
    assert {len(stamp) for stamp in cache.inputs.values()} == {5 if racy else 4}


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
    log = project.parent / "index-read.log"  # (read in the output check's process too)
    index = gitindex.read_index

    def logged(folder: Path) -> dict[str, gitindex.Entry]:
        with log.open("a", encoding="utf-8") as out:
            out.write(f"{folder}\n")
        return index(folder)

    def reads() -> list[str]:
        return log.read_text(encoding="utf-8").splitlines() if log.exists() else []

    monkeypatch.setattr(gitindex, "read_index", logged)
    monkeypatch.setattr("broadsheet.publish.checkout.read_index", logged)
    for n in range(2):
        article.write_text(article.read_text() + f"\nEdit {n}.\n")
        built(project, deployed.first, monkeypatch)
    assert reads() == []
    time.sleep(0.01)
    git("commit", "-q", "-am", "edits", cwd=project)  # (the index written since)
    built(project, deployed.first, monkeypatch)
    assert reads() == [str(project)]


def unlike_cold(project: Path, epoch: int, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files of the site that differ from a cold build's."""
    site = tree_bytes(project / "site")
    expected = cold(project, epoch, monkeypatch)
    shutil.rmtree(project.parent / f"cold-{epoch}")
    return sorted(n for n in expected.keys() | site.keys() if site.get(n) != expected.get(n))


def settings(monkeypatch: pytest.MonkeyPatch, given: dict[str, str]) -> None:
    """Git settings for every git command from now on (as a runner's may differ)."""
    monkeypatch.setenv("GIT_CONFIG_COUNT", str(len(given)))
    for n, (key, value) in enumerate(given.items()):
        monkeypatch.setenv(f"GIT_CONFIG_KEY_{n}", key)
        monkeypatch.setenv(f"GIT_CONFIG_VALUE_{n}", value)


@pytest.mark.parametrize("once_configured", [False, True])
def test_a_filter_that_writes_a_blob_as_other_bytes_has_every_source_read(
    deployed: Deploy,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    once_configured: bool,
) -> None:
    """A clean and smudge filter that keeps the size, configured for one deploy's clone
    and not for those before it (the review's): one blob, other bytes. Where the
    attributes name a filter, the index vouches for nothing, whichever settings ran."""
    runner = Runner(deployed, monkeypatch, racy=False)
    article = sorted((runner.origin / "content/europe").glob("*.md"))[0]
    article.write_text(article.read_text().replace("\n\n", "\n\nzzfilterzz\n\n", 1))
    (runner.origin / ".gitattributes").write_text("*.md filter=big\n")
    git("add", "-A", cwd=runner.origin)
    git("commit", "-q", "-m", "Markdown through a filter", cwd=runner.origin)
    filtered = {"filter.big.smudge": "sed s/zzfilterzz/ZZFILTERZZ/g"}
    filtered["filter.big.clean"] = "sed s/ZZFILTERZZ/zzfilterzz/g"
    if once_configured:
        settings(monkeypatch, filtered)
    runner.run(deployed.first + DAY)
    runner.run(deployed.first + DAY)
    if once_configured:
        settings(monkeypatch, {})
    else:
        settings(monkeypatch, filtered)
    read = runner.run(deployed.first + DAY)
    assert set(read) >= sources_of(runner.project) - {".gitattributes"}
    assert unlike_cold(runner.project, deployed.first + DAY, monkeypatch) == []


def test_an_lfs_pointer_in_place_of_its_photo_is_not_taken_for_it(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A photo kept with Git LFS (its filter emulated: clean gives the pointer, smudge
    the photo), deployed with LFS, then once without (actions/checkout's `lfs: false`):
    the work tree holds the pointer, which is no image, and the build says so, as a
    cold build does (it published the last photo, taken by the blob the two share)."""
    from broadsheet.errors import BroadsheetError
    from tests.photos import photo_project

    photo_project(project)
    real, pointer = tmp_path / "real.png", tmp_path / "pointer.txt"
    shutil.copy(project / "content/asia/boats/nets.png", real)
    pointer.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 1\n")
    (project / ".gitignore").write_text("site/\n.broadsheet-cache/\n")
    (project / ".gitattributes").write_text("*.png filter=lfs\n")
    lfs = {"filter.lfs.smudge": f"cat {real}", "filter.lfs.clean": f"cat {pointer}"}
    settings(monkeypatch, lfs)
    git("init", "-q", "-b", "main", cwd=project)
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", "photos", cwd=project)
    built(project, 1_800_000_000, monkeypatch)
    saved = project.parent / "actions-cache"
    for name in (CACHE_DIR, "site"):
        shutil.copytree(project / name, saved / name, symlinks=True)
    runner = Runner(Deploy(project, 1_800_000_000), monkeypatch, racy=False)
    runner.run(1_800_000_000)
    runner.run(1_800_000_000)
    settings(monkeypatch, {})
    with pytest.raises(BroadsheetError):
        runner.run(1_800_000_000)
    assert (project / "content/asia/boats/nets.png").read_bytes().startswith(b"version ")


@pytest.mark.parametrize("photo", [False, True])
def test_a_file_written_while_the_build_hashes_it_is_kept_for_no_blob(
    deployed: Deploy,  # noqa: F811
    project_photos: Path,
    monkeypatch: pytest.MonkeyPatch,
    photo: bool,
) -> None:
    """The author's loop, the review's: a build just after `git checkout -- file` (the
    file racy), the file saved again between its stat and its read (a same-size typo
    fix; or a photo of another size). The hash of the bytes read is no fact about the
    blob of the entry: when `git checkout -- file` brings the blob back, its bytes are
    read, and the site is a cold build's."""
    from broadsheet import paths

    project = project_photos if photo else deployed.project
    monkeypatch.chdir(project)
    if photo:
        source = project / "content/asia/boats/nets.png"
        from tests.photos import png_bytes

        edited = png_bytes(64, 48, (20, 200, 30))
    else:
        source = sorted((project / "content/europe").glob("*.md"))[0]
        edited = source.read_bytes().replace(b" the ", b" THE ", 1)
    original = source.read_bytes()
    assert edited != original
    relative = str(source.relative_to(project))
    built(project, deployed.first, monkeypatch)  # (the last build's cache)

    def checkout() -> None:  # the file rewritten by Git, its index written after
        git("checkout", "--", relative, cwd=project)
        time.sleep(0.05)
        git("status", "--short", cwd=project)  # (a shell prompt's: no entry racy)

    source.unlink()
    checkout()
    real = paths.racy_hash

    def racing(path: str, stamp: list[object], known: object) -> str:
        if path == str(source):
            source.write_bytes(edited)
        return real(path, stamp, known)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(paths, "racy_hash", racing)
        built(project, deployed.first, monkeypatch)
    built(project, deployed.first, monkeypatch)  # (the edit, as it is)
    checkout()  # the author throws the edit away
    assert source.read_bytes() == original
    built(project, deployed.first, monkeypatch)
    assert unlike_cold(project, deployed.first, monkeypatch) == []


@pytest.fixture
def project_photos(tmp_path: Path) -> Path:
    """A committed project with photos (beside `deployed`'s, in its own folder)."""
    from tests.conftest import lay_out
    from tests.photos import photo_project

    root = lay_out(tmp_path / "photos")
    photo_project(root)
    (root / ".gitignore").write_text("site/\n.broadsheet-cache/\n")
    git("init", "-q", "-b", "main", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "photos", cwd=root)
    return root


@pytest.mark.parametrize("layout", ["subfolder", "sha256", "version 4", "worktree", "submodule"])
def test_each_layout_of_a_repository_reads_only_the_sources_pushed_since(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    """The deploy after a deploy (the review's), from a project in a subfolder of its
    repository, a SHA-256 repository, an index of version 4, a linked work tree and a
    submodule: it reads the article pushed since, the next reads nothing, and the site
    is a cold build's."""
    from benchmarks.corpus import write_corpus
    from tests.conftest import lay_out

    monkeypatch.setattr(stamps, "_clock", lambda: time.time_ns() + stamps.RACY_NS + 10**9)
    origin = tmp_path / "origin"
    below = "deep/site" if layout in ("subfolder", "submodule") else "."
    origin.mkdir()
    git(
        "init", "-q", "-b", "main", *(["--object-format=sha256"] * (layout == "sha256")), cwd=origin
    )
    if layout == "version 4":
        git("config", "index.version", "4", cwd=origin)
    root = lay_out(origin / below)
    write_corpus(root / "content", 8)
    (root / ".gitignore").write_text("/site/\n/.broadsheet-cache/\n")
    git("add", "-A", cwd=origin)
    git("commit", "-q", "-m", "one", cwd=origin)
    work, saved, epoch = tmp_path / "work", tmp_path / "saved", 1_900_000_000

    def deploy() -> tuple[Path, list[str]]:
        if work.exists():
            shutil.rmtree(work)
        if layout == "worktree":
            shutil.rmtree(tmp_path / "main", ignore_errors=True)
            git("clone", "-q", str(origin), str(tmp_path / "main"), cwd=tmp_path)
            git("worktree", "add", "-q", str(work), cwd=tmp_path / "main")
        elif layout == "submodule":
            work.mkdir()
            git("init", "-q", cwd=work)
            allow = ["-c", "protocol.file.allow=always"]
            git(*allow, "submodule", "add", "-q", str(origin), "module", cwd=work)
        else:
            git("clone", "-q", str(origin), str(work), cwd=tmp_path)
        project = (work / "module" / below) if layout == "submodule" else (work / below)
        return project, build_checkout(project, saved, epoch, monkeypatch)

    deploy()
    deploy()
    article = sorted((root / "content").rglob("*.md"))[0]
    article.write_text(article.read_text().replace("\n\n", "\n\nPushed.\n\n", 1))
    git("commit", "-q", "-am", "two", cwd=origin)
    project, read = deploy()
    assert set(read) <= {article.relative_to(root).as_posix()}
    assert unlike_cold(project, epoch, monkeypatch) == []
    assert deploy()[1] == []


def same_size(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text and len(old) == len(new)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("racy", [False, True])
def test_an_authors_git_commands_never_leave_a_page_stale(
    deployed: Deploy,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    racy: bool,
) -> None:
    """An author's work tree through Git (the review's): branches, stash, checkout of
    a file, an edit whose time is set back then added, reset, rebase, renames (by Git
    and behind its back), each edit of the same size; after each, a build (Git's index
    read, its blobs known) whose site is a cold build's."""
    import os

    if not racy:
        monkeypatch.setattr(stamps, "_clock", lambda: time.time_ns() + stamps.RACY_NS + 10**9)
    project = deployed.project
    monkeypatch.chdir(project)
    one, two = sorted((project / "content").rglob("*.md"))[:2]

    def check(step: str) -> None:
        time.sleep(0.02)
        git("status", "--short", cwd=project)
        stamps.HASHED.clear()  # (a new process)
        built(project, deployed.first, monkeypatch)
        assert unlike_cold(project, deployed.first, monkeypatch) == [], step

    git("checkout", "-q", "-b", "other", cwd=project)
    same_size(one, " the ", " THE ")
    git("commit", "-q", "-am", "other", cwd=project)
    check("a commit on another branch")
    git("checkout", "-q", "main", cwd=project)
    check("back to main")
    git("checkout", "-q", "other", cwd=project)
    check("to the other branch again")
    git("checkout", "-q", "main", cwd=project)
    same_size(one, " the ", " ThE ")
    git("stash", "-q", cwd=project)
    check("stash")
    git("stash", "pop", "-q", cwd=project)
    check("stash pop")
    git("checkout", "--", str(one), cwd=project)
    check("checkout of the file")
    before = two.stat()
    same_size(two, " the ", " tHe ")
    os.utime(two, ns=(before.st_atime_ns, before.st_mtime_ns))
    git("add", str(two), cwd=project)
    check("an edit with its time set back, then added")
    git("reset", "-q", "--hard", cwd=project)
    check("reset --hard")
    git("rebase", "-q", "other", cwd=project)
    check("rebase")
    git("mv", str(one), str(one.with_name("renamed.md")), cwd=project)
    check("git mv")
    os.rename(two, one)
    check("a file renamed over another behind Git's back")
    git("checkout", "-q", "-f", "main", cwd=project)
    check("checkout -f")


def test_a_filters_commands_in_the_settings_alone_leave_the_index_trusted(
    deployed: Deploy,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GitHub's runners have Git LFS's filter in /etc/gitconfig (its package runs `git
    lfs install --system`): with no attributes file naming it, it filters nothing, and
    the deploy still reads only the article pushed since."""
    lfs = {"filter.lfs.smudge": "git-lfs smudge -- %f", "filter.lfs.clean": "git-lfs clean -- %f"}
    settings(monkeypatch, {**lfs, "filter.lfs.process": "git-lfs filter-process"})
    runner = Runner(deployed, monkeypatch, racy=False)
    runner.run(deployed.first + DAY)
    edited = runner.push()
    assert set(runner.run(deployed.first + 2 * DAY)) == {edited}


@pytest.mark.parametrize(
    "where", ["parent folder", "repository", "user", "named by an included setting"]
)
def test_an_attributes_file_that_names_a_filter_stops_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    from broadsheet.gitindex import read_index
    from broadsheet.publish.checkout import may_filter

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    top = tmp_path / "repository"
    root = top / "site"
    (root / "content").mkdir(parents=True)
    (root / "content/one.md").write_text("---\ntitle: One\n---\n\nOne.\n")
    git("init", "-q", cwd=top)
    git("add", "-A", cwd=top)
    git("commit", "-q", "-m", "one", cwd=top)
    entries = read_index(root)
    assert entries and not may_filter(root, entries)
    rule = "*.md filter=crypt\n"
    if where == "parent folder":
        (top / ".gitattributes").write_text(rule)
    elif where == "repository":
        (top / ".git/info").mkdir(exist_ok=True)
        (top / ".git/info/attributes").write_text(rule)
    elif where == "user":
        (home / ".config/git").mkdir(parents=True)
        (home / ".config/git/attributes").write_text(rule)
    else:
        (home / ".gitconfig").write_text("[include]\n\tpath = more.gitconfig\n")
        (home / "more.gitconfig").write_text("[core]\n\tattributesFile = ~/rules\n")
        (home / "rules").write_text(rule)
    assert may_filter(root, entries)


def test_ident_switched_on_has_every_source_read(
    deployed: Deploy,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`ident` writes a `$Id: <40 hex> $` already in a blob with the blob's own id: the
    same blob and size, other bytes (the second review's). Here the clone is built as a
    runner builds it, with no `git status` after it, in a repository large enough that
    its sources are written well before the index (not racy)."""
    foreign = "$Id: 0123456789012345678901234567890123456789 $"
    runner = Runner(deployed, monkeypatch, racy=False)
    real = git
    monkeypatch.setattr(
        "tests.publish.test_checkout.git",
        lambda *args, cwd: args[0] == "status" or real(*args, cwd=cwd),
    )
    padding = runner.origin / "padding"
    padding.mkdir()
    for n in range(4000):
        (padding / f"{n:05}.txt").write_text(f"{n}\n")
    article = sorted((runner.origin / "content/europe").glob("*.md"))[0]
    article.write_text(article.read_text().replace("\n\n", f"\n\nRevision {foreign}\n\n", 1))
    git("add", "-A", cwd=runner.origin)
    git("commit", "-q", "-m", "an id", cwd=runner.origin)
    runner.run(deployed.first + DAY)
    runner.run(deployed.first + DAY)  # (the blobs' hashes kept)
    (runner.origin / ".gitattributes").write_text("*.md ident\n")
    git("add", ".gitattributes", cwd=runner.origin)
    git("commit", "-q", "-m", "ident", cwd=runner.origin)
    runner.run(deployed.first + DAY)
    assert foreign not in (runner.project / article.relative_to(runner.origin)).read_text()
    assert unlike_cold(runner.project, deployed.first + DAY, monkeypatch) == []


def test_a_tracked_attributes_file_whose_entry_is_racy_is_read(
    deployed: Deploy,  # noqa: F811
) -> None:
    """content/.gitattributes, tracked, written in the index's own tick (as the last
    files of a checkout are): its entry vouches for nothing, but it is read, and it
    names a working-tree encoding (the second review's)."""
    from broadsheet.publish.checkout import Checkout

    project = deployed.project
    attributes = project / "content/.gitattributes"
    attributes.write_text("*.md working-tree-encoding=UTF-16LE\n")
    git("add", "content/.gitattributes", cwd=project)
    git("commit", "-q", "-m", "attributes", cwd=project)
    future = time.time() + 60  # (its entry racy: not older than the index)
    os.utime(attributes, (future, future))
    git("update-index", "content/.gitattributes", cwd=project)
    assert gitindex.read_index(project) and os.path.join("content", ".gitattributes") not in (
        gitindex.read_index(project)
    )
    assert Checkout(project, project / CACHE_DIR).entries == {}


@pytest.mark.parametrize("racy", [False, True])
def test_a_deploy_after_a_deploy_reads_no_photo_again(
    deployed: Deploy,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    racy: bool,
) -> None:
    """A photo's hash, vouched for by Git's index, reaches the image stage unread (a
    post's goes to the cache's comparison alone: see Checkout.vouch). And `racy` (built
    the moment the clone is done, as benchmarks/run.py builds): every source is hashed
    for its stamp, and the image stage has the photos' hashes all the same."""
    from broadsheet.images import store
    from tests.photos import photo_project

    photo_project(deployed.project)
    bundle = deployed.project / "content/asia/boats/index.md"  # (shown by the first deploy)
    bundle.write_text(bundle.read_text().replace("2025-02-01", "2021-01-01"))
    git("add", "-A", cwd=deployed.project)
    git("commit", "-q", "-m", "photos", cwd=deployed.project)
    runner = Runner(deployed, monkeypatch, racy=racy)
    runner.run(deployed.first + DAY)
    text = (runner.origin / "content/asia/boats/index.md").read_text()  # (its page and
    edited = text.replace("a third day.", "a fourth day.")  # photo looked at again)
    (runner.origin / "content/asia/boats/index.md").write_text(edited)
    git("commit", "-q", "-am", "A correction", cwd=runner.origin)
    photos: list[str] = []
    read = store.read_source
    with monkeypatch.context() as patch:
        patch.setattr(store, "read_source", lambda path: photos.append(path.name) or read(path))
        read = runner.run(deployed.first + DAY)
    assert racy or read == ["content/asia/boats/index.md"]
    assert photos == []
    assert list((runner.project / "site/media").glob("*.jpg"))  # (the photo, published)


_BLOBS = ("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391", "ab" * 20, "cd" * 32)
_INTS = st.one_of(st.integers(-3, 3), st.integers(0, 2**32 + 2), st.integers(2**31, 2**62))
_BEYOND = st.sampled_from([2**63 - 1, -(2**63), 2**63, 2**64, -(2**64)])  # (64 bits, and past)


Sources = tuple[dict[str, Any], dict[str, str], dict[str, Any], dict[str, Any]]
_NAMES = [f"content/a/{n}.md" for n in range(6)] + ["static/x.jpg"]


@st.composite
def _sources(draw: st.DrawFn) -> Sources:
    """Index entries, the blobs' known hashes, the last build's stamps and this one's, as
    a deploy has them, with entries that hold and that do not, racy stamps, sizes of 0,
    and ints past 64 bits."""
    entries: dict[str, Any] = {}
    known: dict[str, str] = {}
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(_NAMES), unique=True)):
        size, mtime, change, inode = (draw(_INTS) for _ in range(4))
        if draw(st.integers(0, 15)) == 0:  # (now and then, an int at 64 bits or past)
            size, mtime = draw(st.sampled_from([(draw(_BEYOND), mtime), (size, draw(_BEYOND))]))
        blob = draw(st.sampled_from(_BLOBS))
        stamp = draw(
            st.sampled_from(
                [
                    [size, mtime, change, inode],
                    [size + 1, mtime, change, inode],
                    [size, mtime, change + 1, inode],
                    [size, mtime, change, inode + 1],
                ]
            )
        )
        stamp += draw(st.sampled_from([[], ["a racy one's hash"]]))
        low = draw(st.booleans())  # (as Git keeps them: the low 32 bits)
        held = (size & 0xFFFFFFFF if low else size, mtime, mtime + change, inode & 0xFFFFFFFF)
        if draw(st.booleans()):
            entries[name] = (blob, *held)
        if draw(st.booleans()):
            known[f"{blob} {held[0]}"] = f"hash of {name}"
        if draw(st.booleans()):
            old[name] = draw(st.sampled_from([stamp[:4], [0, 0, 0, 0]]))
        new[name] = stamp
    return entries, known, old, new


_BLOB, _EMPTY = "ab" * 20, _BLOBS[0]  # (a blob, and that of no bytes)


@given(_sources())
@example(({"a.md": (_BLOB, 5, 10, 12, 7)}, {f"{_BLOB} 5": "h"}, {}, {"a.md": [5, 10, 2, 7, "r"]}))
@example(({"a.md": (_BLOB, 5, 10, 12, 7)}, {f"{_BLOB} 5": "h"}, {}, {"a.md": [5, 10, 2, 7]}))
@example(({"a.md": (_BLOB, 5, 10, 12, 7)}, {f"{_BLOB} 5": "h"}, {}, {"a.md": [5, 10, 2, 8]}))
@example(({"a.md": (_BLOB, 0, 10, 12, 7)}, {f"{_BLOB} 0": "h"}, {}, {"a.md": [0, 10, 2, 7]}))
@example(
    ({"a.md": (_BLOBS[0], 0, 10, 12, 7)}, {f"{_BLOBS[0]} 0": "h"}, {}, {"a.md": [0, 10, 2, 7]})
)
@example(  # (a change time that wraps past 64 bits to the entry's: not held)
    (
        {"a.md": (_BLOB, 5, 2**63 - 1, 1 - 2**63, 7)},
        {f"{_BLOB} 5": "h"},
        {},
        {"a.md": [5, 2**63 - 1, 2, 7]},
    )
)
def test_the_compiled_vouching_agrees_with_its_twin(sources: Sources) -> None:
    """The compiled loop (broadsheet/_files.c) gives what the Python one gives, or
    leaves them to it (None) where an int is past 64 bits."""
    from broadsheet._files import vouch_entries

    found = vouch_entries(*sources)
    if found is not None:
        assert found == vouch_entries_python(*sources)
    else:
        ints = [v for e in sources[0].values() for v in e[1:]]
        ints += [v for s in sources[3].values() for v in s[:4]]
        assert any(not -(2**63) <= v < 2**63 for v in ints) or any(
            not -(2**63) <= s[1] + s[2] < 2**63 for s in sources[3].values()
        )


def test_the_install_built_the_compiled_vouching() -> None:
    from broadsheet import _files
    from broadsheet.publish import checkout

    assert checkout._vouch_entries is _files.vouch_entries


def test_the_compiled_vouching_leaves_what_it_does_not_take_to_its_twin() -> None:
    """A mapping that is not a plain dict is the twin's to judge (its own get); a name
    whose comparison empties the stamps as they are judged (found by review: the
    compiled loop then used a freed stamp, under AddressSanitizer) is judged or
    refused, never read after it is gone."""
    from broadsheet._files import vouch_entries

    class Entries(dict[str, Any]):
        def get(self, key: str, default: Any = None) -> Any:
            return None

    entries, known = {"a.md": (_BLOB, 5, 10, 12, 7)}, {f"{_BLOB} 5": "h"}
    assert vouch_entries(Entries(entries), known, {}, {"a.md": [5, 10, 2, 7]}) is None
    assert vouch_entries(entries, known, {}, {"a.md": [5, 10, 2, 7]}) == (
        {"a.md": "h"},
        {f"{_BLOB} 5": "h"},
        {},
    )
    new: dict[str, Any] = {}

    class Emptying(str):
        __hash__ = str.__hash__

        def __eq__(self, other: object) -> bool:
            new.clear()
            return str.__eq__(self, other)

    new[Emptying("a.md")] = [5, 10, 2, 7]
    try:
        found = vouch_entries(entries, known, {}, new)
    except RuntimeError:  # (a dict changed as it was read: as the twin would say)
        found = None
    assert found is None or found[1] == {f"{_BLOB} 5": "h"}
