"""Files a build keeps for itself (its cache), never trusted as read.

A sealed file holds, on its first line, an XXH3-128 hash of the bytes after that line
(as Git's index and pack files end with a checksum; blake2b sealed them before, and
still verifies them). A file that is missing, unreadable, not a file, or whose bytes
do not hash as its first line says, reads as None, and the caller works out again
what it held. Writing one replaces whatever is in its place
(a file, a folder, a link) whole, through a temporary file renamed into place.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from broadsheet.errors import BroadsheetError
from broadsheet.paths import open_source, read_source
from broadsheet.stamps import bytes_hash, hasher, legacy_bytes_hash

_DIGEST = 16  # bytes of XXH3-128: 32 hexadecimal characters, then a newline
_HEAD = 2 * _DIGEST + 1


def seal(payload: bytes) -> bytes:
    return _digest(payload) + b"\n" + payload


def _digest(payload: bytes) -> bytes:
    return bytes_hash(payload).encode()


def unseal(data: bytes) -> bytes | None:
    """The payload of sealed `data`, or None if it does not verify (by XXH3, or by the
    blake2b that sealed files before it: an image cache is hours of encoding)."""
    return _verified(data[:_HEAD], data[_HEAD:])


def _verified(head: bytes, payload: bytes, digest: str | None = None) -> bytes | None:
    """`payload` if `head` (a sealed file's first line, with its newline) is its hash
    (and `digest`, if given); else None."""
    if len(head) < _HEAD or head[_HEAD - 1 :] != b"\n":
        return None
    head = head[: _HEAD - 1]
    if digest is not None and head != digest.encode():
        return None
    if head == _digest(payload) or head == _legacy_digest(payload):
        return payload
    return None


def _legacy_digest(payload: bytes) -> bytes:
    return legacy_bytes_hash(payload).encode()


def read_sealed(path: Path, digest: str | None = None) -> bytes | None:
    """The payload of the sealed file at `path`, or None (see the module's docstring);
    given the `digest` write_sealed_parts returned, None unless the file is that one."""
    handle = open_sealed(path)
    if handle is None:
        return None
    with handle:
        return _read_sealed(handle, digest)


def _read_sealed(handle: BinaryIO, digest: str | None) -> bytes | None:
    """The payload of the sealed file open at `handle`, read from its start. Its first
    line and the rest are read apart: the payload is not copied out of the whole
    file's bytes (the build's caches are 15 MB at 10,000 articles, and every page of
    such a copy is a fault)."""
    raw = getattr(handle, "raw", handle)  # (read unbuffered: a buffer is another copy)
    try:
        raw.seek(0)
        head = raw.read(_HEAD)
        if (
            head is None
            or len(head) < _HEAD
            or (digest is not None and head[: _HEAD - 1] != digest.encode())
        ):
            return None
        payload = raw.read()
    except OSError:
        return None
    return _verified(head, payload) if payload is not None else None


def open_sealed(path: Path) -> BinaryIO | None:
    """The sealed file at `path` opened for reading, or None (see read_file): read
    later by `read_opened`, even in a forked process, it gives what the file held
    when it was opened, though a writer replaced it meanwhile."""
    try:
        return open_source(path)
    except BroadsheetError:
        return None


def read_opened(handle: BinaryIO | None, digest: str | None = None) -> bytes | None:
    """The payload of a file `open_sealed` opened (None as read_sealed, given the same
    `digest`), closing it."""
    if handle is None:
        return None
    with handle:
        return _read_sealed(handle, digest)


def read_file(path: Path) -> bytes | None:
    """The bytes of the regular file at `path`; None if there is none (a folder, a pipe
    or a device in its place is never read: it could block or never end), or it cannot
    be read."""
    try:
        return read_source(path)
    except BroadsheetError:
        return None


def write_sealed(path: Path, payload: bytes) -> None:
    """Write `payload` sealed to `path`, whole or not at all. Raises OSError."""
    write_sealed_parts(path, [payload])


def write_sealed_parts(path: Path, parts: Iterable[bytes]) -> str:
    """Write the payload made of `parts` end to end sealed to `path`, whole or not at
    all, taking one part at a time: a payload of many megabytes made in parts (see
    cache.save_cache) is never held whole; return its digest (as `read_sealed` takes it).
    Raises OSError."""
    make_folder(path.parent)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        clear(temporary)
        with temporary.open("wb") as handle:  # not seal(payload): a second copy of it
            handle.write(b"0" * (_HEAD - 1) + b"\n")  # the digest, once the parts are in
            digesting = hasher()
            for part in parts:
                digesting.update(part)
                handle.write(part)
            handle.seek(0)
            digest = digesting.hexdigest()
            handle.write(digest.encode())
        try:
            os.replace(temporary, path)
        except OSError:  # a folder in its place: only ever the build's own, or damage
            clear(path)
            os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return digest


def clear(path: Path) -> None:
    """Remove whatever is at `path`: a file, a link (never what it leads to), a folder."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        shutil.rmtree(path)
    else:
        path.unlink()


def make_folder(path: Path, links: bool = True) -> None:
    """Make the folder `path` (and its parents), replacing a file in its way, and a link
    unless `links` (then a link to a folder is followed, as `mkdir -p` does). Raises
    OSError when it cannot."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        if path.is_dir() and (links or not path.is_symlink()):
            return
    except (FileExistsError, NotADirectoryError):
        pass
    if path.parent != path:
        make_folder(path.parent)
    clear(path)
    path.mkdir()
