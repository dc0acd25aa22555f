"""Redirects: a page for each alias of an article, and the host-readable lists of them."""

from __future__ import annotations

from pathlib import Path

from broadsheet.content.aliases import alias_file, written
from broadsheet.content.post import Post
from broadsheet.errors import BroadsheetError, BroadsheetErrors, display_path
from broadsheet.outputs.page import Page

REDIRECT_TEMPLATE = "redirect.html"


def plan_redirects(posts: tuple[Post, ...], planned: list[Page]) -> list[Page]:
    """A redirect page for each alias of `posts`, and `redirects.json` and `_redirects`
    listing them all. An alias that is a planned page, or that two posts claim, fails
    the build naming both."""
    owners = {page.path: page for page in planned}
    claimed: dict[str, Post] = {}
    errors: list[BroadsheetError] = []
    pages: list[Page] = []
    for post in sorted(posts, key=lambda p: str(p.path)):
        for alias in post.aliases:
            path = alias_file(alias)
            problem = _taken(post, alias, owners.get(path), claimed.get(path))
            if problem:
                errors.append(BroadsheetError(f"aliases: {problem}", post.path, alias_line(post)))
                continue
            claimed[path] = post
            pages.append(
                Page(path, REDIRECT_TEMPLATE, {"target": post}, in_sitemap=False, from_posts=True)
            )
    if errors:
        raise BroadsheetErrors(errors)
    pages.sort(key=lambda page: page.path)
    pairs = tuple((written(_alias_of(page)), page.context["target"].url_path) for page in pages)
    for name in ("redirects.json", "_redirects"):
        pages.append(Page(name, name, {"redirects": pairs}, in_sitemap=False, from_posts=True))
    return pages


def _alias_of(page: Page) -> str:
    return page.path.removesuffix("index.html")


def _taken(post: Post, alias: str, page: Page | None, other: Post | None) -> str | None:
    shown = written(alias)
    if page is not None and page.post is post:
        return f"{shown} is this article's own URL; remove it from the list"
    if page is not None:
        owner = display_path(page.post.path) if page.post is not None else f"the {page.template}"
        return f"{shown} is already a page of the site: {owner} writes {page.path}"
    if other is not None:
        claimant = display_path(other.path)
        return f"{shown} is claimed by {claimant} too; an old URL can lead to one article only"
    return None


def alias_line(post: Post) -> int | None:
    """The line of a post's `aliases` key (for errors: read only then)."""
    try:
        lines = Path(post.path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for number, line in enumerate(lines[: post.body_line], start=1):
        if line.startswith("aliases:"):
            return number
    return None
