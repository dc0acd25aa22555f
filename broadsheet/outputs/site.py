"""The site's shape: article order, listings, neighbours, and every output to write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from broadsheet.config import SiteConfig
from broadsheet.content.post import Post
from broadsheet.errors import BroadsheetError, BroadsheetErrors, display_path
from broadsheet.outputs import listings
from broadsheet.outputs.feeds import plan_feeds
from broadsheet.outputs.listings import Listing
from broadsheet.outputs.page import Page
from broadsheet.outputs.pagination import paginate
from broadsheet.outputs.redirects import plan_redirects
from broadsheet.outputs.related import related_indices
from broadsheet.outputs.sitemaps import plan_sitemaps


@dataclass(frozen=True)
class Site:
    config: SiteConfig
    posts: tuple[Post, ...]  # all, in reading order
    sections: tuple[Listing, ...]
    authors: tuple[Listing, ...]
    tags: tuple[Listing, ...]
    years: tuple[Listing, ...]
    months: tuple[Listing, ...]
    undated: Listing
    pages: tuple[Page, ...]
    now: datetime | None = None  # the moment drafts and scheduled posts are judged against
    # Each post's related articles, as indices into `posts` (its article's "related").
    related: tuple[tuple[int, ...], ...] = ()


def sort_key(post: Post) -> tuple[Any, ...]:
    """Newest first; undated articles after the dated ones, in the order of their source."""
    if post.date is not None:
        return (0, -post.date.timestamp(), post.title, str(post.path))
    return (1, *_source_order(post.source), post.title, str(post.path))


def _source_order(source: str | None) -> tuple[str, int]:
    if not source:
        return ("\uffff", 0)
    name, _, line = source.rpartition(":")
    # isdecimal(), not isdigit(): int() refuses "²", which isdigit() passes
    return (name, int(line)) if line.isdecimal() else (source, 0)


def plan_site(
    posts: list[Post],
    config: SiteConfig,
    now: datetime | None = None,
    related_store: Path | None = None,
    jobs: int = 1,
) -> Site:
    """Every output of the site, planned before anything is written (related articles
    ranked in `jobs` processes)."""
    ordered = tuple(sorted(posts, key=sort_key))
    index = Listing("index", "", "Latest articles", "", ordered)
    sections = listings.sections(ordered, config)
    authors, tags = listings.authors(ordered), listings.tags(ordered)
    years, months = listings.years(ordered), listings.months(ordered)
    undated = listings.undated(ordered)
    pages: list[Page] = []
    for listing in (index, *sections, *authors, *tags, *years, *months):
        pages += listing_pages(listing, config.per_page)
    if undated.posts:
        pages += listing_pages(undated, config.per_page)
    pages += [
        Page("authors/index.html", "authors.html", {"listings": authors}, from_posts=True),
        Page("tags/index.html", "tags.html", {"listings": tags}, from_posts=True),
        Page(
            "archive/index.html",
            "archives.html",
            {"years": years, "months": months, "undated": undated},
            from_posts=True,
        ),
        Page("search/index.html", "search.html"),
        Page("404.html", "404.html", in_sitemap=False),
    ]
    ranked = related_indices(ordered, store=related_store, jobs=jobs)
    pages += article_pages(ordered, sections, ranked)
    pages += plan_feeds(index, sections, config)
    pages += plan_sitemaps(pages, ordered, config, now=now)
    refuse_collisions(pages)
    pages += plan_redirects(ordered, pages)  # after: an alias may take no page's path
    listed = (sections, authors, tags, years, months, undated)
    return Site(config, ordered, *listed, tuple(pages), now, ranked)


def listing_pages(listing: Listing, per_page: int) -> list[Page]:
    template = {"index": "index.html", "section": "section.html", "author": "author.html"}.get(
        listing.kind, "tag.html" if listing.kind == "tag" else "archive.html"
    )
    pages = []
    for pager, members in paginate(listing.url_path, listing.posts, per_page):
        pages.append(
            Page(
                path=f"{pager.url_path}index.html",
                template=template,
                context={"listing": listing, "posts": members, "pager": pager},
                lastmod=_newest(members),
                from_posts=True,
            )
        )
    return pages


def article_pages(
    posts: tuple[Post, ...],
    sections: tuple[Listing, ...],
    ranked: tuple[tuple[int, ...], ...],
) -> list[Page]:
    """Every article's page; `ranked`: each post's related articles, by index."""
    lists = [tuple([posts[i] for i in row]) for row in ranked]
    related = dict(zip(map(id, posts), lists, strict=True))  # (hashing paths is slower)
    pages = []
    for section in sections:
        members = section.posts
        for index, post in enumerate(members):
            pages.append(
                Page(
                    path=f"{post.url_path}index.html",
                    template="article.html",
                    context={
                        "section": section,
                        "previous": members[index - 1] if index > 0 else None,
                        "next": members[index + 1] if index + 1 < len(members) else None,
                        "related": related[id(post)],
                    },
                    sources=(post.path,),
                    post=post,
                    lastmod=post.updated or post.date,
                    from_posts=True,
                )
            )
    return pages


def _newest(posts: tuple[Post, ...]) -> datetime | None:
    return max((p.updated or p.date for p in posts if p.date is not None), default=None)


def refuse_collisions(pages: list[Page]) -> None:
    """Two sources that want one output path fail the build, naming both."""
    owners: dict[str, Page] = {}
    errors = []
    for page in pages:
        first = owners.setdefault(page.path, page)
        if first is not page:
            where = page.post.path if page.post is not None else None
            mine = "would write" if where else f"{_origin(page)} would write"
            message = f"{mine} {page.path}, which {_origin(first)} writes too"
            errors.append(BroadsheetError(message, where))
    if errors:
        raise BroadsheetErrors(errors)


def _origin(page: Page) -> str:
    if page.post is not None:
        return display_path(page.post.path)
    return f"the {page.template} page"
