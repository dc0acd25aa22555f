"""Each indexed article's counts, length and text, kept in the build's state folder
between builds: what the search index is merged from (see broadsheet.search.index)."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

import orjson

from broadsheet.errors import BroadsheetError, CacheUnwritable
from broadsheet.files import write_bytes_if_changed
from broadsheet.sealed import clear, make_folder, read_file, seal, unseal
from broadsheet.search.terms import Counted

STATE_FORMAT = "terms-3"  # the first item of an article's state file (3: with `shown`)


class DamagedTerms(Exception):
    """A term file that does not verify: the build starts again cold (see assemble)."""


@dataclass(frozen=True)
class Stored:
    counts: dict[str, int]
    length: int
    text: str
    shown: tuple[str, ...] = ()  # what its docs entry shows beside the text (Doc.shown)


class TermStore:
    """Each indexed article's counts, length, text and what else its search result
    shows (`shown`: see Doc.shown), one file per article: the JSON array [STATE_FORMAT,
    length, text, {term: count}, shown], sealed (broadsheet.sealed), so
    that one that does not verify, or that an older Broadsheet wrote, raises
    DamagedTerms. (JSON, parsed and written by orjson in C: an article's thousand
    terms cost no Python work per term to keep or read back.)"""

    def __init__(self, folder: Path):
        self.folder = folder
        self._folder = os.fspath(folder)
        self._names: dict[str, str] = {}  # url_path -> its file's name, as made
        # The articles whose files the last build left (see `expect`), if it was said,
        # and whether that was known (a set, or the keys of a mapping: never copied).
        self._expected: AbstractSet[str] | None = None
        self._left: AbstractSet[str] | None = None

    def path(self, url_path: str) -> Path:
        return self.folder / self._name(url_path)

    def _name(self, url_path: str) -> str:
        found = self._names.get(url_path)
        if found is None:
            found = self._names[url_path] = _name(url_path)
        return found

    def expect(self, left: AbstractSet[str] | None, articles: Iterable[str] = ()) -> bool:
        """Take `left` for every article whose file the last build left (when that is
        not known, None: this build's `articles` are taken for them, and forget_others
        lists the folder): from now on, one of theirs that is missing is damage (`read`
        raises DamagedTerms) rather than an article never stored. False if the folder
        itself is not there.

        Each file is looked for only when it is read: a missing one matters only to a
        build that reads it (the index in the site holds the article as it was), and
        listing 10,000 files and naming each took 14 ms of an edit."""
        self._left = left
        self._expected = left if left is not None else set(articles)
        return self.folder.is_dir()

    def read(self, url_path: str) -> Stored:
        """An article's counts, length and text (none for an article never stored)."""
        path = self.path(url_path)
        data = read_file(path)
        if data is None:  # missing; or a folder in its place, unreadable: rebuilt like damage
            expected = self._expected is not None and url_path in self._expected
            if not expected and not os.path.lexists(path):
                return Stored({}, 0, "")
            raise DamagedTerms(str(path))
        payload = unseal(data)
        try:
            if payload is None:
                raise ValueError("does not verify")
            tag, length, text, counts, shown = orjson.loads(payload)
            if tag != STATE_FORMAT or type(length) is not int or type(text) is not str:
                raise ValueError("not a term file")
            if type(counts) is not dict or type(shown) is not list:
                raise ValueError("not a term file")
            if not all(type(item) is str for item in shown):
                raise ValueError("not a term file")
            return Stored(counts, length, text, tuple(shown))
        except (TypeError, ValueError) as exc:  # (orjson.JSONDecodeError is a ValueError)
            raise DamagedTerms(str(path)) from exc

    def replace(self, url_path: str, counted: Counted, shown: tuple[str, ...]) -> list[str] | None:
        """Store an article's new counts, text and what its result shows; return the
        terms whose count changed, or None if nothing the index holds of it changed
        (its docs file, length and terms are as the index has them: after a template
        edit, every article renders again, and none is re-indexed)."""
        old = self.read(url_path)
        new = counted.counts
        if old.counts:
            changed = sorted(
                t for t in old.counts.keys() | new.keys() if old.counts.get(t) != new.get(t)
            )
        else:  # a new article: each of its terms changed
            changed = sorted(new)
        same = (old.length, old.text, old.shown) == (counted.length, counted.text, shown)
        if changed or not same or not old.shown:  # (an article never stored shows nothing)
            try:
                text = orjson.dumps(counted.text)
                data = _sealed(counted.length, text, orjson.dumps(new), shown)
                write_bytes_if_changed(self.path(url_path), data)
            except BroadsheetError as exc:  # ("cannot write: <reason>")
                reason = exc.message.partition(": ")[2]
                raise CacheUnwritable(f"cannot write the search state: {reason}", exc.path) from exc
            return changed
        return None

    def put(self, url_path: str, counted: Counted, shown: tuple[str, ...]) -> None:
        """Store an article's counts in a cold build, which compares them with nothing
        (see put_counted)."""
        text, counts = orjson.dumps(counted.text), orjson.dumps(counted.counts)
        self.put_counted(url_path, counted.length, text, counts, shown)

    def put_counted(
        self, url_path: str, length: int, text: bytes, counts: bytes, shown: tuple[str, ...]
    ) -> None:
        """Store an article's length, text and counts (both as JSON: see
        index.SliceWriter.count) and what its result shows, in a cold build.

        The file is written in place rather than through a temporary file renamed over
        it (half the time): a build that stops part-way leaves the state marked as
        unfinished (assemble.DIRTY), and the next build is cold and puts every file again,
        so a half-written one is never trusted. Whatever is in its place (a folder, a
        link, a file it may not write) is removed first."""
        data = _sealed(length, text, counts, shown)
        try:  # (by a plain string: a Path made for each of 10,000 files, 2 us each)
            write_in_place(f"{self._folder}{os.sep}{self._name(url_path)}", data)
        except OSError:
            path = self.path(url_path)
            try:
                if not path.parent.is_dir():
                    make_folder(path.parent)
                else:
                    clear(path)
                write_in_place(path, data)
            except OSError as exc:
                message = f"cannot write the search state: {exc.strerror}"
                raise CacheUnwritable(message, path) from exc

    def forget_others(self, url_paths: Iterable[str]) -> None:
        """Drop the files of articles that are gone (only files named as this store
        names them: never anything else, even in a folder linked in its place). None
        are when the articles are all those `expect` was told the last build left files
        for, if it knew them: it left only theirs (it forgot the others; one that
        stopped before it did leaves the next build cold), and this one adds only its
        articles' files. (An article hidden since, by a date in the future, say, is not
        among them: its file kept, it was taken for indexed when it showed again, and
        its words were missing from the index.)"""
        wanted = set(url_paths)
        if self._left is not None and wanted == self._left:
            return
        keep = {self._name(u) for u in wanted}
        listed = set(os.listdir(self.folder)) if self.folder.is_dir() else set()
        for name in sorted(listed - keep):
            if _NAMED.fullmatch(name):
                clear(self.folder / name)

    def reset(self) -> None:
        """Drop every article's file (after damage: a cold build puts them all again)."""
        self._expected = set()
        clear(self.folder)
        make_folder(self.folder)


def write_in_place(path: str | Path, data: bytes) -> None:
    """Write `data` to the file `path`, never through a link (nor to a pipe)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    try:  # (by the descriptor: a file object for one write took a fifth of a cold build's put)
        left = memoryview(data)
        while left:
            left = left[os.write(fd, left) :]
    finally:
        os.close(fd)


def _sealed(length: int, text: bytes, counts: bytes, shown: tuple[str, ...]) -> bytes:
    """The state file: what orjson makes of [STATE_FORMAT, length, text, counts, shown],
    sealed, its text and counts given as JSON already."""
    head = orjson.dumps([STATE_FORMAT, length])
    return seal(b"".join([head[:-1], b",", text, b",", counts, b",", orjson.dumps(shown), b"]"]))


_NAMED = re.compile("[0-9a-f]{24}")  # what _name gives


def _name(url_path: str) -> str:
    return hashlib.blake2b(url_path.encode(), digest_size=12).hexdigest()
