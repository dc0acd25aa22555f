"""A file's stamp: what a build remembers of it to tell, next time, whether it changed
without reading it (Git's answer, Documentation/technical/racy-git.txt).

A stamp is [size, mtime_ns, ctime_ns - mtime_ns, inode] (the change time as an offset,
mostly 0: a shorter cache to read), and sometimes a hash of the file's bytes:

- size and modification time change with most edits;
- the change time catches the edits that keep both (`cp -p`, `rsync -t`, `touch -d`
  set the modification time back): the kernel sets it to the present on every write
  or change of metadata, and nothing can set it back;
- the inode catches a file replaced by another (renamed over it, as rsync and many
  editors do);
- the hash catches what times cannot: a file system keeps time in ticks (a few
  milliseconds, or 1 or 2 seconds on some), so a second edit of the same size in the
  same tick as the first leaves every time as it was. A file whose modification or
  change time is not safely older than the moment it is stamped (RACY_NS, to cover
  the coarsest ticks) is "racy": its stamp carries a hash of its bytes, and it
  is unchanged only while its bytes still hash the same. Any later stamp of it, once
  it is safely old, carries no hash: its change time alone then shows any edit.

Only files edited in the seconds before a build are hashed, so a build that finds
nothing changed still reads no file but its cache.
"""

from __future__ import annotations

import hashlib
import os
import struct
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import xxhash

RACY_NS = 3_000_000_000  # a file changed this recently is hashed (2 s FAT ticks, skew)
Stamp = list[Any]  # [size, mtime_ns, ctime_ns - mtime_ns, inode] (+ [hash] when racy)
UNREADABLE = "-"  # the hash of a file that could not be read: equal to no real hash


def racy_after() -> int:
    """The moment (ns since the epoch) from which a changed file is racy, for stamps
    taken from now on."""
    return _clock() - RACY_NS


_clock = time.time_ns  # (a test's coarse file system brings its own)


def stamp_of(path: str, stat: os.stat_result, racy: int | None) -> Stamp:
    """The stamp of the file at `path`, given its `stat`; hashed if it changed at or
    after `racy` (never, when None: for a comparison that will not be kept)."""
    mtime = stat.st_mtime_ns
    stamp: Stamp = [stat.st_size, mtime, stat.st_ctime_ns - mtime, stat.st_ino]
    if racy is not None and max(mtime, stat.st_ctime_ns) >= racy:
        stamp.append(content_hash(path))
    return stamp


def stamp_file(path: str, racy: int | None) -> Stamp:
    return stamp_of(path, os.stat(path), racy)


class Hashed:
    """The hashes this process took, by path and stamp (size, times, inode): a build asks
    for some more than once (the image stage, or the check of a restored cache's posts,
    then the hashes the build cache records).

    Kept by inode, the very int of the caller's stamp (which the build holds anyway),
    with the path's hash, the stamp and the file's hash packed in one bytes object: a
    deploy of 100,000 articles hashes every post, and a tuple of the path and four ints
    as the key, with a string for the hash, took 30 MB of its peak, and the paths as
    keys 13 MB. Two files with one inode (links, or two file systems) take turns: a
    path whose hash or stamp differs from the one kept is hashed again, never given
    another file's hash."""

    _STAMP = struct.Struct("<qqqqQ")  # the path's hash, then size, times, inode

    def __init__(self) -> None:
        self._found: dict[int, bytes] = {}

    def get(self, path: str, stamp: Stamp) -> str | None:
        """The hash taken of the file at `path` when it had the stamp `stamp`, if any."""
        packed = self._found.get(stamp[3])
        if packed is None or self._packed(path, stamp) != packed[: self._STAMP.size]:
            return None
        return packed[self._STAMP.size :].decode("ascii")

    def put(self, path: str, stamp: Stamp, digest: str) -> None:
        packed = self._packed(path, stamp)
        if packed is not None and digest.isascii():
            self._found[stamp[3]] = packed + digest.encode("ascii")

    def clear(self) -> None:
        self._found.clear()

    def _packed(self, path: str, stamp: Stamp) -> bytes | None:
        try:
            return self._STAMP.pack(hash(path), *stamp[:4])
        except struct.error:  # (a time or size beyond 64 bits: not kept)
            return None


HASHED = Hashed()


_BLOCK = 1 << 20  # bytes read at a time, past a file's first read


def content_hash(path: str, stamp: Stamp | None = None) -> str:
    """A hash of the bytes of the file at `path` (UNREADABLE if it cannot be read). Most
    files a build hashes are a few kilobytes (posts, pages: 30,000 at 10,000 articles),
    read here in one call of the size the file has, then one that finds its end: half
    the cost of hashlib.file_digest, which makes a 256 KB buffer for each file.
    Given the `stamp` the file was found with, UNREADABLE too unless, once read, it
    still has that stamp (see _hash_as_stamped)."""
    if stamp is not None:
        return _hash_as_stamped(path, stamp) or UNREADABLE
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return UNREADABLE
    try:
        digesting = hasher()
        block = min(os.fstat(descriptor).st_size + 1, _BLOCK)  # (+1: a file that grew)
        while chunk := os.read(descriptor, block):
            digesting.update(chunk)
            block = _BLOCK
        return digesting.hexdigest()
    except OSError:
        return UNREADABLE
    finally:
        os.close(descriptor)


def bytes_hash(data: bytes) -> str:
    """What content_hash() gives for a file holding `data`: for bytes a writer has in hand."""
    return xxhash.xxh3_128_hexdigest(data)


def hasher() -> xxhash.xxh3_128:
    """The hash that tells a file's bytes from other bytes: XXH3's 128 bits (an
    accidental collision is out of reach; it is no defence against bytes made to
    collide, which only someone who can already write the files could plant), at
    20 GB/s against blake2b's 0.9: every page a build writes is hashed (342 MB at
    10,000 articles), and every file of a site restored from a CI cache."""
    return xxhash.xxh3_128()


def legacy_bytes_hash(data: bytes) -> str:
    """The hash bytes_hash() gave before it was XXH3 (blake2b): what caches written
    then were sealed and keyed by."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def changed_at(stamp: Stamp) -> int:
    """When the file `stamp` stamps last changed: the later of its modification and
    change times (ns since the epoch)."""
    moment: int = max(stamp[1], stamp[1] + stamp[2])
    return moment


def is_racy(stamp: Stamp, racy: int) -> bool:
    """Whether the file `stamp` stamps changed at or after the moment `racy`."""
    return changed_at(stamp) >= racy


def file_hash(path: str, stamp: Stamp) -> str | None:
    """A hash of the bytes of the file at `path`, stamped `stamp`; None if it changed
    since `stamp` was taken (its stamp no longer matches once hashed) or cannot be read.
    A racy stamp (see broadsheet.stamps) gives the hash it carries."""
    if len(stamp) > 4:
        return stamp[4] if stamp[4] != UNREADABLE else None
    found = HASHED.get(path, stamp)
    if found is None:
        found = content_hash(path, stamp)
        if found == UNREADABLE:
            return None
        HASHED.put(path, stamp, found)
    return found


def racy_hash(path: str, stamp: Stamp, known: Callable[[str, Stamp], str | None] | None) -> str:
    """The hash a racy `stamp` of the file at `path` carries: the one `known` gives for
    it, if any (broadsheet.publish.checkout), else one taken at that stamp (and kept:
    see HASHED), else that of the bytes as they are now (the file changed meanwhile:
    the next build finds its stamp changed)."""
    found = known(path, stamp) if known is not None else None
    found = found or file_hash(path, stamp)
    return found if found is not None else content_hash(path)


def _hash_as_stamped(path: str, stamp: Stamp) -> str | None:
    """A hash of the bytes of the file at `path` if, once read, it still has `stamp`;
    else None. Four system calls for a file of up to _BLOCK bytes: it is read in one
    call of the size its stamp gives (and one byte more, which only a file that grew
    fills), then stamped through the open file. A deploy hashes every source and output
    file (40,000 at 10,000 articles); opening, stamping, reading to the end and
    stamping again by path took six. Bytes read short of the stamp's size, or past it,
    never give a hash."""
    size = stamp[0]
    if type(size) is not int or size < 0:  # (not a stamp a build takes: no hash)
        return None
    try:
        # (not blocking: a named pipe put in the file's place is read as empty)
        descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        digesting = hasher()
        read = 0
        while read < size:
            chunk = os.read(descriptor, min(size - read + 1, _BLOCK))
            if not chunk:
                break
            digesting.update(chunk)
            read += len(chunk)
        after = os.fstat(descriptor)
    except OSError:
        return None
    finally:
        os.close(descriptor)
    if read != size or stamp_of(path, after, None) != stamp[:4]:
        return None
    return digesting.hexdigest()


def unchanged(old: Stamp, new: Stamp, path: str) -> bool:
    """Whether the file at `path`, stamped `new` now, is as it was when stamped `old`."""
    if old == new:
        return True
    if old[:4] != new[:4]:
        return False
    if len(old) == 4:  # stamped when safely old: an edit since would show in its times
        return True
    current = new[4] if len(new) > 4 else content_hash(path)
    return current == old[4] and current != UNREADABLE


def is_restored(old: Stamp, new: Stamp) -> bool:
    """Whether the file stamped `new` is the one stamped `old`, put back with its times:
    another inode (a new file), but the size and the modification time to the
    nanosecond that `old` recorded, of a file that had itself been put back so (its
    modification time RACY_NS before its change time). GNU tar keeps a file's times so
    in the POSIX format (`actions/cache` saves and restores a folder with
    `tar --posix`), and so do `cp -a` and `rsync -a`; rsync's quick check goes by the
    same two. Only for files a build alone writes (the output), and only once each time
    its bytes change: then another file has the same time only if someone set it by
    hand, to the nanosecond, to the one this file was written at. A file rewritten in
    place keeps its inode, and is caught by its change time.

    Why a file put back: its modification time was then older than its change time by
    more than the coarsest tick (both in the file system's own clock), and `old` was
    taken after that change, so another file written since has a later time. A page
    the build wrote has no such proof (its change time is its writing's, or its
    renaming's into place), whatever the machine's clock said when it was stamped: a
    file system whose clock lags could still be in the tick it was written in. So a
    deploy that restores what a deploy restored (the workflow's every run but the
    first two, and the two after a change of Broadsheet, whose first builds cold) reads
    only the pages the last one wrote."""
    if new[3] == old[3] or new[0] != old[0] or new[1] != old[1]:
        return False
    return bool(old[2] >= RACY_NS)


def with_hash(stamp: Stamp, digest: str, racy: int) -> Stamp:
    """A `stamp` taken without a hash, given `digest` (in place) if its file is racy:
    as stamp_of() stamps a file, for the moment `racy` was taken for."""
    if is_racy(stamp, racy):
        stamp.append(digest)
    return stamp


def settled(stamp: Stamp, racy: int) -> Stamp:
    """A `stamp` just verified, without its hash if the file is no longer racy."""
    if len(stamp) > 4 and not is_racy(stamp, racy):
        return stamp[:4]
    return stamp


_Value = TypeVar("_Value")


def by_path(found: dict[str, _Value]) -> dict[str, _Value]:
    """`found` in the order of its paths, as every map of stamps is kept (so that a
    cache holding the same files is the same bytes). Sorting the paths and looking each
    up takes half the time of sorting the pairs: 8 ms against 16 for 30,000."""
    return {path: found[path] for path in sorted(found)}


def well_formed(value: Any) -> bool:
    """Whether `value` (read back from a cache) has the shape of a stamp."""
    return (
        type(value) is list
        and (len(value) == 4 or (len(value) == 5 and type(value[4]) is str))
        and type(value[0]) is int
        and type(value[1]) is int
        and type(value[2]) is int
        and type(value[3]) is int
    )


def well_formed_all_python(values: Iterable[Any]) -> bool:
    """Whether each of `values` has the shape of a stamp (see well_formed). (The
    compiled well_formed_all, broadsheet/_files.c, gives the same: a build's cache
    holds 40,000 stamps at 10,000 articles, each checked as it is read back.)"""
    return all(map(well_formed, values))


try:
    from broadsheet._files import well_formed_all as well_formed_all
except ImportError:  # (no compiler where it was installed)
    well_formed_all = well_formed_all_python
