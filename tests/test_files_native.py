"""The compiled loops over files (broadsheet/_files.c) give what their Python twins give:
the walk of a source folder (paths.scan_source), the check of the output's files and
folders against their stamps (publish/cache.py), on trees made to be awkward."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import broadsheet.paths as paths_module
import broadsheet.publish.cache as cache_module
from broadsheet.publish.cache import _as_stamped, _folders_held
from broadsheet.stamps import racy_after
from tests.search.test_native import _compiler


def test_the_install_built_the_compiled_walk() -> None:
    # As tests/search/test_native.py holds for the search index's loops: CI has a
    # compiler, and a build that silently fell back to Python fails here.
    if _compiler() is None:
        pytest.skip("no C compiler: the Python twins run")
    from broadsheet import _files

    assert paths_module._native_scan is _files.scan
    assert cache_module._files is _files


def _native():  # type: ignore[no-untyped-def]
    return pytest.importorskip("broadsheet._files")


# One entry of a tree: (folder depth 0-2, kind, name style)
KINDS = (
    "file",
    "hidden file",
    "folder",
    "hidden folder",
    "link to a file",
    "link outside",
    "dangling link",
    "looping link",
    "link to a folder",
    "fifo",
    "unreadable file",
    "empty file",
)
NAMES = ("ascii", "accented", "not utf-8", "spaces and dots", "long")
ENTRY = st.tuples(st.integers(0, 2), st.sampled_from(KINDS), st.sampled_from(NAMES))


def _name(style: str, number: int) -> str:
    return {
        "ascii": f"post-{number}.md",
        "accented": f"café-{number}.md",
        "not utf-8": os.fsdecode(b"bad-\xff-%d.md" % number),
        "spaces and dots": f"a b.c.{number}.md",
        "long": f"{'x' * 200}-{number}.md",
    }[style]


def _make_tree(root: Path, outside: Path, entries: list[tuple[int, str, str]]) -> None:
    folders = [root, root / "asia", root / "asia" / "deep"]
    folders[2].mkdir(parents=True)
    (root / "asia" / "plain.md").write_text("plain\n")
    for number, (depth, kind, style) in enumerate(entries):
        parent = folders[depth]
        name = _name(style, number)
        path = parent / (f".{name}" if kind.startswith("hidden") else name)
        if kind in ("file", "hidden file"):
            path.write_text(f"text {number}\n")
        elif kind == "empty file":
            path.write_bytes(b"")
        elif kind in ("folder", "hidden folder"):
            path.mkdir()
            (path / "inside.md").write_text("inside\n")
        elif kind == "link to a file":
            path.symlink_to(root / "asia" / "plain.md")
        elif kind == "link outside":
            path.symlink_to(outside)
        elif kind == "dangling link":
            path.symlink_to(parent / "nowhere.md")
        elif kind == "looping link":
            path.symlink_to(path)
        elif kind == "link to a folder":
            path.symlink_to(folders[2], target_is_directory=True)
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "unreadable file":
            path.write_text("secret\n")
            path.chmod(0)


def _both_walks(
    folder: Path, racy: int | None, monkeypatch: pytest.MonkeyPatch
) -> tuple[tuple[object, list[tuple[str, str]]], tuple[object, list[tuple[str, str]]]]:
    native = paths_module._native_scan
    walks = []
    for scan in (native, None):
        with monkeypatch.context() as patch:
            patch.setattr(paths_module, "_native_scan", scan)
            files, errors = paths_module.scan_source(folder, racy)
        walks.append((files, [(str(e.path), e.message) for e in errors]))
    return walks[0], walks[1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(ENTRY, max_size=12), racy=st.sampled_from(("none", "all", "old")))
@example(  # folders named beyond ASCII: one not UTF-8 (refused), one accented (walked)
    entries=[(0, "folder", "not utf-8"), (1, "folder", "accented"), (2, "file", "accented")],
    racy="none",
)
def test_the_compiled_walk_finds_what_the_python_walk_finds(
    entries: list[tuple[int, str, str]], racy: str
) -> None:
    _native()
    with tempfile.TemporaryDirectory() as temporary, pytest.MonkeyPatch.context() as patch:
        root = Path(temporary) / "content"
        outside = Path(temporary) / "id_rsa"
        outside.write_text("secret\n")
        _make_tree(root, outside, entries)
        moment = {"none": None, "all": racy_after(), "old": time.time_ns() + 10**12}[racy]
        compiled, python = _both_walks(root, moment, patch)
        assert compiled == python
        files, _ = compiled
        assert str(root / "asia" / "plain.md") in files  # (never vacuous)
        if racy == "all":  # everything was just written: every stamp carries its hash
            assert all(len(stamp) == 5 for stamp in files.values())  # type: ignore[attr-defined]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=st.lists(ENTRY, max_size=12),
    racy=st.sampled_from(("none", "all", "old")),
    relative=st.booleans(),
)
@example(
    entries=[(0, "folder", "not utf-8"), (1, "hidden file", "accented")], racy="all", relative=True
)
def test_the_compiled_output_walk_finds_what_the_python_walk_finds(
    entries: list[tuple[int, str, str]], racy: str, relative: bool
) -> None:
    # The output's walk (cache._walk: every entry, hidden ones and links too, and the
    # folders), by the compiled walk and by Python; named from the folder, or from
    # higher up (stamp_tree's relative_to).
    _native()
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary) / "site"
        outside = Path(temporary) / "id_rsa"
        outside.write_text("secret\n")
        # (no FIFO where every file is racy: hashing one blocks, in both walks alike)
        _make_tree(root, outside, [e for e in entries if racy != "all" or e[1] != "fifo"])
        moment = {"none": None, "all": racy_after(), "old": time.time_ns() + 10**12}[racy]
        folder = str(root / "asia") if relative else str(root)
        start = len(str(root)) + 1
        walks = []
        for walk in (cache_module._walked, cache_module._walk_python):
            folders: list[str] = []
            found = walk(folder, start, moment, folders)
            walks.append((found, sorted(folders)))
        assert walks[0] == walks[1]
        found, folders = walks[0]
        plain = "asia/plain.md" if relative else os.path.join("asia", "plain.md")
        assert plain in found and ("asia/deep" if relative else "asia") in folders
        if racy == "all":
            assert all(len(stamp) == 5 for stamp in found.values())


def test_a_file_whose_path_is_too_long_to_stat_is_passed_over_by_both_output_walks(
    tmp_path: Path,
) -> None:
    # Python stamps an entry by its whole path, which the system refuses past PATH_MAX;
    # the compiled walk stamps through the folder, and must pass it over all the same.
    _native()
    descriptor, path = os.open(tmp_path, os.O_RDONLY), str(tmp_path)
    while len(path) + 201 < os.pathconf(tmp_path, "PC_PATH_MAX") - 60:
        os.mkdir("d" * 200, dir_fd=descriptor)
        deeper = os.open("d" * 200, os.O_RDONLY, dir_fd=descriptor)
        os.close(descriptor)
        descriptor, path = deeper, f"{path}/{'d' * 200}"
    os.close(os.open("f" * 255, os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=descriptor))
    os.close(os.open("short", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=descriptor))
    os.close(descriptor)
    root = str(tmp_path)
    walks = [
        walk(root, len(root) + 1, None, [])
        for walk in (cache_module._walked, cache_module._walk_python)
    ]
    assert walks[0] == walks[1]
    assert [name.rsplit("/", 1)[1] for name in walks[0]] == ["short"]


def test_the_compiled_walk_stamps_as_stamp_of_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _native()
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "one.md").write_text("one\n")
    (tmp_path / "two.md").write_text("two two\n")
    old = time.time_ns() - 10**10
    os.utime(tmp_path / "two.md", ns=(old, old))
    compiled, python = _both_walks(tmp_path, racy_after(), monkeypatch)
    assert compiled == python
    files = compiled[0]
    info = os.lstat(tmp_path / "two.md")
    assert files[str(tmp_path / "two.md")] == [  # type: ignore[index]
        info.st_size,
        info.st_mtime_ns,
        info.st_ctime_ns - info.st_mtime_ns,
        info.st_ino,
    ] + ([files[str(tmp_path / "two.md")][4]] if info.st_ctime_ns >= racy_after() else [])  # type: ignore[index]


def test_a_folder_given_with_a_trailing_slash_names_its_files_as_scandir_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _native()
    (tmp_path / "one.md").write_text("one\n")
    from broadsheet import _files

    files, racy, odd, folders = _files.scan(os.fsencode(f"{tmp_path}/"), None)
    assert list(files) == [os.path.join(f"{tmp_path}/", "one.md")]
    assert (racy, odd, folders) == ([], [], [])


def _stamps_of(root: Path, names: list[str]) -> dict[str, list[int]]:
    found = {}
    for name in names:
        info = os.lstat(root / name)
        mtime = info.st_mtime_ns
        found[name] = [info.st_size, mtime, info.st_ctime_ns - mtime, info.st_ino]
    return found


CHANGES = (
    "none",
    "append",
    "remove",
    "replace",
    "touch back",
    "hash in stamp",
    "not a list",
    "a float",
    "short",
    "huge inode",
)


def _both(function_name: str, *args: object) -> tuple[object, object]:
    answers = []
    native = cache_module._files
    for module in (native, None):
        saved = cache_module._files
        cache_module._files = module  # type: ignore[assignment]
        try:
            function = getattr(cache_module, function_name)
            try:
                answers.append(function(*args))
            except KeyError as exc:
                answers.append(("KeyError", str(exc)))
        finally:
            cache_module._files = saved
    return answers[0], answers[1]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    changes=st.lists(st.tuples(st.integers(0, 5), st.sampled_from(CHANGES)), max_size=4),
    missing=st.booleans(),
)
def test_the_compiled_file_check_answers_as_the_python_one(
    changes: list[tuple[int, str]], missing: bool
) -> None:
    _native()
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        names = [f"f{n}/index.html" if n % 2 else f"é{n}.html" for n in range(6)]
        for name in names:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(f"page {name}\n")
        stamps: dict[str, object] = dict(_stamps_of(root, names))
        for number, change in changes:
            name = names[number]
            path = root / name
            if change == "append":
                with path.open("a") as file:
                    file.write("more\n")
            elif change == "remove":
                path.unlink(missing_ok=True)
            elif change == "replace" and path.exists():
                path.with_suffix(".new").write_text(path.read_text())
                path.with_suffix(".new").replace(path)
            elif change == "touch back" and path.exists():
                os.utime(path, ns=(1, 1))
            elif change == "hash in stamp":
                stamps[name] = [*stamps[name], "abc"]  # type: ignore[misc]
            elif change == "not a list":
                stamps[name] = tuple(stamps[name])  # type: ignore[arg-type]
            elif change == "a float":
                stamps[name] = [  # (equal as Python compares: the compiled check too)
                    float(v) if type(v) is int else v
                    for v in stamps[name]  # type: ignore[attr-defined]
                ]
            elif change == "short":
                stamps[name] = stamps[name][:3]  # type: ignore[index]
            elif change == "huge inode":
                stamps[name] = [*stamps[name][:3], 2**70]  # type: ignore[index]
        asked = [*names, "gone.html"] if missing else names
        compiled, python = _both("_as_stamped", f"{root}{os.sep}", asked, stamps)
        assert compiled == python
        if not changes and not missing:
            assert compiled is True  # (never vacuous)


FOLDER_CHANGES = ("none", "listed", "none stamp", "add entry", "remove", "wrong", "short")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.lists(st.tuples(st.integers(0, 4), st.sampled_from(FOLDER_CHANGES)), max_size=3))
def test_the_compiled_folder_check_answers_as_the_python_one(
    changes: list[tuple[int, str]],
) -> None:
    _native()
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary) / "site"
        names = ["", "asia", "asia/one", "europe", "ü"]
        for name in names[1:]:
            (root / name).mkdir(parents=True)
        folders: dict[str, object] = {}
        for name in names:
            info = os.lstat(root / name if name else root)
            folders[name] = [info.st_mtime_ns, info.st_ctime_ns, info.st_ino]
        for number, change in changes:
            name = names[number]
            path = root / name if name else root
            if change == "listed":
                folders[name] = []
            elif change == "none stamp":
                folders[name] = None
            elif change == "add entry" and path.exists():
                (path / "new.html").write_text("new\n")
            elif change == "remove" and name and path.exists():
                shutil.rmtree(path)
            elif change == "wrong":
                folders[name] = [1, 2, 3]
            elif change == "short":
                folders[name] = [1, 2]
        compiled, python = _both("_folders_held", str(root), folders)
        assert compiled == python
        if not changes:
            assert compiled == []  # every folder held, none listed (never vacuous)


def test_the_compiled_checks_refuse_a_mismatch_the_python_ones_refuse(tmp_path: Path) -> None:
    # The two checks, each way they answer: held, a file edited with its times set back
    # (its change time shows it), a folder with a new entry.
    _native()
    page = tmp_path / "page.html"
    page.write_text("one\n")
    stamps = _stamps_of(tmp_path, ["page.html"])
    assert _as_stamped(f"{tmp_path}{os.sep}", ["page.html"], stamps)  # type: ignore[arg-type]
    before = os.lstat(page)
    page.write_text("two\n")
    os.utime(page, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert not _as_stamped(f"{tmp_path}{os.sep}", ["page.html"], stamps)  # type: ignore[arg-type]
    info = os.lstat(tmp_path)
    held = {"": [info.st_mtime_ns, info.st_ctime_ns, info.st_ino]}
    assert _folders_held(str(tmp_path), held) == []  # type: ignore[arg-type]
    (tmp_path / "new.html").write_text("new\n")
    assert _folders_held(str(tmp_path), held) is None  # type: ignore[arg-type]


def test_times_past_2262_are_stamped_and_checked_as_python_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nanoseconds since 1970 overflow 64 bits in April 2262: such a file (a clock set
    # wrong, `touch -d 2300-01-01`) is left to Python, whose ints do not overflow.
    _native()
    far = tmp_path / "far.md"
    far.write_text("far\n")
    os.utime(far, ns=(10**19, 10**19))
    (tmp_path / "near.md").write_text("near\n")
    compiled, python = _both_walks(tmp_path, racy_after(), monkeypatch)
    assert compiled == python
    assert compiled[0][str(far)][1] == 10**19  # type: ignore[index]
    stamps = _stamps_of(tmp_path, ["far.md", "near.md"])
    assert _both("_as_stamped", f"{tmp_path}{os.sep}", ["far.md", "near.md"], stamps) == (
        True,
        True,
    )
    os.utime(tmp_path, ns=(10**19, 10**19))
    info = os.lstat(tmp_path)
    held = {"": [info.st_mtime_ns, info.st_ctime_ns, info.st_ino]}
    assert _both("_folders_held", str(tmp_path), held) == ([], [])


@pytest.mark.parametrize(
    "stamp",
    [
        lambda s: [True if s[0] == 1 else s[0], *s[1:]],  # equal as Python compares
        lambda s: [float(s[0]), *s[1:]],
        lambda s: [*s[:3], s[3] + 2**64],  # an inode beyond 64 bits: differs
        lambda s: [*s[:3], 2**64 - 1],
    ],
)
def test_stamps_compare_as_python_compares_them(tmp_path: Path, stamp: Any) -> None:
    _native()
    (tmp_path / "a.html").write_text("a")
    stamps = {"a.html": stamp(_stamps_of(tmp_path, ["a.html"])["a.html"])}
    compiled, python = _both("_as_stamped", f"{tmp_path}{os.sep}", ["a.html"], stamps)
    assert compiled == python


@pytest.mark.parametrize("name", ["a\0b.html", "\ud800.html"])
def test_a_name_no_file_can_have_fails_the_check_in_both(tmp_path: Path, name: str) -> None:
    # (a damaged cache could name one: os.lstat raises ValueError, not OSError)
    _native()
    assert _both("_as_stamped", f"{tmp_path}{os.sep}", [name], {name: [1, 2, 3, 4]}) == (
        False,
        False,
    )
    assert _both("_folders_held", str(tmp_path), {name: [1, 2, 3]}) == (None, None)


def _deep_folders(top: Path, levels: int) -> Path:
    """`levels` folders of 240 characters, one in another, below `top` (made by their
    names, through the folder above: past PATH_MAX, no whole path works); the last."""
    folder, fd = top, os.open(top, os.O_RDONLY)
    try:
        for level in range(levels):
            name = f"{level:02d}{'d' * 238}"
            os.mkdir(name, dir_fd=fd)
            inner = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd, folder = inner, folder / name
        made = os.open("post.md", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(made, b"deep\n")
        os.close(made)
    finally:
        os.close(fd)
    return folder


def test_a_path_too_long_to_stat_is_refused_as_python_refuses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The compiled walk stats through the open folder, where a path of more than
    # PATH_MAX bytes would still work; Python stats by the whole path, and cannot.
    _native()
    _deep_folders(tmp_path, 18)  # 18 folders of 240 characters: past 4,096 bytes
    compiled, python = _both_walks(tmp_path, None, monkeypatch)
    assert compiled == python
    assert compiled[1]  # (the walk reports what it cannot stat: never vacuous)


def test_a_folder_past_path_max_below_a_deep_root_is_refused_as_python_refuses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The compiled walks open a folder by its path from the folder they began at, which
    # works for a folder whose whole path is past PATH_MAX (its path from there is not);
    # Python lists it by its whole path, and cannot. Both must pass it over alike: the
    # source walk reports it, the output walk names it and lists nothing in it.
    _native()
    top = tmp_path / "top"
    top.mkdir()
    root = _deep_folders(top, 9)  # (its own whole path short of PATH_MAX)
    deepest = _deep_folders(root, 8)
    assert len(os.fsencode(deepest)) > os.pathconf(tmp_path, "PC_PATH_MAX")
    assert len(os.fsencode(deepest)) - len(os.fsencode(root)) < 3000
    compiled, python = _both_walks(root, None, monkeypatch)
    assert compiled == python
    assert compiled[1]  # (the folder it cannot list is reported: never vacuous)
    walks = []
    for walk in (cache_module._walked, cache_module._walk_python):
        folders: list[str] = []
        found = walk(str(root), len(str(root)) + 1, None, folders)
        walks.append((found, sorted(folders)))
    assert walks[0] == walks[1]
    # (the folders named, nothing listed in the deepest: the only file is the root's own)
    assert len(walks[0][1]) == 8 and list(walks[0][0]) == ["post.md"]


def test_a_folder_of_thousands_of_entries_is_listed_whole_by_both_walks(tmp_path: Path) -> None:
    # More entries than one read of the folder gives (32 KB of them at a time): the
    # compiled walk reads again until the folder is done, as Python's does.
    _native()
    site = tmp_path / "site"
    (site / "many").mkdir(parents=True)
    for number in range(2_000):
        (site / "many" / f"{number:04d}-{'p' * 120}.html").write_text(f"{number}")
    (site / "many" / "inside").mkdir()
    (site / "many" / "inside" / "last.html").write_text("last")
    root = str(site)
    walks = []
    for walk in (cache_module._walked, cache_module._walk_python):
        folders: list[str] = []
        found = walk(root, len(root) + 1, None, folders)
        walks.append((found, sorted(folders)))
    assert walks[0] == walks[1]
    assert len(walks[0][0]) == 2_001 and walks[0][1] == ["many", "many/inside"]
    native = paths_module._native_scan
    assert native is not None
    files, *_ = native(os.fsencode(site), None)
    assert len(files) == 2_001


_IN_A_SMALL_THREAD = """
import sys, threading
from broadsheet import _files
top = sys.argv[1].encode()
wanted = (_files.walk(top), _files.scan(top, None))
threading.stack_size(32 * 1024)  # (the least Python allows)
found = []
thread = threading.Thread(target=lambda: found.append((_files.walk(top), _files.scan(top, None))))
thread.start()
thread.join()
assert found == [wanted], found
"""

_ONE_DESCRIPTOR_SPARE = """
import os, resource, sys
from broadsheet import _files
top = sys.argv[1].encode()
wanted = (_files.walk(top), _files.scan(top, None))
assert wanted[0][0] and wanted[0][1]  # (files and folders: never vacuous)
taken = len(os.listdir("/proc/self/fd")) - 1  # (less the listing's own)
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (taken + 1, hard))
held = []
try:
    while True:  # (whatever is still free, taken, but one)
        held.append(os.open(os.devnull, os.O_RDONLY))
except OSError:
    os.close(held.pop())
found = (_files.walk(top), _files.scan(top, None))
assert found == wanted, found
"""


@pytest.mark.parametrize(
    "script", [_IN_A_SMALL_THREAD, _ONE_DESCRIPTOR_SPARE], ids=["thread", "descriptors"]
)
def test_the_compiled_walks_need_no_more_stack_or_descriptors_than_readdir_does(
    tmp_path: Path, script: str
) -> None:
    # Found in a review: the walks once read each folder into 32 KB on the stack (a
    # thread may have as little: it crashed), and held the walk's root open as they
    # opened each folder below it (with one descriptor to spare, nothing was listed).
    # In a process of its own: a crash must not take the tests down with it.
    _native()
    for number in range(3):
        (tmp_path / "site" / f"section-{number}" / "page").mkdir(parents=True)
        (tmp_path / "site" / f"section-{number}" / "page" / "index.html").write_text("x")
    folder = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "site")],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_folder_named_with_a_nul_is_refused() -> None:
    native = _native()
    with pytest.raises(ValueError, match="null"):
        native.scan(b"/tmp\0/etc", None)


def test_a_site_built_without_the_compiled_loops_is_the_same_to_the_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The README: without a C compiler "the same work runs in Python, to the same
    # bytes". Two copies of a project, each built cold, then after an edit (the posts
    # read back, the sources walked, the output checked), one with the compiled loops
    # of this module and content/_posts.c, one with their Python twins only.
    _native()
    from benchmarks.corpus import write_corpus
    from broadsheet.config import load_config
    from broadsheet.content import store
    from broadsheet.publish.pipeline import build
    from tests.conftest import lay_out
    from tests.publish.test_incremental import edit
    from tests.sitecheck import tree_bytes

    sites = []
    for compiled in (True, False):
        project = tmp_path / ("compiled" if compiled else "python")
        lay_out(project)
        write_corpus(project / "content", 12)
        with monkeypatch.context() as patch:
            if not compiled:
                patch.setattr(paths_module, "_native_scan", None)
                patch.setattr(cache_module, "_files", None)
                patch.setattr(store, "decode_shard", store.decode_shard_python)
            build(load_config(project), jobs=1)
            post = sorted((project / "content").rglob("*.md"))[5]
            edit(post, "\n\n", "\n\nAn edited paragraph.\n\n")
            again = build(load_config(project), jobs=1)
            assert again.written >= 1 and again.unchanged > 0  # (incremental: read back)
            assert build(load_config(project), jobs=1).written == 0  # (a no-op: checked)
        sites.append(tree_bytes(project / "site"))
    assert sites[0] == sites[1]
    assert any(b"An edited paragraph." in page for page in sites[0].values())


_PIECE = st.one_of(
    st.integers(-(2**70), 2**70), st.booleans(), st.text(max_size=3), st.floats(), st.none()
)


class _Listed(list[Any]):
    """A list of another type: not a stamp."""


_VALUE = st.one_of(
    st.builds(_Listed, st.lists(st.integers(), min_size=4, max_size=4)),
    st.lists(_PIECE, min_size=3, max_size=6),
    st.lists(st.integers(), min_size=4, max_size=4),
    st.tuples(st.integers(), st.integers(), st.integers(), st.integers()),
    st.builds(lambda s, h: [*s, h], st.lists(st.integers(), min_size=4, max_size=4), _PIECE),
    _PIECE,
)


@given(values=st.lists(_VALUE, max_size=6))
@example(values=[[1, 2, 3, 4], [1, 2, 3, 4, "a hash"]])
@example(values=[[1, 2, 3, True]])
@example(values=[_Listed([1, 2, 3, 4])])
@example(values=[[1, 2, 3, 4, 5]])
@example(values=[])
def test_the_compiled_stamp_check_agrees_with_its_twin(values: list[Any]) -> None:
    """A cache's stamps are checked for their shape in C as in Python (a bool is not an
    int there, nor a tuple a list), given as a list or as a mapping's values."""
    from broadsheet._files import well_formed_all
    from broadsheet.stamps import well_formed_all_python

    expected = well_formed_all_python(values)
    assert well_formed_all(values) is expected
    assert well_formed_all(dict(enumerate(values)).values()) is expected
    assert well_formed_all(iter(values)) is expected


def test_the_install_built_the_compiled_stamp_check() -> None:
    from broadsheet import _files, stamps

    assert stamps.well_formed_all is _files.well_formed_all


# A file of a site as the output check finds it, against the last build's stamp: as
# stamped; put back with its times (another inode, the same size and modification time,
# the old stamp itself put back so); or changed otherwise, or stamped oddly.
CHANGES = (
    "as stamped",
    "restored",
    "restored, its old stamp not restored",
    "another size",
    "another modification time",
    "another inode only",
    "a bool in the stamp",
    "an int past 64 bits",
    "found with a hash",
)
FILE = st.tuples(
    st.sampled_from(CHANGES),
    st.booleans(),  # the old stamp holds a hash
    st.booleans(),  # the build cache records a hash
    st.integers(-3, 3),  # where the file's change falls against the racy moment (seconds)
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=st.lists(FILE, max_size=6))
def test_the_compiled_restamp_gives_what_the_python_one_gives(
    files: list[tuple[str, bool, bool, int]],
) -> None:
    """A restored site's files judged and stamped afresh (OutputCheck._restamped): where
    the compiled loop answers (every file as stamped, or put back with its times, and
    each racy one's hash known), it gives the stamps the Python loop gives; else it
    leaves them to it."""
    from broadsheet import stamps

    native = _native()
    racy = 1_700_000_000 * 10**9
    expected: dict[str, Any] = {}
    found: dict[str, Any] = {}
    hashes: dict[str, str] = {}
    for number, (change, old_hashed, recorded, when) in enumerate(files):
        name = f"page-{number}.html"
        mtime = racy + when * 10**9 - stamps.RACY_NS
        old: list[Any] = [100 + number, mtime, stamps.RACY_NS + 5, 1000 + number]
        new: list[Any] = [*old]
        if change.startswith("restored"):
            new[2], new[3] = stamps.RACY_NS + 7, 5000 + number
            if change.endswith("not restored"):
                old[2] = 0
        elif change == "another size":
            new[0] += 1
        elif change == "another modification time":
            new[1] += 1
        elif change == "another inode only":
            new[3] += 1
            old[2] = 0
        elif change == "a bool in the stamp":
            old[0] = new[0] = True
        elif change == "an int past 64 bits":
            old[1] = new[1] = 2**70
        elif change == "found with a hash":
            new.append("a hash")
        if old_hashed:
            old.append(f"old {number}")
        if recorded:
            hashes[name] = f"recorded {number}"
        expected[name], found[name] = old, new
    names = list(expected)
    quick = native.restamped(names, expected, found, hashes, racy, stamps.RACY_NS)
    with tempfile.TemporaryDirectory() as folder:
        check = cache_module.OutputCheck(Path(folder), expected, hashes)
        try:
            saved, cache_module._files = cache_module._files, None
            python = check._restamped(names, found, hashes, racy)
        finally:
            cache_module._files = saved
    if quick is not None:  # (each file it told as the Python loop tells it)
        assert len(quick) == len(names)
        if python[1] is not None:
            assert all(q is None or q == p for q, p in zip(quick, python[1], strict=True))
        else:  # (a file not told: its hash not known, or it changed)
            assert None in quick
    with tempfile.TemporaryDirectory() as folder:  # (the two together, as the check runs)
        check = cache_module.OutputCheck(Path(folder), expected, hashes)
        assert check._restamped(names, found, hashes, racy) == python
    # Each file as stamped (without a hash: one with would be read), or restored; each
    # racy one (changed at the racy moment or after) with its hash recorded.
    assert quick is not None
    for (c, old_hashed, recorded, when), taken in zip(files, quick, strict=True):
        if (c == "as stamped" and not old_hashed and when < 0) or (
            c == "restored" and (when < 0 or recorded)
        ):
            assert taken is not None


def test_a_restored_site_is_restamped_by_the_compiled_loop(tmp_path: Path) -> None:
    """A site put back with its times, as the deploy's cache restores it: the compiled
    loop answers for every file, as the Python one would."""
    from broadsheet import stamps
    from broadsheet.publish.cache import OutputCheck, stamp_tree

    native = _native()
    site = tmp_path / "site"
    for number in range(5):
        page = site / f"section/page-{number}/index.html"
        page.parent.mkdir(parents=True)
        page.write_text(f"<p>{number}</p>")
        if number:  # (put back before, by the last restore; the first, written by the build)
            old_time = time.time_ns() - 3600 * 10**9
            os.utime(page, ns=(old_time, old_time))
    last = stamp_tree(site)
    hashes = {name: stamps.content_hash(str(site / name)) for name in last}
    shutil.copytree(site, tmp_path / "restored")  # (copy2: the times kept, new inodes)
    shutil.rmtree(site)
    (tmp_path / "restored").rename(site)
    found = stamp_tree(site)
    names = list(found)
    racy = racy_after()
    quick = native.restamped(names, last, found, hashes, racy, stamps.RACY_NS)
    assert quick is not None and len(quick) == len(names)
    # The page the last build wrote is not told (it is judged by its hash, in Python)
    assert [name for name, taken in zip(names, quick, strict=True) if taken is None] == [
        "section/page-0/index.html"
    ]
    check = OutputCheck(site, last, hashes)
    held, fresh = check._restamped(names, found, hashes, racy)
    assert held and fresh is not None
    assert [taken for taken in quick if taken is not None] == fresh[1:]


def test_the_compiled_restamp_leaves_to_python_what_a_lookup_changes_or_hides() -> None:
    """A key whose __eq__ empties the stamp being read (found in a review: read past
    the list's end), raises, or a recorded hash of None: the compiled loop leaves the
    file to the Python loop (None in its place), which judges it in its order."""
    from broadsheet import stamps

    native = _native()
    racy, name = 1_700_000_000 * 10**9, "page.html"
    old = [100, racy, stamps.RACY_NS + 5, 1000]  # (put back with its times before)
    armed = [False]

    class Colliding:
        def __init__(self, action: str) -> None:
            self.action = action

        def __hash__(self) -> int:
            return hash(name)

        def __eq__(self, other: object) -> bool:
            if armed[0] and self.action == "empty":
                stamp.clear()
            if armed[0] and self.action == "raise":
                raise ValueError("a key that raises")
            return False

    for action in ("empty", "raise"):
        stamp = [100, racy, stamps.RACY_NS + 7, 5000]  # (restored now: another inode; racy)
        hashes = {Colliding(action): "x", name: "recorded"}
        armed[0] = True
        told = native.restamped([name], {name: old}, {name: stamp}, hashes, racy, stamps.RACY_NS)
        armed[0] = False
        assert told == [None]
    stamp = [100, racy, stamps.RACY_NS + 7, 5000]
    told = native.restamped([name], {name: old}, {name: stamp}, {name: None}, racy, stamps.RACY_NS)
    assert told == [None]
    assert native.restamped(
        [name], {name: old}, {name: stamp}, {name: "h"}, racy, stamps.RACY_NS
    ) == [[*stamp, "h"]]
