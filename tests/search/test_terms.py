from __future__ import annotations

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from broadsheet.search.terms import MAX_TERM, bucket_of, terms, weigh


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


@given(st.text())
def test_terms_follow_the_rule_search_js_applies_to_each_character(text: str) -> None:
    # NFKD, every combining mark (Mn) dropped, lower-cased, runs of letters and digits.
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", text) if unicodedata.category(c) != "Mn"
    )
    expected = [t[:MAX_TERM] for t in re.findall(r"[^\W_]+", plain.lower())]
    assert terms(text) == expected
