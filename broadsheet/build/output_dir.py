"""Own the output folder: refuse unsafe targets, stage a new tree, swap it in whole."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from broadsheet.build import timing
from broadsheet.config import SiteConfig
from broadsheet.errors import BroadsheetError

MARKER = ".broadsheet-output"
MARKER_TEXT = "This folder is written by `broadsheet build`; it is replaced on every build.\n"


def check_output_dir(output: Path, config: SiteConfig) -> None:
    """Refuse to build into a folder that holds anything but a site we made."""
    output = output.resolve()
    sources = [config.path(name) for name in _source_dirs(config)]
    if output in (Path("/"), Path.home().resolve(), config.root) or output in config.root.parents:
        raise BroadsheetError(
            "refusing to build here: a build replaces the whole output folder, "
            "and this one holds the project",
            output,
        )
    for source in sources:
        if output == source or source in output.parents:
            raise BroadsheetError(
                f"refusing to build into the {source.name}/ folder, which holds sources", output
            )
    if output.exists():
        if not output.is_dir():
            raise BroadsheetError("the output path exists and is not a folder", output)
        if any(output.iterdir()) and not (output / MARKER).is_file():
            raise BroadsheetError(
                f"refusing to replace a non-empty folder that Broadsheet did not make "
                f"(it has no {MARKER} file); choose an empty or new output folder",
                output,
            )


def _source_dirs(config: SiteConfig) -> tuple[str, ...]:
    return (config.content_dir, config.templates_dir, config.static_dir, "raw")


@contextmanager
def build_lock(output: Path, wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """One build per output folder at a time: a second one waits for the first."""
    lock = output.parent / f".{output.name}.lock"
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        handle = lock.open("a+")
    except OSError as exc:
        raise BroadsheetError(f"cannot lock the output: {exc.strerror or exc}", lock) from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if wait is not None:
                wait(f"another build of {output.name}/ is running; waiting for it to finish")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def recover(output: Path) -> None:
    """Finish what an interrupted build left: restore the last site, drop half-built ones.

    A build killed between its two renames leaves the last good site as `.NAME.old` and
    no `NAME`: that site is put back, never deleted.
    """
    stage = output.parent / f".{output.name}.building"
    old = output.parent / f".{output.name}.old"
    if not output.exists() and old.is_dir():
        os.rename(old, output)
    for leftover in (stage, old):
        _remove(leftover)


@contextmanager
def staged_output(output: Path, reuse: bool = False) -> Iterator[Path]:
    """Yield a staging folder; on success it becomes `output`, on failure it goes.

    With `reuse`, the stage starts as hard links to the current output's files: a build
    that then replaces only changed files (never writing into one in place) costs little,
    and the live site is not touched until the swap.
    """
    output = output.resolve()
    stage = output.parent / f".{output.name}.building"
    old = output.parent / f".{output.name}.old"
    try:
        recover(output)
    except OSError as exc:
        raise BroadsheetError(f"cannot clean up after a previous build: {exc}", output) from exc
    try:
        if reuse and output.is_dir():
            with timing.stage("link last site"):
                _link_tree(output, stage)
        else:
            stage.mkdir(parents=True)
        (stage / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
        yield stage
        if output.exists():
            os.rename(output, old)
        os.rename(stage, output)
    except BaseException as exc:
        _remove(stage)
        if old.exists() and not output.exists():
            os.rename(old, output)
        if isinstance(exc, OSError):
            where = Path(exc.filename) if exc.filename else output
            reason = exc.strerror or str(exc)
            raise BroadsheetError(f"cannot write the site: {reason}", where) from exc
        raise
    with timing.stage("remove old site"):
        _remove(old)


def _link_tree(source: Path, target: Path) -> None:
    for directory, folders, files in os.walk(source):
        relative = Path(directory).relative_to(source)
        (target / relative).mkdir(parents=True, exist_ok=True)
        for name in files:
            os.link(Path(directory, name), target / relative / name)
        folders.sort()


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)
