"""A reader on a dead or mistyped address is offered the closest articles (under /archive/)."""

from __future__ import annotations

from typing import Any

from tests.tools import axe_js

ARTICLE = "/archive/asia/afraid-of-the-gun-taliban-supreme-leader-fears-of-a-coup/"
NOT_FOUND = "Failed to load resource: the server responded with a status of 404 (Not Found)"


def suggestions(page: Any) -> list[str]:
    page.wait_for_selector("#suggestions a")
    links = page.locator("#suggestions a")
    return [links.nth(i).get_attribute("href") for i in range(links.count())]


def test_a_wrong_slug_suggests_the_article(page: Any, archive: str) -> None:
    response = page.goto(archive + "asia/afraid-of-the-gun-taliban-supreme-leeder/")
    assert response.status == 404
    found = suggestions(page)
    assert found[0] == ARTICLE
    assert 1 <= len(found) <= 5
    assert page.is_visible("#suggestions-title")
    page.click("#suggestions a >> nth=0")
    page.wait_for_load_state()
    assert "supreme leader" in page.title().lower()
    assert [p for p in page.problems if NOT_FOUND not in p] == []


def test_words_of_another_section_and_a_truncated_slug_still_find_it(
    page: Any, archive: str
) -> None:
    page.goto(archive + "america/chinas-byd-prepares-to-lau")
    assert suggestions(page)[0].startswith("/archive/asia/chinas-byd-prepares-to-launch")


def test_an_address_with_no_known_word_shows_no_list(page: Any, archive: str) -> None:
    page.goto(archive + "zzqx/qqzz.html")
    page.wait_for_load_state("networkidle")
    assert not page.is_visible("#not-found")
    assert page.locator("#suggestions a").count() == 0
    assert [p for p in page.problems if NOT_FOUND not in p] == []


def test_the_page_with_suggestions_passes_axe(page: Any, archive: str) -> None:
    page.goto(archive + "asia/taliban-leader-old-slug/")
    suggestions(page)
    page.add_script_tag(path=str(axe_js()))
    result = page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag', values:
            ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"""
    )
    assert [v["id"] for v in result["violations"]] == []
