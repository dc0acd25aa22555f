"""What the search index is updated and merged from: each indexed article's text and
what its result shows, as the index in the site holds them, in its docs files.

An article's docs file (search/docs/<id>.json: [url, *shown, text]) is all the index
keeps of it that its terms' counts are not worked out from again: they are a function
of its title and text (see Stored.counts). So the build keeps no copy of its own. It
kept one, a sealed file an article in its state folder, written by every cold build
(18 us an article, a tenth of the index's cost to it) and restored with the cache by
every deploy (80 of its 96 MB at 10,000 articles).

The docs files a build reads are the last build's, in the site beneath the stage (see
broadsheet.publish.stage), which the output check vouches for: a build trusts its cache
only when the site holds what the cache says it wrote. Its own are written into the
stage at the articles' new ids, as they render. To find an article's last id, the
build keeps the order of the index in the site, a sealed file in its state folder
checked against meta.json's `order` (ORDER), read only when an article's id may have
moved: most edits keep every article in its place (see `begin`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson

from broadsheet.errors import CacheUnwritable
from broadsheet.publish.stage import Stage
from broadsheet.sealed import clear, read_sealed, write_sealed
from broadsheet.search.terms import Counted, count_text

SEARCH_DIR = "search"
# What the index is made of under SEARCH_DIR (see broadsheet.search.index): its own, so
# that a file of static/ there is refused (see publish.statics.static_clashes), never
# removed as stale or left where the index has its files.
INDEX_PARTS = frozenset({"meta.json", "terms", "words", "lengths", "facets", "docs"})
ORDER = "search-order"  # the state folder's file: the index's URLs in id order


class DamagedTerms(Exception):
    """A docs file or the order that does not verify: the build starts again cold (see
    assemble)."""


@dataclass(frozen=True)
class Stored:
    """What the index holds of an article: its text, and what its result shows."""

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
        (see index._scatter)."""
        return count_text(self.title, self.text).counts  # (none for an article never stored)


NEVER = Stored("")  # an article the index in the site does not hold


def docs_path(number: int) -> str:
    """The docs file of the article with id `number`, in the site."""
    return f"{SEARCH_DIR}/docs/{number}.json"


def write_docs(out: Stage, number: int, url_path: str, shown: Sequence[str], text: str) -> None:
    """Write the docs file of the article with id `number` into `out`: what orjson makes
    of [url, *shown, text]."""
    out.write_bytes(docs_path(number), orjson.dumps([url_path, *shown, text]))


def order_hash(urls: Sequence[str]) -> str:
    """meta.json's `order`: the index's URLs in id order, hashed."""
    return hashlib.blake2b("\n".join(urls).encode(), digest_size=12).hexdigest()


class TermStore:
    """The articles' texts as the index in the site holds them, and as this build
    writes them (see the module's docstring). A build `begin`s with its stage and its
    articles' ids; an article rendered is `put` (a cold build) or `replace`d (an
    incremental one), its docs file written at its new id; `read` gives any article as
    this build wrote it, or else as the site's index holds it."""

    def __init__(self, folder: Path):
        self.folder = folder  # the build's state folder (the merge's runs go there too)
        self.order_file = folder / ORDER
        self._out: Stage | None = None
        self._urls: Sequence[str] = ()
        self._numbers: dict[str, int] | None = None  # url -> its id, made when first asked
        self._same = False
        self._left: AbstractSet[str] | None = None
        self._old: dict[str, int] | None = None  # url -> its id in the site's index
        self._lengths: dict[str, int] = {}  # the articles this build wrote: their lengths

    def expect(self, left: AbstractSet[str] | None) -> None:
        """Take `left` for every article the last build indexed, if that is known
        (None: the order kept says). An article not among them is one never stored."""
        self._left = left

    def begin(self, out: Stage, urls: Sequence[str], same_places: bool = False) -> None:
        """Write into `out` this build's docs files, the articles' ids being their places
        in `urls`. `same_places` says that each has the id it had in the site's index
        (the plan judged every article in its place: see index.write_index), so the
        order kept is never read."""
        self._out, self._urls, self._same = out, urls, same_places
        self._numbers, self._old, self._lengths = None, None, {}

    def number(self, url_path: str) -> int:
        """An article's id in this build's index."""
        return self._ids()[url_path]

    def _ids(self) -> dict[str, int]:
        if self._numbers is None:
            self._numbers = {url: n for n, url in enumerate(self._urls)}
        return self._numbers

    @property
    def lengths(self) -> Mapping[str, int]:
        """The articles whose docs files this build wrote, with their lengths."""
        return self._lengths

    def note(self, lengths: Mapping[str, int]) -> None:
        """Take the articles other processes wrote (their reports), with their lengths."""
        self._lengths.update(lengths)

    def read(self, url_path: str) -> Stored:
        """An article's text and what its result shows: as this build wrote it, or else
        as the site's index holds it (NEVER if it holds none). Raises DamagedTerms if
        what should hold it does not."""
        out = self._stage()
        if url_path in self._lengths:  # (its docs file staged, or the site's the same)
            found = _entry(out.read_bytes(docs_path(self.number(url_path))), url_path)
            if found is None:
                raise DamagedTerms(docs_path(self.number(url_path)))
            return found
        if self._left is not None and url_path not in self._left:
            return NEVER
        number = self._ids().get(url_path)
        if number is not None and self._old is None:  # (its own, if it names it)
            found = _entry(out.read_last(docs_path(number)), url_path)
            if found is not None:
                return found
            if self._same:
                raise DamagedTerms(docs_path(number))
        old = self._old_numbers().get(url_path)
        if old is None:
            if self._left is not None:  # (the last build said it indexed it)
                raise DamagedTerms(str(self.order_file))
            return NEVER
        if out.base is None and old != number:  # (written in place: maybe overwritten)
            raise DamagedTerms(docs_path(old))
        found = _entry(out.read_last(docs_path(old)), url_path)
        if found is None:
            raise DamagedTerms(docs_path(old))
        return found

    def put(self, url_path: str, counted: Counted, shown: tuple[str, ...]) -> None:
        """Write an article's docs file in a cold build, which compares it with nothing."""
        _check_title(counted, shown)
        self._write(url_path, counted, shown)

    def replace(
        self, url_path: str, counted: Counted, shown: tuple[str, ...]
    ) -> dict[str, int] | None:
        """Write an article's docs file, with its new text and what its result shows
        (`counted` is what count_text gave for the title shown and the text), unless
        the index holds it as it is; return the terms whose count changed, with their
        new counts (0: gone), or None if nothing the index holds of it changed (after a
        template edit, every article renders again, and none is re-indexed)."""
        _check_title(counted, shown)
        old = self.read(url_path)
        new = counted.counts
        changed: dict[str, int] = {}
        if (old.title, old.text) != (counted.title, counted.text):
            # (the same title and text have the same counts: none worked out again)
            for term in sorted(old.counts.keys() | new.keys()):
                if old.counts.get(term) != new.get(term):
                    changed[term] = new.get(term, 0)
        same = (old.text, old.shown) == (counted.text, shown)  # (its length is the text's)
        if changed or not same or not old.shown:  # (an article never stored shows nothing)
            self._write(url_path, counted, shown)
            return changed
        return None

    def keep_order(self, urls: Sequence[str]) -> None:
        """Keep the order of the index just written (its URLs in id order)."""
        try:
            write_sealed(self.order_file, orjson.dumps(list(urls)))
        except OSError as exc:
            message = f"cannot write the search state: {exc.strerror or exc}"
            raise CacheUnwritable(message, self.order_file) from exc

    def reset(self) -> None:
        """Forget the order kept (after damage: a cold build writes it again)."""
        self._left, self._old, self._lengths = set(), None, {}
        clear(self.order_file)

    def _stage(self) -> Stage:
        if self._out is None:
            raise RuntimeError("the store was not begun")
        return self._out

    def _write(self, url_path: str, counted: Counted, shown: Sequence[str]) -> None:
        write_docs(self._stage(), self.number(url_path), url_path, shown, counted.text)
        self._lengths[url_path] = counted.length

    def _old_numbers(self) -> dict[str, int]:
        """Each article's id in the site's index: from the order kept, if it is the
        order meta.json was written with (none if the site has no index)."""
        if self._old is None:
            payload, written = read_sealed(self.order_file), self._last_meta_order()
            try:
                urls = orjson.loads(payload) if payload is not None else None
            except ValueError:
                urls = None
            if urls is None and written is None:  # (no index: no article held)
                self._old = {}
                return self._old
            if type(urls) is not list or not all(type(url) is str for url in urls):
                raise DamagedTerms(str(self.order_file))
            if order_hash(urls) != written:
                raise DamagedTerms(str(self.order_file))
            self._old = {url: n for n, url in enumerate(urls)}
        return self._old

    def _last_meta_order(self) -> str | None:
        """The `order` of the site's meta.json, as the last build left it (None if none)."""
        data = self._stage().read_last(f"{SEARCH_DIR}/meta.json")
        try:
            meta: Any = orjson.loads(data) if data is not None else None
        except ValueError:
            return None
        order = meta.get("order") if isinstance(meta, dict) else None
        return order if isinstance(order, str) else None


def _entry(data: bytes | None, url_path: str) -> Stored | None:
    """The article in a docs file's bytes, if they are one and name `url_path`."""
    if data is None:
        return None
    try:
        entry = orjson.loads(data)
    except ValueError:
        return None
    if type(entry) is not list or len(entry) < 2 or entry[0] != url_path:
        return None
    if not all(type(item) is str for item in entry):
        return None
    return Stored(entry[-1], tuple(entry[1:-1]))


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
