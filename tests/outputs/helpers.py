"""Posts built in memory, so output tests need no files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from broadsheet.content.post import Post

UTC = ZoneInfo("UTC")


def post(
    slug: str,
    *,
    section: str = "asia",
    date: datetime | None = None,
    author: str | None = None,
    tags: tuple[str, ...] = (),
    title: str | None = None,
    source: str | None = None,
) -> Post:
    return Post(
        path=Path(f"content/{section}/{slug}.md"),
        title=title or slug.replace("-", " ").title(),
        section=section.upper(),
        section_slug=section,
        slug=slug,
        date=date.replace(tzinfo=UTC) if date else None,
        has_time=False,
        updated=None,
        author=author,
        tags=tags,
        summary=None,
        source=source,
        draft=False,
        body_text="Body text.\n",
        body_line=5,
    )
