"""Atom feeds for the site and for each section: full content, newest first."""

from __future__ import annotations

from datetime import UTC, datetime

from broadsheet.config import SiteConfig
from broadsheet.content.post import Post
from broadsheet.content.visibility import latest
from broadsheet.outputs.listings import Listing
from broadsheet.outputs.page import Page

# An undated article claims no publication date. Atom still requires <updated>, so such
# an entry carries this instant: earlier than any date a post may have (the year 1000 at
# its first hour, in any time zone), never mistaken for new.
UNDATED_UPDATED = datetime(999, 12, 31, tzinfo=UTC)


def entry_updated(post: Post) -> datetime:
    return post.updated or post.date or UNDATED_UPDATED


def plan_feeds(index: Listing, sections: tuple[Listing, ...], config: SiteConfig) -> list[Page]:
    pages = []
    for listing in (index, *sections):
        entries = listing.posts[: config.feed_size]
        updated = latest(entry_updated(p) for p in entries) or UNDATED_UPDATED
        pages.append(
            Page(
                path=listing.feed_path,
                template="feed.xml",
                context={"listing": listing, "entries": entries, "updated": updated},
                sources=tuple(p.path for p in entries),
                in_sitemap=False,
                from_posts=True,
            )
        )
    return pages
