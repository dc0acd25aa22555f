"""A reader searches the archive, deployed under /archive/, in a real browser."""

from __future__ import annotations

from typing import Any

RESULT = ".search-result-link"


def hrefs(page: Any) -> list[str]:
    links = page.locator(RESULT)
    return [links.nth(i).get_attribute("href") for i in range(links.count())]


def test_the_header_box_finds_articles_and_opens_a_hit(page: Any, archive: str) -> None:
    page.goto(archive)
    page.fill("#site-search", "Sealion")
    page.press("#site-search", "Enter")
    page.wait_for_selector(RESULT)
    links = page.locator(RESULT)
    assert links.count() == 1
    assert links.first.get_attribute("href").startswith("/archive/asia/")
    assert page.locator(".search-result mark").first.inner_text().lower() == "sealion"
    assert page.inner_text("#search-status") == "1 article matches “Sealion”."
    # One search box on the search page, and it holds what the reader searched for.
    boxes = page.locator("input[type=search]")
    assert boxes.count() == 1 and boxes.first.is_visible()
    assert boxes.first.input_value() == "Sealion"
    links.first.click()
    page.wait_for_load_state()
    assert "BYD prepares to launch" in page.title()
    assert page.problems == []


def test_the_section_is_a_filter(page: Any, archive: str) -> None:
    page.goto(archive + "search/?q=Afghanistan")
    page.wait_for_selector(RESULT)
    everything = hrefs(page)
    assert len(everything) > 1
    assert any(h.startswith("/archive/america/") for h in everything)
    assert "America (1)" in page.inner_text("#search-section")
    page.select_option("#search-section", "america")
    page.wait_for_function(
        """() => {
            const links = [...document.querySelectorAll('.search-result-link')];
            return links.length > 0
                && links.every(a => a.getAttribute('href').startsWith('/archive/america/'));
        }"""
    )
    assert hrefs(page) and all(h.startswith("/archive/america/") for h in hrefs(page))
    assert "section=america" in page.url  # the filtered search can be bookmarked
    assert page.problems == []


def test_every_word_must_match_and_the_last_may_be_unfinished(page: Any, archive: str) -> None:
    page.goto(archive + "search/")
    page.fill("#search-terms", "taliban")
    page.wait_for_selector(RESULT)
    taliban = hrefs(page)
    page.fill("#search-terms", "taliban sup")  # "supreme", while it is being typed
    page.wait_for_function(
        f"() => document.querySelectorAll('{RESULT}').length < {len(taliban)}"
        " && document.querySelectorAll('.search-result-link').length > 0"
    )
    narrowed = hrefs(page)
    assert set(narrowed) < set(taliban)
    assert any("supreme-leader" in h for h in narrowed)
    page.fill("#search-terms", "taliban zzzqqq")
    page.wait_for_function(
        "() => /No articles match/.test(document.querySelector('#search-status').textContent)"
    )
    assert page.locator(RESULT).count() == 0
    assert page.problems == []


def test_navigation_words_are_not_indexed(page: Any, archive: str) -> None:
    page.goto(archive + "search/?q=Skip%20")  # "Skip to content" is on every page, in no article
    page.wait_for_function(
        "() => /No articles match/.test(document.querySelector('#search-status').textContent)"
    )
    assert page.locator(RESULT).count() == 0
