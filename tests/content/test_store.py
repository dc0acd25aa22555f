"""The post cache: posts come back exactly as they were kept, and anything malformed in
it makes the whole cache ignored, never half-trusted."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broadsheet.content.post import Post
from broadsheet.content.store import read_post_cache, write_post_cache

ZONE = ZoneInfo("Europe/London")


def _post(content: Path, name: str, **fields: object) -> Post:
    values: dict[str, object] = {
        "path": content / name,
        "title": "A title",
        "section": "ASIA",
        "section_slug": name.split("/")[0],
        "slug": name.split("/")[1].removesuffix(".md"),
        "date": datetime(2024, 3, 1, 9, 30, tzinfo=ZONE),
        "has_time": True,
        "updated": None,
        "author": "Jane Roe",
        "tags": ("trade", "courts"),
        "summary": None,
        "source": "raw/asia.txt:12",
        "draft": False,
        "body_line": 9,
        "digest": "d1",
        "excerpt": "The first paragraph.",
        "words": 640,
        "header_digest": "h1",
    }
    values.update(fields)
    return Post(**values)  # type: ignore[arg-type]


def _kept(tmp_path: Path) -> tuple[Path, Path, dict[str, tuple[tuple[int, int], Post]]]:
    content, folder = tmp_path / "content", tmp_path / "state"
    posts = [
        _post(content, "asia/one.md"),
        _post(
            content,
            "america/two.md",
            date=None,
            has_time=False,
            author=None,
            tags=(),
            source=None,
            summary="Kept short.",
            draft=True,
        ),
        _post(content, "asia/three.md", updated=datetime(2024, 5, 2, tzinfo=ZONE)),
    ]
    cache = {str(p.path): ((1_700_000_000_000_000 + n, 900 + n), p) for n, p in enumerate(posts)}
    write_post_cache(folder, content, ZONE, cache)
    return content, folder, cache


def test_posts_come_back_as_they_were_kept(tmp_path: Path) -> None:
    content, folder, cache = _kept(tmp_path)
    assert read_post_cache(folder, content, ZONE) == dict(sorted(cache.items()))


def test_a_cache_for_another_time_zone_is_ignored(tmp_path: Path) -> None:
    content, folder, _ = _kept(tmp_path)
    assert read_post_cache(folder, content, ZoneInfo("Asia/Tokyo")) == {}


# Each place of an entry (see store._encode), and a value of a type it never holds there.
_WRONG = st.sampled_from(
    [
        (0, "1"),
        (1, 2.5),
        (2, None),
        (6, 7),
        (9, 3),
        (11, ["x"]),
        (12, "2024-03-01"),
        (13, 5),
        (14, 1),
        (15, "trade"),
        (15, ["trade", 3]),
        (16, 0),
        (17, "9"),
        (18, 640.0),
    ]
)


@settings(max_examples=40, deadline=None)
@given(_WRONG, st.integers(0, 2))
def test_one_malformed_value_makes_the_whole_cache_ignored(
    tmp_path_factory: pytest.TempPathFactory, wrong: tuple[int, object], which: int
) -> None:
    content, folder, _ = _kept(tmp_path_factory.mktemp("cache"))
    kept = [(shard, json.loads(shard.read_text())) for shard in sorted(folder.glob("*.json"))]
    entries = [(shard, data, key) for shard, data in kept for key in data["posts"]]
    shard, data, key = entries[which % len(entries)]
    place, value = wrong
    data["posts"][key][place] = value
    shard.write_text(json.dumps(data))
    assert read_post_cache(folder, content, ZONE) == {}


def test_an_entry_of_the_wrong_length_makes_the_whole_cache_ignored(tmp_path: Path) -> None:
    content, folder, _ = _kept(tmp_path)
    shard = next(s for s in sorted(folder.glob("*.json")) if json.loads(s.read_text())["posts"])
    data = json.loads(shard.read_text())
    entry = next(iter(data["posts"].values()))
    entry.append(1)
    shard.write_text(json.dumps(data))
    assert read_post_cache(folder, content, ZONE) == {}
