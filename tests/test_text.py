"""The text helpers the word counts and the search terms are built on."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from broadsheet.text import (
    CHARACTER_REFERENCE,
    UNSHOWABLE,
    _keep_reference,
    non_ascii,
    remove_unshowable,
    showable_utf8,
    space_out_non_ascii_breaks,
    unshowable_reference,
)


@given(st.text())
@example("naïve “café” — 北京")
def test_non_ascii_keeps_every_character_beyond_ascii_in_order(text: str) -> None:
    assert non_ascii(text) == "".join(c for c in text if not c.isascii())


@given(st.text() | st.text(st.sampled_from("a_ .’“”—\u00a0é²Ǆ٣北")))
@example("don’t “stop” — naïve x\u00a0y")
def test_breaks_beyond_ascii_become_spaces_and_all_else_stays(text: str) -> None:
    expected = "".join(" " if not c.isascii() and not c.isalnum() else c for c in text)
    assert space_out_non_ascii_breaks(text) == expected


# Text as a post may hold it: plain news text, and every kind of character that
# remove_unshowable() removes or keeps (controls, C1, surrogates, noncharacters, astral).
_ODD = "a £\u00a0é’\t\n\r\x00\x08\x0b\x1f\x7f\x80\x9f\xa0\ud800\udfff\ufdd0\ufdef\ufffd\ufffe\uffff"
_ODD += "\U0001f600\U0001fffe\U0010ffff&#;x0123456789"
_TEXTS = st.text() | st.text(st.sampled_from(_ODD)) | st.text(st.characters(codec=None))


def _removed(text: str) -> str:
    """What remove_unshowable() gives, the slow way: every character looked at."""
    text = UNSHOWABLE.sub("", text)
    while (kept := CHARACTER_REFERENCE.sub(_keep_reference, text)) != text:
        text = kept
    return text


@given(_TEXTS)
@example("£5bn \u00a0deal \x85 \ud800 \ufffe \U0001fffe &#1; &#163;")
def test_unshowable_characters_go_and_all_else_stays(text: str) -> None:
    assert remove_unshowable(text) == _removed(text)


@given(_TEXTS)
@example("£5bn\u00a0deal")
@example("£5bn \x85")
def test_text_is_showable_exactly_when_nothing_would_be_removed(text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    nothing_to_remove = UNSHOWABLE.search(text) is None and "&#" not in text
    assert showable_utf8(data) == nothing_to_remove


@given(_TEXTS)
@example("A &&#27;#27; B")  # removing the inner reference made another (a review found it)
@example("&&&#1;#1;#1; &#x&#1;1b;")
def test_nothing_unshowable_is_left_not_even_a_reference_a_removal_made(text: str) -> None:
    kept = remove_unshowable(text)
    assert UNSHOWABLE.search(kept) is None
    assert not any(map(unshowable_reference, CHARACTER_REFERENCE.finditer(kept)))
