"""The text helpers the word counts and the search terms are built on."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from broadsheet.text import non_ascii, space_out_non_ascii_breaks


@given(st.text())
@example("naïve “café” — 北京")
def test_non_ascii_keeps_every_character_beyond_ascii_in_order(text: str) -> None:
    assert non_ascii(text) == "".join(c for c in text if not c.isascii())


@given(st.text() | st.text(st.sampled_from("a_ .’“”—\u00a0é²Ǆ٣北")))
@example("don’t “stop” — naïve x\u00a0y")
def test_breaks_beyond_ascii_become_spaces_and_all_else_stays(text: str) -> None:
    expected = "".join(" " if not c.isascii() and not c.isalnum() else c for c in text)
    assert space_out_non_ascii_breaks(text) == expected
