"""Page: one planned output file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from broadsheet.content.post import Post


@dataclass(frozen=True, slots=True)
class Page:
    """One file to write: where, with which template, from what data."""

    path: str  # relative to the output folder, e.g. "asia/index.html"
    template: str
    context: dict[str, Any] = field(hash=False, default_factory=dict)
    sources: tuple[Path, ...] = ()  # the posts whose whole text it shows (article, feed)
    post: Post | None = None  # set for article pages, whose body is rendered at write time
    lastmod: datetime | None = None
    in_sitemap: bool = True
    # Whether its path and context are decided by the site's posts (their places and
    # metadata) alone, and not, say, by the time of the build: see Signer.sign_all.
    from_posts: bool = False

    @property
    def url_path(self) -> str:
        post = self.post  # an article's: its post's own string (see Post.url_path)
        if post is not None and self.path == post.url_path + _INDEX:
            return post.url_path
        return self.path.removesuffix(_INDEX)


_INDEX = "index.html"
