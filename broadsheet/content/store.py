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

FORMAT = 2
# One post is one JSON list, in this order (lists parse and write twice as fast as objects).
_TEXT = ("title", "section", "section_slug", "slug", "digest", "excerpt")
_OPTIONAL = ("author", "summary", "source")
_LENGTH = 2 + len(_TEXT) + len(_OPTIONAL) + 7


def _moment(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _encode(stamp: tuple[int, int], post: Post) -> list[Any]:
    return [
        *stamp,
        *(getattr(post, name) for name in _TEXT + _OPTIONAL),
        _moment(post.date),
        _moment(post.updated),
        post.has_time,
        list(post.tags),
        post.draft,
        post.body_line,
        post.words,
    ]


def _decode(path: Path, item: list[Any], zone: ZoneInfo) -> tuple[tuple[int, int], Post]:
    if type(item) is not list or len(item) != _LENGTH:
        raise ValueError("entry")
    mtime, size, title, section, section_slug, slug, digest, excerpt = item[:8]
    author, summary, source, date, updated, has_time, tags, draft, body_line, words = item[8:]
    if not (type(mtime) is int and type(size) is int and type(body_line) is int):
        raise ValueError("numbers")
    if any(type(v) is not str for v in (title, section, section_slug, slug, digest, excerpt)):
        raise ValueError("text")
    if any(v is not None and type(v) is not str for v in (author, summary, source)):
        raise ValueError("optional text")
    if type(tags) is not list or any(type(t) is not str for t in tags):
        raise ValueError("tags")
    post = Post(
        path=path,
        title=title,
        section=section,
        section_slug=section_slug,
        slug=slug,
        date=None if date is None else datetime.fromtimestamp(float(date), zone),
        has_time=bool(has_time),
        updated=None if updated is None else datetime.fromtimestamp(float(updated), zone),
        author=author,
        tags=tuple(tags),
        summary=summary,
        source=source,
        draft=bool(draft),
        body_line=body_line,
        digest=digest,
        excerpt=excerpt,
        words=int(words),
    )
    return (mtime, size), post


def read_post_cache(path: Path, content_dir: Path, zone: ZoneInfo) -> PostCache:
    """The cached posts at `path`, or nothing when it is missing, malformed or stale."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or data.get("zone") != zone.key:
            return {}
        prefix = f"{content_dir}{os.sep}"
        posts: PostCache = {}
        for name, item in data["posts"].items():
            key = prefix + name
            posts[key] = _decode(Path(key), item, zone)
        return posts
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def write_post_cache(path: Path, content_dir: Path, zone: ZoneInfo, cache: PostCache) -> None:
    start = len(str(content_dir)) + 1
    posts = {
        source[start:].replace(os.sep, "/"): _encode(stamp, post)
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
