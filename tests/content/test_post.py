"""The Post record's derived figures."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from broadsheet.content.post import count_words

PROSE = st.lists(
    st.sampled_from([*"ab9_ .,'’-—\n\t\u00a0\u2028é²Ǆ٣", "U.S.", "naïve", "ten-year"])
).map("".join)


@given(PROSE | st.text())
@example("U.S. policy, a_b __ ten-year don’t")
@example("x\u00a0y\u3000z")
def test_words_are_counted_as_runs_of_word_characters(text: str) -> None:
    assert count_words(text) == len(re.findall(r"\w+", text))


def test_an_empty_body_has_no_words() -> None:
    assert count_words("") == 0
    assert count_words(" \n—\n ") == 0


def test_a_posts_site_path_is_one_string_for_all_that_hold_it(tmp_path: Path) -> None:
    """Its article page, its search entry and its signature's state hold the post's own
    string, not a copy each (at 100,000 articles the copies were 20 MB of a build's
    peak); and it is its section's folder and its slug, also after a change of them."""
    from benchmarks.corpus import write_corpus
    from broadsheet.config import load_config
    from broadsheet.publish.assemble import load_site, search_docs
    from broadsheet.publish.signatures import _post_states

    write_corpus(tmp_path / "content", 6)
    site = load_site(load_config(tmp_path), drafts=False)
    articles = {page.post.url_path: page for page in site.pages if page.post is not None}
    assert len(articles) == len(site.posts) == 6
    states = _post_states(site)
    keys = {key: key for key in states}
    for doc in search_docs(site):
        post = articles[doc.url_path].post
        assert post is not None and post.url_path == f"{post.section_slug}/{post.slug}/"
        assert articles[doc.url_path].url_path is post.url_path
        assert doc.url_path is post.url_path and keys[doc.url_path] is post.url_path
    moved = replace(site.posts[0], slug="moved")
    assert moved.url_path == f"{moved.section_slug}/moved/"
