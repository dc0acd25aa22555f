"""Related articles from shared tags, section and title words: deterministic and near-linear."""

from __future__ import annotations

import contextlib
import hashlib
import math
import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import orjson

from broadsheet.content.post import Post, shape_of
from broadsheet.sealed import (
    open_sealed,
    read_opened,
    read_sealed,
    write_sealed,
    write_sealed_parts,
)

RELATED_COUNT = 3
NEIGHBOURS = 12  # within each shared feature, look only this far either side in time
TAG_WEIGHT = 3.0
SECTION_WEIGHT = 0.5
_WORD = re.compile(r"[^\W\d_]{4,}")
STOPWORDS = frozenset(
    """
    about above after again against also amid among because been before being below between
    both could does doing down during each even from further have having here into itself
    just like more most much must near next once only other over said same says should since
    some such than that their them then there these they this those through under until upon
    very what when where which while whom will with within without would year years your
    """.split()
)


# The features a ranking was made from, and the header digests of the posts they were
# taken from, by index.
Kept = tuple[tuple[tuple[str, ...], ...], list[str]]
Ranking = tuple[tuple[int, ...], ...]  # each post's related others, by index
Opened = tuple[BinaryIO | None, BinaryIO | None]  # see open_rankings


def title_words(title: str) -> set[str]:
    return {w for w in (m.casefold() for m in _WORD.findall(title)) if w not in STOPWORDS}


def related_posts(
    posts: tuple[Post, ...], count: int = RELATED_COUNT, store: Path | None = None, jobs: int = 1
) -> list[tuple[Post, ...]]:
    """For each post (in the given order), up to `count` others, most related first.

    With a `store` (a file in the build cache), the answer is kept there with a hash of
    everything it depends on, and reused while that hash holds: most edits change no
    title, tag, section or order, and ranking 10,000 articles takes a couple of seconds.
    """
    ranked = related_indices(posts, count, store, jobs)
    return [tuple(posts[i] for i in indices) for indices in ranked]


def related_indices(
    posts: tuple[Post, ...], count: int = RELATED_COUNT, store: Path | None = None, jobs: int = 1
) -> Ranking:
    """`related_posts`, each post's list given by the others' indices in `posts`."""
    if store is None:
        return _related_indices(tuple(tuple(_features(p)) for p in posts), count, jobs)
    return _stored(posts, count, store, jobs)


def _stored(
    posts: tuple[Post, ...], count: int, store: Path, jobs: int
) -> tuple[tuple[int, ...], ...]:
    """The ranking kept in `store`, if its inputs are unchanged; else a new one, kept.

    Its inputs are checked by the posts' shape first (their paths and front matter, in
    order: one hash of what is already known) and, when that changed, by a hash of the
    features themselves, since most front matter edits change no title, tag or section.
    When the features did change, but not the number of posts, only the rows that can
    rank differently are ranked again (see `_rerank`), from the features kept beside
    the ranking (`store`'s -features file).
    """
    shape = f"{shape_of(posts)}:{count}"
    data = _load(read_sealed(store), len(posts))
    if data is not None and data[0] == shape:
        return data[2]
    path = _features_path(store)
    kept = _load_features(read_sealed(path), data[1], len(posts)) if data is not None else None
    features = _features_of(posts, kept)
    headers = [post.header_digest for post in posts]
    # (the kept headers let go once compared: 8 MB at 100,000 articles)
    before, same_headers = (kept[0], kept[1] == headers) if kept is not None else (None, False)
    del kept
    key = _key_of(features, count)
    if data is not None and data[1] == key:
        ranked = data[2]
    elif data is not None and before is not None:
        ranked = _rerank(before, data[2], features, count)
    else:  # (not through the memo: the store keeps it, and the memo would hold it on)
        ranked = _related_indices.__wrapped__(features, count, jobs)
    del before
    if data is None or data[1] != key or not same_headers:
        _save_features(path, key, features, headers)
    _save(store, shape, key, ranked)
    return ranked


def _features_of(posts: tuple[Post, ...], kept: Kept | None) -> tuple[tuple[str, ...], ...]:
    """Each post's features: those `kept` for the post at its index if it has the same
    header digest there (its path and front matter: all its features come from), else
    worked out (a title's words are most of planning's work after a headline edit)."""
    if kept is None:
        return tuple(tuple(_features(post)) for post in posts)
    features, headers = kept
    return tuple(
        features[n]
        if post.header_digest and post.header_digest == headers[n]
        else tuple(_features(post))
        for n, post in enumerate(posts)
    )


def _key_of(features: tuple[tuple[str, ...], ...], count: int) -> str:
    """A hash of the features a ranking is made from, taken a post at a time: the text
    of them all at once was a transient 20 MB at 100,000 articles, while the plan is
    made."""
    digest = hashlib.blake2b(f"{count}\n".encode(), digest_size=16)
    for row in features:
        digest.update(repr(row).encode("utf-8", "surrogatepass") + b"\n")
    return digest.hexdigest()


def _features_path(store: Path) -> Path:
    return store.with_name(f"{store.stem}-features{store.suffix}")


def _load_features(payload: bytes | None, key: str, total: int) -> Kept | None:
    """The features the ranking with `key` was made from, kept in a features file
    (its `payload`), and the header digests of their posts; None if they are missing,
    damaged, malformed, or another ranking's.

    Each post's features are kept as one string, joined by SEPARATOR, and each feature
    is made once for all the posts that have it: a string for each feature of each post
    (7 a post) was 40 MB of a headline edit's peak at 100,000 articles."""
    if payload is None:
        return None
    try:
        data = orjson.loads(payload)
        rows, headers = data["features"], data["headers"]
        if data["key"] != key or type(rows) is not list or len(rows) != total:
            return None
        if type(headers) is not list or len(headers) != total:
            return None
        del data
        shared: dict[str, str] = {}
        for number, row in enumerate(rows):  # (in place: not two copies at once)
            if type(row) is not str:
                return None
            rows[number] = tuple([shared.setdefault(f, f) for f in row.split(SEPARATOR)])
        features: tuple[tuple[str, ...], ...] = tuple(rows)
        del rows
    except (ValueError, KeyError, TypeError):
        return None
    if not all(type(header) is str for header in headers):
        return None
    return features, headers


SEPARATOR = "\t"  # between a post's features in the features file (no feature has one)


def _save_features(
    path: Path, key: str, features: tuple[tuple[str, ...], ...], headers: list[str]
) -> None:
    """Keep `features` (if none holds a SEPARATOR: else they are worked out again).

    Written SAVED_ROWS rows at a time (the file is the JSON that orjson would make of
    {"key", "features", "headers"} whole): every row joined, then the whole file, then
    its sealed copy were 35 MB of a headline edit's peak at 100,000 articles."""
    if any(not row or any(SEPARATOR in feature for feature in row) for row in features):
        return  # (an empty row would be read back as one empty feature)
    head = orjson.dumps({"key": key, "features": []})[:-2]  # ({"key":"…","features":[)

    def parts() -> Iterable[bytes]:
        yield head
        for start in range(0, len(features), SAVED_ROWS):
            rows = [SEPARATOR.join(row) for row in features[start : start + SAVED_ROWS]]
            yield (b"," if start else b"") + orjson.dumps(rows)[1:-1]
        yield b'],"headers":' + orjson.dumps(headers) + b"}"

    with contextlib.suppress(OSError):  # only a cache: the next change ranks all again
        write_sealed_parts(path, parts())


SAVED_ROWS = 4_096


def _rerank(
    before: tuple[tuple[str, ...], ...],
    ranked: tuple[tuple[int, ...], ...],
    features: tuple[tuple[str, ...], ...],
    count: int,
) -> tuple[tuple[int, ...], ...]:
    """The ranking of `features`, given the ranking of as many posts' features `before`.

    A row's scores depend only on the members of its own features (who they are, in
    order: their window and the feature's weight) and on the number of posts. So a
    post whose features are all features no post gained or lost ranks as before; only
    the posts that hold a changed feature, or whose own features changed, are ranked
    again.
    """
    changed: set[str] = set()
    moved = set()
    for index, (old, new) in enumerate(zip(before, features, strict=True)):
        if old != new:
            # (as many times as listed: two tags may casefold alike)
            changed.update(f for f in {*old, *new} if old.count(f) != new.count(f))
            moved.add(index)
    rows = sorted(moved | {i for i, feats in enumerate(features) if not changed.isdisjoint(feats)})
    fresh = dict(zip(rows, _ranked_rows(features, count, rows), strict=True))
    return tuple(fresh.get(i, row) for i, row in enumerate(ranked))


def open_rankings(store: Path) -> Opened:
    """The ranking kept in `store` and the features it was made from, opened now, for
    `foreseen_rankings` to read later: then they are still what the last build kept,
    though this one has replaced them meanwhile (it ranks as it plans)."""
    return open_sealed(store), open_sealed(_features_path(store))


def foreseen_rankings(
    posts: tuple[Post, ...], opened: Opened, count: int = RELATED_COUNT
) -> tuple[Ranking, Ranking] | None:
    """The ranking the last build kept (`opened` by `open_rankings`, and closed here),
    and the one `related_posts` will make of `posts` (in reading order) from it, as far
    as it can be known beforehand: the same one if the features it was made from are
    not kept. Both by index in `posts`: the kept one was by index in the last build's
    reading order, which a new date moves (see `_in_order`). Nothing is saved. None if
    no ranking of as many posts is kept."""
    ranking, features = opened
    with contextlib.ExitStack() as stack:
        if features is not None:  # (closed, whether read or not)
            stack.enter_context(features)
        data = _load(read_opened(ranking), len(posts))
        if data is None:
            return None
        if data[0] == f"{shape_of(posts)}:{count}":
            return data[2], data[2]
        kept = _load_features(read_opened(features), data[1], len(posts))
    if kept is None:
        return data[2], data[2]
    after = _rerank(kept[0], data[2], _features_of(posts, kept), count)
    return _in_order(data[2], kept[1], posts), after


def _in_order(ranking: Ranking, headers: list[str], posts: tuple[Post, ...]) -> Ranking:
    """The last build's `ranking`, by index in its reading order (whose posts had the
    header digests `headers`), by index in `posts`' order instead: a post of the last
    build's that is not in `posts` with the same front matter as -1, and a post that
    was not in it so, with no related articles. (Compared row by row with a ranking of
    `posts` by a foresight that took index for index, a post moved by a new date made
    every row between its two places look changed: 7,832 bodies rendered for nothing
    at 10,000 articles, and held, 200 MB.)"""
    if [post.header_digest for post in posts] == headers:
        return ranking
    now = {post.header_digest: n for n, post in enumerate(posts) if post.header_digest}
    moved = [now.get(header, -1) for header in headers]
    rows = {moved[old]: row for old, row in enumerate(ranking) if moved[old] >= 0}
    return tuple(tuple(moved[i] for i in rows.get(n, ())) for n in range(len(posts)))


def _load(payload: bytes | None, total: int) -> tuple[str, str, tuple[tuple[int, ...], ...]] | None:
    """(shape, key, ranking) from a ranking file's `payload` (it is sealed:
    broadsheet.sealed), or None if it is missing, damaged or malformed."""
    if payload is None:
        return None
    try:
        data = orjson.loads(payload)
        shape, key, rows = data["shape"], data["key"], data["related"]
        if not (isinstance(shape, str) and isinstance(key, str) and isinstance(rows, list)):
            return None
        if len(rows) != total or not all(type(row) is list for row in rows):
            return None
    except (ValueError, KeyError, TypeError):
        return None
    if not all(type(i) is int and 0 <= i < total for row in rows for i in row):
        return None
    # One int for each post, shared by every row that lists it, as a ranking made here
    # has it: one for each place in a row, as parsed, was 13 MB at 100,000 articles.
    numbers = list(range(total))
    ranked = tuple(tuple([numbers[i] for i in row]) for row in rows)
    return shape, key, ranked


def _save(store: Path, shape: str, key: str, ranked: tuple[tuple[int, ...], ...]) -> None:
    data = {"shape": shape, "key": key, "related": ranked}
    with contextlib.suppress(OSError):  # only a cache
        write_sealed(store, orjson.dumps(data))


@lru_cache(maxsize=2)  # the dev server asks again after every edit, mostly unchanged
def _related_indices(
    features: tuple[tuple[str, ...], ...], count: int, jobs: int = 1
) -> tuple[tuple[int, ...], ...]:
    """Each post's `count` most related others, by index; in `jobs` forked processes
    when there are enough posts to pay for them."""
    return tuple(_ranked_rows(features, count, range(len(features)), jobs))


def _ranked_rows(
    features: tuple[tuple[str, ...], ...], count: int, rows: Sequence[int], jobs: int = 1
) -> list[tuple[int, ...]]:
    """The rankings of the posts at `rows` (indices into `features`), in that order."""
    global _ranking
    members = _members(features, rows)
    total = len(features)
    weight = {f: _weight(f, len(m), total) for f, m in members.items()}
    _ranking = (features, members, weight, count)
    try:
        if jobs < 2 or len(rows) < PARALLEL_MINIMUM:
            return _rank(rows)
        from broadsheet.workers import worker_pool

        step = -(-len(rows) // (jobs * 4))
        parts = [rows[start : start + step] for start in range(0, len(rows), step)]
        with worker_pool(jobs) as pool:
            return [row for part in pool.map(_rank, parts) for row in part]
    finally:
        _ranking = None


def _members(features: tuple[tuple[str, ...], ...], rows: Sequence[int]) -> dict[str, list[int]]:
    """Each feature of the posts at `rows`, with every post that has it, in index order
    (bisect finds a post in it). Only theirs: after a headline edit, the few rows ranked
    again need a few features' members, and all of them were 15 MB at 100,000 articles."""
    members: dict[str, list[int]] = defaultdict(list)
    if len(rows) == len(features):  # (every row: every feature)
        for index, feats in enumerate(features):
            for feature in feats:
                members[feature].append(index)
        return members
    wanted = {feature for row in rows for feature in features[row]}
    for index, feats in enumerate(features):
        for feature in feats:
            if feature in wanted:
                members[feature].append(index)
    return members


PARALLEL_MINIMUM = 2_000  # posts to rank before it pays to fork workers
# What _rank() reads: set by _ranked_rows() before it forks, read-only after.
_ranking: (
    tuple[
        tuple[tuple[str, ...], ...],
        dict[str, list[int]],
        dict[str, float],
        int,
    ]
    | None
) = None


def _rank(rows: Sequence[int]) -> list[tuple[int, ...]]:
    assert _ranking is not None
    features, members, weight, count = _ranking
    result = []
    for index in rows:
        scores: dict[int, float] = defaultdict(float)
        for feature in features[index]:
            listed = members[feature]
            at = bisect_right(listed, index) - 1  # (its last place, were it listed twice)
            for other in listed[max(0, at - NEIGHBOURS) : at + NEIGHBOURS + 1]:
                if other != index:
                    scores[other] += weight[feature]
        result.append(_best(scores, count))
    return result


def _best(scores: dict[int, float], count: int) -> tuple[int, ...]:
    """The `count` highest scores' posts, ties (to 9 decimals) to the lowest index.

    Sorting all ~150 candidates by that key took 60 % of ranking. They are sorted by
    score alone first (a C key); only those within 1e-8 of the last place can still
    take it once rounded, so only they are sorted by the exact key.
    """
    order = sorted(scores, key=scores.__getitem__, reverse=True)
    if len(order) > count:
        floor = scores[order[count - 1]] - 1e-8
        cut = count
        while cut < len(order) and scores[order[cut]] >= floor:
            cut += 1
        del order[cut:]
    return tuple(sorted(order, key=lambda i: (-round(scores[i], 9), i))[:count])


def _features(post: Post) -> Iterable[str]:
    yield f"section:{post.section_slug}"
    for tag in post.tags:
        yield f"tag:{tag.casefold()}"
    for word in sorted(title_words(post.title)):
        yield f"word:{word}"


def _weight(feature: str, frequency: int, total: int) -> float:
    if feature.startswith("tag:"):
        return TAG_WEIGHT
    if feature.startswith("section:"):
        return SECTION_WEIGHT
    return 1.0 + math.log(total / frequency)
