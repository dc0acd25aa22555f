from broadsheet.outputs.pagination import paginate
from tests.outputs.helpers import post

POSTS = tuple(post(f"p{n}") for n in range(95))


def test_pages_hold_per_page_posts_with_pretty_urls() -> None:
    pages = paginate("asia/", POSTS, 10)
    assert len(pages) == 10
    assert [p.url_path for p, _ in pages[:3]] == ["asia/", "asia/page/2/", "asia/page/3/"]
    assert [len(members) for _, members in pages] == [10] * 9 + [5]
    assert sum((members for _, members in pages), ()) == POSTS


def test_previous_next_and_a_window_of_numbered_links() -> None:
    pager, _ = paginate("", POSTS, 10)[4]
    assert pager.number == 5 and pager.total == 10
    assert pager.previous_path == "page/4/" and pager.next_path == "page/6/"
    numbers = [link.number for link in pager.links]
    assert numbers == [1, None, 3, 4, 5, 6, 7, None, 10]
    assert [link.number for link in pager.links if link.current] == [5]
    first, _ = paginate("", POSTS, 10)[0]
    assert first.previous_path is None and first.url_path == ""


def test_an_empty_listing_still_has_one_page() -> None:
    [(pager, members)] = paginate("tags/x/", (), 10)
    assert pager.total == 1 and members == ()
