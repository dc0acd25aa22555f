"""The Post record's derived figures."""

from __future__ import annotations

import re

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
