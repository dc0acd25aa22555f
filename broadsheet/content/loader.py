"""Find and read every post below content/; report every bad one, not just the first."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from broadsheet.content.frontmatter import parse_post
from broadsheet.content.post import Post
from broadsheet.errors import BroadsheetError, BroadsheetErrors


def find_post_files(content_dir: Path) -> list[Path]:
    if not content_dir.is_dir():
        raise BroadsheetError("the content folder does not exist", content_dir)
    return sorted(p for p in content_dir.rglob("*.md") if not _hidden(p, content_dir))


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def read_post(path: Path, content_dir: Path, zone: ZoneInfo) -> Post:
    relative = path.relative_to(content_dir)
    if len(relative.parts) != 2:
        raise BroadsheetError(
            "a post belongs in a section folder, such as content/asia/my-article.md", path
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise BroadsheetError("not UTF-8 text", path, line) from exc
    except OSError as exc:
        raise BroadsheetError(f"cannot read: {exc.strerror or exc}", path) from exc
    return parse_post(path, text, relative.parts[0], zone)


PostCache = dict[Path, tuple[tuple[int, int], Post]]  # path -> ((mtime, size), post)


def load_posts(content_dir: Path, zone: ZoneInfo, cache: PostCache | None = None) -> list[Post]:
    """Every post, or every error. With a `cache` (the dev server's), a file whose size
    and modification time are unchanged is not read again; the cache is brought up to date."""
    posts: PostCache = {}
    errors: list[BroadsheetError] = []
    for path in find_post_files(content_dir):
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = cache.get(path) if cache is not None else None
        if cached is not None and cached[0] == stamp:
            posts[path] = cached
            continue
        try:
            posts[path] = (stamp, read_post(path, content_dir, zone))
        except BroadsheetErrors as exc:
            errors.extend(exc.errors)
        except BroadsheetError as exc:
            errors.append(exc)
    if cache is not None:
        cache.clear()
        cache.update(posts)
    if errors:
        raise BroadsheetErrors(errors)
    return [post for _, post in posts.values()]
