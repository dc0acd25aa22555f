"""Own the output folder: refuse unsafe targets, stage a new tree, swap it in whole."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from broadsheet.config import SiteConfig
from broadsheet.errors import BroadsheetError
from broadsheet.publish import timing
from broadsheet.publish.stage import Stage

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
    no `NAME`: that site is put back, never deleted. One killed while committing changes
    into the site left a journal: the commit is completed from it, so the site is the
    new one whole, never a mix.
    """
    stage = output.parent / f".{output.name}.building"
    old = output.parent / f".{output.name}.old"
    journal = _journal(output)
    if journal.is_file():
        try:
            plan = json.loads(journal.read_text(encoding="utf-8"))
            moves, removes = list(plan["moves"]), list(plan["removes"])
        except (OSError, ValueError, KeyError, TypeError):
            moves, removes = [], []  # torn while being written: the commit had not begun
        _apply(output, stage, moves, removes)
        journal.unlink()
    if not output.exists() and old.is_dir():
        os.rename(old, output)
    for leftover in (stage, old):
        _remove(leftover)


def _journal(output: Path) -> Path:
    return output.parent / f".{output.name}.journal"


@contextmanager
def staged_output(output: Path, reuse: bool = False) -> Iterator[Stage]:
    """Yield a Stage; on success its files become `output`, on failure they go.

    Without `reuse`, the stage is a whole new tree, renamed into place. With `reuse`,
    it holds only the files that changed, over the current site, and the commit moves
    them in (and deletes what went) after writing down a journal of the moves: a build
    that changes ten files costs ten renames, whatever the size of the site.
    """
    output = output.resolve()
    folder = output.parent / f".{output.name}.building"
    old = output.parent / f".{output.name}.old"
    try:
        recover(output)
    except OSError as exc:
        raise BroadsheetError(f"cannot clean up after a previous build: {exc}", output) from exc
    overlay = reuse and output.is_dir()
    try:
        folder.mkdir(parents=True)
        if overlay:
            stage = Stage(folder, base=output, private=True)
            yield stage
            with timing.stage("commit changes"):
                _commit(output, stage)
            return
        (folder / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
        yield Stage(folder, private=True)
        if output.exists():
            os.rename(output, old)
        os.rename(folder, output)
    except BaseException as exc:
        if not _journal(output).exists():  # past the journal, recover() rolls forward
            _remove(folder)
        if old.exists() and not output.exists():
            os.rename(old, output)
        if isinstance(exc, OSError):
            where = Path(exc.filename) if exc.filename else output
            reason = exc.strerror or str(exc)
            raise BroadsheetError(f"cannot write the site: {reason}", where) from exc
        raise
    with timing.stage("remove old site"):
        _remove(old)


def _commit(output: Path, stage: Stage) -> None:
    moves, removes = stage.staged(), sorted(stage.removed)
    journal = _journal(output)
    temporary = journal.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump({"moves": moves, "removes": removes}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, journal)
    _apply(output, stage.root, moves, removes)
    journal.unlink()
    _remove(stage.root)
    stage.moved = moves


def _apply(output: Path, folder: Path, moves: list[str], removes: list[str]) -> None:
    """Move staged files into the site and delete removed ones; safe to repeat."""
    for relative in moves:
        source = folder / relative
        if source.is_file():
            target = output / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
    for relative in removes:
        target = output / relative
        target.unlink(missing_ok=True)
        parent = target.parent
        while parent != output and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)
