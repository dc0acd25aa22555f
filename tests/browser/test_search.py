"""A reader searches the archive, deployed under /archive/, in a real browser."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from broadsheet.config import load_config
from broadsheet.ingest.importer import import_files
from broadsheet.publish.pipeline import build
from tests.conftest import SEEDS, lay_out
from tests.serving import serve

RESULT = ".search-result-link"

# Posts beside the seed archive, with what the filters, the order and the word forms need.
POSTS = {
    "asia/election-day-in-dhaka.md": (
        "Election day in Dhaka",
        "2023-01-10",
        "Jane Roe",
        "[elections, bangladesh]",
        "Voters queued before dawn. The election was calm, observers said.",
    ),
    "asia/elections-across-the-region.md": (
        "Ballots across the region",
        "2024-03-05",
        "Jane Roe",
        "[elections]",
        "Three elections fell in one month. Turnout rose everywhere.",
    ),
    "america/elected-at-last.md": (
        "A mayor is elected at last",
        "2024-07-20",
        "Ann Lee",
        "[elections, cities]",
        "She was elected on the third count. The leader of the council conceded.",
    ),
    "america/the-leader-and-the-supreme-court.md": (
        "The court and the council",
        "2022-11-02",
        "Ann Lee",
        "[courts]",
        "The leader met the supreme court justices. No election was discussed.",
    ),
    "asia/pakistans-budget.md": (
        "Budget talks stall",
        "2024-09-01",
        "Omar Khan",
        "[economy]",
        "Pakistan's budget, and the U.S. loans behind it, stalled the talks. "
        "Islamabad's negotiators were negotiating late.",
    ),
    "asia/marks-inside-words.md": (
        "Marks inside words",
        "2021-05-05",
        "Omar Khan",
        "[science]",
        "The [Taliban](https://example.org/)'s supreme council met. Water is H<sub>2</sub>O "
        "here. The *un*believable result surprised the **Kremlin**'s analysts.\n\n"
        "It closed with the budget of the grand\n\n## Vizier of the treasury\n\n"
        "<!-- a note: value > 3, from informant Zarbakhtiq -->\n\n"
        "<style>.x { color: crimson }</style>\n\nThe end: growth of 8.4% and 1,000 jobs.",
    ),
}


def write_posts(content: Path) -> None:
    for relative, (title, date, author, tags, body) in POSTS.items():
        text = f"---\ntitle: {title}\ndate: {date}\nauthor: {author}\ntags: {tags}\n---\n\n{body}\n"
        (content / relative).write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = lay_out(
        tmp_path_factory.mktemp("search") / "project",
        '[tool.broadsheet]\ntitle = "Broadsheet Archive"\n'
        'base_url = "https://example.github.io/archive/"\n',
    )
    import_files(SEEDS, root / "content")
    write_posts(root / "content")
    build(load_config(root), output=root / "site")
    with serve(root / "site", "/archive/") as base:
        yield base


@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """60 generated articles (benchmarks/corpus.py), for lists longer than a few pages."""
    from benchmarks.corpus import write_corpus

    root = lay_out(
        tmp_path_factory.mktemp("crowd") / "project",
        '[tool.broadsheet]\nbase_url = "https://example.github.io/archive/"\n',
    )
    write_corpus(root / "content", 60)
    build(load_config(root), output=root / "site")
    with serve(root / "site", "/archive/") as base:
        yield base


def hrefs(page: Any) -> list[str]:
    links = page.locator(RESULT)
    return [links.nth(i).get_attribute("href") for i in range(links.count())]


def status_says(page: Any, pattern: str) -> None:
    """Wait until the status line matches `pattern` (a regular expression)."""
    page.wait_for_function(
        "pattern => new RegExp(pattern).test(document.querySelector('#search-status').textContent)",
        arg=pattern,
    )


def search(page: Any, base: str, query: str, counted: bool = True, **params: str) -> list[str]:
    """Open the search page for `query` (and filters) and wait for its results, and
    (`counted`) for the filters' counts, which come after them: else the next search's
    navigation may cut off the facets files they are loading (net::ERR_ABORTED)."""
    from urllib.parse import urlencode

    page.goto(base + "search/?" + urlencode({"q": query, **params}))
    status_says(page, "match")
    if counted:
        page.wait_for_function(
            "() => [...document.querySelectorAll('#search-section option')]"
            r".every(o => !o.value || / \((up to )?\d+\)$/.test(o.textContent))"
        )
    return hrefs(page)


def until_requested(page: Any, held: list[Any]) -> None:
    """Wait until the page has asked for a file a test holds back (the request is made
    a moment after what the test waited for)."""
    for _ in range(200):
        if held:
            return
        page.wait_for_timeout(25)
    raise AssertionError("the page never asked for the held file")


def marks(page: Any) -> list[str]:
    found = page.locator(".search-result mark")
    return [found.nth(i).inner_text() for i in range(found.count())]


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
    # The first result may be drawn before the page's favicon has come: let it, or
    # leaving the page aborts it (a "problem" of the page, though no reader sees it).
    page.wait_for_load_state("networkidle")
    links.first.click()
    page.wait_for_load_state()
    assert "BYD prepares to launch" in page.title()
    assert page.problems == []


def test_word_forms_find_the_same_articles_in_any_order(page: Any, newsroom: str) -> None:
    election = search(page, newsroom, "election ")
    assert len(election) >= 4
    assert sorted(search(page, newsroom, "elections ")) == sorted(election)
    assert sorted(search(page, newsroom, "elected ")) == sorted(election)
    negotiations = search(page, newsroom, "negotiations ")
    assert any("pakistans-budget" in h for h in negotiations)
    assert sorted(search(page, newsroom, "negotiating ")) == sorted(negotiations)
    assert sorted(search(page, newsroom, "leader supreme ")) == sorted(
        search(page, newsroom, "supreme leader ")
    )
    assert page.problems == []


def test_possessives_and_abbreviations_are_whole_words(page: Any, newsroom: str) -> None:
    found = search(page, newsroom, "Pakistan's")
    assert any("pakistans-budget" in h for h in found)
    assert sorted(search(page, newsroom, "pakistan ")) == sorted(found)
    # No one-letter "s" as a prefix: every mark is a form of Pakistan.
    assert marks(page) and all(m.lower().startswith("pakistan") for m in marks(page))
    assert any("chinas-byd" in h for h in search(page, newsroom, "Chinas"))
    us = search(page, newsroom, "u.s.")
    assert any("pakistans-budget" in h for h in us)
    assert all(m.replace(".", "").lower() == "us" for m in marks(page))
    assert page.problems == []


def test_a_quoted_phrase_finds_the_words_side_by_side(page: Any, newsroom: str) -> None:
    loose = search(page, newsroom, "supreme leader ")
    phrase = search(page, newsroom, '"supreme leader"')
    assert any("the-leader-and-the-supreme-court" in h for h in loose)
    assert not any("the-leader-and-the-supreme-court" in h for h in phrase)
    assert any("supreme-leader" in h for h in phrase)
    assert set(phrase) < set(loose)
    # With common words inside, the phrase is checked against the text itself.
    council = search(page, newsroom, '"leader of the council"')
    assert council == ["/archive/america/elected-at-last/"]
    assert "1 article matches" in page.inner_text("#search-status")
    assert search(page, newsroom, '"council of the leader"') == []
    assert page.problems == []


def test_each_result_shows_the_passage_that_matched_marked(page: Any, newsroom: str) -> None:
    search(page, newsroom, "conceded")
    excerpt = page.inner_text(".search-result-excerpt")
    assert "The leader of the council conceded." in excerpt
    assert "third count" not in excerpt  # another sentence
    assert marks(page) == ["conceded"]
    assert page.problems == []


def test_only_the_results_on_screen_are_loaded(page: Any, newsroom: str) -> None:
    loaded: list[str] = []
    page.on("request", lambda r: loaded.append(r.url) if "/search/docs/" in r.url else None)
    found = search(page, newsroom, "the ")
    status = page.inner_text("#search-status")
    total = int(status.split()[0])
    assert total > 10 and len(found) == 10
    assert len(loaded) == 10
    page.click("#search-more")
    page.wait_for_function(f"() => document.querySelectorAll('{RESULT}').length > 10")
    assert len(loaded) == min(total, 20)
    assert page.problems == []


def test_filters_combine_with_counts_and_live_in_the_url(page: Any, newsroom: str) -> None:
    everything = search(page, newsroom, "election ")
    # The counts follow the results (their facets are loaded once those are drawn).
    page.wait_for_function(
        "() => document.querySelector('#search-author').textContent.includes('Jane Roe (2)')"
    )
    assert "2024 (2)" in page.inner_text("#search-year")
    page.select_option("#search-author", "Jane Roe")
    page.wait_for_function(f"() => document.querySelectorAll('{RESULT}').length === 2")
    # With the author chosen, the years count only her articles.
    page.wait_for_function(
        "() => document.querySelector('#search-year').textContent.includes('2024 (1)')"
    )
    page.select_option("#search-year", "2024")
    page.wait_for_function(f"() => document.querySelectorAll('{RESULT}').length === 1")
    assert hrefs(page) == ["/archive/asia/elections-across-the-region/"]
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"q": ["election "], "author": ["Jane Roe"], "year": ["2024"]}
    # The bookmark gives the same search back.
    again = search(page, newsroom, "election ", author="Jane Roe", year="2024")
    assert again == ["/archive/asia/elections-across-the-region/"]
    assert page.input_value("#search-author") == "Jane Roe"
    by_topic = search(page, newsroom, "election ", topic="cities", section="america")
    assert by_topic == ["/archive/america/elected-at-last/"]
    assert len(everything) > 2
    assert page.problems == []


def test_results_can_be_ordered_newest_first(page: Any, newsroom: str) -> None:
    found = search(page, newsroom, "election ", sort="date")
    dated = [h for h in found if "elect" in h or "leader-and" in h]
    assert dated[:4] == [
        "/archive/america/elected-at-last/",
        "/archive/asia/elections-across-the-region/",
        "/archive/asia/election-day-in-dhaka/",
        "/archive/america/the-leader-and-the-supreme-court/",
    ]
    assert page.input_value("#search-sort") == "date"
    assert page.problems == []


def test_every_word_must_match_and_the_last_may_be_unfinished(page: Any, archive: str) -> None:
    page.goto(archive + "search/")
    page.fill("#search-terms", "taliban")
    # Results are drawn as their texts come; the status line says "match" once all are.
    status_says(page, "match")
    taliban = hrefs(page)
    assert len(taliban) > 1
    page.fill("#search-terms", "taliban sup")  # "supreme", while it is being typed
    page.wait_for_function(
        f"() => document.querySelectorAll('{RESULT}').length < {len(taliban)}"
        " && document.querySelectorAll('.search-result-link').length > 0"
    )
    narrowed = hrefs(page)
    assert set(narrowed) < set(taliban)
    assert any("supreme-leader" in h for h in narrowed)
    page.fill("#search-terms", "taliban zzzqqq")
    status_says(page, "No articles match")
    assert page.locator(RESULT).count() == 0
    assert page.problems == []


def test_a_one_letter_last_word_is_never_a_prefix(page: Any, newsroom: str) -> None:
    search(page, newsroom, "taliban")
    page.fill("#search-terms", "taliban s")  # typed: "s" is a word of its own, in no article
    status_says(page, "No articles match")
    page.fill("#search-terms", "Pakistan's")  # typed, but a possessive is a whole word
    page.wait_for_function(f"() => document.querySelectorAll('{RESULT}').length > 0")
    assert all(m.lower().startswith("pakistan") for m in marks(page))
    assert page.problems == []


def test_a_submitted_query_is_whole_words(page: Any, newsroom: str) -> None:
    search(page, newsroom, "talib")  # from the address, as a bookmark: complete words
    assert "No articles match" in page.inner_text("#search-status")
    page.fill("#search-terms", "talib")  # typed: a prefix
    page.wait_for_function(f"() => document.querySelectorAll('{RESULT}').length > 0")
    page.press("#search-terms", "Enter")  # submitted: a word
    status_says(page, "No articles match")
    assert page.problems == []


def test_navigation_words_are_not_indexed(page: Any, archive: str) -> None:
    page.goto(archive + "search/?q=Skip%20")  # "Skip to content" is on every page, in no article
    status_says(page, "No articles match")
    assert page.locator(RESULT).count() == 0


def test_the_first_result_is_drawn_before_the_others_have_loaded(page: Any, newsroom: str) -> None:
    # Each result's docs file is fetched at once; the first result is drawn as soon as
    # its own has come, not once the slowest of the ten has (the others held back here).
    held: list[Any] = []
    requested: list[str] = []
    released = False

    def docs(route: Any) -> None:
        requested.append(route.request.url)
        if len(requested) == 1 or released:
            route.continue_()
        else:
            held.append(route)

    page.route("**/search/docs/*.json", docs)
    page.goto(newsroom + "search/?q=election")
    page.wait_for_selector(RESULT)
    assert page.locator(RESULT).count() == 1
    assert "match" not in page.inner_text("#search-status")  # announced once all are drawn
    released = True
    for route in held:
        route.continue_()
    status_says(page, "match")
    assert len(requested) >= 4 and page.locator(RESULT).count() == len(requested)
    assert page.problems == []


def test_results_are_ranked_and_drawn_before_the_filters_facets_have_come(
    page: Any, newsroom: str
) -> None:
    # The facets files are held: the results need only the term and lengths files to be
    # ranked and drawn; the filters' counts follow once the facets come.
    held: list[Any] = []
    page.route("**/search/facets/*.json", lambda route: held.append(route))
    page.goto(newsroom + "search/?q=election")
    page.wait_for_selector(RESULT)
    page.wait_for_function(f"() => document.querySelectorAll('{RESULT}').length > 2")
    until_requested(page, held)
    assert "(" not in page.inner_text("#search-author")  # no counts yet
    status_says(page, "match")
    assert "(" not in page.inner_text("#search-author")  # still no counts: announced first
    for route in held:
        route.continue_()
    page.wait_for_function(
        "() => document.querySelector('#search-author').textContent.includes('Jane Roe (2)')"
    )
    assert page.problems == []


def test_a_chosen_filter_waits_for_the_facets_and_never_shows_other_results(
    page: Any, newsroom: str
) -> None:
    held: list[Any] = []
    page.route("**/search/facets/*.json", lambda route: held.append(route))
    page.goto(newsroom + "search/?q=election&author=Ann+Lee")
    page.wait_for_function("() => document.querySelectorAll('#search-author option').length > 1")
    until_requested(page, held)
    page.wait_for_timeout(300)
    assert page.locator(RESULT).count() == 0  # nothing drawn unfiltered
    for route in held:
        route.continue_()
    status_says(page, "match")
    assert sorted(hrefs(page)) == [
        "/archive/america/elected-at-last/",
        "/archive/america/the-leader-and-the-supreme-court/",
    ]
    assert page.problems == []


def test_more_results_of_the_last_search_never_join_a_filtered_one(
    page: Any, newsroom: str
) -> None:
    """A filter chosen while the facets load: the last search's list stays on screen,
    but its More button is gone, so nothing unfiltered is added to the new results."""
    held: list[Any] = []
    page.route("**/search/facets/*.json", lambda route: held.append(route))
    search(page, newsroom, "the ", counted=False)  # drawn and announced; counts wait
    until_requested(page, held)
    assert page.is_visible("#search-more")
    page.select_option("#search-author", "Jane Roe")
    status_says(page, "Searching")
    assert not page.is_visible("#search-more")
    for route in held:
        route.continue_()
    status_says(page, "match")
    assert sorted(hrefs(page)) == [
        "/archive/asia/election-day-in-dhaka/",
        "/archive/asia/elections-across-the-region/",
    ]
    assert page.problems == []


def test_marks_inside_a_word_join_it_and_hidden_html_is_never_found(
    page: Any, newsroom: str
) -> None:
    """Links, emphasis and subscripts inside a word leave it whole; a phrase never runs
    from a paragraph into a heading; comments and styles are no text."""
    article = "/archive/asia/marks-inside-words/"
    for query in ('"Taliban\'s supreme"', "H2O", "unbelievable", '"Kremlin\'s analysts"'):
        assert article in search(page, newsroom, query), query
    search(page, newsroom, "unbelievable")
    excerpt = page.inner_text(".search-result-excerpt")
    assert "The unbelievable result surprised the Kremlin's analysts." in excerpt
    assert search(page, newsroom, "grand vizier") == [article]
    assert search(page, newsroom, '"grand vizier"') == []
    for hidden in ("Zarbakhtiq", "crimson"):
        assert search(page, newsroom, hidden) == [], hidden
    # A number is looked for whole: 8.4 is 8 and 4 side by side, not anywhere.
    assert search(page, newsroom, "8.4") == [article]
    assert marks(page) == ["8", "4"]
    assert search(page, newsroom, "1,000 jobs") == [article]
    assert page.problems == []


def test_typing_a_word_letter_by_letter_never_finds_nothing(page: Any, newsroom: str) -> None:
    """The stemmer cuts endings ("negotiating" is "negoti"): every prefix of a word a
    reader types on the way to it still finds its articles."""
    article = "/archive/asia/pakistans-budget/"
    page.goto(newsroom + "search/")
    for end in range(3, len("negotiating") + 1):
        typed = "negotiating"[:end]
        page.fill("#search-terms", typed)
        page.wait_for_function(
            "typed => document.querySelector('#search-status').textContent.includes(typed)",
            arg=typed,
        )
        status_says(page, "match")
        assert article in hrefs(page), typed
    assert page.problems == []


def test_an_address_written_while_typing_gives_the_same_results_again(
    page: Any, newsroom: str
) -> None:
    page.goto(newsroom + "search/")
    page.fill("#search-terms", "negotia")  # typed, not submitted: a prefix
    status_says(page, "match")
    typed = hrefs(page)
    assert typed
    assert parse_qs(urlsplit(page.url).query) == {"q": ["negotia"], "typed": ["1"]}
    # The facets load once the first results are on screen: let them, or reloading
    # aborts them (a "problem" of the page that no reader sees; CI failed on it once).
    page.wait_for_load_state("networkidle")
    page.reload()
    status_says(page, "match")
    assert hrefs(page) == typed
    page.press("#search-terms", "Enter")  # submitted: a whole word, and said so
    status_says(page, "No articles match")
    assert parse_qs(urlsplit(page.url).query) == {"q": ["negotia"]}
    assert page.problems == []


def test_back_and_forward_go_from_search_to_search(page: Any, newsroom: str) -> None:
    def status() -> str:
        status_says(page, "match")
        return page.inner_text("#search-status")

    page.goto(newsroom + "search/")
    page.fill("#search-terms", "election")
    page.press("#search-terms", "Enter")
    assert "“election”" in status()
    page.select_option("#search-author", "Jane Roe")
    page.wait_for_function(f"() => document.querySelectorAll('{RESULT}').length === 2")
    assert "(Jane Roe)" in status()
    page.fill("#search-terms", "budget")
    page.press("#search-terms", "Enter")
    page.wait_for_function(
        "() => document.querySelector('#search-status').textContent.includes('budget')"
    )
    page.go_back()
    page.wait_for_function(f"() => document.querySelectorAll('{RESULT}').length === 2")
    assert page.input_value("#search-terms") == "election"
    assert page.input_value("#search-author") == "Jane Roe"
    page.go_back()
    page.wait_for_function(f"() => document.querySelectorAll('{RESULT}').length > 2")
    assert page.input_value("#search-author") == ""
    page.go_forward()
    page.wait_for_function(f"() => document.querySelectorAll('{RESULT}').length === 2")
    assert page.input_value("#search-author") == "Jane Roe"
    assert page.problems == []


def test_more_pressed_twice_at_once_shows_each_result_once(page: Any, crowd: str) -> None:
    held: list[Any] = []
    search(page, crowd, "the ")
    total = int(page.inner_text("#search-status").split()[0])
    assert total > 20
    page.route("**/search/docs/*.json", lambda route: held.append(route))
    page.click("#search-more")
    until_requested(page, held)
    page.click("#search-more", force=True)  # again, while the first press loads
    page.wait_for_timeout(200)
    for route in held:
        route.continue_()
    page.unroute("**/search/docs/*.json")
    page.wait_for_function(f"() => document.querySelectorAll('{RESULT}').length >= 20")
    page.wait_for_timeout(300)
    found = hrefs(page)
    assert len(found) == 20 and len(set(found)) == 20
    page.click("#search-more")
    page.wait_for_function(
        f"() => document.querySelectorAll('{RESULT}').length >= {min(total, 30)}"
    )
    found = hrefs(page)
    assert len(found) == len(set(found)) == min(total, 30)
    assert page.problems == []


def test_a_phrase_count_is_exact_once_every_result_is_shown(page: Any, crowd: str) -> None:
    search(page, crowd, '"of the"')
    assert page.inner_text("#search-status").startswith("Up to ")
    while page.is_visible("#search-more"):
        before = page.locator(RESULT).count()
        page.click("#search-more")
        page.wait_for_function(  # (a page of ten more, or the last of them)
            f"() => document.querySelectorAll('{RESULT}').length >= {before + 10}"
            " || document.querySelector('#search-more').hidden"
        )
    page.wait_for_timeout(200)
    status = page.inner_text("#search-status")
    shown = page.locator(RESULT).count()
    assert status.startswith(f"{shown} articles match"), status
    assert page.problems == []


def test_a_query_with_nothing_to_search_for_says_so(page: Any, newsroom: str) -> None:
    for query in ("😀", '""', "...!!!"):
        page.goto(newsroom + "search/?q=" + quote(query))
        page.wait_for_function(
            "() => /Nothing to search for/.test(document.querySelector('#search-status')"
            ".textContent)"
        )
        assert page.locator(RESULT).count() == 0
    assert page.problems == []


def _before_the_index(page: Any, newsroom: str, act: Callable[[], None]) -> None:
    """Open the search page, `act` before its index has come (its meta.json held), then
    let the index come."""
    held: list[Any] = []
    page.route("**/search/meta.json", lambda route: held.append(route))
    page.goto(newsroom + "search/")
    until_requested(page, held)
    act()
    for route in held:
        route.continue_()
    page.unroute("**/search/meta.json")


def test_a_search_submitted_before_the_index_has_come_waits_for_it(
    page: Any, newsroom: str
) -> None:
    def submit() -> None:
        page.evaluate("window.stillHere = true")
        page.fill("#search-terms", "election")
        page.press("#search-terms", "Enter")  # the page is not loaded again: it waits

    _before_the_index(page, newsroom, submit)
    status_says(page, "match")
    assert "“election”" in page.inner_text("#search-status")
    assert parse_qs(urlsplit(page.url).query) == {"q": ["election"]}
    assert page.evaluate("window.stillHere === true")  # the same page, not loaded again
    assert page.evaluate("history.length") == 3  # a blank tab, the page, then its search
    assert page.problems == []


def test_a_word_typed_before_the_index_has_come_is_still_being_typed(
    page: Any, newsroom: str
) -> None:
    # (On a slow connection a reader types before the index has come. The page heard no
    # typing then, and searched "neg" as a whole word once it came: no article. Found
    # when the machine was busy: the letter-by-letter test typed before it had come.)
    _before_the_index(page, newsroom, lambda: page.fill("#search-terms", "neg"))
    status_says(page, "match")
    assert "/archive/asia/pakistans-budget/" in hrefs(page)
    assert parse_qs(urlsplit(page.url).query) == {"q": ["neg"], "typed": ["1"]}
    assert page.problems == []


def test_a_phrases_filter_counts_say_they_are_at_most_so_many(page: Any, newsroom: str) -> None:
    search(page, newsroom, '"supreme leader"')
    page.wait_for_function(
        "() => document.querySelector('#search-section').textContent.includes('(up to ')"
    )
    search(page, newsroom, "supreme leader")
    page.wait_for_function(
        "() => /Asia \\(\\d+\\)/.test(document.querySelector('#search-section').textContent)"
    )
    assert "up to" not in page.inner_text("#search-section")
    assert page.problems == []


def test_without_script_the_page_offers_browsing_not_a_form_that_cannot_search(
    browser: Any, newsroom: str
) -> None:
    """Without JavaScript the form searched nothing (submitting it only reloaded the
    page) and its author, topic and year menus were empty."""
    context = browser.new_context(java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto(f"{newsroom}search/?q=taliban")
        assert not tab.locator("#search-terms").is_visible()
        assert not tab.locator("#search-author").is_visible()
        offer = tab.locator("main noscript p")  # (Playwright's text search skips noscript)
        assert offer.is_visible() and offer.inner_text().startswith("Search needs JavaScript.")
        links = {link.inner_text(): link.get_attribute("href") for link in offer.locator("a").all()}
        assert links == {
            "date": "/archive/archive/",
            "author": "/archive/authors/",
            "topic": "/archive/tags/",
        }
    finally:
        context.close()
    page = browser.new_page()
    try:
        page.goto(f"{newsroom}search/?q=taliban")
        assert page.locator("#search-terms").is_visible()
        assert not page.locator("main noscript p").is_visible()
    finally:
        page.close()


def test_the_address_keeps_how_many_results_more_showed(page: Any, crowd: str) -> None:
    """Reloaded or shared after More, the page showed the first ten again: a reader who
    had read down to the thirtieth lost their place."""
    search(page, crowd, "the ")
    for count in (20, 30):
        page.click("#search-more")
        page.wait_for_function(f"() => document.querySelectorAll('{RESULT}').length >= {count}")
        page.wait_for_function(f"() => location.search.includes('shown={count}')")
    on_screen, status = hrefs(page), page.inner_text("#search-status")
    assert len(on_screen) == 30 and parse_qs(urlsplit(page.url).query)["shown"] == ["30"]
    page.wait_for_load_state("networkidle")  # (or reloading aborts what is loading: see above)
    page.reload()
    status_says(page, "match")
    assert hrefs(page) == on_screen and page.inner_text("#search-status") == status
    assert page.is_visible("#search-more")
    # A new search starts again at ten, and says nothing of the last one's More.
    page.fill("#search-terms", "of")
    page.press("#search-terms", "Enter")
    page.wait_for_function("() => !location.search.includes('shown=')")
    status_says(page, "“of”")
    assert len(hrefs(page)) == 10
    # An address cannot ask for more than 200 at once, and says what it showed.
    page.wait_for_load_state("networkidle")
    page.goto(crowd + "search/?q=the&shown=100000")
    status_says(page, "match")
    total = int(page.inner_text("#search-status").split()[0])
    assert len(hrefs(page)) == min(200, total)
    assert parse_qs(urlsplit(page.url).query).get("shown") == [str(min(200, total))]
    page.wait_for_load_state("networkidle")
    page.goto(crowd + "search/?q=the&shown=11")
    status_says(page, "match")
    assert len(hrefs(page)) == 20 and "shown=20" in page.url
    assert page.problems == []
