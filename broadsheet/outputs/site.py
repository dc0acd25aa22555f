"""The site's shape: article order, listings, neighbours, and every output to write."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import compress, count
from operator import not_
from pathlib import Path
from typing import NamedTuple, Protocol

from broadsheet.config import SiteConfig
from broadsheet.content.post import Post
from broadsheet.content.visibility import latest
from broadsheet.errors import BroadsheetError, BroadsheetErrors, display_path
from broadsheet.outputs.feeds import plan_feeds
from broadsheet.outputs.grouped import grouped
from broadsheet.outputs.listings import Listing
from broadsheet.outputs.page import Page
from broadsheet.outputs.pagination import paginate
from broadsheet.outputs.redirects import REDIRECT_TEMPLATE, plan_redirects
from broadsheet.outputs.sitemaps import (
    NEWS_SITEMAP,
    NEWS_TEMPLATE,
    ROBOTS,
    plan_news,
    plan_sitemaps,
)


@dataclass(frozen=True)
class Site:
    """Every output of the site, planned: its posts, listings and pages."""

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
    # Set when `pages` are only those an edit can have changed (see `plan_site`): the
    # whole plan's, which are the last build's.
    whole: WholePlan | None = None


@dataclass(frozen=True)
class WholePlan:
    """What a plan of only some pages says of the whole one: every page's path, and
    every template its pages use."""

    paths: tuple[str, ...]
    templates: tuple[str, ...]
    # How the last build's plan judged the site, once it has (see LastPlan.edited).
    judged: Judged | None = field(default=None, compare=False)


class Judged(NamedTuple):
    """What the last build's plan found of a site: the posts (by id) that changed since,
    each post's state, which they were told apart by, and the site-wide key its shape
    was found the same under (see signatures.Since), compared with `last`."""

    edited: set[int]
    states: dict[str, str]
    key: str
    last: object


class LastPlan(Protocol):
    """The last build's plan, as far as this one can go by it (see `plan_site`)."""

    @property
    def whole(self) -> WholePlan:
        """Every page's path and every template its pages use."""

    def edited(self, site: Site) -> Judged | None:
        """What changed in `site` since the last build, if its plan had the same pages
        showing the same posts, and no page's template can show posts other than those
        its plan gives it (else None)."""


def page_paths(site: Site) -> Iterable[str]:
    """The path of every page of the site, in the plan's order (or, for a plan of only
    some pages, in the last build's)."""
    if site.whole is not None:
        return site.whole.paths
    return (page.path for page in site.pages)


def plan_site(
    posts: list[Post],
    config: SiteConfig,
    now: datetime | None = None,
    related_store: Path | None = None,
    jobs: int = 1,
    last: LastPlan | None = None,
    groups_store: Path | None = None,
) -> Site:
    """Every output of the site, planned before anything is written (related articles
    ranked in `jobs` processes).

    Given the `last` build's plan, when it had the same pages showing the same posts
    (an edit to articles' bodies or headlines, not to what places them), only the
    pages that show a post edited since are planned, with those planned from more than
    the posts (`Page.from_posts`), which are signed again whatever changed: the others
    keep their signatures, and an edit need not make 30,000 pages to sign 30 (a fifth
    of its time at 10,000 articles).

    The posts' order, listings and related articles are those kept in `groups_store`
    when the posts have the same paths and front matter as then (see grouped)."""
    ordered, listed, ranked = grouped(posts, config, groups_store, related_store, jobs)
    index = Listing("index", "", "Latest articles", "", ordered)
    sections, authors, tags, years, months, undated = listed
    site = Site(config, ordered, *listed, (), now, ranked)
    judged = last.edited(site) if last is not None else None
    if last is not None and judged is not None:
        some = _pages_showing(site, index, judged.edited)
        whole = _with_news(last.whole, any(page.path == NEWS_SITEMAP for page in some))
        if set(whole.paths).issuperset(page.path for page in some):
            return replace(site, pages=tuple(some), whole=replace(whole, judged=judged))
    pages: list[Page] = []
    for listing in (index, *sections, *authors, *tags, *years, *months):
        pages += listing_pages(listing, config.per_page)
    if undated.posts:
        pages += listing_pages(undated, config.per_page)
    pages += _fixed_pages(site)
    pages += article_pages(ordered, sections, ranked)
    pages += plan_feeds(index, sections, config)
    pages += plan_sitemaps(pages, ordered, config, now=now)
    refuse_collisions(pages)
    pages += plan_redirects(ordered, pages)  # after: an alias may take no page's path
    return replace(site, pages=tuple(pages))


def _pages_showing(site: Site, index: Listing, edited: set[int]) -> list[Page]:
    """The pages of `site`'s whole plan that show one of the posts `edited` (by id) in
    their context (see signatures.mentions), or are its article or one of its aliases;
    and those planned from more than the posts. The same pages as the whole plan's."""
    config, posts, per_page = site.config, site.posts, site.config.per_page
    place = dict(zip(map(id, posts), count()))  # (in C: 10,000 posts)
    numbers = {place[key] for key in edited}
    pages: list[Page] = []
    every = (index, *site.sections, *site.authors, *site.tags, *site.years, *site.months)
    for listing in (*every, site.undated) if site.undated.posts else every:
        found = numbers if listing is index else _places(listing.posts, edited)
        wanted = sorted({n // per_page + 1 for n in found})
        if wanted:
            pages += listing_pages(listing, per_page, wanted)
    # An article shows its neighbours in its section and the articles it lists as related.
    lists = map(not_, map(numbers.isdisjoint, site.related))  # (whether each lists one)
    listers = {id(posts[n]) for n in compress(count(), lists)}
    for section in site.sections:
        members = section.posts
        chosen = set(_places(members, listers))
        for k in _places(members, edited):
            chosen.update(j for j in (k - 1, k, k + 1) if 0 <= j < len(members))
        for k in sorted(chosen):
            related = tuple([posts[i] for i in site.related[place[id(members[k])]]])
            pages.append(_article_page(section, k, related))
    pages += plan_feeds(index, site.sections, config)
    pages += plan_news(posts, config, site.now)
    pages += [page for page in _fixed_pages(site) if not page.from_posts]
    aliased = tuple(posts[n] for n in sorted(numbers) if posts[n].aliases)
    pages += [page for page in plan_redirects(aliased, []) if page.template == REDIRECT_TEMPLATE]
    return pages


def _with_news(whole: WholePlan, news: bool) -> WholePlan:
    """The last build's whole plan with the news sitemap in it or not (`news`), as the
    time of this build has it: the one page that comes and goes with the time alone
    (see plan_news), so that a deploy a day on, when the last two days brought no
    article, plans only the pages its edits show rather than all of them. A whole plan
    places it just before robots.txt, which names it, and only it uses its template."""
    if (NEWS_SITEMAP in whole.paths) == news:  # (as a rule)
        return whole
    paths = [path for path in whole.paths if path != NEWS_SITEMAP]
    templates = {name for name in whole.templates if name != NEWS_TEMPLATE}
    if news:
        # (planned with it, always: plan_news; and an alias's redirect in a folder of
        # its name is refused as a whole plan refuses it, naming the post)
        if ROBOTS not in paths or any(path.startswith(f"{NEWS_SITEMAP}/") for path in paths):
            return whole
        paths.insert(paths.index(ROBOTS), NEWS_SITEMAP)
        templates.add(NEWS_TEMPLATE)
    return replace(whole, paths=tuple(paths), templates=tuple(sorted(templates)))


def _places(posts: tuple[Post, ...], chosen: set[int]) -> list[int]:
    """The places in `posts` of the posts `chosen` (by id), in order. (Looked for in
    every listing of a site after an edit: 80,000 places at 10,000 articles, a loop
    in Python took 20 ms.)"""
    return list(compress(count(), map(chosen.__contains__, map(id, posts))))


def _fixed_pages(site: Site) -> list[Page]:
    return [
        Page("authors/index.html", "authors.html", {"listings": site.authors}, from_posts=True),
        Page("tags/index.html", "tags.html", {"listings": site.tags}, from_posts=True),
        Page(
            "archive/index.html",
            "archives.html",
            {"years": site.years, "months": site.months, "undated": site.undated},
            from_posts=True,
        ),
        Page("search/index.html", "search.html"),
        Page("404.html", "404.html", in_sitemap=False),
    ]


def listing_pages(listing: Listing, per_page: int, only: Iterable[int] | None = None) -> list[Page]:
    """The pages of `listing` (those numbered `only`, if given)."""
    template = {"index": "index.html", "section": "section.html", "author": "author.html"}.get(
        listing.kind, "tag.html" if listing.kind == "tag" else "archive.html"
    )
    pages = []
    for pager, members in paginate(listing.url_path, listing.posts, per_page, only):
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
    return [
        _article_page(section, index, related[id(post)])
        for section in sections
        for index, post in enumerate(section.posts)
    ]


def _article_page(section: Listing, index: int, related: tuple[Post, ...]) -> Page:
    """The page of the article at `index` in its `section`, which lists `related`."""
    members = section.posts
    post = members[index]
    return Page(
        path=f"{post.url_path}index.html",
        template="article.html",
        context={
            "section": section,
            "previous": members[index - 1] if index > 0 else None,
            "next": members[index + 1] if index + 1 < len(members) else None,
            "related": related,
        },
        sources=(post.path,),
        post=post,
        lastmod=post.updated or post.date,
        from_posts=True,
    )


def _newest(posts: tuple[Post, ...]) -> datetime | None:
    return latest(p.updated or p.date for p in posts if p.date is not None)


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
