"""Own the output folder: refuse unsafe targets, stage a new tree, swap it in whole.

Beside an output folder NAME a build uses two names, and only those: `.NAME.lock`,
which it holds while it runs, and `.NAME.building`, its stage. It removes or moves
only what carries proof that it made it: a stage holds a `.broadsheet-build` marker,
written before anything else in it and removed after everything else; and while a
stage is being made or removed, the lock file names it. Anything else found at those
names is left alone: named in a warning, and a build that needs the name stops.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from broadsheet import stamps
from broadsheet.config import SiteConfig
from broadsheet.errors import BroadsheetError, display_path
from broadsheet.files import remove_empty_folders
from broadsheet.publish import timing
from broadsheet.publish.cache import CACHE_DIR
from broadsheet.publish.stage import Stage
from broadsheet.publish.swap import exchange
from broadsheet.stops import stopped_in, stops_held

MARKER = ".broadsheet-output"
MARKER_TEXT = "This folder is written by `broadsheet build`; it is replaced on every build.\n"
PROOF = ".broadsheet-build"  # in a stage: "broadsheet build <id>"
_PROOF_TEXT = re.compile(r"broadsheet build [0-9a-f]{32}\n")
LOCK_HEADER = "broadsheet build lock\n"
TREE, OLD, JOURNAL, NOTES = "tree", "old", "journal.json", "notes"  # inside a stage
REPLACED = "replaced"  # in a stage: what a commit replaced, until it is done

Say = Callable[[str], None]


def check_output_dir(output: Path, config: SiteConfig) -> None:
    """Refuse to build into a folder that holds anything but a site we made."""
    output = output.resolve()
    sources = [config.path(name) for name in _source_dirs(config)]
    if output in (Path("/"), Path.home().resolve()):
        what = "the whole file system" if output == Path("/") else "your home folder"
        raise BroadsheetError(
            f"refusing to build here: a build replaces the whole output folder, and this is {what}",
            output,
        )
    if output == config.root or output in config.root.parents:
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
    cache = config.root / CACHE_DIR
    if output == cache or cache in output.parents:
        raise BroadsheetError(
            f"refusing to build into the build cache ({CACHE_DIR}/): the site would publish it",
            output,
        )
    if os.path.lexists(output / ".git"):  # (a checkout or worktree of a deploy branch)
        raise BroadsheetError(
            "the output folder holds .git, and a build replaces the folder whole: its "
            "history would be deleted. Build into a folder of its own (--output) and copy "
            "the site into the checkout, or deploy with the Pages workflow",
            output / ".git",
        )
    if output.exists():
        if not output.is_dir():
            raise BroadsheetError("the output path exists and is not a folder", output)
        if os.path.ismount(output):
            raise BroadsheetError(
                "the output folder is a mount point, and a build puts a new site in place "
                "of the folder whole: build into a folder inside it (--output "
                f"{display_path(output)}/site)",
                output,
            )
        if any(output.iterdir()) and not (output / MARKER).is_file():
            raise BroadsheetError(
                f"refusing to replace a non-empty folder that Broadsheet did not make "
                f"(it has no {MARKER} file); choose an empty or new output folder",
                output,
            )


def _source_dirs(config: SiteConfig) -> tuple[str, ...]:
    return (config.content_dir, config.templates_dir, config.static_dir, "raw")


def stage_path(output: Path) -> Path:
    return output.parent / f".{output.name}.building"


def lock_path(output: Path) -> Path:
    return output.parent / f".{output.name}.lock"


@dataclass
class OutputLock:
    """The build lock of one output folder, held by this process."""

    output: Path
    fd: int
    created: bool  # the lock file did not exist before this build
    committed: bool = False  # this build has put its site in place
    # The present (see `present`) just before this build began to change the site: a
    # folder changed at or after it may hold what the build does not know of.
    changing: int | None = None

    def note_stage(self, build: str | None) -> None:
        """Write down the stage being made or removed (None: no stage)."""
        text = LOCK_HEADER + (f"stage {build}\n" if build else "")
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, text.encode("ascii"), 0)

    def stage_noted(self) -> bool:
        return b"\nstage " in os.pread(self.fd, 4096, 0)

    def noted_build(self) -> str | None:
        """The build whose stage the lock file notes, if any."""
        found = re.search(rb"\nstage ([0-9a-f]{32})\n", os.pread(self.fd, 4096, 0))
        return found[1].decode("ascii") if found else None


_held: dict[Path, OutputLock] = {}  # the output folders this process holds the lock of


@contextmanager
def build_lock(output: Path, wait: Say | None = None) -> Iterator[OutputLock]:
    """One build per output folder at a time: a second one waits for the first.

    A build that fails before any site exists leaves nothing it made: the lock file
    and the folders above the output that it created are removed again.
    """
    output = output.resolve()
    lock = lock_path(output)
    made = _make_parents(output.parent, lock)
    try:
        held = _acquire(output, lock, wait)
    except BaseException:
        _remove_empty(made)
        raise
    _held[output] = held
    try:
        yield held
    except BaseException:
        if held.created and not os.path.lexists(output):
            with contextlib.suppress(OSError):
                os.unlink(lock)  # while still held: see _acquire() for those waiting
            _remove_empty(made)
        raise
    finally:
        del _held[output]
        os.close(held.fd)  # (releases the lock)


def present(output: Path) -> int | None:
    """The present moment on the output's file system, as it stamps a file changed now
    (ns since the epoch): the build lock's change time once touched, read as any stamp
    is (broadsheet.stamps). None unless this process holds the lock.

    The lock lies beside the output, on the file system every output file was written
    on (a stage's files are renamed into the site), so that this is in the files' own
    clock and ticks: a file whose times are older cannot change again without its
    times moving on (Git's rule for racy files, against its index's time)."""
    held = _held.get(output.resolve())
    if held is None:
        return None
    try:
        os.utime(held.fd)
        stamp = stamps.stamp_of(str(lock_path(held.output)), os.fstat(held.fd), None)
    except OSError:
        return None
    return stamps.changed_at(stamp)


def changed_from(output: Path) -> int | None:
    """When this process's build began to change the site at `output` (see OutputLock):
    None if it has not, or does not hold its lock."""
    held = _held.get(output.resolve())
    return held.changing if held is not None else None


def _changing(output: Path) -> None:
    held = _held.get(output.resolve())
    if held is not None and held.changing is None:
        held.changing = present(output) or stamps.racy_after()


def _make_parents(folder: Path, lock: Path) -> list[Path]:
    missing = [folder, *folder.parents]
    missing = [p for p in missing if not p.exists()][::-1]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BroadsheetError(f"cannot lock the output: {exc.strerror or exc}", lock) from exc
    return missing


def _remove_empty(folders: list[Path]) -> None:
    for folder in reversed(folders):
        with contextlib.suppress(OSError):
            folder.rmdir()  # only ever removes an empty folder


def _acquire(output: Path, lock: Path, wait: Say | None) -> OutputLock:
    """Open and lock `lock`. If the build that held it removed it meanwhile (a failed
    first build does), the lock taken is on a file that is gone: start again."""
    while True:
        fd, created = _open_lock(lock)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if wait is not None:
                    wait(f"another build of {output.name}/ is running; waiting for it to finish")
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                now = os.stat(lock, follow_symlinks=False)
            except FileNotFoundError:
                now = None
            mine = os.fstat(fd)
            gone = now is None or (now.st_dev, now.st_ino) != (mine.st_dev, mine.st_ino)
            data = b"" if gone else os.pread(fd, 4096, 0)
            if data and not data.startswith(LOCK_HEADER.encode()):
                raise BroadsheetError(
                    "in the way: Broadsheet uses this name for its build lock, and this "
                    "file is not one (it holds something else); move it away",
                    lock,
                )
        except BaseException:
            os.close(fd)
            raise
        if not gone:
            return OutputLock(output, fd, created)
        os.close(fd)  # (outside the `try`: a stop as it returns must not close it twice)


def _open_lock(lock: Path) -> tuple[int, bool]:
    flags = os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        try:
            return os.open(lock, flags | os.O_CREAT | os.O_EXCL, 0o644), True
        except FileExistsError:
            fd = os.open(lock, flags)
    except OSError as exc:
        kind = {errno.ELOOP: "a link", errno.EISDIR: "a folder"}.get(exc.errno or 0)
        if kind is not None:
            message = f"in the way: {kind} where the build lock goes; move it away"
            raise BroadsheetError(message, lock) from exc
        raise BroadsheetError(f"cannot lock the output: {exc.strerror or exc}", lock) from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise BroadsheetError("in the way: not a file where the build lock goes; move it", lock)
    return fd, False


def recover(output: Path, lock: OutputLock | None = None, warn: Say | None = None) -> bool:
    """Finish what an interrupted build left: restore the last site, drop half-built ones.

    A stage with a journal was being committed into the site: the commit is completed
    from it, so that the site is the new one whole, never a mix. A stage holding the
    last site as `old/` while there is no site was stopped between its two renames:
    that site is put back. Anything else in a stage is removed. Something at the
    stage's name without proof that a build made it is left alone, with a warning.
    True if a commit was completed.
    """
    output = output.resolve()
    lock = lock or _held.get(output)
    stage = stage_path(output)
    if not os.path.lexists(stage):
        if lock is not None and lock.stage_noted():
            lock.note_stage(None)
        return False
    if not _ours(stage, lock):
        (warn or _warn)(f"{display_path(stage)}: {_NOT_OURS}; left alone")
        return False
    journal = stage / JOURNAL
    completed = journal.is_file()
    if completed:
        try:
            plan = json.loads(journal.read_text(encoding="utf-8"))
            moves, removes = list(plan["moves"]), list(plan["removes"])
            _apply(output, stage / TREE, moves, removes)
        except (ValueError, KeyError, TypeError) as exc:
            raise BroadsheetError(
                f"the journal of an interrupted commit is damaged ({exc}); the site may "
                f"be a mix: delete {display_path(output)}/ and {display_path(stage)}/, "
                "then build again",
                journal,
            ) from exc
    if (stage / OLD).is_dir() and not os.path.lexists(output):
        os.rename(stage / OLD, output)
    _remove_stage(stage, lock)
    return completed


_NOT_OURS = f"Broadsheet did not make this (it holds no {PROOF} marker)"


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _ours(stage: Path, lock: OutputLock | None) -> bool:
    """Whether `stage` is a build's: it holds the marker, or it is an empty folder the
    lock file says a build was making or removing (the marker comes first, goes last)."""
    try:
        if not stat.S_ISDIR(os.lstat(stage).st_mode):
            return False
        proof = stage / PROOF
        if stat.S_ISREG(os.lstat(proof).st_mode):
            text = proof.read_text(encoding="ascii")
            if _PROOF_TEXT.fullmatch(text):
                return True
            # Cut short as it was written (a full disk), by the build the lock names.
            build = lock.noted_build() if lock is not None else None
            return build is not None and f"broadsheet build {build}\n".startswith(text)
    except FileNotFoundError:
        pass
    except (OSError, UnicodeError):
        return False
    return lock is not None and lock.stage_noted() and not any(stage.iterdir())


def _named(function: object, path: str, info: Any) -> None:
    """rmtree's errors, with the whole path of what it could not remove (its own name
    only the entry's: `does-us-policy-have-a-future`, not where it is)."""
    error = info[1]
    if isinstance(error, OSError):
        raise OSError(error.errno, error.strerror, path) from error
    raise error


def _remove_stage(stage: Path, lock: OutputLock | None) -> None:
    """Remove a build's stage: its journal first, its marker last."""
    if lock is not None:
        lock.note_stage("removal")
    names = sorted(os.listdir(stage), key=lambda name: (name != JOURNAL, name == PROOF))
    for name in names:
        path = stage / name
        if path.is_dir() and not path.is_symlink():
            try:
                shutil.rmtree(path, onerror=_named)
            except OSError as exc:
                if stopped_in(exc):  # (a stop that rmtree's clean-up took the place of)
                    raise KeyboardInterrupt from None
                raise
        else:
            path.unlink()
    stage.rmdir()
    if lock is not None:
        lock.note_stage(None)


@contextmanager
def staged_output(output: Path, reuse: bool = False, warn: Say | None = None) -> Iterator[Stage]:
    """Yield a Stage; on success its files become `output`, on failure they go.

    Without `reuse`, the stage is a whole new tree, exchanged with the site in one step
    (where the system has it: else two renames, undone by recover() if need be). With
    `reuse`, it holds only the files that changed, over the current site, and the
    commit moves them in (and deletes what went) after writing down a journal of the
    moves: a build that changes ten files costs ten renames, whatever the size of the
    site. Ctrl-C and SIGTERM wait until the commit is done: then the build stops with
    its site in place (`OutputLock.committed`), never a mix of two.
    """
    output = output.resolve()
    held = _held.get(output)
    if held is None:  # (a build takes the lock, and recovers, before anything else)
        with build_lock(output) as lock:
            try:
                recover(output, lock, warn)
            except OSError as exc:
                message = f"cannot clean up after a previous build: {exc}"
                raise BroadsheetError(message, stage_path(output)) from exc
            with _staged(output, lock, reuse, warn) as stage:
                yield stage
    else:
        with _staged(output, held, reuse, warn) as stage:
            yield stage


@contextmanager
def _staged(output: Path, lock: OutputLock, reuse: bool, warn: Say | None) -> Iterator[Stage]:
    folder = stage_path(output)
    if os.path.lexists(folder):
        raise BroadsheetError(f"in the way: {_NOT_OURS}; move or delete it", folder)
    overlay = reuse and output.is_dir()
    try:
        _make_stage(folder, lock)
        tree, notes = folder / TREE, folder / NOTES
        if overlay:
            stage = Stage(tree, base=output, private=True, notes=notes)
        else:
            stage = Stage(tree, private=True, notes=notes)
            stage.write_text(MARKER, MARKER_TEXT)
        try:
            yield stage
        finally:
            with timing.stage("read stage notes"):  # (the writers are done)
                stage.close_notes()
        with stops_held():
            if overlay:
                with timing.stage("commit changes"):
                    _commit(output, folder, stage)
            else:
                _swap_in(output, folder)
            lock.committed = True
    except BaseException as exc:
        if not lock.committed:
            with contextlib.suppress(OSError):  # (rolls the commit forward if it had begun)
                lock.committed = recover(output, lock, warn)
        if isinstance(exc, OSError):
            where = _as_site(Path(exc.filename), output, folder) if exc.filename else output
            reason = exc.strerror or str(exc)
            raise BroadsheetError(f"cannot write the site: {reason}", where) from exc
        if isinstance(exc, BroadsheetError) and exc.path is not None:  # (a page's write)
            where = _as_site(exc.path, output, folder)
            if where != exc.path:
                raise BroadsheetError(exc.message, where, exc.line) from exc
        raise
    with timing.stage("remove old site"):
        try:
            _remove_stage(folder, lock)
        except OSError as exc:  # (a folder left read-only, say by a `sudo` build)
            where = Path(exc.filename) if exc.filename else folder
            raise BroadsheetError(
                f"the new site is in place, but the last one could not be removed: "
                f"{exc.strerror or exc}; make it writable (chmod -R u+w "
                f"{display_path(folder)}) and build again",
                where,
            ) from exc


def _as_site(path: Path, output: Path, folder: Path) -> Path:
    """A path in the stage's tree (at `folder`) as the site's file it stands for, where
    the user looks; any other path as it is."""
    tree = folder / TREE
    return output / path.relative_to(tree) if path.is_relative_to(tree) else path


def _make_stage(folder: Path, lock: OutputLock) -> None:
    build = os.urandom(16).hex()  # (not uuid: importing it imports platform, 1.5 ms a build)
    lock.note_stage(build)
    folder.mkdir()
    try:
        with open(folder / PROOF, "x", encoding="ascii") as proof:
            proof.write(f"broadsheet build {build}\n")
        (folder / TREE).mkdir()
    except OSError:  # (a full disk, say): what it made goes at once, known to be its own
        with contextlib.suppress(OSError):
            _remove_stage(folder, lock)
        raise


def _swap_in(output: Path, folder: Path) -> None:
    """The stage's tree becomes the site; the last site goes into the stage."""
    tree = folder / TREE
    _changing(output)
    if not os.path.lexists(output):
        os.rename(tree, output)
    elif not exchange(tree, output):  # no atomic exchange here: two renames
        os.rename(output, folder / OLD)
        os.rename(tree, output)


def _commit(output: Path, folder: Path, stage: Stage) -> None:
    """Move the stage's files into the site after writing down a journal of the moves
    (a build killed meanwhile is rolled forward by the next one, from it). A move that
    fails (no permission, a full disk) undoes those before it, last first, and drops
    the journal: the last site stays, whole."""
    moves, removes = stage.staged(), sorted(stage.removed)
    temporary = folder / f"{JOURNAL}.tmp"
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump({"moves": moves, "removes": removes}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, folder / JOURNAL)
    _changing(output)
    done: list[tuple[str, bool, bool]] = []
    try:
        _apply(output, stage.root, moves, removes, folder / REPLACED, done)
    except OSError:
        if _undo(output, stage.root, folder / REPLACED, done):
            (folder / JOURNAL).unlink()
        raise
    stage.moved = moves


def _apply(
    output: Path,
    folder: Path,
    moves: list[str],
    removes: list[str],
    kept: Path | None = None,
    done: list[tuple[str, bool, bool]] | None = None,
) -> None:
    """Delete removed files from the site and move the staged ones in; safe to repeat,
    from any point. The removals come first: a file that becomes a folder
    (press/release, now an alias's press/release/index.html) or a folder that becomes a
    file must be out of the way first, and a removal already done (or a path that is a
    folder again by now) is skipped. With `kept`, the files replaced or removed go there
    rather than away, and `done` lists each change made, (path, it was a move, there
    was a file before), to be undone."""
    for relative in removes:
        target = output / _inside(relative)
        if os.path.isdir(target) and not os.path.islink(target):
            continue  # (a file the commit removed and a folder took its place)
        if kept is not None and os.path.lexists(target):
            _keep(target, kept / relative, link=False)
            if done is not None:
                done.append((relative, False, True))
        else:
            with contextlib.suppress(NotADirectoryError):  # (its folder became a file)
                target.unlink(missing_ok=True)
        remove_empty_folders(output, target.parent)
    for relative in moves:
        source = folder / _inside(relative)
        if source.is_file():
            target = output / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            before = False
            if kept is not None and os.path.lexists(target):
                _keep(target, kept / relative, link=True)
                before = True
            os.replace(source, target)
            if done is not None:
                done.append((relative, True, before))


def _keep(target: Path, kept: Path, link: bool) -> None:
    kept.parent.mkdir(parents=True, exist_ok=True)
    if link:
        os.link(target, kept)  # (the stage is beside the site: one file system)
    else:
        os.replace(target, kept)


def _undo(output: Path, folder: Path, kept: Path, done: list[tuple[str, bool, bool]]) -> bool:
    """Undo the changes `done` made to the site, last first: each new file back into
    the stage (so that a build killed now is still rolled forward whole), with the
    folders it leaves empty (the commit made them: a built site has none), each file it
    replaced or removed back in its place. True if all of them were undone."""
    for relative, moved, before in reversed(done):
        target = output / relative
        try:
            if moved:
                os.replace(target, folder / relative)
            if before:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(kept / relative, target)
            else:
                remove_empty_folders(output, target.parent)
        except OSError:
            return False
    return True


def _inside(relative: str) -> str:
    parts = relative.split("/")
    if relative.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"not a path inside the site: {relative!r}")
    return relative
