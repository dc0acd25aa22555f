"""A reader searches the archive, deployed under /archive/, in a real browser."""

from __future__ import annotations

from typing import Any


def test_the_header_box_finds_articles_and_opens_a_hit(page: Any, archive: str) -> None:
    page.goto(archive)
    page.fill("#site-search", "Sealion")
    page.press("#site-search", "Enter")
    page.wait_for_selector(".pagefind-ui__result-link")
    links = page.locator(".pagefind-ui__result-link")
    assert links.count() == 1
    assert links.first.get_attribute("href").startswith("/archive/asia/")
    links.first.click()
    page.wait_for_load_state()
    assert "BYD prepares to launch" in page.title()
    assert page.problems == []


def test_the_section_is_a_filter(page: Any, archive: str) -> None:
    page.goto(archive + "search/?q=Afghanistan")
    page.wait_for_selector(".pagefind-ui__result-link")
    everything = page.locator(".pagefind-ui__result-link").count()
    assert everything > 1
    page.get_by_label("America").check()
    page.wait_for_function(
        """() => {
            const links = [...document.querySelectorAll('.pagefind-ui__result-link')];
            return links.length > 0
                && links.every(a => a.getAttribute('href').startsWith('/archive/america/'));
        }"""
    )
    hrefs = [
        page.locator(".pagefind-ui__result-link").nth(i).get_attribute("href")
        for i in range(page.locator(".pagefind-ui__result-link").count())
    ]
    assert hrefs and all(h.startswith("/archive/america/") for h in hrefs)
    assert page.problems == []


def test_navigation_words_are_not_indexed(page: Any, archive: str) -> None:
    page.goto(archive + "search/?q=Skip")  # "Skip to content" is on every page, in no article
    page.wait_for_selector(".pagefind-ui__message")
    page.wait_for_function(
        "() => /result/.test(document.querySelector('.pagefind-ui__message').textContent)"
    )
    assert page.locator(".pagefind-ui__result-link").count() == 0
