"""What readers and search engines get on the built seed archive."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import run, write_post
from tests.sitecheck import article_pages, page_text, scan

AMERICA = "america/does-us-afghanistan-policy-have-a-future/"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def site(seeded: Path) -> Path:
    write_post(
        seeded,
        "asia/dated.md",
        "---\ntitle: A dated story\ndate: 2024-11-05 09:30\nauthor: Jane Roe\n"
        "tags: [trade, energy]\nsummary: A short summary.\n---\n\nText.\n",
    )
    result = run(["build", "--base-url", "https://example.github.io/archive/"])
    assert result.code == 0, result.err
    return seeded / "site"


def meta(html: str, key: str) -> str:
    match = re.search(rf'<meta (?:name|property)="{re.escape(key)}" content="([^"]*)"', html)
    assert match, key
    return match.group(1)


def test_every_page_has_a_title_description_and_canonical(site: Path) -> None:
    for path in site.rglob("index.html"):
        html = path.read_text()
        assert re.search(r"<title>[^<]{5,}</title>", html), path
        assert len(meta(html, "description")) >= 10, path
        canonical = re.search(r'<link rel="canonical" href="([^"]+)"', html)
        assert canonical and canonical.group(1).startswith("https://example.github.io/archive/")
        assert meta(html, "og:title") and meta(html, "twitter:card") == "summary"


def test_article_pages_carry_news_article_json_ld(site: Path) -> None:
    html = (site / AMERICA / "index.html").read_text()
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert block
    data = json.loads(block.group(1))
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == "Does U.S. Afghanistan Policy Have a Future?"
    assert data["author"] == {"@type": "Person", "name": "Dr. Davood Moradian"}
    assert data["articleSection"] == "America"
    assert data["publisher"]["name"]
    assert "datePublished" not in data  # the source gave no date: none is invented
    dated = json.loads(
        re.search(
            r'<script type="application/ld\+json">(.*?)</script>',
            (site / "asia/dated/index.html").read_text(),
            re.S,
        ).group(1)
    )
    assert dated["datePublished"] == "2024-11-05T09:30:00+00:00"
    assert meta((site / "asia/dated/index.html").read_text(), "description") == "A short summary."


def test_feeds_are_linked_and_undated_entries_claim_no_date(site: Path) -> None:
    index = (site / "index.html").read_text()
    assert 'type="application/atom+xml"' in index and "/archive/feed.xml" in index
    section = (site / "asia/index.html").read_text()
    assert "/archive/asia/feed.xml" in section
    feed = ET.parse(site / "feed.xml").getroot()
    entries = {e.findtext(f"{ATOM}title"): e for e in feed.findall(f"{ATOM}entry")}
    dated = entries["A dated story"]
    assert dated.findtext(f"{ATOM}published") == "2024-11-05T09:30:00+00:00"
    undated = entries["Does U.S. Afghanistan Policy Have a Future?"]
    assert undated.find(f"{ATOM}published") is None
    assert undated.findtext(f"{ATOM}updated") == "0999-12-31T00:00:00+00:00"
    assert next(iter(entries)) == "A dated story"
    assert "9/11 and Afghanistan" in undated.findtext(f"{ATOM}content")


def test_articles_show_related_articles_topics_and_author_links(site: Path) -> None:
    html = (site / "asia/dated/index.html").read_text()
    links = scan(html).links
    assert "/archive/tags/trade/" in links and "/archive/authors/jane-roe/" in links
    text = page_text(html)
    assert "Related articles" in text
    author = page_text((site / "authors/jane-roe/index.html").read_text())
    assert "A dated story" in author
    assert "A dated story" in page_text((site / "archive/2024/11/index.html").read_text())
    undated = page_text((site / "archive/undated/index.html").read_text())
    assert "Three years history of anti-Taliban movements" in undated


def test_search_indexes_only_article_text_with_section_filters(site: Path) -> None:
    meta = json.loads((site / "search/meta.json").read_text())
    assert meta["docs"] == len(article_pages(site)) == 8
    assert [name for name, _ in meta["sections"]] == ["asia", "america"]
    docs = [json.loads((site / f"search/docs/{n}.json").read_text()) for n in range(8)]
    assert docs[-1][0] == "asia/dated/"  # ids: oldest first, the undated ones before all
    assert [d[0] for d in docs[:-1]] == sorted(d[0] for d in docs[:-1])
    assert all(d[2] == d[0].split("/")[0] for d in docs)
    search = (site / "search/index.html").read_text()
    assert 'data-index="/archive/search/"' in search
    assert 'data-base-url="/archive/"' in search
    indexed = set()
    for bucket in meta["words"]:
        indexed |= json.loads((site / f"search/words/{bucket}.json").read_text()).keys()
    assert "sealion" in indexed and "taliban" in indexed
    assert "skip" not in indexed  # "Skip to content" is navigation, in no article
    header = (site / "index.html").read_text()
    assert 'role="search" action="/archive/search/"' in header
