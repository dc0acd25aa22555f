from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broadsheet.config import load_config
from broadsheet.outputs.site import plan_site
from tests.outputs.helpers import post


def site(posts, per_page=2):  # type: ignore[no-untyped-def]
    config = load_config(Path("/nonexistent"), {"per_page": per_page})
    return plan_site(posts, config)


def test_authors_tags_and_date_archives_list_their_articles() -> None:
    posts = [
        post("a", date=datetime(2024, 11, 5), author="Jane Roe", tags=("Trade", "energy")),
        post("b", date=datetime(2024, 11, 1), author="Jane Roe", tags=("trade",)),
        post("c", date=datetime(2023, 2, 1), author="Ali Khan", section="america"),
        post("d"),
    ]
    built = site(posts)
    assert [(a.slug, [p.slug for p in a.posts]) for a in built.authors] == [
        ("ali-khan", ["c"]),
        ("jane-roe", ["a", "b"]),
    ]
    assert [(t.slug, t.name, len(t.posts)) for t in built.tags] == [
        ("energy", "energy", 1),
        ("trade", "Trade", 2),
    ]
    assert [(y.url_path, len(y.posts)) for y in built.years] == [
        ("archive/2024/", 2),
        ("archive/2023/", 1),
    ]
    assert [m.url_path for m in built.months] == ["archive/2024/11/", "archive/2023/02/"]
    assert [p.slug for p in built.undated.posts] == ["d"]
    paths = {page.path for page in built.pages}
    for expected in (
        "authors/jane-roe/index.html",
        "tags/trade/index.html",
        "archive/2024/11/index.html",
        "archive/undated/index.html",
        "page/2/index.html",
        "asia/feed.xml",
        "feed.xml",
        "search/index.html",
    ):
        assert expected in paths


def test_undated_articles_are_listed_after_dated_ones_in_source_order() -> None:
    posts = [
        post("late", source="raw/b.txt:5"),
        post("early", source="raw/a.txt:90"),
        post("dated", date=datetime(2001, 1, 1)),
        post("earlier", source="raw/a.txt:7"),
    ]
    assert [p.slug for p in site(posts).posts] == ["dated", "earlier", "early", "late"]


def test_each_listing_is_paginated() -> None:
    posts = [post(f"p{n}", author="Jane Roe", tags=("x",)) for n in range(5)]
    paths = {page.path for page in site(posts).pages}
    for base in ("", "asia/", "authors/jane-roe/", "tags/x/", "archive/undated/"):
        assert f"{base}page/3/index.html" in paths
        assert f"{base}page/4/index.html" not in paths


def test_each_author_and_tag_is_slugified_once_whatever_the_number_of_posts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Planning after an edit groups every post again: a name's slug is worked out once."""
    import broadsheet.outputs.listings as listings

    asked: list[str] = []
    slugify = listings.slugify
    monkeypatch.setattr(listings, "slugify", lambda text: asked.append(text) or slugify(text))
    posts = [
        post(
            f"p{n}",
            date=datetime(2024, 1, 1 + n % 28),
            author=("Jane Roe", "Ali Khan")[n % 2],
            tags=(("Trade", "energy"), ("trade",))[n % 2],
        )
        for n in range(40)
    ]
    built = site(posts)
    assert [(t.slug, len(t.posts)) for t in built.tags] == [
        ("energy", 20),
        ("trade", 40),  # two spellings, one tag
    ]
    assert sorted(asked) == ["Ali Khan", "Jane Roe", "Trade", "energy", "trade"]


NAMES = ("Jane Roe", "jane roe", "Ali Khan", "Zoë Ng")
TAGS = ("Trade", "trade", "energy", "Energy!", "courts")


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(("asia", "america", "africa")),
            st.one_of(st.none(), st.datetimes(datetime(1999, 1, 1), datetime(2001, 12, 31))),
            st.one_of(st.none(), st.sampled_from(NAMES)),
            st.lists(st.sampled_from(TAGS), max_size=3).map(tuple),
        ),
        max_size=30,
    )
)
def test_the_listings_group_each_kind_as_one_pass_for_it_would(
    drawn: list[tuple[str, datetime | None, str | None, tuple[str, ...]]],
) -> None:
    """`every_listing` groups all kinds in one pass over the posts: each listing holds
    the posts a pass for its kind alone picks, in reading order, named as the first of
    them writes it, the listings of a kind in their pages' order."""
    from broadsheet.outputs.listings import MONTHS, every_listing, sort_key
    from broadsheet.slugs import slugify

    config = load_config(Path("/nonexistent"), {"sections": {"america": "The Americas"}})
    made = [
        post(f"p{n}", section=s, date=d, author=a, tags=t) for n, (s, d, a, t) in enumerate(drawn)
    ]
    posts = tuple(sorted(made, key=sort_key))
    grouped = every_listing(posts, config)

    def expected(keys):  # type: ignore[no-untyped-def]
        found: dict[str, tuple[str, list[str]]] = {}
        for p in posts:
            for slug, name in keys(p):
                found.setdefault(slug, (name, []))[1].append(p.slug)
        return found

    def shown(listings):  # type: ignore[no-untyped-def]
        return {x.slug: (x.name, [p.slug for p in x.posts]) for x in listings}

    sections = expected(lambda p: [(p.section_slug, p.section)])
    assert shown(grouped.sections) == {
        slug: (config.section_name(slug, name), members)
        for slug, (name, members) in sections.items()
    }
    assert [x.slug for x in grouped.sections] == sorted(sections, key=config.section_rank)
    for listings, keys in (
        (grouped.authors, lambda p: [(slugify(p.author), p.author)] if p.author else []),
        (grouped.tags, lambda p: [(slugify(t), t) for t in p.tags]),
    ):
        assert shown(listings) == expected(keys)
        assert [(x.name.casefold(), x.slug) for x in listings] == sorted(
            (x.name.casefold(), x.slug) for x in listings
        )
    years = expected(lambda p: [(str(p.date.year), str(p.date.year))] if p.date else [])
    assert list(shown(grouped.years).items()) == sorted(years.items(), reverse=True)
    months = expected(
        lambda p: (
            [(f"{p.date.year}/{p.date.month:02d}", f"{MONTHS[p.date.month - 1]} {p.date.year}")]
            if p.date
            else []
        )
    )
    assert list(shown(grouped.months).items()) == sorted(months.items(), reverse=True)
    assert [p.slug for p in grouped.undated.posts] == [p.slug for p in posts if p.date is None]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(("asia", "america")),
            st.one_of(st.none(), st.sampled_from((datetime(2024, 1, 1), datetime(2024, 1, 2)))),
            st.sampled_from(("Talks", "Budget")),
            st.one_of(st.none(), st.sampled_from(("raw/a.txt:7", "raw/a.txt:90", "raw/b.txt"))),
        ),
        max_size=12,
    )
)
def test_the_reading_order_is_the_sort_keys_ties_and_all(
    drawn: list[tuple[str, datetime | None, str, str | None]],
) -> None:
    """`reading_order` sorts by all of `sort_key` but the path first, and by the path
    only where posts are alike in all else (the same moment or place in their source,
    the same title): the order is sort_key's, however many are alike."""
    from broadsheet.outputs.listings import reading_order, sort_key

    posts = [
        post(f"p{n}", section=s, date=d, title=t, source=src)
        for n, (s, d, t, src) in enumerate(drawn)
    ]
    expected = sorted(posts, key=sort_key)
    assert [p.path for p in reading_order(posts)] == [p.path for p in expected]
    assert [p.path for p in reading_order(reversed(posts))] == [p.path for p in expected]
