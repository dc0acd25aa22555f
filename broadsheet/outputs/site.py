"""The site's shape: sections, article order, neighbours, and every page to write."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broadsheet.config import SiteConfig
from broadsheet.content.post import Post
from broadsheet.errors import BroadsheetError, BroadsheetErrors, display_path


@dataclass(frozen=True)
class Section:
    slug: str
    name: str
    posts: tuple[Post, ...]  # newest first, undated last

    @property
    def url_path(self) -> str:
        return f"{self.slug}/"


@dataclass(frozen=True)
class Page:
    """One HTML file to write: where, with which template, from what data."""

    path: str  # relative to the output folder, e.g. "asia/index.html"
    template: str
    context: dict[str, Any] = field(hash=False)
    sources: tuple[Path, ...] = ()
    post: Post | None = None  # set for article pages, whose body is rendered at write time


@dataclass(frozen=True)
class Site:
    config: SiteConfig
    posts: tuple[Post, ...]  # all, in reading order
    sections: tuple[Section, ...]
    pages: tuple[Page, ...]


def sort_key(post: Post) -> tuple[Any, ...]:
    """Newest first; undated articles after the dated ones, in the order of their source."""
    if post.date is not None:
        return (0, -post.date.timestamp(), post.title, str(post.path))
    return (1, *_source_order(post.source), post.title, str(post.path))


def _source_order(source: str | None) -> tuple[str, int]:
    if not source:
        return ("\uffff", 0)
    name, _, line = source.rpartition(":")
    return (name, int(line)) if line.isdigit() else (source, 0)


def plan_site(posts: list[Post], config: SiteConfig) -> Site:
    ordered = tuple(sorted(posts, key=sort_key))
    sections = _sections(ordered, config)
    pages = [_index_page(ordered, config)]
    for section in sections:
        pages.append(
            Page(
                path=f"{section.slug}/index.html",
                template="section.html",
                context={"section": section, "posts": section.posts},
                sources=tuple(p.path for p in section.posts),
            )
        )
        pages.extend(_article_pages(section))
    pages.append(Page(path="404.html", template="404.html", context={}))
    _refuse_collisions(pages)
    return Site(config=config, posts=ordered, sections=sections, pages=tuple(pages))


def _sections(posts: tuple[Post, ...], config: SiteConfig) -> tuple[Section, ...]:
    by_slug: dict[str, list[Post]] = {}
    for post in posts:
        by_slug.setdefault(post.section_slug, []).append(post)
    sections = [
        Section(slug=slug, name=config.section_name(slug, members[0].section), posts=tuple(members))
        for slug, members in by_slug.items()
    ]
    return tuple(sorted(sections, key=lambda s: config.section_rank(s.slug)))


def _index_page(posts: tuple[Post, ...], config: SiteConfig) -> Page:
    latest = posts[: config.per_page]
    return Page(
        path="index.html",
        template="index.html",
        context={"posts": latest},
        sources=tuple(p.path for p in latest),
    )


def _article_pages(section: Section) -> list[Page]:
    pages = []
    members = section.posts
    for index, post in enumerate(members):
        newer = members[index - 1] if index > 0 else None
        older = members[index + 1] if index + 1 < len(members) else None
        pages.append(
            Page(
                path=f"{post.url_path}index.html",
                template="article.html",
                context={"section": section, "previous": newer, "next": older},
                sources=(post.path,),
                post=post,
            )
        )
    return pages


def _refuse_collisions(pages: list[Page]) -> None:
    """Two sources that want one output path fail the build, naming both."""
    owners: dict[str, Page] = {}
    errors = []
    for page in pages:
        first = owners.setdefault(page.path, page)
        if first is not page:
            errors.append(
                BroadsheetError(
                    f"would write {page.path}, which {_origin(first)} writes too",
                    page.sources[0] if page.sources else None,
                )
            )
    if errors:
        raise BroadsheetErrors(errors)


def _origin(page: Page) -> str:
    return display_path(page.sources[0]) if page.sources else f"the {page.template} page"
