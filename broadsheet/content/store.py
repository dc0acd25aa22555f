"""The parsed posts of the last build, kept as plain JSON so that the next build reads
only the files that changed. Never pickled; anything malformed is ignored whole."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from broadsheet.content.loader import PostCache
from broadsheet.content.post import Post

FORMAT = 1
_TEXT = ("title", "section", "section_slug", "slug", "digest", "excerpt")
_OPTIONAL = ("author", "summary", "source")


def _moment(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _encode(stamp: tuple[int, int], post: Post) -> dict[str, Any]:
    return {
        "stamp": list(stamp),
        **{name: getattr(post, name) for name in _TEXT + _OPTIONAL},
        "date": _moment(post.date),
        "updated": _moment(post.updated),
        "has_time": post.has_time,
        "tags": list(post.tags),
        "draft": post.draft,
        "body_line": post.body_line,
        "words": post.words,
    }


def _decode(path: Path, item: dict[str, Any], zone: ZoneInfo) -> tuple[tuple[int, int], Post]:
    def moment(value: Any) -> datetime | None:
        return None if value is None else datetime.fromtimestamp(float(value), zone)

    stamp = item["stamp"]
    if not (isinstance(stamp, list) and len(stamp) == 2 and all(type(n) is int for n in stamp)):
        raise ValueError("stamp")
    text = {name: item[name] for name in _TEXT}
    optional = {name: item[name] for name in _OPTIONAL}
    if not all(isinstance(v, str) for v in text.values()):
        raise ValueError("text")
    if not all(v is None or isinstance(v, str) for v in optional.values()):
        raise ValueError("optional")
    tags = item["tags"]
    if not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        raise ValueError("tags")
    post = Post(
        path=path,
        **text,
        **optional,
        date=moment(item["date"]),
        updated=moment(item["updated"]),
        has_time=bool(item["has_time"]),
        tags=tuple(tags),
        draft=bool(item["draft"]),
        body_line=int(item["body_line"]),
        words=int(item["words"]),
    )
    return (stamp[0], stamp[1]), post


def read_post_cache(path: Path, content_dir: Path, zone: ZoneInfo) -> PostCache:
    """The cached posts at `path`, or nothing when it is missing, malformed or stale."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or data.get("zone") != zone.key:
            return {}
        return {
            content_dir / name: _decode(content_dir / name, item, zone)
            for name, item in data["posts"].items()
        }
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def write_post_cache(path: Path, content_dir: Path, zone: ZoneInfo, cache: PostCache) -> None:
    posts = {
        source.relative_to(content_dir).as_posix(): _encode(stamp, post)
        for source, (stamp, post) in sorted(cache.items())
    }
    data = {"format": FORMAT, "zone": zone.key, "posts": posts}
    temporary = path.with_suffix(".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:  # only a cache: the next build parses the posts again
        temporary.unlink(missing_ok=True)
