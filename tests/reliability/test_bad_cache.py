"""A bad build cache (truncated, random bytes, another version's, wrong in shape, or
pointing at output files that changed; or its rest, kept apart) is detected, ignored and
rebuilt: the output is byte-identical to a cold build."""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from broadsheet.cli import main
from broadsheet.config import load_config
from broadsheet.publish.cache import cache_path, rest_path
from broadsheet.sealed import seal, unseal
from tests.publish.test_incremental import bump, cold, edit, warm
from tests.sitecheck import tree_bytes


def _unsealed(path: Path) -> Any:
    payload = unseal(path.read_bytes())
    assert payload is not None
    return json.loads(payload)


@pytest.fixture
def few(project: Path) -> Path:
    """The project with 12 generated articles, two a section."""
    from benchmarks.corpus import write_corpus

    write_corpus(project / "content", 12)
    return project


def _state(project: Path) -> Path:
    where = cache_path(load_config(project), (project / "site").resolve())
    return where.with_name(where.stem.replace("build-", "state-", 1))


@pytest.mark.parametrize(
    "damage",
    [
        "truncated",
        "random bytes",
        "another version",
        "wrong shape",
        "output file deleted",
        "output file edited",
    ],
)
def test_a_bad_cache_is_ignored_and_the_output_equals_a_cold_build(
    corpus: Path, damage: str
) -> None:
    warm(corpus)
    config = load_config(corpus)
    path = cache_path(config, (corpus / "site").resolve())
    text = path.read_bytes().decode(errors="replace")
    page = corpus / "site/asia/index.html"
    if damage == "truncated":
        path.write_text(text[: len(text) // 2])
    elif damage == "random bytes":
        path.write_bytes(os.urandom(4096))
    elif damage == "another version":
        data = _unsealed(path)
        data["version"] = "0.0.0-" + data["version"]
        path.write_bytes(seal(json.dumps(data).encode()))
    elif damage == "wrong shape":
        data = _unsealed(path)
        data["output"] = {"index.html": 42}
        path.write_bytes(seal(json.dumps(data).encode()))
    elif damage == "output file deleted":
        page.unlink()
    else:
        page.write_text("tampered")
    edit(sorted((corpus / "content/asia").glob("*.md"))[0], "\n\n", "\n\nAn edit.\n\n")
    result = warm(corpus)
    assert result.unchanged == 0  # a cold build: nothing from the cache was used
    assert tree_bytes(corpus / "site") == cold(corpus)


@pytest.mark.parametrize(
    "damage", ["missing", "flipped byte", "wrong shape", "another build's", "a folder"]
)
def test_a_bad_rest_of_the_cache_is_taken_as_empty(corpus: Path, damage: str) -> None:
    """The pages' signatures and the files' hashes (kept apart, and named by their
    digest: see cache.BuildCache) are not trusted when they are not the cache's own:
    the site is built whole again (pages of a post deleted meanwhile go too: with no
    signatures, a build over the old site would not know them), and equals a cold
    build. Nothing changed, a build still does nothing (it needs none of them)."""
    warm(corpus)
    where = cache_path(load_config(corpus), (corpus / "site").resolve())
    rest = rest_path(where)
    post = sorted((corpus / "content/asia").glob("*.md"))[0]
    original = post.read_text()
    edited = original.replace("\n\n", "\n\nAn edit.\n\n", 1)
    if damage == "missing":
        rest.unlink()
    elif damage == "flipped byte":
        raw = bytearray(rest.read_bytes())
        raw[len(raw) // 2] ^= 0x01
        rest.write_bytes(bytes(raw))
    elif damage == "wrong shape":
        data = _unsealed(rest)
        data["pages"] = {"index.html": 42}
        rest.write_bytes(seal(json.dumps(data).encode()))
    elif damage == "another build's":  # one that signed the pages of the edit made below
        post.write_text(edited)
        warm(corpus)
        foreign = rest.read_bytes()
        post.write_text(original)
        warm(corpus)
        rest.write_bytes(foreign)  # whole and sealed: trusted, it would keep the old pages
    else:
        rest.unlink()
        (rest / "inside").mkdir(parents=True)
    assert warm(corpus).written == 0
    post.write_text(edited)
    sorted((corpus / "content/europe").glob("*.md"))[0].unlink()  # its pages must go
    warm(corpus)
    assert tree_bytes(corpus / "site") == cold(corpus)
    assert rest.is_file() and warm(corpus).written == 0


@pytest.mark.parametrize("damage", ["output file deleted", "output file edited"])
def test_a_changed_output_is_rebuilt_even_when_no_source_changed(corpus: Path, damage: str) -> None:
    warm(corpus)
    page = corpus / "site/asia/index.html"
    if damage == "output file deleted":
        page.unlink()
    else:
        page.write_text("tampered")
    result = warm(corpus)
    assert result.unchanged == 0
    assert tree_bytes(corpus / "site") == cold(corpus)


def test_a_build_stopped_while_writing_the_search_index_is_followed_by_a_cold_one(
    corpus: Path,
) -> None:
    warm(corpus)
    state = _state(corpus)
    (state / "build-under-way").write_text("")  # as a stopped build leaves it
    order = state / "search-order"
    order.write_bytes(order.read_bytes()[:40])  # half-written
    edit(sorted((corpus / "content/asia").glob("*.md"))[0], "\n\n", "\n\nAn edit.\n\n")
    result = warm(corpus)
    assert result.unchanged == 0
    assert tree_bytes(corpus / "site") == cold(corpus)
    assert not (state / "build-under-way").exists()


def _edit_a_body(project: Path, words: str = "An edit.") -> None:
    edit(sorted((project / "content/asia").glob("*.md"))[1], "\n\n", f"\n\n{words}\n\n")


def test_a_flipped_byte_in_a_cached_post_is_never_trusted(few: Path) -> None:
    """One letter of a kept title changed (its file no longer verifies): after a template
    edit re-renders every article from the kept posts, the site equals a cold build."""
    warm(few)
    shards = sorted((_state(few) / "posts").glob("[0-9]*.json"))
    shard = next(s for s in shards if b'"asia/' in s.read_bytes())
    raw = bytearray(shard.read_bytes())
    title = _unsealed(shard)["posts"]
    entry = next(v for k, v in title.items() if k.startswith("asia/"))
    at = raw.index(entry[0].encode()) + 1  # the title's second letter
    raw[at] ^= 0x20
    shard.write_bytes(bytes(raw))
    edit(few / "templates/article.html", "Related articles", "More like this")
    warm(few)
    assert tree_bytes(few / "site") == cold(few)


def test_kept_stamps_that_do_not_verify_leave_every_post_to_be_parsed_again(
    few: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The post files' stamps are kept in one file: damaged, no kept post is trusted
    (each is parsed again), and the site still equals a cold build."""
    from broadsheet.content import loader

    warm(few)
    stamps = _state(few) / "posts" / "stamps.json"
    raw = bytearray(stamps.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    stamps.write_bytes(bytes(raw))
    _edit_a_body(few)
    parsed: list[Path] = []
    read = loader.read_source
    monkeypatch.setattr(loader, "read_source", lambda path: parsed.append(path) or read(path))
    warm(few)
    assert len(parsed) == len(list((few / "content").glob("*/*.md")))
    assert tree_bytes(few / "site") == cold(few)


@pytest.mark.parametrize("row", [{}, [], [0, 0, 0], None])
def test_related_lists_that_do_not_verify_are_ranked_again(few: Path, row: object) -> None:
    warm(few)
    store = _state(few) / "related.json"
    data = _unsealed(store)
    data["related"] = [row for _ in data["related"]]
    store.write_text(json.dumps(data))  # as damage leaves it: no seal that verifies
    _edit_a_body(few)
    warm(few)
    assert tree_bytes(few / "site") == cold(few)


def _move_an_article(project: Path, words: str = "") -> Path:
    """Date an article decades back: it takes the first id, and every article before it
    moves on one, so the index is merged whole again (see index._kept), each article
    read back from the site's docs file at its last id (see TermStore.read)."""
    post = sorted((project / "content/asia").glob("*.md"))[1]
    edit(post, "date: 20", "date: 19")
    if words:
        head, _, _ = post.read_text().partition("\n---\n")
        post.write_text(f"{head}\n---\n\n{words}\n")
    bump(post)
    return post


def test_an_edit_that_moves_articles_reads_each_from_the_site(few: Path) -> None:
    """The index merged whole, from the site's docs files at their last ids (no copy of
    the articles' texts is kept beside them): equal to a cold build, then as edits go on."""
    warm(few)
    assert not (_state(few) / "terms").exists()
    _move_an_article(few)
    warm(few)
    assert tree_bytes(few / "site") == cold(few)
    _edit_a_body(few)
    warm(few)
    assert tree_bytes(few / "site") == cold(few)


@pytest.mark.parametrize(
    ("damage", "jobs"),
    [
        ("flipped byte", 1),
        ("cut", 1),
        ("a folder", 1),
        ("empty", 1),
        ("another order", 1),
        ("a link", 2),
        ("missing", 1),
        ("missing", 2),
    ],
)
def test_a_damaged_search_order_is_rebuilt(
    few: Path, damage: str, jobs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The order kept of the index in the site (each article's last id), damaged, and
    read by an edit that moves articles: every later build succeeds too, and each equals
    a cold build (also when the damage is found in a worker process: rendering, or
    merging the index)."""
    from broadsheet.publish import render
    from broadsheet.search import index

    monkeypatch.setattr(render, "PARALLEL_MINIMUM", 1)
    monkeypatch.setattr(index, "ARTICLES_PER_GROUP", 2)
    warm(few, jobs)
    victim = _state(few) / "search-order"
    raw = bytearray(victim.read_bytes())
    victim.unlink()
    if damage == "flipped byte":
        raw[len(raw) // 2] ^= 0x01
        victim.write_bytes(bytes(raw))
    elif damage == "cut":
        victim.write_bytes(bytes(raw[: len(raw) // 3]))
    elif damage == "a folder":
        (victim / "inside").mkdir(parents=True)
    elif damage == "empty":
        victim.write_bytes(b"")
    elif damage == "another order":  # (well sealed: the order of another index)
        urls = json.loads(_unsealed_bytes(bytes(raw)))
        victim.write_bytes(seal(json.dumps(urls[::-1]).encode()))
    elif damage == "a link":
        victim.symlink_to(few / "pyproject.toml")
    _move_an_article(few)
    warm(few, jobs)
    assert tree_bytes(few / "site") == cold(few)
    for words in ("An edit.", "Another edit."):
        _edit_a_body(few, words)
        warm(few, jobs)
        assert tree_bytes(few / "site") == cold(few), words
    assert (few / "pyproject.toml").read_text().startswith("[tool.broadsheet]")


def test_an_article_the_order_kept_does_not_hold_is_not_indexed_as_new(few: Path) -> None:
    """The order kept gone, an article moved and edited to lose words is no new article:
    as new, the words it lost would stay in the index under it. The build starts again
    cold."""
    warm(few)
    (_state(few) / "search-order").unlink()
    _move_an_article(few, "Only these few words are left.")
    warm(few)
    assert tree_bytes(few / "site") == cold(few)


def _unsealed_bytes(data: bytes) -> bytes:
    payload = unseal(data)
    assert payload is not None
    return payload


@pytest.mark.parametrize("moment", ["soon", "2030-01-01T00:00:00"])
def test_a_cache_whose_valid_until_is_not_a_date_with_a_zone_is_ignored(
    few: Path, cli: Callable[..., Any], moment: object
) -> None:
    warm(few)
    path = cache_path(load_config(few), (few / "site").resolve())
    data = _unsealed(path)
    data["valid_until"] = moment
    path.write_bytes(seal(json.dumps(data).encode()))  # well sealed: only the value is wrong
    result = cli("build", "--quiet")
    assert (result.code, result.err) == (0, "")
    assert tree_bytes(few / "site") == cold(few)


def test_a_cache_file_replaced_by_a_folder_is_replaced_again(
    few: Path, cli: Callable[..., Any]
) -> None:
    warm(few)
    path = cache_path(load_config(few), (few / "site").resolve())
    path.unlink()
    (path / "inside").mkdir(parents=True)
    _edit_a_body(few)
    result = cli("build", "--quiet")
    assert (result.code, result.err) == (0, "")
    assert tree_bytes(few / "site") == cold(few)
    assert path.is_file() and warm(few).written == 0  # trusted again: nothing to do


@pytest.fixture
def shared_project(few: Path) -> Iterator[Path]:
    """The project in a folder another user can reach (pytest's own is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="broadsheet-shared-"))
    os.chmod(folder, 0o755)
    project = folder / "project"
    shutil.copytree(few, project, symlinks=True)
    try:
        yield project
    finally:
        shutil.rmtree(folder)


def _run_build(project: Path, as_user: bool) -> tuple[int, str]:
    """Build `project` (in a forked process: as the unprivileged user `nobody` if asked,
    who cannot reach this interpreter's files to start one of its own); return its exit
    code and what it printed on stderr."""
    errors = project.parent / "stderr.txt"
    errors.unlink(missing_ok=True)
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        code = 1
        try:
            if as_user:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            os.chdir(project)
            fd = os.open(errors, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
            os.dup2(fd, 2)
            sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
            code = main(["build", "--quiet", "--jobs", "1"])
        except BaseException:
            traceback.print_exc()  # (a traceback fails the test)
        finally:
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), errors.read_text()


def test_a_build_cache_it_cannot_write_is_left_alone_and_said_so(shared_project: Path) -> None:
    """As after `sudo broadsheet build`: the cache belongs to another user. The build
    goes on without it, says so in one line, and its site equals a cold build."""
    project = shared_project
    as_root = os.geteuid() == 0
    assert _run_build(project, as_user=False)[0] == 0  # "sudo": the cache is root's
    cache = project / ".broadsheet-cache"
    if as_root:  # the rest of the project is the user's
        for path in [project, *project.rglob("*")]:
            if cache not in path.parents and path != cache:
                os.chown(path, 65534, 65534, follow_symlinks=False)
        os.chown(project.parent, 65534, 65534)  # (for its stderr.txt)
    else:
        for path in [cache, *cache.rglob("*")]:
            if path.is_dir():
                path.chmod(0o555)
    try:
        _edit_a_body(project)
        expected = cold(project, "../cold")  # (and this process imports all a build needs)
        for _ in range(2):  # and again: it does not get worse
            code, errors = _run_build(project, as_user=as_root)
            assert code == 0, errors
            assert errors.count("\n") == 1 and "Traceback" not in errors
            assert "cannot write the build cache (.broadsheet-cache" in errors
            assert "building without it" in errors
            assert tree_bytes(project / "site") == expected
    finally:
        for path in [cache, *cache.rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)


# The class: random damage to any file or folder of the build cache and state.

FAULTS_PER_RUN = int(os.environ.get("BROADSHEET_CACHE_FAULTS", "48"))
FILE_FAULTS = ("flip", "cut", "empty", "folder", "other json", "link", "unreadable", "pipe")
FOLDER_FAULTS = ("file", "emptied", "unreadable", "link")
NOTES = {"notes.txt": b"the user's own", "0123456789abcdef01234567": b"named like a cache file"}


def _damage(target: Path, rng: random.Random, project: Path) -> str:
    """Damage `target` (a file or folder of the cache) at random; say how."""
    if target.is_symlink() or not (target.is_dir() or target.is_file()):
        target.unlink()  # a link or a pipe an earlier round left: now bytes
        target.write_bytes(rng.randbytes(rng.randrange(1, 64)))
        return "junk"
    if target.is_dir():
        fault = rng.choice(FOLDER_FAULTS)
        if fault == "unreadable":
            target.chmod(0)
            return fault
        shutil.rmtree(target)
        if fault == "file":
            target.write_bytes(rng.randbytes(rng.randrange(0, 64)))
        elif fault == "link":  # to a folder of the user's, which must survive
            target.symlink_to(project / "notes", target_is_directory=True)
        else:
            target.mkdir()
        return fault
    fault = rng.choice(FILE_FAULTS)
    raw = bytearray(target.read_bytes())
    if fault == "unreadable":
        target.chmod(0)
        return fault
    target.unlink()
    if fault == "flip" and raw:
        raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
    elif fault == "cut":
        del raw[rng.randrange(len(raw) + 1) :]
    elif fault == "empty":
        raw.clear()
    elif fault == "other json":
        other = rng.choice([{}, [], {"format": 4, "posts": []}, "x", 7, None, {"related": {}}])
        raw[:] = json.dumps(other).encode()
    if fault == "folder":
        (target / "inside").mkdir(parents=True)
    elif fault == "link":
        target.symlink_to(rng.choice([project / "pyproject.toml", Path("/dev/zero")]))
    elif fault == "pipe":  # never to be read: it would wait for a writer for ever
        os.mkfifo(target)
    else:
        target.write_bytes(bytes(raw))
    return fault


def _variants(project: Path) -> list[Callable[[], None]]:
    """Ways to leave the sources (each a fixed state, so that its cold build is known):
    the original, a body edited, a title edited, a template edited."""
    post = sorted((project / "content/asia").glob("*.md"))[1]
    template = project / "templates/article.html"
    originals = {post: post.read_text(), template: template.read_text()}

    def leave(body: bool = False, title: bool = False, layout: bool = False) -> None:
        text = originals[post]
        if body:
            text = text.replace("\n\n", "\n\nAn edit.\n\n", 1)
        if title:
            text = text.replace("title: ", "title: Edited ", 1)
        for path, wanted in ((post, text), (template, originals[template])):
            if path == template and layout:
                wanted = wanted.replace("Related articles", "More like this")
            if path.read_text() != wanted:
                edit(path, path.read_text(), wanted)

    return [
        lambda: leave(),
        lambda: leave(body=True),
        lambda: leave(title=True),
        lambda: leave(layout=True),
        lambda: leave(body=True, layout=True),
    ]


def test_random_damage_anywhere_in_the_cache_never_changes_the_site(
    shared_project: Path,
) -> None:
    """FAULTS_PER_RUN rounds: damage a random file or folder of .broadsheet-cache/ (a
    flipped bit, a cut, an empty file, JSON of another shape, a folder, a link or a pipe
    in its place, a folder emptied or made a file, no permission to read it), leave the
    sources in one of a few states, build: no error (at most a line saying the cache is
    not used), and the site equals a cold build of those sources, byte for byte. The
    damage accumulates from round to round. Run as root, the builds run as `nobody`, so
    that a permission denied is denied."""
    project = shared_project
    as_root = os.geteuid() == 0
    rng = random.Random(int(os.environ.get("BROADSHEET_CACHE_SEED", "16")))
    variants = _variants(project)
    expected = []
    for number, leave in enumerate(variants):
        leave()
        expected.append(cold(project, f"../cold-{number}"))
    cache = project / ".broadsheet-cache"
    (project / "notes").mkdir()
    for name, data in NOTES.items():
        (project / "notes" / name).write_bytes(data)
    _own(project.parent, as_root)
    assert _run_build(project, as_user=as_root) == (0, "")
    tried: dict[str, int] = {}
    for round_ in range(FAULTS_PER_RUN):
        targets = sorted(p for p in cache.rglob("*") if ".probe-" not in p.name)
        target = rng.choice([cache, *targets] if round_ % 16 == 15 else targets)
        fault = _damage(target, rng, project)
        tried[fault] = tried.get(fault, 0) + 1
        _own(cache, as_root)
        number = rng.randrange(len(variants))
        variants[number]()
        try:
            code, errors = _run_build(project, as_user=as_root)
        finally:
            for path in [cache, *cache.rglob("*")]:  # what was made unreadable, readable
                if not path.is_symlink() and (path.is_dir() or path.is_file()):
                    path.chmod(0o755 if path.is_dir() else 0o644)
        where = f"round {round_}: {fault} of {target.relative_to(project)}"
        assert code == 0 and "Traceback" not in errors, f"{where}: {errors}"
        assert errors in ("",) or (errors.count("\n") == 1 and "building without it" in errors), (
            f"{where}: {errors}"
        )
        assert tree_bytes(project / "site") == expected[number], where
    assert (project / "pyproject.toml").read_text().startswith("[tool.broadsheet]")
    assert {p.name: p.read_bytes() for p in (project / "notes").iterdir()} == NOTES
    print(f"{sum(tried.values())} faults tried, all survived: {dict(sorted(tried.items()))}")


def _own(folder: Path, as_root: bool) -> None:
    """Give `folder` and all below it to `nobody` (whom root builds as)."""
    if as_root:
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, 65534, 65534, follow_symlinks=False)
