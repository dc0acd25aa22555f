"""A result's passage is a whole sentence: abbreviations, initials and titles end none."""

from __future__ import annotations

import random

from tests.search.js import in_node


def test_sentences_end_at_their_stops_not_at_abbreviations() -> None:
    texts = [
        "Recent U.S. sanctions targeting Chinese firms grew. Officials said so.",
        "Mr. Khan met Gen. Asim Munir in Jan. 2024. Talks went on! Did they end? No.",
        "The rate rose to 3.5 per cent. Then it fell.",
        "He said “we will win.” The crowd cheered.",
        "J. K. Rowling wrote it. Sales rose.",
        "Ends without a stop",
    ]
    assert in_node("sentences", texts) == [
        ["Recent U.S. sanctions targeting Chinese firms grew. ", "Officials said so."],
        ["Mr. Khan met Gen. Asim Munir in Jan. 2024. ", "Talks went on! ", "Did they end? ", "No."],
        ["The rate rose to 3.5 per cent. ", "Then it fell."],
        ["He said “we will win.” ", "The crowd cheered."],
        ["J. K. Rowling wrote it. ", "Sales rose."],
        ["Ends without a stop"],
    ]


def test_sentences_put_together_are_the_text() -> None:
    pieces = [
        "U.S.",
        "Mr.",
        "said",
        "Talks",
        "end.",
        "Why?",
        "no!",
        " ",
        "  ",
        "“Yes.”",
        "3.5",
        "a",
    ]
    generator = random.Random(18)
    texts = [" ".join(generator.choices(pieces, k=generator.randint(0, 30))) for _ in range(300)]
    for text, cut in zip(texts, in_node("sentences", texts), strict=True):
        assert "".join(cut) == text or (text == "" and cut == [""])
