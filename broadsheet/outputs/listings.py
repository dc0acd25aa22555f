"""Groups of articles with pages of their own: sections, authors, tags and date archives."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from broadsheet.config import SiteConfig
from broadsheet.content.post import Post
from broadsheet.slugs import slugify

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True, slots=True, repr=False)
class Listing:
    """A named, ordered group of posts: a section, an author, a tag, a year, a month.
    Printed (`{{ listing }}` in a template), it shows neither its posts nor how many it
    holds: a page is signed with a listing's name and place, and with its count only if
    the template reads its posts (broadsheet.publish.signatures)."""

    kind: str  # "index", "section", "author", "tag", "year", "month" or "undated"
    slug: str
    name: str
    url_path: str  # e.g. "asia/", "authors/jane-roe/", "archive/2024/11/"
    posts: tuple[Post, ...]  # in reading order: newest first, undated last

    def __repr__(self) -> str:
        return f"Listing({self.kind!r}, {self.slug!r}, {self.name!r})"

    @property
    def feed_path(self) -> str:
        return f"{self.url_path}feed.xml"


def group(
    posts: Iterable[Post], keys: Callable[[Post], Iterable[tuple[str, str]]]
) -> dict[str, tuple[str, list[Post]]]:
    """slug -> (display name, posts), keeping the posts' order; the first name seen wins."""
    groups: dict[str, tuple[str, list[Post]]] = {}
    for post in posts:
        for slug, name in keys(post):
            groups.setdefault(slug, (name, []))[1].append(post)
    return groups


def section_key(post: Post) -> list[tuple[str, str]]:
    """A post's section, as `group` takes it: [(slug, label)]."""
    return [(post.section_slug, post.section)]


def sections(posts: tuple[Post, ...], config: SiteConfig) -> tuple[Listing, ...]:
    found = group(posts, section_key)
    listings = [
        Listing("section", slug, config.section_name(slug, label), f"{slug}/", tuple(members))
        for slug, (label, members) in found.items()
    ]
    return tuple(sorted(listings, key=lambda s: config.section_rank(s.slug)))


def authors(posts: tuple[Post, ...]) -> tuple[Listing, ...]:
    slug = functools.cache(slugify)  # a few hundred names, on 10,000 posts
    found = group(posts, lambda p: [(slug(p.author), p.author)] if p.author else [])
    return _named("author", "authors", found)


def tags(posts: tuple[Post, ...]) -> tuple[Listing, ...]:
    slug = functools.cache(slugify)  # a few hundred tags, on tens of thousands of uses
    found = group(posts, lambda p: [(slug(t), t) for t in p.tags])
    return _named("tag", "tags", found)


def _named(kind: str, folder: str, found: dict[str, tuple[str, list[Post]]]) -> tuple[Listing, ...]:
    listings = [
        Listing(kind, slug, name, f"{folder}/{slug}/", tuple(members))
        for slug, (name, members) in found.items()
    ]
    return tuple(sorted(listings, key=lambda item: (item.name.casefold(), item.slug)))


def years(posts: tuple[Post, ...]) -> tuple[Listing, ...]:
    # (str() and the MONTHS table rather than strftime: several times faster, the same text)
    found = group(posts, lambda p: [(str(p.date.year), str(p.date.year))] if p.date else [])
    return tuple(
        Listing("year", slug, name, f"archive/{slug}/", tuple(members))
        for slug, (name, members) in sorted(found.items(), reverse=True)
    )


def months(posts: tuple[Post, ...]) -> tuple[Listing, ...]:
    def key(post: Post) -> list[tuple[str, str]]:
        if post.date is None:
            return []
        year, month = post.date.year, post.date.month
        return [(f"{year}/{month:02d}", f"{MONTHS[month - 1]} {year}")]

    found = group(posts, key)
    return tuple(
        Listing("month", slug, name, f"archive/{slug}/", tuple(members))
        for slug, (name, members) in sorted(found.items(), reverse=True)
    )


def undated(posts: tuple[Post, ...]) -> Listing:
    members = tuple(p for p in posts if p.date is None)
    return Listing("undated", "undated", "Undated articles", "archive/undated/", members)
