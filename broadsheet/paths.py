"""Walk a source folder (content/, static/, templates/): every file a build may read, or
an error naming each file or folder it must not or cannot read.

A link is followed only to a file in the same source folder, outside hidden folders: a
link anywhere else could publish a private file (`../.env`, `.git/config`, a key) as a
static file, or pull another project's posts in without anyone noticing. Names that
start with "." are never read, and so never walked.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from broadsheet.errors import BroadsheetError, BroadsheetErrors, display_path
from broadsheet.stamps import Stamp, racy_hash, stamp_of

try:
    from broadsheet._files import scan as _native_scan
except ImportError:  # built without a C compiler: the walk below does it all
    _native_scan = None  # type: ignore[assignment]


def resolve(path: Path) -> Path:
    """`path` made absolute with its links followed; a link loop is an error naming it."""
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:  # Python 3.11 raises RuntimeError on a loop
        raise BroadsheetError("is a symbolic link that loops back on itself", path) from exc


def read_source(path: Path) -> bytes:
    """The bytes of a source file, which must still be a plain file: one replaced by a
    FIFO since the walk would block open() or read() for ever, so it is opened without
    waiting and looked at before it is read."""
    with open_source(path) as handle:
        try:
            return handle.read()
        except OSError as exc:
            raise BroadsheetError(f"cannot read: {exc.strerror or exc}", path) from exc


def open_source(path: Path) -> BinaryIO:
    """A source file opened for reading (see read_source), or an error naming it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise BroadsheetError(f"cannot read: {exc.strerror or exc}", path) from exc
    try:  # looked at before the file object is made: open() refuses a folder itself
        _check_file(str(path), os.fstat(fd), os.geteuid())
    except BaseException as exc:
        os.close(fd)
        if isinstance(exc, OSError):
            raise BroadsheetError(f"cannot read: {exc.strerror or exc}", path) from exc
        raise
    # Outside the `try`: once the file object holds `fd`, it alone closes it. A Ctrl-C
    # that came as open() returned would have the object closed as it was dropped, and
    # the os.close() above fail (EBADF) in the KeyboardInterrupt's place.
    return open(fd, "rb")


def source_files(folder: Path, racy: int | None = None) -> dict[str, Stamp]:
    """Every file below `folder` (path string -> stamp, hashed if changed at or after
    `racy`: see broadsheet.stamps), or every problem found."""
    files, errors = scan_source(folder, racy)
    if errors:
        raise BroadsheetErrors(errors)
    return files


def scan_source(
    folder: Path, racy: int | None = None, known: Callable[[str, Stamp], str | None] | None = None
) -> tuple[dict[str, Stamp], list[BroadsheetError]]:
    """The files below `folder` (path string -> stamp, hashed if it changed at or after
    `racy`: see broadsheet.stamps; in no particular order; the hash `known` gives for a
    path and its stamp, if any, is not taken again), and the
    problems: a folder or file that cannot be read, something that is not a plain file
    (a FIFO would hang the read), a link that loops, dangles, or leads out of `folder`.

    A scandir walk: it runs on every build, and directory entries know what is a folder
    or a link without a stat; each file costs one stat, for its stamp. Compiled
    (broadsheet/_files.c) where it could be built: that walk settles the plain files
    (a third of a build that finds nothing to do, at 10,000 articles, in Python) and
    leaves every other entry to be judged here, as this walk judges it.
    """
    files: dict[str, Stamp] = {}
    errors: list[BroadsheetError] = []
    if not folder.is_dir():
        return files, errors
    base = resolve(folder)
    uid = os.geteuid()
    pending = [str(folder)]
    if _native_scan is not None:
        files, hashed, odd, pending = _native_scan(os.fsencode(folder), racy)
        for path in hashed:  # (racy: as stamp_of stamps them, but hashed as stamped)
            files[path].append(racy_hash(path, files[path], known))
        for path in odd:
            _judge(path, _Entry(path), base, uid, racy, files, errors, pending)
    while pending:
        directory = pending.pop()
        try:
            with os.scandir(directory) as listing:
                entries = [entry for entry in listing if not entry.name.startswith(".")]
        except FileNotFoundError:  # removed while we walked: it holds nothing now
            continue
        except OSError as exc:
            errors.append(_unreadable(directory, exc, "folder"))
            continue
        for entry in entries:
            _judge(entry.path, entry, base, uid, racy, files, errors, pending)
    errors.sort(key=lambda error: str(error.path))
    return files, errors


class _Entry:
    """What the walk asks of an os.DirEntry, for a path the compiled walk left to it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.name = os.path.basename(path)

    def is_dir(self, *, follow_symlinks: bool) -> bool:
        return stat.S_ISDIR(os.lstat(self.path).st_mode)

    def is_symlink(self) -> bool:
        return stat.S_ISLNK(os.lstat(self.path).st_mode)

    def stat(self, *, follow_symlinks: bool) -> os.stat_result:
        return os.lstat(self.path)


def _judge(
    path: str,
    entry: os.DirEntry[str] | _Entry,
    base: Path,
    uid: int,
    racy: int | None,
    files: dict[str, Stamp],
    errors: list[BroadsheetError],
    pending: list[str],
) -> None:
    """One entry of a folder: a file stamped into `files`, a folder put in `pending`,
    or a problem added to `errors`."""
    if not entry.name.isascii() and not _utf8(entry.name):
        errors.append(_not_utf8(path))
        return
    try:
        if entry.is_dir(follow_symlinks=False):
            pending.append(path)
            return
        info = _follow(path, base) if entry.is_symlink() else entry.stat(follow_symlinks=False)
        _check_file(path, info, uid)
    except FileNotFoundError:  # deleted since it was listed (an editor saving)
        return
    except BroadsheetError as exc:
        errors.append(exc)
        return
    except OSError as exc:
        errors.append(_unreadable(path, exc, "file"))
        return
    files[path] = stamp_of(path, info, racy)


def _utf8(name: str) -> bool:
    """Whether a file name is UTF-8 text: Python holds the bytes of one that is not as
    lone surrogates, which no page, URL or message can show."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _not_utf8(path: str) -> BroadsheetError:
    shown = path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return BroadsheetError("its name is not UTF-8 text (shown with \ufffd); rename it", shown)


def _unreadable(path: str, exc: OSError, what: str) -> BroadsheetError:
    return BroadsheetError(f"cannot read this {what}: {exc.strerror or exc}", path)


def _follow(link: str, base: Path) -> os.stat_result:
    """The stat of the file `link` leads to, if it is a file in `base` outside hidden
    folders; else an error naming the link and where it leads."""
    try:
        target = Path(link).resolve(strict=True)
    except FileNotFoundError as exc:
        raise BroadsheetError(
            f"is a link to {os.readlink(link)}, which does not exist; remove the link", link
        ) from exc
    except (RuntimeError, OSError) as exc:
        if isinstance(exc, OSError) and not _is_loop(exc):
            raise
        raise BroadsheetError("is a symbolic link that loops back on itself", link) from exc
    shown = display_path(target)
    if target != base and base not in target.parents:
        raise BroadsheetError(
            f"is a link to {shown}, outside {display_path(base)}/: a link may only lead "
            "to a file in the same folder; copy the file in instead, or remove the link",
            link,
        )
    if any(part.startswith(".") for part in target.relative_to(base).parts):
        raise BroadsheetError(
            f"is a link to the hidden file {shown}, which is never published; "
            "copy the file in instead, or remove the link",
            link,
        )
    info = os.stat(target)
    if stat.S_ISDIR(info.st_mode):
        raise BroadsheetError(
            f"is a link to the folder {shown}; links are followed only to files: "
            "move the folder here instead, or remove the link",
            link,
        )
    return info


def _is_loop(exc: OSError) -> bool:
    return exc.errno == errno.ELOOP


_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def _check_file(path: str, info: os.stat_result, uid: int) -> None:
    """Error unless `path` is a plain file this process may read."""
    if not stat.S_ISREG(info.st_mode):
        kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a plain file")
        raise BroadsheetError(f"is {kind}, not a file; remove it from the folder", path)
    if not _may_read(info, uid) and not os.access(path, os.R_OK):
        raise BroadsheetError(
            "cannot read this file: Permission denied (check its permissions)", path
        )


def _may_read(info: os.stat_result, uid: int) -> bool:
    """Whether the mode bits let this process read: no system call (os.access is asked
    only when they say no, as ACLs and capabilities may still allow it)."""
    if info.st_uid == uid:  # root too: without CAP_DAC_OVERRIDE it obeys the bits
        return bool(info.st_mode & stat.S_IRUSR)
    if info.st_gid in _groups():
        return bool(info.st_mode & stat.S_IRGRP)
    return bool(info.st_mode & stat.S_IROTH)


def _groups() -> frozenset[int]:
    return frozenset((os.getegid(), *os.getgroups()))
