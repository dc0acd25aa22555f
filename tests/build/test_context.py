"""What templates receive: links under the base path."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from broadsheet.build.context import site_url

# Paths like real ones: mostly characters that need no quoting, with some that do.
PATHS = st.text() | st.text(st.sampled_from("az09/-_.~#?=&%" + " +:@!$'()*,;[]\"<>é\u00a0"))


@given(PATHS, st.sampled_from(["/", "/archive/"]))
def test_a_link_is_the_path_quoted_under_the_base_path(path: str, base_path: str) -> None:
    expected = base_path + quote(path.lstrip("/"), safe="/#?=&%")
    assert site_url(base_path, path) == expected


def test_links_that_need_no_quoting_and_links_that_do() -> None:
    assert site_url("/archive/", "/asia/a-story/") == "/archive/asia/a-story/"
    assert site_url("/archive/", "tags/c++/") == "/archive/tags/c%2B%2B/"
    assert site_url("/", "authors/zoë/") == "/authors/zo%C3%AB/"
