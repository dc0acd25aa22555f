"""A site's groups: its posts in reading order, its listings, and each post's related
articles. All three are a function of the posts' paths and front matter (their
`shape_of`), the sections' settings and the time zone's rules alone, so the build
keeps them beside its cache: a build whose posts have the same paths and front matter
as the last one's, in the same order (an edit to articles' bodies, a deploy of one),
reads them back rather than sorting, grouping and ranking every post again (40 ms of
a 600 ms edit at 10,000 articles).

The file is sealed (broadsheet.sealed) and names the key it was made for; one that
does not verify, is made for other posts or holds anything malformed is ignored, and
the groups are made again."""

from __future__ import annotations

import contextlib
import hashlib
import sys
from array import array
from base64 import b64decode, b64encode
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate
from pathlib import Path
from typing import Any, TypeVar

import orjson

from broadsheet.config import SiteConfig, zone_stamp
from broadsheet.content.post import Post, shape_of
from broadsheet.outputs.listings import Listing, Listings, every_listing, reading_order
from broadsheet.outputs.related import RELATED_COUNT, Ranking, related_indices
from broadsheet.sealed import read_sealed, write_sealed

FORMAT = 2  # 2: the numbers packed
PACKED = "I"  # an array's type code for the numbers: unsigned, 4 bytes on every platform
# (with the machine's byte order, in the key: a cache restored elsewhere is not read)

T = TypeVar("T")

# The posts in reading order, their listings, and each one's related others by index.
Groups = tuple[tuple[Post, ...], Listings, Ranking]


def grouped(
    posts: list[Post],
    config: SiteConfig,
    store: Path | None = None,
    related_store: Path | None = None,
    jobs: int = 1,
) -> Groups:
    """The groups of `posts` (in the order they were found): those kept in `store`
    if they were made from posts of the same shape, else made (and kept there). The
    related articles are ranked as `related_indices` ranks them, with its own
    `related_store`."""
    key = _key(posts, config) if store is not None else ""
    if store is not None:
        kept = _load(read_sealed(store), key, posts)
        if kept is not None:
            return kept
    ordered = reading_order(posts)
    listed = every_listing(ordered, config)
    ranked = related_indices(ordered, store=related_store, jobs=jobs)
    if store is not None:
        _save(store, key, posts, (ordered, listed, ranked))
    return ordered, listed, ranked


def _key(posts: list[Post], config: SiteConfig) -> str:
    """What the groups of `posts` are made from besides the code: the posts' paths and
    front matter in this order, how the settings name and rank sections, and the rules
    of the time zone their dates are in (which order them)."""
    packing = (PACKED, array(PACKED).itemsize, sys.byteorder)
    settings = (FORMAT, packing, RELATED_COUNT, zone_stamp(config.timezone), config.sections)
    data = f"{settings!r}\n{shape_of(posts)}"
    return hashlib.blake2b(data.encode("utf-8"), digest_size=16).hexdigest()


def _save(store: Path, key: str, posts: list[Post], groups: Groups) -> None:
    """Keep `groups` in `store`: the reading order as indices into `posts`, each
    listing's posts as places in that order, and the related articles' places, all
    packed (see _packed)."""
    ordered, listed, ranked = groups
    found = {id(post): n for n, post in enumerate(posts)}
    place = {id(post): n for n, post in enumerate(ordered)}
    rows = [
        [item.kind, item.slug, item.name, item.url_path, _packed(place[id(p)] for p in item.posts)]
        for kind in (*listed[:5], (listed.undated,))
        for item in kind
    ]
    data = {
        "key": key,
        "order": _packed(found[id(post)] for post in ordered),
        "counts": [len(kind) for kind in listed[:5]],
        "listings": rows,
        "related": _packed(n for row in ranked for n in row),
        "related_counts": _packed(len(row) for row in ranked),
    }
    with contextlib.suppress(OSError):  # only a cache
        write_sealed(store, orjson.dumps(data))


def _packed(numbers: Iterable[int]) -> str:
    """`numbers` as the base64 of their bytes: parsed back, a list of JSON numbers was a
    transient int object each (11 MB at 10,000 articles, against 4.8 to make them)."""
    return b64encode(array(PACKED, numbers).tobytes()).decode("ascii")


def _unpacked(text: Any, total: int) -> array[int]:
    """The numbers `_packed` gave `text`, each below `total`. Raises ValueError (or
    TypeError) if it is not such a text."""
    numbers = array(PACKED, b64decode(text, validate=True))
    if numbers and max(numbers) >= total:
        raise ValueError("a number out of range")
    return numbers


def _load(payload: bytes | None, key: str, posts: list[Post]) -> Groups | None:
    """The groups kept in a file's `payload`, if they were made for `key`, from
    `posts`; else None."""
    if payload is None:
        return None
    try:
        data = orjson.loads(payload)
        if type(data) is not dict or data.get("key") != key:
            return None
        total = len(posts)
        order = _unpacked(data["order"], total)
        if len(order) != total or len(set(order)) != total:
            return None
        counts, rows = data["counts"], data["listings"]
        if type(counts) is not list or type(rows) is not list or min(counts, default=0) < 0:
            return None
        if sum(counts) != len(rows) - 1:
            return None
        sizes = _unpacked(data["related_counts"], RELATED_COUNT + 1)
        flat = _unpacked(data["related"], total)
        if len(sizes) != total or sum(sizes) != len(flat):
            return None
        ordered = tuple(map(posts.__getitem__, order))  # (maps: 90,000 places, in C)
        del order
        listings = [_listing(row, ordered) for row in rows]
        sections, authors, tags, years, months = map(tuple, _runs(listings, counts))
        # One int for each place, shared by every row that names it (as related's own),
        # cut into each article's row (by maps: 10,000 rows, a loop in Python took 6 ms).
        numbers = list(range(total))
        shared = list(map(numbers.__getitem__, flat))
        ends = list(accumulate(sizes))
        rows_cut = map(slice, [0, *ends[:-1]], ends)
        related = tuple(map(tuple, map(shared.__getitem__, rows_cut)))
    except (ValueError, KeyError, TypeError):
        return None
    undated = listings[-1]
    return ordered, Listings(sections, authors, tags, years, months, undated), related


def _runs(items: Sequence[T], sizes: Iterable[int]) -> Iterator[Sequence[T]]:
    """`items` cut into runs of these `sizes`, one after the other."""
    start = 0
    for size in sizes:
        yield items[start : start + size]
        start += size


def _listing(row: Any, ordered: tuple[Post, ...]) -> Listing:
    """The listing a kept `row` names, holding the posts at its places in `ordered`.
    Raises ValueError (or TypeError) if it is not such a row."""
    if type(row) is not list or len(row) != 5:
        raise ValueError("not a listing")
    kind, slug, name, url_path, places = row
    if not all(type(text) is str for text in (kind, slug, name, url_path)):
        raise ValueError("not a listing")
    members = _unpacked(places, len(ordered))
    return Listing(kind, slug, name, url_path, tuple(map(ordered.__getitem__, members)))
