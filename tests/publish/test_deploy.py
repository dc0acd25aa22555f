"""The Pages workflow's build: a fresh clone, the build cache and site restored from the
CI cache, a new SOURCE_DATE_EPOCH, one article edited. It must match a cold build byte
for byte and write only the pages that differ; a cache it cannot trust is ignored."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broadsheet import stamps
from broadsheet.config import load_config
from broadsheet.publish.cache import (
    CACHE_DIR,
    cache_path,
    folders_path,
    load_cache,
    load_folders,
    stamp_tree,
)
from broadsheet.publish.pipeline import BuildResult, build
from tests.sitecheck import tree_bytes

DAY = 86_400


@dataclass(frozen=True)
class Deploy:
    project: Path
    first: int  # the last deploy's SOURCE_DATE_EPOCH: a day after the newest article


def git(*args: str, cwd: Path) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.test",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.test",
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def built(
    project: Path, epoch: int, monkeypatch: pytest.MonkeyPatch, **options: object
) -> BuildResult:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
    return build(load_config(project), jobs=1, **options)  # type: ignore[arg-type]


@pytest.fixture
def deployed(project: Path, monkeypatch: pytest.MonkeyPatch) -> Deploy:
    """A small archive, committed, with a post scheduled days after its newest, built
    as the last deploy did (its news sitemap lists the newest); its build cache and site
    saved aside as actions/cache saves them (a tar keeps modification times)."""
    from benchmarks.corpus import write_corpus

    articles = write_corpus(project / "content", 12)
    newest = max(datetime.fromisoformat(a.text.split("date: ")[1][:16]) for a in articles)
    first = datetime.combine(newest.date() + timedelta(days=1), datetime.min.time(), UTC)
    due = first + timedelta(days=3, hours=9)
    post = project / "content/asia/scheduled.md"
    post.write_text(f"---\ntitle: Due soon\ndate: {due:%Y-%m-%d %H:%M}\n---\n\nIt falls due.\n")
    (project / ".gitignore").write_text("site/\n.broadsheet-cache/\n")
    git("init", "-q", "-b", "main", cwd=project)
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", "archive", cwd=project)
    built(project, int(first.timestamp()), monkeypatch)
    saved = project.parent / "actions-cache"
    for name in (CACHE_DIR, "site"):
        shutil.copytree(project / name, saved / name, symlinks=True)
    return Deploy(project, int(first.timestamp()))


def fresh_clone(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clone in the runner's workspace (the same path each run), the cache restored."""
    old = project.with_name("previous-run")
    project.rename(old)
    git("clone", "-q", str(old), str(project), cwd=old.parent)
    for name in (CACHE_DIR, "site"):
        shutil.copytree(old.parent / "actions-cache" / name, project / name, symlinks=True)
    monkeypatch.chdir(project)
    return project


def edit_one_article(project: Path) -> Path:
    article = sorted((project / "content/europe").glob("*.md"))[0]
    text = article.read_text(encoding="utf-8")
    article.write_text(text.replace("\n\n", "\n\nA correction, added at deploy.\n\n", 1))
    return article


def cold(project: Path, epoch: int, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    out = project.parent / f"cold-{epoch}"
    built(project, epoch, monkeypatch, output=out, use_cache=False)
    return tree_bytes(out)


def test_a_deploy_from_a_fresh_clone_writes_only_the_pages_that_changed(
    deployed: Deploy, monkeypatch: pytest.MonkeyPatch
) -> None:
    last_site = tree_bytes(deployed.project / "site")
    project = fresh_clone(deployed.project, monkeypatch)
    edit_one_article(project)
    later = deployed.first + 4 * DAY  # the scheduled post is due; the news sitemap moves
    result = built(project, later, monkeypatch)
    expected = cold(project, later, monkeypatch)
    assert tree_bytes(project / "site") == expected
    changed = pages_changed(last_site, expected)
    assert "news-sitemap.xml" in changed and "asia/scheduled/index.html" in changed
    assert result.written == len(changed) < len(expected) // 3


def test_a_deploy_where_only_the_time_moved_rewrites_nothing(
    deployed: Deploy, monkeypatch: pytest.MonkeyPatch
) -> None:
    last_site = tree_bytes(deployed.project / "site")
    project = fresh_clone(deployed.project, monkeypatch)
    later = deployed.first + 1  # a second on: nothing falls due, nothing leaves the news
    result = built(project, later, monkeypatch)
    assert tree_bytes(project / "site") == cold(project, later, monkeypatch) == last_site
    assert result.written == 0
    later += 2 * DAY  # the newest article leaves the news sitemap: it alone changes
    result = built(project, later, monkeypatch)
    expected = cold(project, later, monkeypatch)
    assert tree_bytes(project / "site") == expected
    assert pages_changed(last_site, expected) == {"news-sitemap.xml", "robots.txt"}
    assert "news-sitemap.xml" not in expected  # removed, and robots.txt no longer names it
    assert result.written == 1


@pytest.mark.parametrize(
    "damage", ["corrupt", "other version", "other settings", "a page changed, same size"]
)
def test_a_cache_that_cannot_be_trusted_gives_a_cold_and_correct_build(
    deployed: Deploy, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    last_site = tree_bytes(deployed.project / "site")
    project = fresh_clone(deployed.project, monkeypatch)
    (cache_file,) = (project / CACHE_DIR).glob("build-*.json")
    if damage == "corrupt":
        data = bytearray(cache_file.read_bytes())
        data[len(data) // 2] ^= 0x20
        cache_file.write_bytes(bytes(data))
        for shard in (project / CACHE_DIR).rglob("*.json"):
            shard.write_bytes(shard.read_bytes()[:-7])
    elif damage == "a page changed, same size":  # the restored site is not the cache's
        page = project / "site/index.html"
        page.write_bytes(page.read_bytes().replace(b"<main", b"<MAIN", 1))
    elif damage == "other version":
        monkeypatch.setattr("broadsheet.codeversion._known", "0.0.1+another")
    else:
        settings = project / "pyproject.toml"
        settings.write_text(settings.read_text().replace("Test Archive", "Other Archive"))
    edit_one_article(project)
    later = deployed.first + 4 * DAY
    result = built(project, later, monkeypatch)
    expected = cold(project, later, monkeypatch)
    assert tree_bytes(project / "site") == expected
    if damage == "other settings":  # the site's title is on every page, not in robots.txt
        changed = pages_changed(last_site, expected)
        assert result.written == len(changed)
        assert {name for name in expected if name.endswith(".html")} <= changed
    else:
        assert result.written == result.pages  # cold: every page written afresh


def pages_changed(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    """The pages (the search index's data aside) that differ between two sites."""
    names = before.keys() | after.keys()
    index = {n for n in names if n.startswith("search/") and not n.endswith(".html")}
    return {n for n in names - index if before.get(n) != after.get(n)}


def test_a_fresh_clone_reads_each_unchanged_post_once(
    deployed: Deploy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every file of a fresh clone is new to the cache: a post whose bytes hash as its
    cached post's is not parsed, and the hash taken to tell is the one the build cache
    records (each post was read three times, twice normalised: 1.3 s of 2.3 at 10,000
    articles)."""
    from broadsheet import stamps
    from broadsheet.content import loader

    project = fresh_clone(deployed.project, monkeypatch)
    article = edit_one_article(project)
    posts = sorted(map(str, project.glob("content/*/*.md")))
    # Posts with a pound sign (its first byte may start what no page may hold).
    assert any("£" in Path(p).read_text(encoding="utf-8") for p in posts)
    parsed: list[str] = []
    hashed: list[str] = []
    read, digest = loader.read_source, stamps.content_hash
    monkeypatch.setattr(loader, "read_source", lambda path: parsed.append(str(path)) or read(path))
    monkeypatch.setattr(
        stamps, "content_hash", lambda path, *a: hashed.append(path) or digest(path, *a)
    )
    # As on a runner, the checkout is older than RACY_NS when the build starts: no stamp
    # carries a hash of its own.
    later = time.time_ns() + stamps.RACY_NS + 10**9
    monkeypatch.setattr(stamps, "_clock", lambda: later)
    built(project, deployed.first + 1, monkeypatch)
    assert parsed == [str(article)]
    times = Counter(hashed)
    assert all(times[p] == 1 for p in posts if p != str(article))  # each unchanged post once
    assert times[str(article)] <= 1  # (the edited one is hashed from the bytes parsed, or read)


def test_a_fresh_clone_writes_only_the_stamps_of_the_posts_it_did_not_parse(
    deployed: Deploy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The post cache's files are not written again for new times alone (every post
    was, at 0.13 s for 10,000), and the next build trusts the stamps kept: it neither
    parses nor reads any post."""
    from broadsheet import stamps
    from broadsheet.content import loader
    from broadsheet.content.store import STAMPS, shard_of

    project = fresh_clone(deployed.project, monkeypatch)
    article = edit_one_article(project)
    (folder,) = project.glob(f"{CACHE_DIR}/state-*/posts")
    before = {path.name: path.stat().st_ino for path in folder.iterdir()}
    later = time.time_ns() + stamps.RACY_NS + 10**9  # as on a runner: no file is racy
    monkeypatch.setattr(stamps, "_clock", lambda: later)
    built(project, deployed.first + 1, monkeypatch)
    after = {path.name: path.stat().st_ino for path in folder.iterdir()}
    edited = f"{shard_of(article.relative_to(project / 'content').as_posix())}.json"
    assert {name for name in before if after.get(name) != before[name]} == {edited, STAMPS}
    parsed: list[str] = []
    hashed: list[str] = []
    read, digest = loader.read_source, stamps.content_hash
    monkeypatch.setattr(loader, "read_source", lambda path: parsed.append(str(path)) or read(path))
    monkeypatch.setattr(
        stamps, "content_hash", lambda path, *a: hashed.append(path) or digest(path, *a)
    )
    result = built(project, deployed.first + 1, monkeypatch)
    assert result.written == 0
    assert parsed == [] and not [p for p in hashed if p.endswith(".md")]


@pytest.mark.parametrize("forked", [False, True])
def test_a_deploy_records_the_restored_site_as_its_check_found_it(
    deployed: Deploy, monkeypatch: pytest.MonkeyPatch, forked: bool
) -> None:
    """A restored site holds by its files' times, as tar put them back (every file is
    new to the file system: see stamps.is_restored), where the last build had found
    them restored too, and by their hashes otherwise (here, every file: the last build
    wrote them all; see the next test): the check reads those, and gives the stamps it
    took, so the build
    neither walks the site again nor reads a page (342 MB at 10,000 articles, each page
    racy as it was just restored); and those stamps are the site's own."""
    from broadsheet import stamps
    from broadsheet.publish import cache as cache_module
    from broadsheet.publish import pipeline

    project = fresh_clone(deployed.project, monkeypatch)
    edit_one_article(project)
    if not forked:  # checked in this process, where the hashes it takes can be counted

        def no_fork() -> int:
            raise OSError("no fork here")

        monkeypatch.setattr(cache_module, "fork", no_fork)
    site = f"{project / 'site'}{os.sep}"
    hashed: list[str] = []
    digest = stamps.content_hash
    monkeypatch.setattr(stamps, "content_hash", lambda p, *a: hashed.append(p) or digest(p, *a))
    walks: list[object] = []
    walk, below = pipeline.stamp_tree, cache_module._folders_below
    monkeypatch.setattr(pipeline, "stamp_tree", lambda *a, **k: walks.append(a) or walk(*a, **k))
    monkeypatch.setattr(cache_module, "_folders_below", lambda r: walks.append(r) or below(r))
    restored = {str(p) for p in (project / "site").rglob("*") if p.is_file()}
    last = load_cache(next((project / CACHE_DIR).glob("build-*.json")))
    assert last is not None
    unvouched = {site + n for n, s in last.output.items() if s[2] < stamps.RACY_NS}
    assert unvouched == restored  # (the last build wrote every page)
    later = deployed.first + 4 * DAY
    assert built(project, later, monkeypatch).written > 0
    assert walks == []
    pages = [p for p in hashed if p.startswith(site)]
    if not forked:  # read once, by the check: only the files their times cannot vouch for
        assert len(pages) == len(set(pages)) and set(pages) == unvouched
    else:
        assert pages == []  # (the check processes hashed them)
    # The stamps kept are the site's own (a racy one with its bytes' hash).
    (head,) = (project / CACHE_DIR).glob("build-*.json")
    kept = load_cache(head)
    assert kept is not None
    assert {name: stamp[:4] for name, stamp in kept.output.items()} == walk(project / "site")
    assert all(s[4] == digest(site + n) for n, s in kept.output.items() if len(s) > 4)
    assert load_folders(folders_path(head)) == {}  # (see the test below)
    assert not folders_path(head).exists()  # (so the next check runs in one process)
    assert built(project, later, monkeypatch).written == 0
    folders = {str(p.relative_to(project / "site")) for p in (project / "site").rglob("*/")}
    assert load_folders(folders_path(head)).keys() == {"", *folders} - {"."}
    assert tree_bytes(project / "site") == cold(project, later, monkeypatch)


def test_a_deploy_after_a_deploy_reads_only_the_pages_the_last_one_wrote(
    deployed: Deploy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workflow's every run but the first: the site restored is the one the last
    deploy found restored, and wrote a few pages into. Its files' times vouch for all
    the others (see stamps.is_restored), so the check reads only those few; the site
    is a cold build's. (RACY_NS made short, as a CI cache restores a site minutes after
    it was saved, not seconds.)"""
    from broadsheet import stamps
    from broadsheet.publish import cache as cache_module

    monkeypatch.setattr(stamps, "RACY_NS", 300_000_000)
    time.sleep(0.4)
    project = fresh_clone(deployed.project, monkeypatch)
    edit_one_article(project)
    built(project, deployed.first + DAY, monkeypatch)  # the last deploy: it read every page
    time.sleep(0.4)
    saved = project.parent / "actions-cache"
    for name in (CACHE_DIR, "site"):
        shutil.rmtree(saved / name)
        shutil.copytree(project / name, saved / name, symlinks=True)
    last = load_cache(next((project / CACHE_DIR).glob("build-*.json")))
    assert last is not None
    monkeypatch.chdir(project.parent)
    shutil.rmtree(project.with_name("previous-run"))
    project = fresh_clone(project, monkeypatch)
    edit_one_article(project)

    def no_fork() -> int:
        raise OSError("no fork here")

    monkeypatch.setattr(cache_module, "fork", no_fork)  # (checked here: its reads counted)
    site = f"{project / 'site'}{os.sep}"
    hashed: list[str] = []
    digest = stamps.content_hash
    monkeypatch.setattr(stamps, "content_hash", lambda p, *a: hashed.append(p) or digest(p, *a))
    later = deployed.first + 4 * DAY
    assert built(project, later, monkeypatch).written > 0
    pages = {p for p in hashed if p.startswith(site)}
    written_last = {site + n for n, s in last.output.items() if s[2] < stamps.RACY_NS}
    assert pages == written_last
    assert 0 < len(pages) < len(last.output) // 4
    assert tree_bytes(project / "site") == cold(project, later, monkeypatch)


@pytest.mark.parametrize("edited", [False, True])
def test_a_deploy_keeps_no_stamps_of_the_restored_sites_folders(
    deployed: Deploy, monkeypatch: pytest.MonkeyPatch, edited: bool
) -> None:
    """The clone and the restore, and an article `edited` or nothing (the same commit
    deployed again, or the time moved): the check's stamps of the files are kept, but
    none of the folders. The next deploy restores the site again, and then no folder's
    stamp holds (its change time and inode are new): taking them is no use in CI. The
    next deploy reads every folder, as this one did, and builds as a cold build does;
    a build on the site as it is (not restored) reads them once and stamps them, and
    the one after reads none."""
    from broadsheet.publish import cache as cache_module

    project = fresh_clone(deployed.project, monkeypatch)
    if edited:  # (committed: the next deploy's clone has it)
        edit_one_article(project)
        git("commit", "-q", "-am", "a correction", cwd=project)
    walks: list[object] = []
    below = cache_module._folders_below
    monkeypatch.setattr(cache_module, "_folders_below", lambda r: walks.append(r) or below(r))
    # (when edited, later: the scheduled post is due too; else the same moment)
    later = deployed.first + 4 * DAY if edited else deployed.first
    assert (built(project, later, monkeypatch).written > 0) == edited
    assert walks == []  # (the folders were not stamped)
    (head,) = (project / CACHE_DIR).glob("build-*.json")
    assert load_folders(folders_path(head)) == {}
    saved = project.parent / "actions-cache"  # saved by this deploy, for the next
    shutil.rmtree(saved)
    for name in (CACHE_DIR, "site"):
        shutil.copytree(project / name, saved / name, symlinks=True)
    shutil.rmtree(project.with_name("previous-run"))
    again = fresh_clone(project, monkeypatch)
    built(again, later + 1, monkeypatch)
    assert tree_bytes(again / "site") == cold(again, later + 1, monkeypatch)
    assert built(again, later + 1, monkeypatch).written == 0  # on the site as it is
    folders = {str(p.relative_to(again / "site")) for p in (again / "site").rglob("*/")}
    (head,) = (again / CACHE_DIR).glob("build-*.json")
    assert load_folders(folders_path(head)).keys() == {"", *folders} - {"."}
    walks.clear()
    assert built(again, later + 1, monkeypatch).written == 0
    assert walks == []


def test_a_stray_file_made_while_a_deploy_builds_is_removed_by_the_next_build(
    deployed: Deploy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file added to the site by hand after the check found the restored site as
    recorded, in a folder the build does not write to: the folders' stamps kept must
    not vouch for it (they did, and it stayed for good)."""
    from broadsheet.publish.cache import OutputCheck

    project = fresh_clone(deployed.project, monkeypatch)
    edit_one_article(project)
    stray = sorted((project / "site/oceania").glob("*/index.html"))[0].with_name("stray.html")
    holds = OutputCheck.holds

    def meanwhile(self: OutputCheck) -> bool:
        answer = holds(self)
        if not stray.exists():
            stray.write_text("made by hand while the build ran")
        return answer

    monkeypatch.setattr(OutputCheck, "holds", meanwhile)
    later = deployed.first + 4 * DAY
    built(project, later, monkeypatch)
    monkeypatch.setattr(OutputCheck, "holds", holds)
    assert stray.exists()
    built(project, later, monkeypatch)
    assert not stray.exists()
    assert tree_bytes(project / "site") == cold(project, later, monkeypatch)


def test_a_fresh_checkout_of_a_photo_project_is_a_no_op(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The image stage and the build cache hash a photo alike (found by review: the
    image stage put a blake2b hash where the cache took it for the file's, and every
    photo was encoded again on the next fresh checkout)."""
    from broadsheet import stamps
    from tests.photos import photo_project

    def settle() -> None:  # as on a runner: the checkout is safely old when it builds
        later = time.time_ns() + stamps.RACY_NS + 10**9
        monkeypatch.setattr(stamps, "_clock", lambda: later)

    photo_project(project)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    settle()
    build(load_config(project), jobs=1)
    stamps.HASHED.clear()  # (a new process)
    for path in project.rglob("*"):  # a fresh clone: every source rewritten, same bytes
        if path.is_file() and CACHE_DIR not in path.parts and "site" not in path.parts:
            data = path.read_bytes()
            path.unlink()
            path.write_bytes(data)
    settle()
    result = build(load_config(project), jobs=1)
    assert result.images_encoded == 0
    assert result.written == 0


def test_a_deploy_keeps_the_stamps_its_check_took_without_looking_through_them_again(
    deployed: Deploy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The restored site's stamps, as the output check took them (each just restored:
    racy, with its hash), are the ones recorded: the build does not go through them
    again to drop hashes none could have lost (23 ms of a deploy at 10,000 articles);
    and the next deploy, from them, rewrites only what changed."""
    from broadsheet.publish import pipeline

    project = fresh_clone(deployed.project, monkeypatch)
    site = project / "site"
    edit_one_article(project)
    settling: list[int] = []
    settle = pipeline.settled
    monkeypatch.setattr(
        pipeline, "settled", lambda s, racy: settling.append(len(s)) or settle(s, racy)
    )
    later = deployed.first + DAY
    began = time.time_ns()
    built(project, later, monkeypatch)
    assert settling == []
    assert tree_bytes(project / "site") == cold(project, later, monkeypatch)
    saved = load_cache(cache_path(load_config(project), site.resolve()))
    assert saved is not None
    assert {name: stamp[:4] for name, stamp in saved.output.items()} == stamp_tree(site)
    restored = [stamp for stamp in saved.output.values() if stamps.changed_at(stamp) < began]
    assert restored and all(len(stamp) == 5 for stamp in restored)  # (with its hash)
    again = built(project, later, monkeypatch)
    assert again.written == 0
