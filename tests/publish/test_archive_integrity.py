"""The built archive, whole: every link works under /archive/, every page is in the
sitemap, every feed parses. On the seed archive and on a generated 2,000-article one."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest
import xmlschema

from benchmarks.corpus import write_corpus
from broadsheet.config import load_config
from broadsheet.ingest.importer import import_files
from broadsheet.publish.pipeline import build
from tests.conftest import REPO, SEEDS
from tests.crawl import crawl
from tests.serving import serve
from tests.sitecheck import article_pages
from tests.tools import SITEINDEX_XSD, sitemap_xsd

BASE_URL = "https://example.github.io/archive/"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ATOM = "{http://www.w3.org/2005/Atom}"


def make_project(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        f'[tool.broadsheet]\ntitle = "Archive"\nbase_url = "{BASE_URL}"\n', encoding="utf-8"
    )
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copytree(REPO / "static", root / "static")
    return root


@pytest.fixture(scope="module", params=["seeds", "generated-2000"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp(request.param) / "project")
    if request.param == "seeds":
        import_files(SEEDS, root / "content")
    else:
        write_corpus(root / "content", 2000)
    build(load_config(root), output=root / "site")
    return root / "site"


def html_pages(site: Path) -> set[str]:
    """URL paths (under the base path) of every HTML page on disk but the 404 page."""
    paths = set()
    for page in site.rglob("*.html"):
        relative = page.relative_to(site).as_posix()
        if relative != "404.html":
            paths.add(relative.removesuffix("index.html"))
    return paths


def sitemap_urls(site: Path) -> set[str]:
    root = ET.parse(site / "sitemap.xml").getroot()
    files = [site / "sitemap.xml"]
    if root.tag == f"{SM}sitemapindex":
        files = [site / e.text.removeprefix(BASE_URL) for e in root.iter(f"{SM}loc") if e.text]
    urls = set()
    for file in files:
        urls |= {e.text for e in ET.parse(file).getroot().iter(f"{SM}loc") if e.text}
    return urls


def test_every_link_works_when_served_under_the_project_path(site: Path) -> None:
    with serve(site, "/archive/") as base:
        feeds = [base + p.relative_to(site).as_posix() for p in site.rglob("feed.xml")]
        result = crawl(base, extra=[base + "sitemap.xml", base + "robots.txt", *feeds])
    assert result.broken() == []
    reached = {url.removeprefix(base) for url in result.html}
    assert html_pages(site) <= reached, "pages no link leads to"


def test_every_page_is_in_the_sitemap_and_nothing_else(site: Path) -> None:
    expected = {BASE_URL + path for path in html_pages(site)}
    assert sitemap_urls(site) == expected


def test_sitemaps_are_valid_against_the_schema(site: Path) -> None:
    xmlschema.XMLSchema(str(sitemap_xsd())).validate(str(site / "sitemap.xml"))
    robots = (site / "robots.txt").read_text()
    assert f"Sitemap: {BASE_URL}sitemap.xml" in robots
    news = (site / "news-sitemap.xml").exists()
    assert (f"Sitemap: {BASE_URL}news-sitemap.xml" in robots) == news


def test_every_feed_parses_with_the_elements_atom_requires(site: Path) -> None:
    feeds = sorted(site.rglob("feed.xml"))
    assert len(feeds) >= 2  # the site's and at least one section's
    for path in feeds:
        parsed = feedparser.parse(path.read_bytes())
        assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
        root = ET.parse(path).getroot()
        for name in ("id", "title", "updated", "author"):
            assert root.find(f"{ATOM}{name}") is not None, (path, name)
        assert root.find(f"{ATOM}link[@rel='self']").get("href").startswith(BASE_URL)
        entries = root.findall(f"{ATOM}entry")
        assert entries
        for entry in entries:
            for name in ("id", "title", "updated", "link", "content"):
                assert entry.find(f"{ATOM}{name}") is not None, (path, name)
            assert entry.find(f"{ATOM}link").get("href").startswith(BASE_URL)
        updated = [e.findtext(f"{ATOM}updated") for e in entries]
        assert updated == sorted(updated, reverse=True), "entries are newest first"
    entries = ET.parse(site / "feed.xml").getroot().findall(f"{ATOM}entry")
    assert len(entries) == min(50, len(article_pages(site)))  # feed_size, by default 50


def test_a_missing_page_at_any_depth_gets_a_working_404(site: Path) -> None:
    with serve(site, "/archive/") as base:
        result = crawl(base + "no/such/deep/page/", prefix=base)
    assert result.status[base + "no/such/deep/page/"] == 404
    page_links = [u for u in result.status if u != base + "no/such/deep/page/"]
    assert page_links, "the 404 page links somewhere"
    assert result.broken() == [f"{base}no/such/deep/page/ (404), linked from the start"]


def test_the_sitemap_splits_into_an_index_past_its_limit(tmp_path: Path) -> None:
    from broadsheet.outputs import sitemaps

    root = make_project(tmp_path / "project")
    write_corpus(root / "content", 30)
    original = sitemaps.MAX_URLS
    sitemaps.MAX_URLS = 40
    try:
        build(load_config(root), output=root / "site")
    finally:
        sitemaps.MAX_URLS = original
    site = root / "site"
    index = ET.parse(site / "sitemap.xml").getroot()
    assert index.tag == f"{SM}sitemapindex"
    xmlschema.XMLSchema(str(SITEINDEX_XSD)).validate(str(site / "sitemap.xml"))
    children = sorted((site / "sitemaps").glob("sitemap-*.xml"))
    assert len(children) == len(index.findall(f"{SM}sitemap")) >= 2
    for child in children:
        xmlschema.XMLSchema(str(sitemap_xsd())).validate(str(child))
        assert len(ET.parse(child).getroot().findall(f"{SM}url")) <= 40
    assert sitemap_urls(site) == {BASE_URL + path for path in html_pages(site)}


def test_robots_txt_is_plain_text_and_pages_stay_escaped(seeded: Path) -> None:
    """robots.txt is read by crawlers as it is: a base URL with & in it stays &, where an
    HTML page escapes it."""
    from tests.conftest import run

    assert run(["build", "--quiet", "--base-url", "https://example.org/a&b/"]).code == 0
    robots = (seeded / "site/robots.txt").read_text()
    assert "Sitemap: https://example.org/a&b/sitemap.xml" in robots and "&amp;" not in robots
    page = (seeded / "site/index.html").read_text()
    assert "https://example.org/a&amp;b/" in page
