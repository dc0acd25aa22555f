"""Small text helpers shared by the content model and the search index."""

from __future__ import annotations

import re

_ASCII = bytes(range(128))


def non_ascii(text: str) -> str:
    """The characters of `text` beyond ASCII, in order: what is left of its UTF-8 once
    the ASCII bytes are dropped (set(text) costs twice as much on mostly-ASCII text)."""
    return text.encode("utf-8").translate(None, _ASCII).decode("utf-8")


def space_out_non_ascii_breaks(text: str) -> str:
    """`text` with each character beyond ASCII that is neither a letter nor a digit
    (’ “ ” — in news text) replaced by a space: str.replace does each at once, faster
    than str.translate goes character by character."""
    if text.isascii():
        return text
    for char in set(non_ascii(text)):
        if not char.isalnum():  # a single character: the same test as re's [^\W_]
            text = text.replace(char, " ")
    return text


# What neither XML 1.0 nor the HTML that the Nu checker accepts may hold: the C0
# controls but tab, newline and carriage return; DEL and the C1 controls; surrogates
# (lone ones, as YAML's "\ud800" makes); and the noncharacters (U+FDD0..U+FDEF, and the
# last two code points of every plane, U+FFFE and U+FFFF among them).
_NONCHARACTERS = "".join(
    f"{chr(plane + 0xFFFE)}-{chr(plane + 0xFFFF)}" for plane in range(0x10000, 0x110000, 0x10000)
)
UNSHOWABLE = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff{_NONCHARACTERS}]"
)


# A numeric character reference, as Markdown passes it through to the page: `&#27;` is
# the character itself to a browser (and an error to the Nu checker).
CHARACTER_REFERENCE = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")


def unshowable_reference(match: re.Match[str]) -> bool:
    """Whether a CHARACTER_REFERENCE match stands for what no page may hold (or for no
    character at all, or a carriage return, which HTML allows only as itself)."""
    code = int(match[1], 16) if match[1] else int(match[2])
    return code > 0x10FFFF or code in (0, 13) or UNSHOWABLE.match(chr(code)) is not None


def _keep_reference(match: re.Match[str]) -> str:
    return "" if unshowable_reference(match) else match[0]


# The UTF-8 bytes that start every UNSHOWABLE character (and others, rarer in news
# text: U+0080..U+00BF, U+D000..U+DFFF, U+F000..U+FFFF and astral characters).
_SUSPECT_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, 0xC2, 0xED])
_SUSPECT_BYTES += bytes(range(0xEF, 0xF5))
_CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])  # ASCII ones


def remove_unshowable(text: str) -> str:
    """`text` without the characters no page or feed may hold (UNSHOWABLE), and without
    references to them."""
    data = text.encode("utf-8", "surrogatepass")
    if not _free_of_unshowable(data):
        text = UNSHOWABLE.sub("", text)
    while "&#" in text:  # again while a removal leaves a reference: `&&#27;#27;`
        kept = CHARACTER_REFERENCE.sub(_keep_reference, text)
        if kept == text:
            break
        text = kept
    return text


def showable_utf8(data: bytes) -> bool:
    """True if the UTF-8 `data` surely holds nothing that remove_unshowable() removes
    (False may also mean "look closer")."""
    return b"&#" not in data and _free_of_unshowable(data)


def _free_of_unshowable(data: bytes) -> bool:
    """Whether the UTF-8 (surrogates allowed) `data` holds no UNSHOWABLE character.

    Deleting the suspect bytes is four times as fast as a regex search, and when it
    deletes nothing, no character needs a look. News text has some (a pound sign or a
    no-break space starts with 0xC2): then each distinct character beyond ASCII is
    looked at once, rather than the regex engine going through the whole text."""
    if len(data.translate(None, _SUSPECT_BYTES)) == len(data):
        return True
    if len(data.translate(None, _CONTROL_BYTES)) != len(data):
        return False
    try:
        others = data.translate(None, _ASCII).decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return False
    return not any(UNSHOWABLE.match(char) for char in set(others))
