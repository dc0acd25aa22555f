"""A reader's path through the archive, its layout on a phone and a desktop, its keyboard
use and its accessibility, in Chromium."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.tools import ARTIFACTS, axe_js

WIDTHS = (390, 1280)
ARTICLE = "america/does-us-afghanistan-policy-have-a-future/"
PAGES = {
    "index": "",
    "section": "asia/",
    "article": ARTICLE,
    "search": "search/?q=Taliban",
    "404": "no/such/page/",
}


def test_the_readers_path(page: Any, archive: str) -> None:
    page.goto(archive)
    assert page.title() == "Broadsheet Archive"
    page.click("nav.sections-nav >> text=Asia")
    assert page.url == archive + "asia/"
    page.click(".article-list .article-item-title a >> nth=0")
    first = page.url
    assert page.locator("h1.article-title").count() == 1
    page.click("a[rel=next]")
    assert page.url != first and page.url.startswith(archive + "asia/")
    page.click("a[rel=prev]")
    assert page.url == first
    page.fill("#site-search", "Sealion")
    page.press("#site-search", "Enter")
    page.wait_for_selector(".search-result-link")
    # The first result is drawn as soon as its text has come, before the others': let
    # them come, or leaving the page aborts them (a "problem", though no reader sees it).
    page.wait_for_load_state("networkidle")
    page.click(".search-result-link >> nth=0")
    page.wait_for_selector("h1.article-title")
    assert "Sealion" in page.inner_text("h1.article-title")
    page.goto(archive)
    with page.expect_response(lambda r: r.url.endswith("/feed.xml")) as feed:
        page.click("footer >> text=Atom feed")
    assert feed.value.status == 200 and "<feed" in feed.value.text()
    response = page.goto(archive + "no/such/page/")
    assert response.status == 404
    assert page.inner_text("h1") == "Page not found"
    page.wait_for_load_state("networkidle")  # its suggestions' texts, or leaving aborts them
    page.click("text=Go to the latest articles")
    assert page.url == archive
    expected = {
        # Chromium reports the 404 status of the missing page the reader asked for...
        f"console: Failed to load resource: the server responded with a status of 404 "
        f"(Not Found) at {archive}no/such/page/",
        # ...and, showing the feed's XML, asks the host root for /favicon.ico: a project
        # site under /archive/ cannot own the host root (GitHub Pages serves it elsewhere).
        f"console: Failed to load resource: the server responded with a status of 404 "
        f"(Not Found) at {archive.removesuffix('archive/')}favicon.ico",
    }
    assert set(page.problems) <= expected, page.problems


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(PAGES))
def test_layout_fits_and_reads(browser: Any, archive: str, name: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    page.goto(archive + PAGES[name])
    if name == "search":
        page.wait_for_selector(".search-result-link")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
    sizes = page.evaluate(
        """() => [...document.querySelectorAll(
            'main p:not(.meta):not(.badge), .article-body li, .article-item-excerpt')]
            .filter(e => e.offsetParent !== null && e.textContent.trim())
            .map(e => [e.textContent.trim().slice(0, 30),
                       parseFloat(getComputedStyle(e).fontSize)])"""
    )
    assert sizes, f"no body text on {name}"
    small = [s for s in sizes if s[1] < 16]
    assert small == [], f"body text under 16px on {name}: {small[:3]}"
    if name in ("index", "section", "article"):
        ARTIFACTS.joinpath("screenshots").mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "screenshots" / f"{name}-{width}.png"
        shot.unlink(missing_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # saved, as the README says
    context.close()
    expected = ["Failed to load resource: the server responded with a status of 404 (Not Found)"]
    assert problems == (expected if name == "404" else [])


def test_keyboard_focus_is_visible_and_skips_to_content(page: Any, archive: str) -> None:
    page.goto(archive + ARTICLE)
    page.keyboard.press("Tab")
    focused = page.evaluate(
        """() => { const e = document.activeElement; const s = getComputedStyle(e);
            const r = e.getBoundingClientRect();
            return {text: e.textContent.trim(), outline: s.outlineStyle, width: s.outlineWidth,
                    top: r.top, visible: r.width > 0 && r.height > 0}; }"""
    )
    assert focused["text"] == "Skip to content"
    assert focused["visible"] and focused["top"] >= 0
    assert focused["outline"] != "none" and focused["width"] != "0px"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    next_focus = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert next_focus != "none"


@pytest.mark.parametrize("name", list(PAGES))
def test_no_accessibility_violations(page: Any, archive: str, name: str) -> None:
    page.goto(archive + PAGES[name])
    if name == "search":
        page.wait_for_selector(".search-result-link")
    page.add_script_tag(path=str(axe_js()))
    result = page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag', values:
            ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"""
    )
    violations = [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in result["violations"]
    ]
    assert violations == [], json.dumps(violations, indent=1)


def test_the_design_follows_the_reader_measure_dark_theme_and_print(
    browser: Any, archive: str
) -> None:
    """A 68-character measure for the article; the operating system's dark theme; a
    print stylesheet that drops the navigation and prints on white."""
    looks: dict[str, Any] = {}
    for scheme, media in (("light", "screen"), ("dark", "screen"), ("light", "print")):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.emulate_media(color_scheme=scheme, media=media)
        page.goto(archive + ARTICLE)
        looks[f"{scheme} {media}"] = page.evaluate(
            """() => {
                const style = e => getComputedStyle(document.querySelector(e));
                const probe = document.createElement('span');
                probe.style.font = style('.article').font;  // (ch: of its own font)
                probe.textContent = '0'.repeat(68);
                document.body.append(probe);
                const ch = probe.getBoundingClientRect().width;
                probe.remove();
                return {
                    paper: style('body').backgroundColor, ink: style('body').color,
                    article: parseFloat(style('.article').width), measure: ch,
                    nav: style('.sections-nav').display,
                };
            }"""
        )
        context.close()
    light, dark, printed = looks["light screen"], looks["dark screen"], looks["light print"]
    assert abs(light["article"] - light["measure"]) < 2, light  # 68ch, not the window
    assert light["paper"] == "rgb(251, 249, 244)" and dark["paper"] == "rgb(21, 21, 21)"
    assert dark["ink"] == "rgb(232, 230, 225)" and light["nav"] != "none"
    assert printed["paper"] == "rgb(255, 255, 255)" and printed["ink"] == "rgb(0, 0, 0)"
    assert printed["nav"] == "none" and printed["article"] > light["article"]
