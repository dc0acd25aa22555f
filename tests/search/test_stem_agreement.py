"""The browser makes a query's terms exactly as the build makes an article's."""

from __future__ import annotations

import random

import pytest

from broadsheet.search.terms import _STEMMER, MAX_TERM, stem, terms
from tests.search.js import in_node


def test_the_stemmers_agree_on_the_50000_most_common_english_words() -> None:
    wordfreq = pytest.importorskip("wordfreq")
    words = wordfreq.top_n_list("en", 50_000)
    assert len(words) == 50_000
    python = [stem(w) for w in words]
    javascript = in_node("stem", words)
    disagree = [(w, p, j) for w, p, j in zip(words, python, javascript, strict=True) if p != j]
    assert disagree == []
    # The stemmer is really at work on both sides.
    at = {w: p for w, p in zip(words, python, strict=True)}
    assert at["elections"] == at["election"] == "elect"
    assert at["negotiating"] == at["negotiations"] == "negoti"
    # The build stems with PyStemmer (Snowball's C code) when it is installed, and
    # with snowballstemmer's pure Python where it is not: the two agree as well.
    import snowballstemmer  # type: ignore[import-untyped]

    fallback = snowballstemmer.EnglishStemmer()
    cut = [w.lower()[:MAX_TERM] for w in words]
    assert [fallback.stemWord(w) for w in cut] == [_STEMMER.stemWord(w) for w in cut]
    # PyStemmer keeps no cache of its own: the stem table is the build's (each worker
    # held both, and a word new to the table was 3.6 times as slow to stem).
    assert getattr(_STEMMER, "maxCacheSize", 0) == 0


# Pieces of news text, with what the rules act on: apostrophes, dots, accents, marks,
# letters and digits of other scripts, ligatures, long runs.
PIECES = [
    "Pakistan's",
    "Pakistan’s",
    "leaders’",
    "didn't",
    "O'Brien",
    "U.S.",
    "u.s.a",
    "e.g.",
    "J.R.R.",
    "x.y",
    "a.b.c.",
    "3.5",
    "U.S.-led",
    "Chinas",
    "China's",
    "elections",
    "negotiating",
    "café",
    "naïve",
    "Éire",
    "ﬁne",
    "²",
    "北京",
    "Москва",
    "straße",
    "x" * 45,
    "_",
    "-",
    "—",
    " ",
    "\n",
    ".",
    "'",
    "’",
    "“",
    "”",
    "s",
    "a",
    "9",
    "Ǆ",
    "é\u0301",
    "\u05b0",
    "1990s",
    "U.S.'s",
    "it's.",
    "don’t",
    "'s",
    "a's",
    "ab.cd",
    ",",
    "1,000",
    "8.4",
    "٣",
    "5,",
    ".5",
    "$78.8m",
]


def test_the_term_rules_agree_on_random_text() -> None:
    rng = random.Random(18)
    texts = ["".join(rng.choice(PIECES) for _ in range(rng.randint(0, 30))) for _ in range(3000)]
    texts += ["".join(rng.sample(PIECES, len(PIECES)))]
    javascript = in_node("terms", texts)
    for text, js in zip(texts, javascript, strict=True):
        assert terms(text) == js, text


def test_a_capital_sigma_lowers_as_in_the_browser() -> None:
    # toLowerCase, like str.lower(), makes Σ final (ς) or not (σ) by the cased letters
    # around it, looking through case-ignorable characters: a soft hyphen, a joiner,
    # ‘, ·, ŀ's dot, a modifier symbol. The build must not hide them first.
    texts = [
        "ΠΡΟΣ\u00adΦΑΤΟ",
        "ΑΣ\u00adΑ Α\u00adΣ",
        "ΑΣ‘Α Α‘Σ",
        "ΑΣ·Α Α·Σ ΑĿΣ",
        "ΑΣ\u200dΑ ΑΣ\u02c2Α ΑΣ\u20ddΑ",
        "ΟΔΟΣ’Α ΑΣ:Α ΑΣ—Α",
    ]
    javascript = in_node("terms", texts)
    for text, js in zip(texts, javascript, strict=True):
        assert terms(text) == js, text
