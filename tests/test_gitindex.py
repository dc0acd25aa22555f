"""Git's index as broadsheet.gitindex reads it: each tracked file's blob and the stat
data Git took, for indexes Git itself wrote (versions 2 to 4, SHA-1 and SHA-256, a
folder of the work tree), nothing from an index it cannot read whole, and the compiled
reader (broadsheet/_files.c) the same as its Python twin on any bytes."""

from __future__ import annotations

import hashlib
import os
import struct
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadsheet import gitindex
from broadsheet.gitindex import entries_python, holds, parse_index, read_index
from broadsheet.stamps import stamp_file
from tests.publish.test_deploy import git
from tests.search.test_native import _compiler


def blob_of(data: bytes, sha256: bool = False) -> str:
    header = f"blob {len(data)}\0".encode()
    return (hashlib.sha256 if sha256 else hashlib.sha1)(header + data).hexdigest()


FILES = {
    "content/asia/one.md": b"---\ntitle: One\n---\n\nBody one.\n",
    "content/asia/two.md": b"---\ntitle: Two\n---\n\nBody two, longer.\n" * 3,
    "content/europe/caf\u00e9.md": "---\ntitle: Caf\u00e9\n---\n\n\u00a3 5.\n".encode(),
    "templates/base.html": b"<!doctype html>{% block body %}{% endblock %}\n",
    "pyproject.toml": b"[tool.broadsheet]\n",
}


def repository(root: Path, *init: str) -> Path:
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    git("init", "-q", *init, cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "files", cwd=root)
    return settled(root)


def settled(root: Path) -> Path:
    """The work tree once `git status` has refreshed its index a tick after its files
    were written (as a runner's build comes seconds after the checkout): no entry is
    racy. (A file system's tick here is a few milliseconds.)"""
    time.sleep(0.05)
    git("status", "--short", cwd=root)
    return root


def test_the_install_built_the_compiled_reader() -> None:
    if _compiler() is None:
        pytest.skip("no C compiler: the Python twin runs")
    from broadsheet import _files

    assert gitindex._entries is _files.index_entries


@pytest.mark.parametrize("version", [2, 3, 4])
@pytest.mark.parametrize("sha256", [False, True])
def test_each_tracked_file_has_its_blob_and_the_stat_git_took(
    tmp_path: Path, version: int, sha256: bool
) -> None:
    root = repository(tmp_path, *(["--object-format=sha256"] if sha256 else []))
    git("update-index", "--index-version", str(version), cwd=root)
    found = read_index(root)
    assert found.keys() == {n.replace("/", os.sep) for n in FILES}
    for name, data in FILES.items():
        entry = found[name.replace("/", os.sep)]
        assert entry[0] == blob_of(data, sha256)
        assert holds(entry, stamp_file(str(root / name), None))
    # Below a folder of the work tree: its files, named from it.
    below = read_index(root / "content")
    assert below == {
        name.removeprefix("content/").replace("/", os.sep): found[name.replace("/", os.sep)]
        for name in FILES
        if name.startswith("content/")
    }


def test_a_file_changed_since_git_stat_it_is_not_held(tmp_path: Path) -> None:
    """The same size, its modification time set back to the one Git took: its change
    time shows the edit."""
    root = repository(tmp_path)
    path = root / "content/asia/one.md"
    entry = read_index(root)[os.path.join("content", "asia", "one.md")]
    before = path.stat()
    path.write_bytes(FILES["content/asia/one.md"].replace(b"one", b"One"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert not holds(entry, stamp_file(str(path), None))
    # and a file put in its place (another inode), with its size and times
    moved = root / "moved.md"
    moved.write_bytes(FILES["content/asia/two.md"])
    two = root / "content/asia/two.md"
    entry = read_index(root)[os.path.join("content", "asia", "two.md")]
    os.utime(moved, ns=(two.stat().st_atime_ns, two.stat().st_mtime_ns))
    os.replace(moved, two)
    assert not holds(entry, stamp_file(str(two), None))


def test_an_entry_in_the_index_files_own_tick_vouches_for_nothing(tmp_path: Path) -> None:
    """Racy Git: a file changed as late as the index was written may have changed again
    after Git took its stat, in the same tick."""
    root = repository(tmp_path)
    data = (root / ".git/index").read_bytes()
    name = os.path.join("content", "asia", "one.md")
    entry = read_index(root)[name]
    assert name in parse_index(data, entry[2] + 1)
    assert name not in parse_index(data, entry[2])
    assert parse_index(data, 0) == {}


def test_files_git_does_not_track_as_usual_are_left_out(tmp_path: Path) -> None:
    root = repository(tmp_path)
    (root / "new.md").write_bytes(b"new\n")
    git("add", "--intent-to-add", "new.md", cwd=root)
    git("update-index", "--skip-worktree", "content/asia/two.md", cwd=root)
    git("update-index", "--assume-unchanged", "templates/base.html", cwd=root)
    os.symlink("pyproject.toml", root / "link.toml")
    git("add", "link.toml", cwd=root)
    found = read_index(root)
    assert found.keys() == {
        os.path.join("content", "asia", "one.md"),
        os.path.join("content", "europe", "caf\u00e9.md"),
        "pyproject.toml",
    }


def test_an_index_it_cannot_read_whole_gives_nothing(tmp_path: Path) -> None:
    root = repository(tmp_path)
    index = root / ".git/index"
    data = index.read_bytes()
    written = index.stat().st_mtime_ns
    assert len(parse_index(data, written)) == len(FILES)
    damaged = bytearray(data)
    damaged[40] ^= 1  # (the checksum no longer holds)
    assert parse_index(bytes(damaged), written) == {}
    assert parse_index(data[:-1], written) == {}
    assert parse_index(b"", written) == {}
    git("update-index", "--split-index", cwd=root)  # (its entries partly in another file)
    assert read_index(root) == {}
    # No repository at all; a .git file that points nowhere.
    assert read_index(tmp_path.parent / "elsewhere") == {}
    other = tmp_path / "other"
    other.mkdir()
    (other / ".git").write_text("gitdir: /nowhere/at/all\n")
    assert read_index(other) == {}


def test_a_linked_work_tree_is_read_through_its_git_file(tmp_path: Path) -> None:
    root = repository(tmp_path / "main")
    git("worktree", "add", "-q", str(tmp_path / "linked"), cwd=root)
    found = read_index(settled(tmp_path / "linked"))
    assert {name: entry[0] for name, entry in found.items()} == {
        name.replace("/", os.sep): blob_of(data) for name, data in FILES.items()
    }


def _resealed(data: bytes) -> bytes:
    body = data[:-20]
    return body + hashlib.sha1(body).digest()


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    found = []
    for version in (2, 3, 4):
        root = repository(tmp_path_factory.mktemp(f"v{version}"))
        (root / "new.md").write_bytes(b"new\n")
        git("add", "--intent-to-add", "new.md", cwd=root)  # (an extended entry)
        git("update-index", "--index-version", str(version), cwd=root)
        found.append((root / ".git/index").read_bytes())
    return found


@given(
    which=st.integers(0, 2),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6),
    cut=st.integers(0, 10_000),
    prefix=st.sampled_from(["", "content/", "content/asia/", "templates/", "x/"]),
)
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_compiled_reader_agrees_with_its_twin_on_any_bytes(
    indexes: list[bytes], which: int, edits: list[tuple[int, int]], cut: int, prefix: str
) -> None:
    """Bytes changed anywhere and the checksum made to hold again: both readers give the
    same entries, or both refuse (ValueError; struct.error from the twin), and neither
    reads past the checksum."""
    native = pytest.importorskip("broadsheet._files").index_entries
    data = bytearray(indexes[which])
    for at, value in edits:
        data[at % (len(data) - 20)] = value
    body = bytes(data[:-20])[: max(12, len(data) - 20 - cut % 64)]
    sealed = _resealed(body + bytes(20))
    outcomes = []
    for reader in (native, entries_python):
        try:
            outcomes.append(reader(sealed, 20, 1 << 62, prefix.encode()))
        except (ValueError, struct.error):
            outcomes.append(None)
    assert outcomes[0] == outcomes[1]


def test_an_entry_git_smudged_holds_no_file(tmp_path: Path) -> None:
    """Git sets the size of an entry it writes in the file's own tick to 0 (racy-git.txt):
    the file, emptied in that tick, has the entry's stat data but not its blob."""
    root = repository(tmp_path)
    path = root / "content/asia/one.md"
    path.write_bytes(b"")  # (emptied)
    time.sleep(0.05)
    stat = path.stat()
    index = root / ".git/index"
    data = bytearray(index.read_bytes()[:-20])
    entry = read_index(root)[os.path.join("content", "asia", "one.md")]
    at = data.index(b"content/asia/one.md") - 62  # (its entry: stat data, blob, flags)
    assert data[at + 40 : at + 60].hex() == entry[0]
    ns = 1_000_000_000
    stat_data = (stat.st_ctime_ns // ns, stat.st_ctime_ns % ns, stat.st_mtime_ns // ns)
    stat_data += (stat.st_mtime_ns % ns, stat.st_dev & 0xFFFFFFFF, stat.st_ino & 0xFFFFFFFF)
    struct.pack_into(">10I", data, at, *stat_data, 0o100644, stat.st_uid, stat.st_gid, 0)
    time.sleep(0.05)
    index.write_bytes(bytes(data) + hashlib.sha1(data).digest())
    smudged = read_index(root)[os.path.join("content", "asia", "one.md")]
    assert smudged[1:] == (0, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino & 0xFFFFFFFF)
    assert not holds(smudged, stamp_file(str(path), None))
    # while an empty file that Git wrote as the empty blob holds
    (root / "empty.md").write_bytes(b"")
    git("add", "empty.md", cwd=root)
    settled(root)
    empty = read_index(root)["empty.md"]
    assert empty[0] == blob_of(b"") and holds(empty, stamp_file(str(root / "empty.md"), None))
