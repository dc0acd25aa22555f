"""Errors that name the file (and line) they are about."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


class BroadsheetError(Exception):
    """A problem the user can fix, shown as `path:line: message` without a traceback."""

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        # What setting it is about, as dotted keys below pyproject.toml's top (such as
        # tool, broadsheet, base_url): broadsheet.config finds the line that sets it.
        self.setting: tuple[str, ...] = ()

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        # Rebuilt whole when it crosses from a render worker to the main process.
        return (type(self), (self.message, self.path, self.line))

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        where = display_path(self.path)
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"


class BroadsheetErrors(BroadsheetError):
    """Several problems found in one pass; each is reported."""

    def __init__(self, errors: Iterable[BroadsheetError]):
        self.errors = tuple(errors)
        super().__init__("\n".join(str(e) for e in self.errors))

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        return (type(self), (self.errors,))

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class CacheUnwritable(BroadsheetError):
    """What a build keeps in its build cache (its state: the search index's order, the
    marks of a build under way) could not be written: a full, read-only or vanished
    cache disk. The build starts again without the cache (see
    broadsheet.publish.pipeline)."""


def display_path(path: Path) -> str:
    """A path relative to the working directory when it lies below it, else as given.

    Links are not followed: a link is named where it is, not where it points.
    """
    try:
        return str(Path(os.path.abspath(path)).relative_to(Path(os.path.abspath(Path.cwd()))))
    except (ValueError, OSError):
        return str(path)
