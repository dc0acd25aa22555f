"""Each indexed article's length, text and title, kept in the build's state folder
between builds: what the search index is merged from (see broadsheet.search.index).
Its terms' counts are not kept: they are worked out again from its title and text
where they are needed, which is seldom (see Stored.counts)."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import orjson

from broadsheet.errors import BroadsheetError, CacheUnwritable
from broadsheet.files import write_bytes_if_changed
from broadsheet.sealed import clear, make_folder, read_file, seal, unseal
from broadsheet.search.terms import Counted, count_text

# The first item of an article's state file (3: with `shown`; 4: without the counts)
STATE_FORMAT = "terms-4"


class DamagedTerms(Exception):
    """A term file that does not verify: the build starts again cold (see assemble)."""


@dataclass(frozen=True)
class Stored:
    """What the search state keeps of an article: its length, text and what its result shows."""

    length: int
    text: str
    shown: tuple[str, ...] = ()  # what its docs entry shows beside the text (Doc.shown)

    @property
    def title(self) -> str:
        return self.shown[0] if self.shown else ""

    @cached_property
    def counts(self) -> dict[str, int]:
        """Its terms' counts, worked out again from its title and text: they are a
        function of those (under the same code and stemmer, which the build's state is
        kept for: see broadsheet.codeversion). A cold build needs none of them back; an
        edit, the old ones of the articles whose title or text changed (see `replace`);
        an index written whole counts every article again itself, in the compiled pass
        (see index._scatter). Kept as JSON beside the text (5.6 of a state file's 11.9
        KB, at 10,000 articles), they were made for every article of a cold build, and
        read back by few builds."""
        return count_text(self.title, self.text).counts  # (none for an article never stored)


class TermStore:
    """Each indexed article's length, text and what else its search result shows
    (`shown`: see Doc.shown), one file per article: the JSON array [STATE_FORMAT,
    length, text, shown], sealed (broadsheet.sealed), so that one that does not
    verify, or that an older Broadsheet wrote, raises DamagedTerms. (JSON, parsed and
    written by orjson in C.)"""

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
        """An article's length, text and what its result shows (none for an article
        never stored)."""
        path = self.path(url_path)
        data = read_file(path)
        if data is None:  # missing; or a folder in its place, unreadable: rebuilt like damage
            expected = self._expected is not None and url_path in self._expected
            if not expected and not os.path.lexists(path):
                return Stored(0, "")
            raise DamagedTerms(str(path))
        payload = unseal(data)
        try:
            if payload is None:
                raise ValueError("does not verify")
            tag, length, text, shown = orjson.loads(payload)
            if tag != STATE_FORMAT or type(length) is not int or type(text) is not str:
                raise ValueError("not a term file")
            if type(shown) is not list or not all(type(item) is str for item in shown):
                raise ValueError("not a term file")
            return Stored(length, text, tuple(shown))
        except (TypeError, ValueError) as exc:  # (orjson.JSONDecodeError is a ValueError)
            raise DamagedTerms(str(path)) from exc

    def replace(
        self, url_path: str, counted: Counted, shown: tuple[str, ...]
    ) -> dict[str, int] | None:
        """Store an article's new length, text and what its result shows (`counted` is
        what count_text gave for the title shown and the text); return the terms whose
        count changed, with their new counts (0: gone), or None if nothing the index
        holds of it changed (its docs file, length and terms are as the index has them:
        after a template edit, every article renders again, and none is re-indexed)."""
        _check_title(counted, shown)
        old = self.read(url_path)
        new = counted.counts
        changed: dict[str, int] = {}
        if (old.title, old.text) != (counted.title, counted.text):
            # (the same title and text have the same counts: none worked out again)
            for term in sorted(old.counts.keys() | new.keys()):
                if old.counts.get(term) != new.get(term):
                    changed[term] = new.get(term, 0)
        same = (old.length, old.text, old.shown) == (counted.length, counted.text, shown)
        if changed or not same or not old.shown:  # (an article never stored shows nothing)
            try:
                data = _sealed(counted.length, orjson.dumps(counted.text), shown)
                write_bytes_if_changed(self.path(url_path), data)
            except BroadsheetError as exc:  # ("cannot write: <reason>")
                reason = exc.message.partition(": ")[2]
                raise CacheUnwritable(f"cannot write the search state: {reason}", exc.path) from exc
            return changed
        return None

    def put(self, url_path: str, counted: Counted, shown: tuple[str, ...]) -> None:
        """Store an article in a cold build, which compares it with nothing (see
        put_counted)."""
        _check_title(counted, shown)
        self.put_counted(url_path, counted.length, orjson.dumps(counted.text), shown)

    def put_counted(self, url_path: str, length: int, text: bytes, shown: tuple[str, ...]) -> None:
        """Store an article's length, text (as JSON: see index.SliceWriter.count) and
        what its result shows, in a cold build.

        The file is written in place rather than through a temporary file renamed over
        it (half the time): a build that stops part-way leaves the state marked as
        unfinished (assemble.DIRTY), and the next build is cold and puts every file again,
        so a half-written one is never trusted. Whatever is in its place (a folder, a
        link, a file it may not write) is removed first."""
        data = _sealed(length, text, shown)
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


def _check_title(counted: Counted, shown: tuple[str, ...]) -> None:
    """Refuse counts made with another title than the one stored (`shown`'s first):
    they could not be worked out again (see Stored.counts)."""
    if counted.title != (shown[0] if shown else ""):
        raise ValueError(f"counted with the title {counted.title!r}, stored with {shown[:1]!r}")


def write_in_place(path: str | Path, data: bytes) -> None:
    """Write `data` to the file `path`, never through a link (nor to a pipe)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    try:  # (by the descriptor: a file object for one write took a fifth of a cold build's put)
        left = memoryview(data)
        while left:
            left = left[os.write(fd, left) :]
    finally:
        os.close(fd)


def _sealed(length: int, text: bytes, shown: tuple[str, ...]) -> bytes:
    """The state file: what orjson makes of [STATE_FORMAT, length, text, shown], sealed,
    its text given as JSON already."""
    head = orjson.dumps([STATE_FORMAT, length])
    return seal(b"".join([head[:-1], b",", text, b",", orjson.dumps(shown), b"]"]))


_NAMED = re.compile("[0-9a-f]{24}")  # what _name gives


def _name(url_path: str) -> str:
    return hashlib.blake2b(url_path.encode(), digest_size=12).hexdigest()
