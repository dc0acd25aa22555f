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
import signal
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from broadsheet.errors import BroadsheetError

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
        by someone else (and so were not made) are returned."""
        journal = self.root / JOURNAL
        rows = [[m.name, m.target, m.expected] for m in self.moves.values()]
        with _signals_held():
            _write_journal(journal, rows)
            conflicts = apply(self.content_dir, self.root, list(self.moves.values()))
            self.remove()
        return conflicts

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def apply(content_dir: Path, stage: Path, moves: list[Move]) -> list[Move]:
    conflicts = []
    for move in moves:
        staged = stage / move.name
        if not staged.exists():
            continue  # moved already, by the import this journal belongs to
        target = content_dir / move.target
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if move.expected is None:
                try:
                    os.link(staged, target)  # never replaces a file that appeared meanwhile
                except FileExistsError:
                    conflicts.append(move)
                staged.unlink()
            elif move.expected == ANY or _sha256(target) == move.expected:
                with contextlib.suppress(OSError):
                    os.chmod(staged, target.stat().st_mode & 0o7777)  # keep the post's mode
                os.replace(staged, target)
            else:
                conflicts.append(move)
                staged.unlink()
        except OSError as exc:
            raise BroadsheetError(f"cannot write: {exc.strerror or exc}", target) from exc
    return conflicts


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


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the moves are made (SIGKILL cannot: see the journal)."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (ValueError, OSError):  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
