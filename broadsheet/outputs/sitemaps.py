"""sitemap.xml (split into an index past 50,000 URLs), a Google News sitemap, robots.txt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from broadsheet.config import SiteConfig
from broadsheet.content.post import Post
from broadsheet.content.visibility import judging_moment, latest
from broadsheet.outputs.page import Page

MAX_URLS = 50_000  # the sitemaps.org limit per file
NEWS_WINDOW = timedelta(days=2)
NEWS_MAX = 1_000  # Google News' limit per sitemap


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    """A page as a sitemap lists it: its path, and when it last changed."""

    url_path: str
    lastmod: datetime | None


def plan_sitemaps(
    pages: list[Page],
    posts: tuple[Post, ...],
    config: SiteConfig,
    max_urls: int | None = None,
    now: datetime | None = None,
) -> list[Page]:
    max_urls = max_urls or MAX_URLS
    entries = [SitemapEntry(p.url_path, p.lastmod) for p in pages if p.in_sitemap]
    planned: list[Page] = []
    if len(entries) <= max_urls:
        planned.append(_urlset("sitemap.xml", entries))
    else:
        chunks = [entries[i : i + max_urls] for i in range(0, len(entries), max_urls)]
        children = [_urlset(f"sitemaps/sitemap-{n}.xml", c) for n, c in enumerate(chunks, 1)]
        planned.append(
            Page(
                "sitemap.xml",
                "sitemap-index.xml",
                {"sitemaps": [(c.path, _latest(c.context["entries"])) for c in children]},
                in_sitemap=False,
                from_posts=True,
            )
        )
        planned += children
    return planned + plan_news(posts, config, now)


# The news sitemap: the one page that is there or not by the time of the build.
NEWS_SITEMAP = "news-sitemap.xml"
NEWS_TEMPLATE = "news-sitemap.xml"
ROBOTS = "robots.txt"


def plan_news(posts: tuple[Post, ...], config: SiteConfig, now: datetime | None) -> list[Page]:
    """The news sitemap (if any article is recent enough) and robots.txt, which names it:
    pages planned from the time of the build as well as the posts."""
    news = news_posts(posts, config.now or _newest(posts, now), config.zone)
    planned = []
    if news:
        planned.append(Page(NEWS_SITEMAP, NEWS_TEMPLATE, {"posts": news}, in_sitemap=False))
    planned.append(Page(ROBOTS, "robots.txt", {"news_sitemap": bool(news)}, in_sitemap=False))
    return planned


def news_posts(
    posts: tuple[Post, ...], now: datetime | None, zone: tzinfo | None = None
) -> tuple[Post, ...]:
    """Articles published in the two days up to `now`, newest first. Given the posts'
    `zone`, the window's two ends are put in it first (see judging_moment): every post
    is compared with both, and a SOURCE_DATE_EPOCH comes in UTC. Two datetimes of
    different zones took 0.15 to 0.6 microseconds to compare (UTC against the posts'
    ZoneInfo("UTC"), or against London's), two of one zone 0.02: at 10,000 articles,
    3.0 ms against 0.45 for the whole window, in a site in UTC."""
    if now is None:
        return ()
    start, end = now - NEWS_WINDOW, now  # (taken from `now` as given, then put in `zone`)
    if zone is not None:
        start, end = judging_moment(start, zone), judging_moment(end, zone)
    dated = [p for p in posts if p.date is not None and start <= p.date <= end]
    return tuple(dated[:NEWS_MAX])


def _newest(posts: tuple[Post, ...], now: datetime | None) -> datetime | None:
    """The newest article's date (never later than `now`, past scheduled posts)."""
    return latest(p.date for p in posts if p.date is not None and (now is None or p.date <= now))


def _urlset(path: str, entries: list[SitemapEntry]) -> Page:
    # Its entries are the pages' paths and dates: decided by the posts alone.
    return Page(path, "sitemap.xml", {"entries": entries}, in_sitemap=False, from_posts=True)


def _latest(entries: list[SitemapEntry]) -> datetime | None:
    return max((e.lastmod for e in entries if e.lastmod is not None), default=None)
