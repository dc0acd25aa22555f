"""Split a listing into pages: /asia/, /asia/page/2/, ... with numbered links."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from broadsheet.content.post import Post

WINDOW = 2  # numbered links shown either side of the current page


@dataclass(frozen=True, slots=True)
class PageLink:
    """One link of a listing's page numbers (a gap when it has no number)."""

    number: int | None  # None for a gap ("…")
    url_path: str
    current: bool = False


@dataclass(frozen=True, slots=True)
class Pager:
    """Where a listing's page stands among its pages, and its neighbours' paths."""

    number: int
    total: int
    url_path: str
    previous_path: str | None
    next_path: str | None
    base: str  # the listing's first page

    @property
    def links(self) -> tuple[PageLink, ...]:
        """The numbered links, made when a template asks (most builds render few pages)."""
        return _links(self.base, self.number, self.total)


def page_path(base: str, number: int) -> str:
    return base if number == 1 else f"{base}page/{number}/"


def paginate(
    base: str, posts: tuple[Post, ...], per_page: int, only: Iterable[int] | None = None
) -> list[tuple[Pager, tuple[Post, ...]]]:
    """The pages of one listing (those numbered `only`, if given, from 1); a listing
    with no posts still has one (empty) page."""
    total = max(1, -(-len(posts) // per_page))
    pages = []
    for number in range(1, total + 1) if only is None else only:
        pager = Pager(
            number=number,
            total=total,
            url_path=page_path(base, number),
            previous_path=page_path(base, number - 1) if number > 1 else None,
            next_path=page_path(base, number + 1) if number < total else None,
            base=base,
        )
        pages.append((pager, posts[(number - 1) * per_page : number * per_page]))
    return pages


def _links(base: str, current: int, total: int) -> tuple[PageLink, ...]:
    shown = sorted({1, total, *range(max(1, current - WINDOW), min(total, current + WINDOW) + 1)})
    links: list[PageLink] = []
    for index, number in enumerate(shown):
        if index and number - shown[index - 1] > 1:
            links.append(PageLink(None, ""))
        links.append(PageLink(number, page_path(base, number), number == current))
    return tuple(links)
