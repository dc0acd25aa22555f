"""An import's writes, staged beside the posts and then moved into place together.

Nothing reaches content/ until every raw file has been read and every article placed; a
post changed by someone else since it was read is never replaced; and an import killed
while it moves its files in is finished by the next one, from its journal."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from broadsheet.errors import BroadsheetError
from broadsheet.stops import stops_held

STAGE_PREFIX = ".import-"
JOURNAL = "journal.json"
ANY = "*"  # a target replaced whatever it holds (the importer's own index)


@dataclass
class Move:
    """A staged file and where it goes: `expected` is the target's sha256 when it was
    read, None when it must not exist yet, ANY for the index."""

    name: str
    target: str  # below content/
    expected: str | None


class _HashingWriter:
    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.handle.write(data)


class Stage:
    """A hidden folder in content/ (builds skip hidden folders) for one import's files."""

    def __init__(self, content_dir: Path) -> None:
        self.content_dir = content_dir
        try:
            self.root = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=content_dir))
        except OSError as exc:
            raise BroadsheetError(f"cannot write: {exc.strerror or exc}", content_dir) from exc
        self.moves: dict[str, Move] = {}  # by target
        self._count = 0

    def write(self, writer: Callable[[BinaryIO], str]) -> tuple[str, str, str]:
        """A new staged file, mode 0666 less the umask like any file the user makes:
        (its name, the sha256 of its bytes, what `writer` returned)."""
        self._count += 1
        name = f"{self._count}.md"
        try:
            fd = os.open(self.root / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            with os.fdopen(fd, "wb") as handle:
                hashing = _HashingWriter(handle)
                result = writer(hashing)  # type: ignore[arg-type]
        except OSError as exc:
            raise BroadsheetError(f"cannot write: {exc.strerror or exc}", self.root) from exc
        return name, hashing.digest.hexdigest(), result

    def discard(self, name: str) -> None:
        (self.root / name).unlink(missing_ok=True)

    def plan(self, move: Move) -> None:
        old = self.moves.get(move.target)
        if old is not None and old.name != move.name:
            self.discard(old.name)
        self.moves[move.target] = move

    def commit(self) -> list[Move]:
        """Move every staged file into place; the moves that found their target changed
        by someone else (and so were not made) are returned. One that cannot be made (no
        permission, a name too long) undoes those made before it, and raises MoveFailed:
        all or nothing."""
        journal = self.root / JOURNAL
        rows = [[m.name, m.target, m.expected] for m in self.moves.values()]
        with stops_held():
            _write_journal(journal, rows)
            done: list[_Done] = []
            try:
                conflicts = apply(self.content_dir, self.root, list(self.moves.values()), done)
            except MoveFailed:
                _undo(self.content_dir, done)
                self.remove()  # (its journal with it: the next import finishes nothing)
                raise
            self.remove()
        return conflicts

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class MoveFailed(BroadsheetError):
    """A staged file could not be moved into place (the moves before it are undone)."""

    def __init__(self, move: Move, reason: str, target: Path) -> None:
        super().__init__(f"cannot write: {reason}", target)
        self.move, self.reason = move, reason


@dataclass
class _Done:
    """A move made: the post it replaced, kept beside the stage (None: there was none),
    and the folders it made."""

    target: Path
    replaced: Path | None
    folders: list[Path]


def apply(
    content_dir: Path, stage: Path, moves: list[Move], done: list[_Done] | None = None
) -> list[Move]:
    """Make the `moves`; with `done`, keep what each changed there, so that it can be
    undone (see Stage.commit); without, finish a killed import's moves forward."""
    conflicts = []
    for move in moves:
        staged = stage / move.name
        if not staged.exists():
            continue  # moved already, by the import this journal belongs to
        target = content_dir / move.target
        try:
            folders = _make_folders(content_dir, target.parent)
            if move.expected is None:
                try:
                    os.link(staged, target)  # never replaces a file that appeared meanwhile
                except FileExistsError:
                    conflicts.append(move)
                else:
                    if done is not None:
                        done.append(_Done(target, None, folders))
                staged.unlink()
            elif move.expected == ANY or _sha256(target) == move.expected:
                with contextlib.suppress(OSError):
                    os.chmod(staged, target.stat().st_mode & 0o7777)  # keep the post's mode
                kept = None
                if done is not None and os.path.lexists(target):
                    kept = stage / f"{move.name}.replaced"
                    os.link(target, kept)
                os.replace(staged, target)
                if done is not None:
                    done.append(_Done(target, kept, folders))
            else:
                conflicts.append(move)
                staged.unlink()
        except OSError as exc:
            raise MoveFailed(move, exc.strerror or str(exc), target) from exc
    return conflicts


def _make_folders(content_dir: Path, folder: Path) -> list[Path]:
    """Make `folder` and those above it below content/; those made, deepest first."""
    made = []
    while folder != content_dir and not os.path.lexists(folder):
        made.append(folder)
        folder = folder.parent
    for new in reversed(made):
        new.mkdir(exist_ok=True)
    return made


def _undo(content_dir: Path, done: list[_Done]) -> None:
    """Put back what the moves `done` changed, last first: the posts they replaced, no
    post where there was none, no folder they made."""
    for move in reversed(done):
        with contextlib.suppress(OSError):
            if move.replaced is None:
                move.target.unlink()
            else:
                os.replace(move.replaced, move.target)
        for folder in move.folders:
            with contextlib.suppress(OSError):
                folder.rmdir()


def finish_interrupted(content_dir: Path) -> int:
    """Complete the moves of an import killed while making them; clear other leftovers.
    Only called with the content lock held alone, so no live import owns them."""
    finished = 0
    for stage in sorted(content_dir.glob(STAGE_PREFIX + "*")):
        journal = stage / JOURNAL
        try:
            rows = json.loads(journal.read_text(encoding="utf-8"))
            moves = [Move(str(n), str(t), None if e is None else str(e)) for n, t, e in rows]
        except (OSError, ValueError, TypeError):
            moves = []  # no journal: it was killed before it moved anything
        if moves:
            apply(content_dir, stage, moves)
            finished += 1
        shutil.rmtree(stage, ignore_errors=True)
    return finished


def _write_journal(journal: Path, rows: list[list[str | None]]) -> None:
    temporary = journal.with_suffix(".tmp")
    try:
        with temporary.open("w", encoding="utf-8") as handle:
            json.dump(rows, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, journal)
    except OSError as exc:
        raise BroadsheetError(f"cannot write: {exc.strerror or exc}", journal) from exc


def _sha256(path: Path) -> str | None:
    try:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    except FileNotFoundError:
        return None
