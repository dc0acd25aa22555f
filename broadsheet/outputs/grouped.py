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
from itertools import chain
from pathlib import Path
from typing import Any

import orjson

from broadsheet.config import SiteConfig, zone_stamp
from broadsheet.content.post import Post, shape_of
from broadsheet.outputs.listings import Listing, Listings, every_listing, reading_order
from broadsheet.outputs.related import RELATED_COUNT, Ranking, related_indices
from broadsheet.sealed import read_sealed, write_sealed

FORMAT = 1

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
    settings = repr((FORMAT, RELATED_COUNT, zone_stamp(config.timezone), config.sections))
    data = f"{settings}\n{shape_of(posts)}"
    return hashlib.blake2b(data.encode("utf-8"), digest_size=16).hexdigest()


def _save(store: Path, key: str, posts: list[Post], groups: Groups) -> None:
    """Keep `groups` in `store`: the reading order as indices into `posts`, and each
    listing's posts as places in that order."""
    ordered, listed, ranked = groups
    found = {id(post): n for n, post in enumerate(posts)}
    place = {id(post): n for n, post in enumerate(ordered)}
    rows = [
        [item.kind, item.slug, item.name, item.url_path, [place[id(p)] for p in item.posts]]
        for kind in (*listed[:5], (listed.undated,))
        for item in kind
    ]
    data = {
        "key": key,
        "order": [found[id(post)] for post in ordered],
        "counts": [len(kind) for kind in listed[:5]],
        "listings": rows,
        "related": ranked,
    }
    with contextlib.suppress(OSError):  # only a cache
        write_sealed(store, orjson.dumps(data))


def _load(payload: bytes | None, key: str, posts: list[Post]) -> Groups | None:
    """The groups kept in a file's `payload`, if they were made for `key`, from
    `posts`; else None."""
    if payload is None:
        return None
    try:
        data = orjson.loads(payload)
        if type(data) is not dict or data.get("key") != key:
            return None
        order, counts = data["order"], data["counts"]
        rows, ranked = data["listings"], data["related"]
        total = len(posts)
        if not (_indices(order, total) and sorted(order) == list(range(total))):
            return None
        if not (_indices(counts, len(rows)) and sum(counts) == len(rows) - 1):
            return None
        if type(ranked) is not list or len(ranked) != total:
            return None
        if not _indices(list(chain.from_iterable(ranked)), total):
            return None
        ordered = tuple([posts[n] for n in order])
        listings = [_listing(row, ordered) for row in rows]
        kinds: list[tuple[Listing, ...]] = []
        start = 0
        for count in counts:
            kinds.append(tuple([item for item in listings[start : start + count] if item]))
            start += count
        # One int for each place, shared by every row that names it (as related's own).
        numbers = list(range(total))
        related = tuple(tuple([numbers[n] for n in row]) for row in ranked)
    except (ValueError, KeyError, TypeError):
        return None
    undated = listings[-1]
    if undated is None or sum(map(len, kinds)) != len(rows) - 1:  # (a row malformed)
        return None
    sections, authors, tags, years, months = kinds
    return ordered, Listings(sections, authors, tags, years, months, undated), related


def _indices(values: Any, total: int) -> bool:
    """Whether `values` is a list of numbers from 0 to below `total`. (Not checked one
    by one: a value that is no int fails where it is used as an index, with TypeError.)"""
    return type(values) is list and (not values or (min(values) >= 0 and max(values) < total))


def _listing(row: Any, ordered: tuple[Post, ...]) -> Listing | None:
    """The listing a kept `row` names, holding the posts at its places in `ordered`."""
    if type(row) is not list or len(row) != 5:
        return None
    kind, slug, name, url_path, places = row
    if not all(type(text) is str for text in (kind, slug, name, url_path)):
        return None
    if not _indices(places, len(ordered)):
        return None
    return Listing(kind, slug, name, url_path, tuple([ordered[n] for n in places]))
