"""Words to index: the same rules as static/js/search.js applies to a query.

Text is decomposed (NFKD), its combining marks dropped and lower-cased; a term is a run
of letters and digits. Each term of an article gets one integer weight, BM25's
saturation of its frequency (title words count three times) against the article's
length, so that scoring needs nothing that changes when another article does.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections import Counter

from broadsheet.text import non_ascii, space_out_non_ascii_breaks

MAX_TERM = 40  # longer runs (hashes, URLs glued together) are cut
K1 = 1.2
B = 0.75
TYPICAL_LENGTH = 800  # words: stands in for the corpus's average length, which moves
TITLE_BOOST = 3

_TERM = re.compile(r"[^\W_]+")
_TAG = re.compile(r"<[^>]*>")
_SAFE_BUCKET = re.compile(r"[a-z0-9]{1,2}")
# Every ASCII byte that is not a letter or digit becomes a space; the others stay.
_ASCII_BREAKS = bytes(c if c >= 128 or chr(c).isalnum() else 32 for c in range(256))


def terms(text: str) -> list[str]:
    return [term[:MAX_TERM] for term in _TERM.findall(_folded(text))]


def _folded(text: str) -> str:
    """Decomposed, without combining marks, lower-cased."""
    if not text.isascii():
        if not unicodedata.is_normalized("NFKD", text):  # (news text mostly is: ’ “ ”)
            text = unicodedata.normalize("NFKD", text)
        # Each distinct character that is not ASCII is looked up once.
        marks = {c for c in set(non_ascii(text)) if unicodedata.category(c) == "Mn"}
        if marks:
            text = text.translate(dict.fromkeys(map(ord, marks)))
    return text.lower()


def text_of(markup: str) -> str:
    """The text of an HTML fragment: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub(" ", markup))


def weigh(title: str, body_html: str) -> dict[str, int]:
    """term -> weight (1 to 220) for one article.

    The body's terms are counted as they are found and cut to MAX_TERM afterwards (an
    article has a thousand terms but a few hundred distinct ones, and hardly any long).
    """
    counts = _counted(_folded(text_of(body_html)))
    length = sum(counts.values())
    for term in [t for t in counts if len(t) > MAX_TERM]:
        counts[term[:MAX_TERM]] += counts.pop(term)
    for term in terms(title):
        counts[term] += TITLE_BOOST
    norm = K1 * (1 - B + B * max(length, 1) / TYPICAL_LENGTH)
    weights: dict[int, int] = {}  # frequency -> weight: a few dozen distinct ones
    for tf in set(counts.values()):
        weights[tf] = max(1, math.floor(100 * tf * (K1 + 1) / (tf + norm) + 0.5))
    return {term: weights[tf] for term, tf in counts.items()}


def _counted(text: str) -> Counter[str]:
    """How often each run of letters and digits occurs in `text`, in the order they are
    first met: what Counter(_TERM.findall(text)) gives, in a third of the time.

    Every character that is neither a letter nor a digit becomes a space, and the rest
    is split at spaces: the few such characters beyond ASCII (’ “ ” — in news text) by
    str.replace, each at once, and the ASCII ones by bytes.translate, at C speed."""
    spaced = space_out_non_ascii_breaks(text).encode("utf-8")
    return Counter(spaced.translate(_ASCII_BREAKS).decode("utf-8").split())


def bucket_of(term: str) -> str:
    """The index file a term lives in: its first two characters (hex when not a-z, 0-9)."""
    start = term[:2]
    if _SAFE_BUCKET.fullmatch(start):
        return start
    return "x" + start.encode("utf-8").hex()
