"""What Git's index says of the files it checked out: each tracked file's blob (the
hash of its bytes, in Git's own terms) and the stat data Git took of it once it had
written it (Documentation/gitformat-index.txt).

A file whose stat data now are still the ones Git recorded holds that blob: that is
how `git status` knows a file is unchanged without reading it, and the same rules are
kept here (Documentation/technical/racy-git.txt). An entry whose file changed in the
index file's own clock tick, or after it, is "racy" and vouches for nothing. So a fresh
clone, whose every file has a new modification time, still tells which of them hold
the bytes a build saw before, by their blobs (see broadsheet.publish.checkout).

Only what this module can read whole is used: index versions 2 to 4, SHA-1 or
SHA-256 blobs, verified by the index's own checksum. A split index (its entries partly
in another file), a file it cannot read or one that does not verify gives no entries:
each file is then read and hashed, as without Git.
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

from broadsheet.stamps import Stamp

_HEADER = struct.Struct(">4sII")  # "DIRC", version, entries
# ctime s, ns; mtime s, ns; dev; ino; mode; uid; gid; size (32 bits each, as Git keeps them)
_STAT = struct.Struct(">IIIIIIIIII")
_REGULAR = (0o100644, 0o100755)  # a file's mode in the index (links, gitlinks: not files)
_ASSUME_VALID, _EXTENDED, _STAGE = 0x8000, 0x4000, 0x3000
_SKIP_WORKTREE, _INTENT_TO_ADD = 0x4000, 0x2000
_UNUSUAL = _ASSUME_VALID | _STAGE  # (an entry Git does not stat, or one of a merge)
_UNUSUAL_EXTENDED = _SKIP_WORKTREE | _INTENT_TO_ADD
_LOW = 0xFFFFFFFF
_EMPTY_BLOBS = frozenset(  # (the blob of no bytes, in SHA-1 and in SHA-256)
    {
        "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391",
        "473a0f4c3be8a93681a267e3b1e9a7dcda1185436fe141f7749120a303721813",
    }
)
_FLAGS = struct.Struct(">H")
_EXTENSION = struct.Struct(">4sI")


# One tracked file as the index has it: its blob (hex), and the stat data Git took of
# it: size, modification and change times (ns), inode (each but the times as Git keeps
# it, its low 32 bits). A tuple: the compiled reader makes 10,000 at once.
Entry = tuple[str, int, int, int, int]


def holds(entry: Entry, stamp: Stamp) -> bool:
    """Whether the file stamped `stamp` (broadsheet.stamps) is still as Git found it.
    Never for an entry whose size Git set to 0 for a blob that is not empty: Git
    "smudges" an entry so when it writes the index in the file's own tick (racy-git.txt),
    and the file, emptied in that tick, would otherwise match it."""
    blob, size, mtime, ctime, inode = entry
    if size == 0 and blob not in _EMPTY_BLOBS:
        return False
    return bool(
        stamp[0] & _LOW == size
        and stamp[1] == mtime
        and stamp[1] + stamp[2] == ctime
        and stamp[3] & _LOW == inode
    )


def git_dir(folder: Path) -> tuple[Path, Path] | None:
    """The top of the work tree `folder` is in, and its Git directory (a `.git` folder,
    or where a `.git` file points: a linked work tree, a submodule), if any."""
    for top in (folder, *folder.parents):
        dot = top / ".git"
        if dot.is_dir():
            return top, dot
        if dot.is_file():
            try:
                line = dot.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                return None
            if not line.startswith("gitdir: "):
                return None
            found = top / line.removeprefix("gitdir: ")
            return (top, found) if found.is_dir() else None
    return None


def read_index(folder: Path) -> dict[str, Entry]:
    """The files below `folder` (absolute) as the index of the work tree it is in has
    them, named relative to it (with os.sep): only plain files at stage 0 that Git
    tracks as usual (none marked assume-unchanged, skip-worktree or intent-to-add) and
    whose entry is not racy. Empty when there is no index this module can read whole."""
    found = git_dir(folder)
    if found is None:
        return {}
    top, gitdir = found
    try:
        with open(gitdir / "index", "rb") as handle:
            written = os.fstat(handle.fileno()).st_mtime_ns
            data = handle.read()
    except OSError:
        return {}
    prefix = folder.relative_to(top).as_posix()
    return parse_index(data, written, "" if prefix == "." else prefix + "/")


def parse_index(data: bytes, written_ns: int, prefix: str = "") -> dict[str, Entry]:
    """The entries of the index file `data` (see read_index) whose paths start with
    `prefix` (a folder's, ending in "/"), named without it; `written_ns`: the index
    file's modification time, against which an entry is racy."""
    for size in (20, 32):  # SHA-1, or SHA-256: the checksum's size tells which
        if _checksum_holds(data, size):
            try:
                found = _entries(data, size, written_ns, prefix.encode("utf-8"))
            except (struct.error, ValueError, IndexError):  # (UnicodeDecodeError too)
                return {}
            if os.sep != "/":
                return {name.replace("/", os.sep): entry for name, entry in found.items()}
            return found
    return {}


def _checksum_holds(data: bytes, size: int) -> bool:
    if len(data) < _HEADER.size + size or data[:4] != b"DIRC":
        return False
    body, checksum = data[:-size], data[-size:]
    if checksum == bytes(size):  # (index.skipHash: no checksum kept)
        return False
    digest = hashlib.sha1(body) if size == 20 else hashlib.sha256(body)
    return digest.digest() == checksum


def entries_python(data: bytes, hash_size: int, written_ns: int, prefix: bytes) -> dict[str, Entry]:
    """The entries of the index `data` (its checksum of `hash_size` bytes verified)
    that read_index gives, named without `prefix` (with "/"): what the compiled
    index_entries gives (broadsheet/_files.c), where it could not be built. ValueError
    (or struct.error) for an index it does not read whole."""
    _, version, count = _HEADER.unpack_from(data)
    if version not in (2, 3, 4):
        raise ValueError("an index version this module does not read")
    end = len(data) - hash_size  # (the checksum's start: nothing runs into it)
    found: dict[bytes, tuple[bytes, int, int, int, int]] = {}
    at, previous = _HEADER.size, b""
    fixed = struct.Struct(f">10I{hash_size}sH")  # (stat data, blob, flags)
    unpack, find, skip = fixed.unpack_from, data.index, len(prefix)
    for _ in range(count):
        if at + fixed.size > end:
            raise ValueError("an entry that runs into the checksum")
        ctime_s, ctime_ns, mtime_s, mtime_ns, _, inode, mode, _, _, size, blob, flags = unpack(
            data, at
        )
        start, extended = at + fixed.size, 0
        if flags & _EXTENDED:
            if version < 3:
                raise ValueError("an extended entry in a version 2 index")
            if start + 2 > end:
                raise ValueError("an entry that runs into the checksum")
            (extended,) = _FLAGS.unpack_from(data, start)
            start += 2
        if version == 4:  # the path: how much of the last one to drop, then the rest
            drop, start = _varint(data, start, end)
            if drop > len(previous):
                raise ValueError("a path that drops more than the last one had")
            stop = find(b"\0", start, end)
            name = previous[: len(previous) - drop] + data[start:stop]
            at = stop + 1
        else:  # the path, then 1 to 8 NULs: the entry is a multiple of 8 bytes
            stop = find(b"\0", start, end)
            name = data[start:stop]
            at += (start - at + len(name) + 8) & ~7
        if len(name) != flags & 0xFFF and flags & 0xFFF != 0xFFF:
            raise ValueError("a path whose length is not the one its flags give")
        previous = name
        mtime = mtime_s * 1_000_000_000 + mtime_ns
        if (
            mode in _REGULAR
            and not flags & _UNUSUAL
            and not extended & _UNUSUAL_EXTENDED
            and mtime < written_ns  # (else racy: changed in the index's tick, or since)
            and name.startswith(prefix)
        ):
            found[name[skip:]] = (blob, size, mtime, ctime_s * 1_000_000_000 + ctime_ns, inode)
    _extensions(data, at, end)
    return {
        name.decode("utf-8"): (blob.hex(), size, mtime, ctime, inode)
        for name, (blob, size, mtime, ctime, inode) in found.items()
    }


def _extensions(data: bytes, at: int, end: int) -> None:
    """Check the index's extensions (from `at` to the checksum at `end`): ValueError for
    one that means the entries are not all here (a split index's "link") or that Git
    itself would not read past (a name not starting with a capital letter)."""
    while at < end:
        if at + _EXTENSION.size > end:
            raise ValueError("an extension that runs into the checksum")
        name, size = _EXTENSION.unpack_from(data, at)
        if name == b"link" or not b"A" <= name[:1] <= b"Z":
            raise ValueError(f"an index with the extension {name!r}")
        at += _EXTENSION.size + size
    if at != end:
        raise ValueError("an extension that runs into the checksum")


def _varint(data: bytes, at: int, end: int) -> tuple[int, int]:
    """Git's offset encoding (varint.c), before `end`: a number, and where its bytes end."""
    if at >= end:
        raise ValueError("an entry that runs into the checksum")
    byte = data[at]
    value = byte & 127
    while byte & 128:
        at += 1
        if at >= end or value > 1 << 40:
            raise ValueError("a path that drops more than the last one had")
        byte = data[at]
        value = ((value + 1) << 7) | (byte & 127)
    return value, at + 1


try:  # (built by `pip install`, where a C compiler is found)
    from broadsheet._files import index_entries as _entries
except ImportError:
    _entries = entries_python
