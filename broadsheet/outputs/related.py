"""Related articles from shared tags, section and title words: deterministic and near-linear."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

from broadsheet.content.post import Post

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


def related_posts(posts: tuple[Post, ...], count: int = RELATED_COUNT) -> list[tuple[Post, ...]]:
    """For each post (in the given order), up to `count` others, most related first."""
    features = tuple(tuple(_features(post)) for post in posts)
    ranked = _related_indices(features, count)
    return [tuple(posts[i] for i in indices) for indices in ranked]


@lru_cache(maxsize=2)  # the dev server asks again after every edit, mostly unchanged
def _related_indices(
    features: tuple[tuple[str, ...], ...], count: int
) -> tuple[tuple[int, ...], ...]:
    members: dict[str, list[int]] = defaultdict(list)
    for index, feats in enumerate(features):
        for feature in feats:
            members[feature].append(index)
    total = len(features)
    weight = {f: _weight(f, len(m), total) for f, m in members.items()}
    position = {f: {i: n for n, i in enumerate(m)} for f, m in members.items()}
    result = []
    for index, feats in enumerate(features):
        scores: dict[int, float] = defaultdict(float)
        for feature in feats:
            listed = members[feature]
            at = position[feature][index]
            for other in listed[max(0, at - NEIGHBOURS) : at + NEIGHBOURS + 1]:
                if other != index:
                    scores[other] += weight[feature]
        ranked = sorted(scores.items(), key=lambda item: (-round(item[1], 9), item[0]))
        result.append(tuple(i for i, _ in ranked[:count]))
    return tuple(result)


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
