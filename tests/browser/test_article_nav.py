"""An article's links to its neighbours say which way they go in time (no browser needed:
the labels are in the HTML)."""

from __future__ import annotations

from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from tests.conftest import run, write_post


def _published(site: Path, href: str) -> str:
    page = LexborHTMLParser((site / href.strip("/") / "index.html").read_text())
    meta = page.css_first('meta[property="article:published_time"]')
    return meta.attributes["content"] or "" if meta is not None else ""


def test_newer_and_older_links_lead_that_way_in_time(corpus: Path) -> None:
    write_post(corpus, "asia/undated.md", "---\ntitle: Undated\n---\n\nNo date.\n")
    assert run(["build", "--quiet"]).code == 0
    site = corpus / "site"
    seen = {"Newer": 0, "Older": 0, "Also": 0}
    for path in site.glob("*/*/index.html"):
        page = LexborHTMLParser(path.read_text())
        if page.css_first("h1.article-title") is None:
            continue
        here = _published(site, f"/{path.parent.relative_to(site)}/")
        for link in page.css(".article-nav-link"):
            label = link.css_first(".article-nav-label").text().strip("←→ ")
            there = _published(site, link.attributes["href"] or "")
            word = label.split()[0]
            seen[word] += 1
            if word == "Newer":
                assert here and there and there >= here, (path, label)
            elif word == "Older":
                assert here and there and there <= here, (path, label)
            else:
                assert word == "Also" and not (here and there), (path, label)
            assert "Previous" not in label and "Next" not in label
    assert all(seen.values()), seen
