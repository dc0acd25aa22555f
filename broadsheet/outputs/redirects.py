"""Redirects: a page for each alias of an article, and the host-readable lists of them."""

from __future__ import annotations

from pathlib import Path

from broadsheet.content.aliases import alias_file, encoded, written
from broadsheet.content.post import Post
from broadsheet.errors import BroadsheetError, BroadsheetErrors, display_path
from broadsheet.outputs.page import Page

REDIRECT_TEMPLATE = "redirect.html"


LISTS = ("redirects.json", "_redirects")


def plan_redirects(posts: tuple[Post, ...], planned: list[Page]) -> list[Page]:
    """A redirect page for each alias of `posts`, and `redirects.json` and `_redirects`
    listing them all. An alias that is a planned page, that needs a folder where the site
    has a file (or a file where it has a folder), or that two posts claim, fails the
    build naming both."""
    if not any(post.aliases for post in posts):
        return _lists(())
    # Who writes each file is named only in an error: kept as the page until then (the
    # display path of every article costs a tenth of a second at 10,000).
    files: dict[str, Owner] = {page.path: page for page in planned}
    files.update({name: "the list of redirects" for name in LISTS})
    mine = {page.path: page.post for page in planned if page.post is not None}
    folders = _folders(files)
    errors: list[BroadsheetError] = []
    pages: list[Page] = []
    pairs: list[tuple[str, str]] = []
    for post in sorted(posts, key=lambda p: str(p.path)):
        for alias in post.aliases:
            path = alias_file(alias)
            problem = _taken(post, alias, path, files, folders, mine.get(path))
            if problem:
                errors.append(BroadsheetError(f"aliases: {problem}", post.path, alias_line(post)))
                continue
            files[path] = f"{display_path(post.path)} (its alias {written(alias)})"
            folders.update(_folders({path: files[path]}))
            pairs.append((encoded(alias), post.url_path))
            pages.append(
                Page(path, REDIRECT_TEMPLATE, {"target": post}, in_sitemap=False, from_posts=True)
            )
    if errors:
        raise BroadsheetErrors(errors)
    pages.sort(key=lambda page: page.path)
    return pages + _lists(tuple(sorted(pairs)))


def _lists(listed: tuple[tuple[str, str], ...]) -> list[Page]:
    """`redirects.json` and `_redirects`, listing the (alias, target) pairs `listed`."""
    return [
        Page(name, name, {"redirects": listed}, in_sitemap=False, from_posts=True) for name in LISTS
    ]


Owner = Page | str  # who writes a file: a planned page, or already said in words


def _owner(owner: Owner) -> str:
    if isinstance(owner, str):
        return owner
    return display_path(owner.post.path) if owner.post is not None else f"the {owner.template}"


def _folders(files: dict[str, Owner]) -> dict[str, tuple[Owner, str]]:
    """Every folder the files are in ("asia/a" for "asia/a/index.html"), with a file's
    owner and path for each."""
    folders: dict[str, tuple[Owner, str]] = {}
    for path, owner in files.items():
        parts = path.split("/")[:-1]
        for end in range(1, len(parts) + 1):
            folders.setdefault("/".join(parts[:end]), (owner, path))
    return folders


def _taken(
    post: Post,
    alias: str,
    path: str,
    files: dict[str, Owner],
    folders: dict[str, tuple[Owner, str]],
    page_post: Post | None,
) -> str | None:
    shown = written(alias)
    if page_post is post:
        return f"{shown} is this article's own URL; remove it from the list"
    found = files.get(path)
    owner = _owner(found) if found is not None else None
    if owner is not None and owner.endswith(f"(its alias {shown})"):
        claimant = owner.removesuffix(f" (its alias {shown})")
        return f"{shown} is claimed by {claimant} too; an old URL can lead to one article only"
    if owner is not None:
        return f"{shown} is already a page of the site: {owner} writes {path}"
    if path in folders:
        writer, inside = folders[path]
        return f"{shown} is a folder of the site, not a page: {_owner(writer)} writes {inside}"
    parts = path.split("/")[:-1]
    for end in range(1, len(parts) + 1):
        above = "/".join(parts[:end])
        if above in files:
            return (
                f"{shown} would need a folder {above}/ where the site has a file: "
                f"{_owner(files[above])} writes {above}"
            )
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
