from datetime import datetime, timedelta
from pathlib import Path

from broadsheet.config import load_config
from broadsheet.outputs.page import Page
from broadsheet.outputs.sitemaps import MAX_URLS, news_posts, plan_sitemaps
from tests.outputs.helpers import UTC, post

CONFIG = load_config(Path("/nonexistent"))


def test_past_50000_urls_the_sitemap_becomes_an_index_of_children() -> None:
    pages = [Page(f"p/{n}/index.html", "article.html") for n in range(MAX_URLS + 1)]
    planned = {p.path: p for p in plan_sitemaps(pages, (), CONFIG)}
    assert planned["sitemap.xml"].template == "sitemap-index.xml"
    assert [len(planned[f"sitemaps/sitemap-{n}.xml"].context["entries"]) for n in (1, 2)] == [
        MAX_URLS,
        1,
    ]
    at_limit = plan_sitemaps(pages[:MAX_URLS], (), CONFIG)
    assert [p.template for p in at_limit if p.path == "sitemap.xml"] == ["sitemap.xml"]


def test_the_news_sitemap_holds_the_last_two_days() -> None:
    now = datetime(2025, 2, 9, 12, tzinfo=UTC)
    posts = (
        post("today", date=datetime(2025, 2, 9, 8)),
        post("yesterday", date=datetime(2025, 2, 8, 8)),
        post("last-week", date=datetime(2025, 2, 2)),
        post("undated"),
    )
    assert [p.slug for p in news_posts(posts, now)] == ["today", "yesterday"]
    assert news_posts(posts, None) == ()
    assert news_posts(posts, now + timedelta(days=30)) == ()
