"""Words to index: the same rules as static/js/search.js applies to a query.

Text is decomposed (NFKD), its combining marks dropped and lower-cased. Then a dotted
abbreviation loses its dots (`U.S.` is `us`), a possessive its `'s` (`Pakistan's` is
`pakistan`), and an apostrophe inside a word goes (`didn't` is `didnt`). A term is a
run of letters and digits, cut to MAX_TERM characters and, when it is ASCII, stemmed by
Snowball's English stemmer (Snowball 2.2: PyStemmer's C code, or snowballstemmer's
Python where PyStemmer cannot be installed; the browser runs the same algorithm,
static/js/porter2.js), so `elections` and `election` are both `elect`.

An article's terms are counted (title words count TITLE_BOOST times). Quoted phrases
are checked on an article's text in the browser: indexing each pair of adjacent terms
would have made the index merge three times as slow and three times as big in memory
(measured at 1,000 articles). The counts, not a score,
go into the index, so that an edit changes only the counts of the words it touched;
the browser scores them by BM25 with the article's length.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache
from itertools import chain
from typing import Protocol

from broadsheet.text import non_ascii, space_out_non_ascii_breaks

MAX_TERM = 40  # longer runs (hashes, URLs glued together) are cut
TITLE_BOOST = 3
STEMS_KEPT = 1 << 18  # the stem cache is emptied when it holds this many words

# A run of letters and digits. (A number such as 8.4 is two: the browser looks for a
# query's 8.4 as the phrase "8 4". As terms of their own, each distinct figure of a
# news archive would be one: five times the vocabulary, 11 MB more at 10,000 articles.)
_TERM = re.compile(r"[^\W_]+")
# Tags, by what they do to the text around them (see text_of). An attribute's value may
# hold ">" when it is quoted. Possessive: each piece starts with its own character, so
# there is one way to read a tag, and none is tried again when a "<" starts no tag (as
# in raw HTML's `a<b holds, then it's`: greedy, the engine tried every way to split the
# run, twice as long for each character).
_ATTRIBUTES = r"""(?:[^>"']++|"[^"]*+"|'[^']*+')*+"""
_BLOCKS = (
    "address|article|aside|blockquote|br|caption|center|dd|details|dialog|div|dl|dt|"
    "fieldset|figcaption|figure|footer|form|h[1-6]|header|hgroup|hr|legend|li|main|menu|"
    "nav|ol|p|pre|section|summary|table|tbody|td|tfoot|th|thead|tr|ul"
)
_INLINES = (
    "a|abbr|b|bdi|bdo|cite|code|data|del|dfn|em|font|i|ins|kbd|label|mark|q|rp|rt|ruby|"
    "s|samp|small|span|strike|strong|sub|sup|time|tt|u|var|wbr"
)
_BLOCK_NAMES = frozenset(_BLOCKS.replace("h[1-6]", "h1|h2|h3|h4|h5|h6").split("|"))
_INLINE_NAMES = frozenset(_INLINES.split("|"))
# Markdown writes its tags in lower case; an author's raw HTML may not (matching without
# case is three times as slow, so only then).
_BLOCK_TAG = re.compile(rf"</?(?:{_BLOCKS})(?![\w-]){_ATTRIBUTES}>")
_INLINE_TAG = re.compile(rf"</?(?:{_INLINES})(?![\w-]){_ATTRIBUTES}>")
_ANY_CASE = (
    re.compile(_BLOCK_TAG.pattern, re.I),
    re.compile(_INLINE_TAG.pattern, re.I),
)
_UPPER_TAG = re.compile(r"</?[A-Z]")
_ANY_TAG = re.compile(rf"<[A-Za-z/!?]{_ATTRIBUTES}>")
# What no reader sees: a comment (to its end, if it has none), and what a script, style
# or template element holds.
_HIDDEN_START = re.compile(r"<(?:script|style|template)(?![\w-])", re.I)
_HIDDEN = re.compile(
    r"<!--.*?(?:-->|$)|<(script|style|template)(?![\w-]).*?(?:</\1\s*>|$)", re.I | re.S
)
_SAFE_BUCKET = re.compile(r"[a-z0-9]{1,2}")
_STEMMABLE = re.compile(r"[a-z0-9]+")
# A letter, then one or more ".letter", not inside a word: U.S., u.s.a, e.g. Each
# pattern starts at its dot or apostrophe and looks back for the letter before it, so
# that the regex engine skips ahead to those characters (starting at a lookbehind, it
# tried every position: four times as slow). The match starts at the first dot: the
# letter before it stays where it is.
_ABBREVIATION = re.compile(r"\.(?<=(?<![\w.])[^\W\d_]\.)[^\W\d_](?:\.[^\W\d_])*\.?(?!\w)")
# An apostrophe after a letter or digit: with its s when that ends the word (a
# possessive), alone when a letter or digit follows (didn't). One pass does both: what
# removing the possessives first, then the inner apostrophes, gives. The pattern starts
# at one literal character, which the regex engine finds at C speed (starting at a class
# of two, ['’], it tested every position: three times as slow), so `_folded` makes a
# typographic apostrophe a plain one; either is a space to `_split` anyway.
_APOSTROPHE = re.compile(r"'(?<=[^\W_]')(?:s(?![^\W_])|(?=[^\W_]))")
# Every ASCII byte that is not a letter or digit becomes a space; the others stay.
_ASCII_BREAKS = bytes(c if c >= 128 or chr(c).isalnum() else 32 for c in range(256))
try:  # PyStemmer, Snowball's own C code: what snowballstemmer.stemmer() gives when it is
    # installed, without importing its pure-Python stemmers of 29 languages (16 ms)
    import Stemmer  # type: ignore[import-not-found,unused-ignore]

    # Without its own cache (of 10,000 words, word -> stem, as Python strings): the stem
    # table keeps each word's stem already (see StemTable), and a word it asks for is new
    # to it, which the cache made 3.6 times as slow to stem (0.91 against 0.25 us), and
    # each worker held both.
    _STEMMER = Stemmer.Stemmer("english", 0)
except ImportError:  # (no wheel for this platform: the same algorithm, in Python)
    import snowballstemmer  # type: ignore[import-untyped]

    _STEMMER = snowballstemmer.stemmer("english")


def stem_of(word: str) -> str:
    """A folded word's term, worked out: cut to MAX_TERM, stemmed when ASCII."""
    cut = word[:MAX_TERM]
    stem = _STEMMER.stemWord(cut) if _STEMMABLE.fullmatch(cut) else cut
    return word if stem == word else stem  # (one string for both: nearly half the words)


class _Stems(dict[str, str]):
    """word -> its stem, for the words met lately (a vocabulary repeats itself); the
    compiled StemTable where it was built (see the end of this module)."""

    def __missing__(self, word: str) -> str:
        if len(self) >= STEMS_KEPT:
            self.clear()
        stem = self[word] = stem_of(word)
        return stem


class StemLookup(Protocol):
    def __getitem__(self, word: str, /) -> str: ...


_STEMS: StemLookup = _Stems()


def stem(word: str) -> str:
    """A folded word's term: cut to MAX_TERM, stemmed when ASCII."""
    return _STEMS[word]


def words(text: str) -> list[str]:
    """The words of `text`, folded, before stemming (what a reader's query is split into)."""
    return _split(_joined(_folded(text)))


def terms(text: str) -> list[str]:
    return [_STEMS[word] for word in words(text)]


def _folded(text: str) -> str:
    """Decomposed, without combining marks, lower-cased; and each other character beyond
    ASCII that is neither a letter nor a digit (’ “ ” — £ in news text) already what
    it is to `_split`, a break: a space, or for a typographic apostrophe a plain one
    (which `_joined` looks for). News text is then ASCII, which lower() and the steps
    after it go through several times as fast."""
    if not text.isascii():
        if not unicodedata.is_normalized("NFKD", text):  # (news text mostly is: ’ “ ”)
            text = unicodedata.normalize("NFKD", text)
        # Each distinct character that is not ASCII is looked up once.
        others = set(non_ascii(text))
        marks = {c for c in others if unicodedata.category(c) == "Mn"}
        if marks:
            text = text.translate(dict.fromkeys(map(ord, marks)))
        if "’" in others:  # (case-ignorable, as ' is: see below)
            text = text.replace("’", "'")
        # Not before a capital sigma is lower-cased: lower() makes it ς or σ by the
        # cased letters around it, looking through case-ignorable characters (a soft
        # hyphen, a joiner, ‘ ·), which a space would hide ("ΠΡΟΣ\xadΦΑΤΟ" is "προσ",
        # as in the browser). Σ is the one character lower() looks around for.
        for char in others - marks - {"’"} if "Σ" not in text else ():
            if not char.isalnum():
                text = text.replace(char, " ")  # (str.replace: each all at once)
    return text.lower()


def _undot(match: re.Match[str]) -> str:
    return match[0].replace(".", "")


def _joined(text: str) -> str:
    """Abbreviations without their dots, possessives without 's, no inner apostrophes,
    in `_folded` text (its apostrophes all plain ones)."""
    if "." in text:
        text = _ABBREVIATION.sub(_undot, text)
    if "'" in text:
        text = _APOSTROPHE.sub("", text)
    return text


def _split(text: str) -> list[str]:
    """The runs of letters and digits in `text`: what _TERM.findall(text) gives, in a
    third of the time. Every character that is neither a letter nor a digit becomes a
    space (the few beyond ASCII by str.replace, each at once; the ASCII ones by
    bytes.translate, at C speed), and the rest is split at spaces."""
    spaced = space_out_non_ascii_breaks(text).encode("utf-8")
    return spaced.translate(_ASCII_BREAKS).decode("utf-8").split()


def text_of(markup: str) -> str:
    """The text a reader sees in an HTML fragment (an article's body), as its blocks
    (paragraphs, headings, list items, table cells...), one line each: spaces
    collapsed, entities decoded. An inline tag joins what is either side of it, as the
    browser draws it (`<a>Taliban</a>'s`, `H<sub>2</sub>O`, `<em>un</em>believable`);
    a block's end ends a line, which no quoted phrase or sentence crosses (in
    static/js/search.js as here); and what no reader sees (comments, scripts, styles,
    templates) is left out. A tag's attributes may hold `>` in quotes.

    The compiled text_of (broadsheet/search/_native.c) reads what Markdown writes in
    one pass, and gives the same; the regular expressions read the rest."""
    quick = quick_text_of(markup, _BLOCK_NAMES, _INLINE_NAMES)
    return quick if quick is not None else text_by_expressions(markup)


def text_by_expressions(markup: str) -> str:
    """text_of, by regular expressions: whatever the markup."""
    markup = markup.replace("\n", " ")  # (a line break in the source is a space)
    if "<!" in markup or _HIDDEN_START.search(markup):
        markup = _HIDDEN.sub("", markup)  # (as a browser draws it: nothing, not a space)
    block, inline = _ANY_CASE if _UPPER_TAG.search(markup) else (_BLOCK_TAG, _INLINE_TAG)
    markup = inline.sub("", block.sub("\n", markup))
    text = _ANY_TAG.sub(" ", markup)  # (img, input, svg...: a space)
    # Entities decoded line by line: `&#10;` is a space in a line, as a browser shows it.
    lines = (" ".join(html.unescape(line).split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)  # (split: what \s+ matches)


@dataclass(frozen=True)
class Counted:
    """An article as the index holds it."""

    counts: dict[str, int]  # term -> how often (title words: TITLE_BOOST times)
    length: int  # how many words its body has
    text: str  # its body's text, for the passage a result shows
    title: str = ""  # the title counted with it (the store works its counts out again)


def count(title: str, body_html: str) -> Counted:
    return count_text(title, text_of(body_html))


def count_text(title: str, text: str) -> Counted:
    """`count`, given the body's text."""
    words = folded_words(text)
    counted = count_words(words, _STEMS)
    if counted is None:  # the compiled table gave up on words made to collide in its hash
        counted = count_words_python(words, _STEMS)
    counts, length = counted
    for term in terms(title):
        counts[term] = counts.get(term, 0) + TITLE_BOOST
    return Counted(counts, length, text, title)


def folded_words(text: str) -> str:
    """`text` folded and joined: what count_words counts."""
    words = quick_fold_join(text, _folds())
    if words is None:  # (a character the compiled fold has no single ASCII one for)
        words = _joined(_folded(text))
    return words


def count_words_python(text: str, stems: StemLookup) -> tuple[dict[str, int], int]:
    """The terms of `text` (already folded and joined) counted, in the order each first
    occurs, and how many words it has: what the compiled count_words gives (see
    broadsheet/search/_native.c), where it could not be built or gave up."""
    body = _split(text)
    return dict(Counter(map(stems.__getitem__, body))), len(body)


def no_quick_text_of(markup: str, blocks: frozenset[str], inlines: frozenset[str]) -> None:
    """Where the compiled text_of could not be built: text_of reads every page by its
    regular expressions."""
    return None


def no_quick_fold_join(text: str, folds: bytes) -> None:
    """Where the compiled fold_join could not be built: every text is folded and joined
    by `_folded` and `_joined`."""
    return None


FOLDS_SIZE = 0x2100  # (the compiled fold_join's table: see _folds)
# Where a character that folds alone to one ASCII character is looked for: Latin-1 and
# the Latin letters after it (é is e, ñ is n), and the punctuation and currency of
# news text (’ is ', “ ” — £ € are breaks).
_FOLDED_BLOCKS = (range(0x80, 0x250), range(0x2000, FOLDS_SIZE))


@cache
def _folds() -> bytes:
    """For the compiled fold_join: at each character of _FOLDED_BLOCKS, the ASCII
    character `_folded` makes of it alone, if it makes one; 0 elsewhere. Within a text
    of ASCII and these, a character folds as it does alone: NFKD decomposes each apart
    (the marks it makes, which reordering would move, are all dropped), and lower()
    looks at no other character but for Σ, which is not among them. (Worked out when
    first counted: 2 ms.)"""
    table = bytearray(FOLDS_SIZE)
    for code in chain.from_iterable(_FOLDED_BLOCKS):
        folded = _folded(chr(code))
        if len(folded) == 1 and folded.isascii():
            table[code] = ord(folded)
    return bytes(table)


try:  # (built by `pip install`, where a C compiler is found)
    from broadsheet.search._native import StemTable, count_words
    from broadsheet.search._native import fold_join as quick_fold_join
    from broadsheet.search._native import text_of as quick_text_of

    # (a word of a-z and 0-9 that needs no cut is given straight to the stemmer, as
    # stem_of would: its Python took as long as the stemmer, 27 ms a render worker)
    _STEMS = StemTable(stem_of, STEMS_KEPT, _STEMMER.stemWord, MAX_TERM)
except ImportError:
    count_words = count_words_python
    quick_text_of = no_quick_text_of
    quick_fold_join = no_quick_fold_join


def bucket_of(term: str) -> str:
    """The vocabulary file a term is listed in: its first two characters (hex when not
    a-z, 0-9)."""
    start = term[:2]
    if _SAFE_BUCKET.fullmatch(start):
        return start
    return "x" + start.encode("utf-8").hex()
