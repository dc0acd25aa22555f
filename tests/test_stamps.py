"""A file's content hash is the hash of its bytes, however large, and says when it
cannot read them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broadsheet import stamps

# Around the sizes where the reading changes: empty, one block, a block and a byte.
SIZES = [0, 1, 4095, 4096, stamps._BLOCK - 1, stamps._BLOCK, stamps._BLOCK + 1, 3 * stamps._BLOCK]


@pytest.mark.parametrize("size", SIZES)
def test_a_files_hash_is_the_hash_of_its_bytes(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "file"
    path.write_bytes(data)
    assert stamps.content_hash(str(path)) == stamps.bytes_hash(data)


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=20_000))
def test_any_bytes_hash_as_they_do_in_memory(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("h") / "file"
    path.write_bytes(data)
    assert stamps.content_hash(str(path)) == stamps.bytes_hash(data)


def test_a_file_that_grows_after_its_size_was_read_is_hashed_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first read asks for the size the file had: what it holds beyond that by the
    time it is read is hashed too."""
    path = tmp_path / "file"
    path.write_bytes(b"a" * 100)
    real = os.fstat

    def grown(descriptor: int) -> os.stat_result:
        found = real(descriptor)
        with open(path, "ab") as handle:  # written after the size was taken
            handle.write(b"b" * 5000)
        return found

    monkeypatch.setattr(stamps.os, "fstat", grown)
    assert stamps.content_hash(str(path)) == stamps.bytes_hash(b"a" * 100 + b"b" * 5000)


@pytest.mark.parametrize("size", SIZES)
def test_a_file_read_as_stamped_hashes_as_its_bytes(tmp_path: Path, size: int) -> None:
    """Given the stamp it was found with, a file is read in as few calls as its size
    allows (see stamps._hash_as_stamped), and hashes as it does read to its end."""
    data = os.urandom(size)
    path = tmp_path / "file"
    path.write_bytes(data)
    stamp = stamps.stamp_file(str(path), None)
    assert stamps.content_hash(str(path), stamp) == stamps.bytes_hash(data)
    stamps.HASHED.clear()
    assert stamps.file_hash(str(path), stamp) == stamps.bytes_hash(data)
    stamps.HASHED.clear()


@pytest.mark.parametrize(
    "change", ["grown", "cut short", "same size, new bytes", "replaced", "a named pipe"]
)
def test_a_file_that_no_longer_has_its_stamp_gives_no_hash(tmp_path: Path, change: str) -> None:
    """Whatever happened to it since it was stamped (even in the same tick, as long as
    a time, its size or its inode moved), a file gives no hash for the old stamp: not
    of part of it, not of another file in its place; and a named pipe put in its place
    is not waited on."""
    path = tmp_path / "post.md"
    path.write_bytes(b"x" * 5000)
    stamp = stamps.stamp_file(str(path), None)
    if change == "grown":
        with open(path, "ab") as handle:
            handle.write(b"y")
    elif change == "cut short":
        os.truncate(path, 4000)
    elif change == "same size, new bytes":
        path.write_bytes(b"z" * 5000)
        later = path.stat()
        os.utime(path, ns=(later.st_atime_ns, later.st_mtime_ns + 10**9))
    elif change == "replaced":
        other = tmp_path / "other"
        other.write_bytes(b"x" * 5000)
        os.utime(other, ns=(stamp[1], stamp[1]))  # its size and times as stamped
        other.replace(path)
    else:
        path.unlink()
        os.mkfifo(path)
    stamps.HASHED.clear()
    assert stamps.content_hash(str(path), stamp) == stamps.UNREADABLE
    assert stamps.file_hash(str(path), stamp) is None


@pytest.mark.parametrize("size", [-1, 1.5, "5", None, True])
def test_a_stamp_whose_size_is_no_size_gives_no_hash(tmp_path: Path, size: object) -> None:
    path = tmp_path / "post.md"
    path.write_bytes(b"x")
    stamp = [size, *stamps.stamp_file(str(path), None)[1:]]
    assert stamps.content_hash(str(path), stamp) == stamps.UNREADABLE


def test_what_cannot_be_read_hashes_as_unreadable(tmp_path: Path) -> None:
    assert stamps.content_hash(str(tmp_path / "missing")) == stamps.UNREADABLE
    assert stamps.content_hash(str(tmp_path)) == stamps.UNREADABLE  # a folder
    if os.geteuid() != 0:  # (root reads any file)
        locked = tmp_path / "locked"
        locked.write_bytes(b"x")
        locked.chmod(0)
        assert stamps.content_hash(str(locked)) == stamps.UNREADABLE


def test_hashing_leaves_no_file_open(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"news")
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(50):
        stamps.content_hash(str(path))
        stamps.content_hash(str(tmp_path))  # (fails after opening)
    assert len(os.listdir("/proc/self/fd")) == before


def test_a_hash_taken_is_given_again_only_for_the_stamp_it_was_taken_under(
    tmp_path: Path,
) -> None:
    path = tmp_path / "post.md"
    path.write_text("first\n")
    name = str(path)
    stamp = stamps.stamp_file(name, None)
    stamps.HASHED.clear()
    first = stamps.file_hash(name, stamp)
    assert first == stamps.bytes_hash(b"first\n")
    assert stamps.HASHED.get(name, stamp) == first
    path.write_text("second, longer\n")  # (a new size: a new stamp)
    later = stamps.stamp_file(name, None)
    assert stamps.HASHED.get(name, later) is None
    assert stamps.file_hash(name, later) == stamps.bytes_hash(b"second, longer\n")
    assert stamps.file_hash(name, stamp) is None  # (that file is gone: no hash of it)
    # Kept under the very int of the stamp's inode, a path, stamp and hash in one bytes.
    memo = stamps.HASHED._found
    (key,) = memo  # (the file kept its inode: the dict keeps the first stamp's int)
    assert key == later[3] and (key is stamp[3] or key is later[3])
    assert type(memo[later[3]]) is bytes
    # Another path with that inode (a link, another file system) is not given its hash.
    assert stamps.HASHED.get(name + "-link", later) is None
    stamps.HASHED.put("other", [1, 2**64, 0, 1], "feed")  # (past 64 bits: not kept)
    assert stamps.HASHED.get("other", [1, 2**64, 0, 1]) is None
    stamps.HASHED.clear()


HOUR = 3600 * 10**9


def _restored_an_hour_after_writing(path: Path, data: bytes) -> stamps.Stamp:
    """The stamp a deploy keeps of a page that was written an hour before the site was
    restored from a CI cache (its modification time an hour before its change time)."""
    path.write_bytes(data)
    then = path.stat().st_mtime_ns - HOUR
    os.utime(path, ns=(then, then))
    return stamps.stamp_file(str(path), stamps.racy_after())


@pytest.mark.parametrize(
    "how, restored",
    [
        ("tar, cp -a: a new file, its size and times kept", True),
        ("the same, a hash in the stamp (restored just before it was stamped)", True),
        ("a page as the build wrote it (its change time its writing's), no hash", False),
        ("a page written in the stamp's last ticks, a hash", False),
        ("rewritten in place, its times set back", False),
        ("a new file, one nanosecond later", False),
        ("a new file, another size", False),
        ("as it was", False),
    ],
)
def test_a_file_put_back_with_its_times_is_taken_as_restored(
    tmp_path: Path, how: str, restored: bool
) -> None:
    """A site restored from a CI cache (`tar --posix` keeps times to the nanosecond)
    is taken as the one the last deploy found by its files' sizes and modification
    times, unread: only for another inode (an edit in place shows in the change time),
    and only where the stamp kept proves the file's time was that of an earlier write
    (a file itself restored): not a page as the build wrote it, whose tick a file
    system with a lagging coarse clock may not have left when it was stamped."""
    page = tmp_path / "page.html"
    old = _restored_an_hour_after_writing(page, b"<p>news</p>")
    copy = tmp_path / "restored.html"
    data = b"<p>news</p>"
    if how.startswith("the same, a hash"):
        old = [*old, stamps.bytes_hash(data)]
    elif how.startswith("a page as the build wrote it"):
        old = [old[0], old[1], 0, old[3]]
    elif how.startswith("a page written in the stamp's last ticks"):
        old = [old[0], old[1], 1000, old[3], stamps.bytes_hash(data)]
    if how.startswith("rewritten in place"):
        page.write_bytes(b"<p>NEWS</p>")
        os.utime(page, ns=(old[1], old[1]))
    elif how != "as it was":
        if how.endswith("another size"):
            data = b"<p>other news</p>"
        copy.write_bytes(data)
        later = 1 if how.endswith("nanosecond later") else 0
        os.utime(copy, ns=(old[1] + later, old[1] + later))
        copy.replace(page)
    new = stamps.stamp_file(str(page), None)
    assert stamps.is_restored(old, new) is restored
