"""Related articles from shared tags, section and title words: deterministic and near-linear."""

from __future__ import annotations

import contextlib
import hashlib
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import orjson

from broadsheet.content.post import Post, shape_of
from broadsheet.sealed import read_sealed, write_sealed

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
    if store is None:
        ranked = _related_indices(tuple(tuple(_features(p)) for p in posts), count, jobs)
    else:
        ranked = _stored(posts, count, store, jobs)
    return [tuple(posts[i] for i in indices) for indices in ranked]


def _stored(
    posts: tuple[Post, ...], count: int, store: Path, jobs: int
) -> tuple[tuple[int, ...], ...]:
    """The ranking kept in `store`, if its inputs are unchanged; else a new one, kept.

    Its inputs are checked by the posts' shape first (their paths and front matter, in
    order: one hash of what is already known) and, when that changed, by a hash of the
    features themselves, since most front matter edits change no title, tag or section.
    """
    shape = f"{shape_of(posts)}:{count}"
    data = _load(store, len(posts))
    if data is not None and data[0] == shape:
        return data[2]
    features = tuple(tuple(_features(post)) for post in posts)
    key = hashlib.blake2b(repr((features, count)).encode(), digest_size=16).hexdigest()
    if data is not None and data[1] == key:
        ranked = data[2]
    else:
        ranked = _related_indices(features, count, jobs)
    _save(store, shape, key, ranked)
    return ranked


def _load(store: Path, total: int) -> tuple[str, str, tuple[tuple[int, ...], ...]] | None:
    """(shape, key, ranking) from `store`, or None if it is missing, damaged (it is
    sealed: broadsheet.sealed) or malformed."""
    payload = read_sealed(store)
    if payload is None:
        return None
    try:
        data = orjson.loads(payload)
        shape, key, rows = data["shape"], data["key"], data["related"]
        if not (isinstance(shape, str) and isinstance(key, str) and isinstance(rows, list)):
            return None
        if len(rows) != total or not all(type(row) is list for row in rows):
            return None
        ranked = tuple(tuple(row) for row in rows)
    except (ValueError, KeyError, TypeError):
        return None
    if not all(type(i) is int and 0 <= i < total for row in ranked for i in row):
        return None
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
    global _ranking
    members: dict[str, list[int]] = defaultdict(list)
    for index, feats in enumerate(features):
        for feature in feats:
            members[feature].append(index)
    total = len(features)
    weight = {f: _weight(f, len(m), total) for f, m in members.items()}
    position = {f: {i: n for n, i in enumerate(m)} for f, m in members.items()}
    _ranking = (features, members, weight, position, count)
    try:
        if jobs < 2 or total < PARALLEL_MINIMUM:
            return tuple(_rank(range(total)))
        from broadsheet.workers import worker_pool

        step = -(-total // (jobs * 4))
        parts = [range(start, min(start + step, total)) for start in range(0, total, step)]
        with worker_pool(jobs) as pool:
            return tuple(row for part in pool.map(_rank, parts) for row in part)
    finally:
        _ranking = None


PARALLEL_MINIMUM = 2_000  # posts to rank before it pays to fork workers
# What _rank() reads: set by _related_indices() before it forks, read-only after.
_ranking: (
    tuple[
        tuple[tuple[str, ...], ...],
        dict[str, list[int]],
        dict[str, float],
        dict[str, dict[int, int]],
        int,
    ]
    | None
) = None


def _rank(rows: range) -> list[tuple[int, ...]]:
    assert _ranking is not None
    features, members, weight, position, count = _ranking
    result = []
    for index in rows:
        scores: dict[int, float] = defaultdict(float)
        for feature in features[index]:
            listed = members[feature]
            at = position[feature][index]
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
