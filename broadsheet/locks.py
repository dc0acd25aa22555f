"""One lock on content/: an import holds it alone while it decides and writes; builds and
`serve` share it while they read posts, so that they never see half an import."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from broadsheet.errors import BroadsheetError, display_path

if TYPE_CHECKING:
    pass


@contextlib.contextmanager
def content_lock(
    content_dir: Path, *, shared: bool, wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold an flock on the content folder itself (no lock file to leave behind).

    A reader whose folder is missing or unreadable goes on without the lock: it reports
    that itself, with the folder's name. The lock goes when the process does, even killed.
    """
    try:
        fd = os.open(content_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        if shared:
            yield
            return
        raise BroadsheetError(f"cannot lock: {exc.strerror or exc}", content_dir) from exc
    try:
        mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            if wait is not None:
                other = "an import into" if shared else "a build or import reading"
                wait(f"waiting for {other} {display_path(content_dir)}/ to finish...")
            fcntl.flock(fd, mode)
        # A stage left by an import that was killed (no import runs while this lock is
        # shared): moving in, it is finished; still reading, it is removed, for it is in
        # content/, where a `git add -A` would take it.
        if shared and any(content_dir.glob(".import-*")):
            _finish_import(fd, content_dir)
        try:
            yield
        finally:
            # Unlocked explicitly: a forked worker still holding the descriptor keeps no lock.
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _finish_import(fd: int, content_dir: Path) -> None:
    """An import was killed while moving its posts in: finish it before reading them.
    That takes the lock alone for a moment (flock converts it), then shared again."""
    from broadsheet.ingest.commit import finish_interrupted

    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        finish_interrupted(content_dir)
    finally:
        fcntl.flock(fd, fcntl.LOCK_SH)
