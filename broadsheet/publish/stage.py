"""Where a build writes its files: a folder that becomes the site, or an overlay.

A cold build writes a whole new tree (`Stage(folder)`), swapped in by one rename. An
incremental build writes only what changed into a sparse folder over the live site
(`Stage(folder, base=site)`): reads fall through to the site, removals are recorded,
and nothing in the site is touched until `output_dir` commits the changes through a
journal. The dev server writes straight into its own folder (`Stage(folder)`).

A build's stage also keeps notes (`notes`, a folder): each process that writes a file
notes its stamp and the hash of the bytes it wrote, so that the build can record the
output without reading it back (see broadsheet.stamps).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from broadsheet import stamps
from broadsheet.errors import BroadsheetError
from broadsheet.files import write_bytes_if_changed
from broadsheet.stamps import Stamp

# What the notes say of a file, by its path in the stage: its stamp with the hash of its
# bytes ([size, mtime_ns, ctime_ns - mtime_ns, inode, hash]), or None when it was
# written more than once or removed, or its note could not be taken: then it is stamped
# again from the file.
Notes = dict[str, list[Any] | None]


@dataclass
class Stage:
    """Where a build writes the site before it is committed, and what it removes."""

    root: Path  # where this build writes
    base: Path | None = None  # the live site beneath an overlay
    removed: set[str] = field(default_factory=set)  # site paths to delete on commit
    moved: list[str] | None = None  # after an overlay's commit: the files it moved in
    # Whether nobody reads `root` before the build commits it (a build's own folder, not
    # the dev server's live one): then a file is written in place, with no temporary
    # file renamed over it, as a half-written file is never seen.
    private: bool = False
    notes: Path | None = None  # a folder for each writing process's notes (see above)
    # The notes' files as `close_notes()` read them (None: one could not be read whole).
    written: WrittenNotes | None = None
    _notebook: tuple[int, int] | None = field(default=None, repr=False)  # (pid, its fd)

    @property
    def new(self) -> bool:
        """Whether `root` is a folder this build made for itself, empty when it began (a
        cold build's: private, over no site): it holds only what the build wrote since,
        and nothing left from before needs looking for."""
        return self.private and self.base is None

    def current(self, relative: str) -> Path | None:
        """The file a reader of the finished site would get at `relative`, if any."""
        staged = self.root / relative
        if staged.is_file():
            return staged
        if self.base is None or relative in self.removed:
            return None
        live = self.base / relative
        return live if live.is_file() else None

    def read_bytes(self, relative: str) -> bytes | None:
        found = self.current(relative)
        if found is None:
            return None
        try:
            return found.read_bytes()
        except OSError as exc:
            raise BroadsheetError(f"cannot read: {exc.strerror or exc}", found) from exc

    def read_last(self, relative: str) -> bytes | None:
        """The file the site held at `relative` before this build (None if none, or if
        it cannot be read): beneath an overlay, whatever the stage holds; in a stage
        written in place, what is there (read before this build writes it)."""
        folder = self.base if self.base is not None else self.root
        try:
            with open(os.path.join(folder, relative), "rb") as file:
                return file.read()
        except OSError:
            return None

    def write_text(self, relative: str, text: str) -> bool:
        return self.write_bytes(relative, text.encode("utf-8"))

    def write_bytes(self, relative: str, data: bytes) -> bool:
        """Stage `data` at `relative` unless the site would hold it already; True if so."""
        base = self.base
        if (
            base is not None
            and relative not in self.removed
            and not (self.root / relative).exists()
        ):
            live = base / relative
            try:
                same = live.is_file() and live.stat().st_size == len(data)
                if same and live.read_bytes() == data:
                    return False
            except OSError as exc:
                raise BroadsheetError(f"cannot read: {exc.strerror or exc}", live) from exc
        self.removed.discard(relative)
        if not self.private:
            return write_bytes_if_changed(self.root / relative, data)
        target = f"{self.root}{os.sep}{relative}"  # (a plain string: 30,000 files a build)
        written = _write_new(target, data)
        if self.notes is not None and written is not False:
            self._note(relative, written, data if written is not None else None)
        return written is not False

    def remove(self, relative: str) -> None:
        try:
            (self.root / relative).unlink(missing_ok=True)
        except (NotADirectoryError, IsADirectoryError):
            pass  # (the stage has a file where its folder was, or a folder in its place)
        except OSError as exc:
            where = self.root / relative
            raise BroadsheetError(f"cannot remove: {exc.strerror or exc}", where) from exc
        if self.notes is not None:
            self._note(relative, None, None)
        if self.base is not None and (self.base / relative).is_file():
            self.removed.add(relative)

    def names(self, folder: str, suffix: str) -> set[str]:
        """Names of the files directly in `folder` that end with `suffix`."""
        found: set[str] = set()
        for root in (self.root, self.base):
            if root is None:
                continue
            try:
                with os.scandir(root / folder) as entries:
                    found |= {e.name for e in entries if e.name.endswith(suffix) and e.is_file()}
            except (FileNotFoundError, NotADirectoryError):
                continue
        return {n for n in found if f"{folder}/{n}" not in self.removed}

    def staged(self) -> list[str]:
        """Every file written into the stage, as paths relative to it, sorted."""
        start = len(str(self.root)) + 1
        found = []
        for directory, _, files in os.walk(self.root):
            found += [os.path.join(directory, name)[start:] for name in files]
        return sorted(p.replace(os.sep, "/") for p in found)

    def _note(self, relative: str, stat: os.stat_result | None, data: bytes | None) -> None:
        """Note the file just written at `relative` (`stat`: its stat as written, holding
        `data`); with no `data`, note that its stamp is to be taken again from the file."""
        note: list[Any] = [relative]
        if stat is not None and data is not None:
            note += [*stamps.stamp_of(relative, stat, None), stamps.bytes_hash(data)]
        try:
            line = orjson.dumps(note) + b"\n"
        except orjson.JSONEncodeError:  # (a name that is no text): no notes can be used
            line = b"unusable\n"
        try:
            os.write(self._notebook_fd(), line)
        except OSError as exc:
            raise BroadsheetError(f"cannot write: {exc.strerror or exc}", self.notes) from exc

    def _notebook_fd(self) -> int:
        """This process's notes file (a forked worker opens its own)."""
        pid = os.getpid()
        if self._notebook is None or self._notebook[0] != pid:
            assert self.notes is not None
            self.notes.mkdir(exist_ok=True)
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
            self._notebook = (pid, os.open(self.notes / f"{pid}.jsonl", flags, 0o600))
        return self._notebook[1]

    def close_notes(self) -> None:
        """Once the writers are done: close this process's notes, and read every
        process's (into `written`, left None if any cannot be read whole: then the
        output is stamped from its files)."""
        if self._notebook is not None and self._notebook[0] == os.getpid():
            os.close(self._notebook[1])
        self._notebook = None
        if self.notes is not None:
            self.written = _read_note_files(self.notes)

    @property
    def noted(self) -> Notes | None:
        """The notes, once `close_notes()` has read them (None if they cannot be told)."""
        return self.written.noted() if self.written is not None else None


@dataclass(frozen=True)
class WrittenNotes:
    """The notes' files, as read: their bytes are a quarter of what they hold once
    parsed (at 100,000 articles, 32 MB for 287,000 files against 117 MB), so they are
    parsed only when the output is stamped, after the posts and the plan are let go
    (the stage that holds the files is gone by then)."""

    files: tuple[bytes, ...]

    def noted(self) -> Notes | None:
        """What the notes say of each file (None if any is malformed)."""
        noted: Notes = {}
        for lines in self.files:
            for line in lines.splitlines():
                try:
                    note = orjson.loads(line)
                except orjson.JSONDecodeError:
                    return None
                if not _well_formed(note):
                    return None
                relative = note[0]
                noted[relative] = note[1:] if len(note) == 6 and relative not in noted else None
        return noted


def _read_note_files(folder: Path) -> WrittenNotes | None:
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return WrittenNotes(())  # nothing was written
    except OSError:
        return None
    files = []
    for name in names:
        try:
            with open(folder / name, "rb") as handle:
                files.append(handle.read())
        except OSError:
            return None
    return WrittenNotes(tuple(files))


def _well_formed(note: object) -> bool:
    if type(note) is not list or len(note) not in (1, 6) or type(note[0]) is not str:
        return False
    return len(note) == 1 or (stamps.well_formed(note[1:5]) and type(note[5]) is str)


_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC  # as open(target, "xb")


def _write_new(target: str, data: bytes) -> os.stat_result | Literal[False] | None:
    """Write `data` to `target` in a private stage; the new file's stat, taken as it is
    written (its stamp: its path looked up again took a sixth of writing an 8 KB file), or
    False if it held exactly `data`, or None if it held other bytes (written before in
    this build) and now holds these. System calls on a plain string, with no file
    object: a cold build writes 30,000."""
    try:
        try:
            fd = os.open(target, _NEW, 0o666)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            fd = os.open(target, _NEW, 0o666)
        except FileExistsError:  # written before in this build: compared, then replaced
            return None if write_bytes_if_changed(Path(target), data) else False
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            return os.fstat(fd)  # (what the file's stamp is once closed: closing changes none)
        finally:
            os.close(fd)
    except OSError as exc:
        raise BroadsheetError(f"cannot write: {exc.strerror or exc}", Path(target)) from exc


def noted_stamps(
    output: Path, noted: Notes, racy: int, names: Iterable[str] | None = None
) -> tuple[dict[str, Stamp], dict[str, str]]:
    """The stamps and hashes of the files below `output` that a build wrote (or of those
    `names` among them), from what their writers noted (see Stage), hashed if changed
    at or after `racy` as cache.stamp_tree() does: no file is read. A file
    noted without a stamp, or that the build moved into place (`names`: its times are
    the move's), is stamped again from the file; hashed from the note if it is the file
    the note was taken of (the same inode and size), read otherwise."""
    prefix = f"{output}{os.sep}"
    found: dict[str, Stamp] = {}
    hashes: dict[str, str] = {}
    with_hash, unreadable = stamps.with_hash, stamps.UNREADABLE  # (30,000 times a build)
    pairs = noted.items() if names is None else ((name, noted.get(name)) for name in names)
    for name, note in pairs:
        if names is None and note is not None:
            stamp = note[:4]
        else:
            try:
                stat = os.lstat(prefix + name)
            except OSError:
                continue  # (removed after it was written)
            stamp = stamps.stamp_of(prefix + name, stat, None)
            if note is None or [note[0], note[3]] != [stamp[0], stamp[3]]:
                note = [*stamp, stamps.content_hash(prefix + name)]
        digest = note[4]
        found[name] = with_hash(stamp, digest, racy)
        if digest != unreadable:
            hashes[name] = digest
    return stamps.by_path(found), hashes
