"""Write a file only when its bytes change, whole or not at all: for posts and pages alike."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from broadsheet.errors import BroadsheetError


def write_if_changed(target: Path, text: str) -> bool:
    """Write `text` to `target` unless it already holds exactly that; True if written."""
    return write_bytes_if_changed(target, text.encode("utf-8"))


def write_bytes_if_changed(target: Path, data: bytes) -> bool:
    """Write `data` to `target` unless it already holds exactly that; True if written."""
    try:
        if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        replace_whole(target, data)
    except OSError as exc:
        raise BroadsheetError(f"cannot write: {exc.strerror or exc}", target) from exc
    return True


def replace_whole(
    target: Path,
    data: bytes,
    mode: int | None = None,
    prefix: str = ".",
    exclusive: bool = False,
) -> None:
    """Put `data` at `target` whole or not at all: written to a temporary file beside it
    (named `prefix`...), given `mode` if one is given, and renamed over it. With
    `exclusive`, a `target` that does not exist yet is never one that appeared meanwhile
    (the file is linked into place, which fails if one did). Raises OSError."""
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if mode is not None:
            os.chmod(temporary, mode)
        if exclusive and not os.path.lexists(target):
            os.link(temporary, target)
        else:
            os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)


def rewrite_whole(path: Path, data: bytes) -> None:
    """Put `data` in place of the file at `path` (if a link, the file it names) whole or
    not at all, as replace_whole does, keeping the file's mode and, where this user may
    give it, its owner; where not (a file of another user's, writable by this one), it
    is written in place, as it must be to keep its owner. Raises OSError."""
    real = Path(os.path.realpath(path))
    info = os.stat(real)
    fd, temporary = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, stat.S_IMODE(info.st_mode))
        if (info.st_uid, info.st_gid) != (os.getuid(), os.getgid()):
            try:
                os.chown(temporary, info.st_uid, info.st_gid)
            except PermissionError:
                real.write_bytes(data)
                return
        os.replace(temporary, real)
    finally:
        Path(temporary).unlink(missing_ok=True)


def user_mode() -> int:
    """0666 less the umask: the mode of a file the user makes."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def remove_empty_folders(root: Path, folder: Path) -> None:
    """Remove `folder` and the folders above it, below `root`, while they are empty."""
    while folder != root and root in folder.parents and folder.is_dir():
        if any(folder.iterdir()):
            return
        folder.rmdir()
        folder = folder.parent
