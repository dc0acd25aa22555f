"""In a real browser under /archive/: an alias lands on its article, query and fragment
kept; the redirect pages pass the Nu Html Checker and axe."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from broadsheet.config import load_config
from broadsheet.publish.pipeline import build
from tests.conftest import lay_out
from tests.serving import serve
from tests.tools import assert_valid, axe_js

ARTICLE = """\
---
title: Talks resume in Geneva
date: 2025-02-09
aliases: [/asia/talks-stall/, /2019/05/talks.html]
---

The opening paragraph.

## Where things stand

Text under the heading.
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = lay_out(
        tmp_path_factory.mktemp("redirects") / "project",
        '[tool.broadsheet]\ntitle = "Archive"\nbase_url = "https://example.github.io/archive/"\n',
    )
    (root / "content" / "america").mkdir(parents=True)
    (root / "content" / "america" / "talks-resume.md").write_text(ARTICLE, encoding="utf-8")
    build(load_config(root), output=root / "site")
    return root / "site"


@pytest.fixture(scope="module")
def base(site: Path) -> Iterator[str]:
    with serve(site, "/archive/") as url:
        yield url


@pytest.mark.parametrize("alias", ["asia/talks-stall/", "2019/05/talks.html", "asia/talks-stall"])
def test_an_alias_lands_on_the_article_keeping_query_and_fragment(
    page: Any, base: str, alias: str
) -> None:
    page.goto(f"{base}{alias}?ref=wiki#where-things-stand")
    page.wait_for_url("**/archive/america/talks-resume/**")
    assert page.url == f"{base}america/talks-resume/?ref=wiki#where-things-stand"
    assert page.locator("h1").first.inner_text() == "Talks resume in Geneva"
    assert page.evaluate("() => location.hash") == "#where-things-stand"


def test_without_script_the_meta_refresh_and_a_link_lead_there(browser: Any, base: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto(f"{base}asia/talks-stall/")
        tab.wait_for_url("**/archive/america/talks-resume/")
        assert tab.locator("h1").first.inner_text() == "Talks resume in Geneva"
    finally:
        context.close()


def test_the_redirect_page_is_valid_html(site: Path) -> None:
    pages = [site / "asia/talks-stall/index.html", site / "2019/05/talks.html"]
    assert_valid(pages, timeout=120)


def test_the_redirect_page_passes_axe(page: Any, site: Path) -> None:
    html = (site / "asia/talks-stall/index.html").read_text(encoding="utf-8")
    # The page as a reader sees it for a moment, kept from leaving: no script, no refresh.
    still = re.sub(r"<script>.*?</script>", "", html).replace('http-equiv="refresh"', "")
    assert still != html and "location" not in still
    page.set_content(still)
    page.add_script_tag(path=str(axe_js()))
    found = page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag', values:
        ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"""
    )
    assert found["violations"] == []
