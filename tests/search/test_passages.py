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


def test_a_block_ends_a_sentence_and_no_phrase_crosses_it() -> None:
    """An article's text has a line for each block (broadsheet.search.terms.text_of): a
    heading, a list item or a table cell is a sentence of its own, and a quoted phrase
    must stand within one."""
    text = "It ended with the budget of the supreme\nLeader of the opposition\nhigh\ncommissioner"
    assert in_node("sentences", [text, "A heading\nOne here. Two."]) == [
        [
            "It ended with the budget of the supreme",
            "Leader of the opposition",
            "high",
            "commissioner",
        ],
        ["A heading", "One here. ", "Two."],
    ]
    phrases = [["suprem", "leader"], ["high", "commission"], ["of", "the", "opposit"]]
    assert in_node("holds", [[text, p] for p in phrases], spread=True) == [False, False, True]
    assert in_node("holds", [["the supreme leader spoke", phrases[0]]], spread=True) == [True]
