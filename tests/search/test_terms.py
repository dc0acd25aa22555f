from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter

from hypothesis import example, given, settings
from hypothesis import strategies as st

from broadsheet.search.terms import (
    _TERM,
    K1,
    MAX_TERM,
    TITLE_BOOST,
    TYPICAL_LENGTH,
    B,
    _counted,
    bucket_of,
    terms,
    text_of,
    weigh,
)


def test_terms_fold_case_and_accents_and_split_on_anything_else() -> None:
    assert terms("Éire's CAFÉ—naïve_Über 2024!") == ["eire", "s", "cafe", "naive", "uber", "2024"]
    assert terms("北京 & Москва") == ["北京", "москва"]


def test_title_words_and_frequent_words_weigh_more() -> None:
    weights = weigh("Sealion launch", "<p>Sealion sales rise. <em>Sales</em> of cars.</p>")
    assert weights["sealion"] > weights["sales"] > weights["cars"]
    assert "em" not in weights and "p" not in weights  # tags are not text


def test_a_long_article_dilutes_a_word() -> None:
    short = weigh("", "<p>tariff policy</p>")["tariff"]
    long = weigh("", "<p>tariff " + "word " * 3000 + "</p>")["tariff"]
    assert short > long >= 1


@given(st.text())
def test_every_term_has_a_file_safe_bucket(text: str) -> None:
    for term in terms(text):
        bucket = bucket_of(term)
        assert bucket.isascii() and bucket.isalnum() and bucket == bucket.lower()
        assert 1 <= len(term) <= 40


@given(st.text() | st.text(st.sampled_from("aé\u0301\u05b0א’ﬁ² Ǆ")))
@example("Cafe\u0301 \u0301x")  # decomposed already (NFKD leaves it), and a lone mark
@example("naïve ﬁne ²")  # not decomposed yet
def test_terms_follow_the_rule_search_js_applies_to_each_character(text: str) -> None:
    # NFKD, every combining mark (Mn) dropped, lower-cased, runs of letters and digits.
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", text) if unicodedata.category(c) != "Mn"
    )
    expected = [t[:MAX_TERM] for t in re.findall(r"[^\W_]+", plain.lower())]
    assert terms(text) == expected


def _weigh_term_by_term(title: str, body_html: str) -> dict[str, int]:
    """weigh() as the module docstring states it, one term at a time."""
    body = terms(text_of(body_html))
    counts = Counter(body)
    for term in terms(title):
        counts[term] += TITLE_BOOST
    norm = K1 * (1 - B + B * max(len(body), 1) / TYPICAL_LENGTH)
    return {
        term: max(1, math.floor(100 * tf * (K1 + 1) / (tf + norm) + 0.5))
        for term, tf in counts.items()
    }


_WORDS = st.sampled_from(
    [
        "tariff",
        "Tariff",
        "café",
        "naïve",
        "x" * 45,
        "x" * 41 + "y",
        "_",
        "<b>",
        "</b>",
        "&amp;",
        " ",
        "\n",
        "9",
        "北京",
        "didn’t",
        "“quoted”",
        "—",
        "\u00a0",
        "straße",
        "·",
    ]
)


@settings(max_examples=300)
@given(st.lists(_WORDS, max_size=60).map("".join), st.lists(_WORDS, max_size=60).map("".join))
def test_weigh_equals_weighing_term_by_term(title: str, body: str) -> None:
    assert weigh(title, body) == _weigh_term_by_term(title, body)


@given(st.text() | st.text(st.sampled_from("ab _’—\u00a0\u2009é9ß·-")))
@example("didn’t stop—“now” naïve a_b")
def test_counting_terms_gives_the_counts_of_the_pattern_in_first_met_order(text: str) -> None:
    expected = Counter(_TERM.findall(text))
    assert list(_counted(text).items()) == list(expected.items())
