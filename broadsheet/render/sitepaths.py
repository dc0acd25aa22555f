"""Site paths ("/asia/other-story/") in an article, put under the base path the site is
served from (/archive/ on a GitHub Pages project site): in Markdown's links and images
(broadsheet.render.markdown), and in the raw HTML an article holds. `check` judges
the links of the same elements and attributes (broadsheet.author.markup), as site
paths, so that what it passes works wherever the site is served.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

# The elements whose links and sources `check` judges, and the build puts under the
# base path in raw HTML: links, images, media, frames, forms, objects, scripts, and
# SVG's images and uses.
LINKING = frozenset(
    {"a", "area", "img", "source", "video", "audio", "track", "iframe", "embed", "link"}
    | {"form", "input", "button", "object", "script", "image", "use"}
)
# Their attributes that hold one URL each.
URL_ATTRIBUTES = frozenset({"href", "src", "poster", "action", "formaction", "data", "xlink:href"})
SRCSET = "srcset"  # a list of candidates: "a.png 1x, b.png 2x"
_SPACE = " \t\n\r\f"  # ASCII white space, which separates a srcset's parts

# Raw HTML without any of those attributes has nothing to change (code's colours).
_LINK_NAMES = "|".join(map(re.escape, sorted(URL_ATTRIBUTES | {SRCSET})))
_MAY_LINK = re.compile(rf"(?:{_LINK_NAMES})\s*=", re.IGNORECASE)
# Inside a start tag, after its name: an attribute, as the HTML tokenizer reads one
# (a name up to white space, "/", ">" or "="; then perhaps "=" and a value, quoted or
# not). Between attributes: white space and stray slashes.
_TAG_NAME = re.compile(r"<[^\s/>]+")
_BETWEEN = re.compile(r"[\s/]*")
_ATTRIBUTE = re.compile(r"""([^\s/>][^\s/>=]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
# A value's leading slash as it may be written: itself, or a character reference to it.
_SLASH = re.compile(r"/|&#0*47;?|&#[xX]0*2[fF];?|&sol;")
# What a browser drops before a URL (C0 controls and spaces), as written.
_LEAD = re.compile(
    r"(?:[\x00-\x20]|&#0*(?:[12]?[0-9]|3[0-2])(?![0-9]);?"
    r"|&#[xX]0*(?:1?[0-9a-fA-F]|20)(?![0-9a-fA-F]);?)*"
)
_DROPPED = {ord(c): None for c in "\t\n\r"}  # (and what it removes from every URL)


def _as_browsed(url: str) -> str:
    """The URL a browser takes an attribute's value (as written) for, as far as where
    it leads: its character references decoded, its leading C0 controls and spaces,
    tabs and newlines dropped."""
    return html.unescape(url).lstrip("".join(map(chr, range(0x21)))).translate(_DROPPED)


# What an unquoted value cannot hold (the base path is put in quotes if it has any).
_UNQUOTABLE = re.compile(r"[\s\"'=<>`]")


def is_site_path(url: str) -> bool:
    """Whether `url` is a path from the site's root ("/asia/"), not a URL of another
    host ("//example.com/") or relative to the page."""
    return url.startswith("/") and not url.startswith("//")


def candidates(srcset: str) -> list[tuple[int, str]]:
    """(offset, URL) of each image candidate of a srcset, as the HTML standard parses
    it: a URL runs to white space, and one that ends in commas ends its candidate
    there ("a.png, b.png 2x"); else its descriptors run to the next comma outside
    parentheses. (A data: URL keeps the commas inside it.)"""
    found: list[tuple[int, str]] = []
    at, end = 0, len(srcset)
    while at < end:
        while at < end and (srcset[at] in _SPACE or srcset[at] == ","):
            at += 1
        start = at
        while at < end and srcset[at] not in _SPACE:
            at += 1
        if start == at:
            break
        url = srcset[start:at]
        found.append((start, url.rstrip(",")))
        if url.endswith(","):
            continue
        depth = 0
        while at < end and not (srcset[at] == "," and depth == 0):
            depth += {"(": 1, ")": -1 if depth else 0}.get(srcset[at], 0)
            at += 1
    return found


def raw_html_under(markup: str, base_path: str) -> str:
    """Raw HTML with the site paths of its linking elements' URLs (URL_ATTRIBUTES and
    srcset) put under `base_path`; nothing else changes (not how the values are quoted
    or escaped, unless the base path cannot go in a value without quotes). Tags in
    comments, in the text of script, style, textarea, title and the like, and in
    attribute values are text, as they are to a browser."""
    if base_path == "/" or not _MAY_LINK.search(markup):
        return markup
    try:
        tags = _start_tags(markup)
    except Exception:  # (the standard parser gave up: HTML no browser refuses either)
        return markup
    prefix = html.escape(base_path, quote=True)
    pieces: list[str] = []
    done = 0
    for start, tag in tags:
        for at, length, text in _edits(tag, prefix):
            pieces += [markup[done : start + at], text]
            done = start + at + length
    pieces.append(markup[done:])
    return "".join(pieces)


def _start_tags(markup: str) -> list[tuple[int, str]]:
    """(offset, text) of each start tag of a linking element in `markup`."""
    finder = _StartTags()
    finder.feed(markup)
    finder.close()
    lines = [0]  # where each line starts (the parser counts lines by "\n" alone)
    while (end := markup.find("\n", lines[-1])) >= 0:
        lines.append(end + 1)
    return [(lines[row - 1] + column, text) for (row, column), text in finder.found]


# In SVG or MathML, an HTML element that ends them (the HTML standard's list; a font
# with a colour, face or size too), and the elements in which HTML is read again.
_BREAKOUT = frozenset(
    "b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i "
    "img li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table "
    "tt u ul var".split()
)
_HTML_POINTS = {
    "svg": frozenset({"foreignobject", "desc", "title"}),
    "math": frozenset({"mi", "mo", "mn", "ms", "mtext"}),
}
_TRACKED = frozenset({"svg", "math"}).union(*_HTML_POINTS.values())
_FONT_BREAKS = frozenset({"color", "face", "size"})
_NEVER = re.compile(r"(?!)")  # (plaintext: text to the end)


class _StartTags(HTMLParser):
    """The standard library's parser, made to read what browsers read as text as text:
    the content of every raw-text and escapable raw-text element up to its end tag as
    a browser finds it, a comment closed at once (<!-->) or never, a marked section
    (<![if IE]>, a bogus comment in HTML); and SVG and MathML, where a script's, a
    style's or a title's content is markup."""

    CDATA_CONTENT_ELEMENTS = (  # type: ignore[misc]  # (typeshed: Final; meant to be set)
        "script",
        "style",
        "textarea",
        "title",
        "xmp",
        "iframe",
        "noembed",
        "noframes",
        "noscript",
        "plaintext",
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.found: list[tuple[tuple[int, int], str]] = []
        # The SVG and MathML elements open (foreign content), and within them the points
        # where HTML is read again: (name, whether it is foreign, its namespace)
        self.spaces: list[tuple[str, bool, str]] = []
        self.in_foreign = False  # whether the last start tag was read in SVG or MathML
        self.closing = False

    def close(self) -> None:
        self.closing = True
        super().close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._note(tag)
        self._enter(tag, attrs, empty=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._note(tag)
        self._enter(tag, attrs, empty=True)

    def _enter(self, tag: str, attrs: list[tuple[str, str | None]], empty: bool) -> None:
        top = self.spaces[-1] if self.spaces else None
        foreign = self.in_foreign = top is not None and top[1]
        if foreign and (tag in _BREAKOUT or (tag == "font" and _FONT_BREAKS & dict(attrs).keys())):
            self.spaces.clear()  # (an HTML element ends SVG and MathML)
        elif empty:
            return
        elif tag in ("svg", "math"):
            self.spaces.append((tag, True, tag))
        elif top is not None and foreign and tag in _HTML_POINTS[top[2]]:
            self.spaces.append((tag, False, top[2]))

    def handle_endtag(self, tag: str) -> None:
        if not self.spaces or (tag not in _TRACKED and tag not in ("p", "br")):
            return
        top = self.spaces[-1]
        if tag in ("p", "br"):
            if top[1]:
                self.spaces.clear()  # (</p> and </br> end SVG and MathML too)
            return
        if not top[1] and tag in ("svg", "math"):
            return  # (HTML is open inside: the browser ignores it)
        for depth in range(len(self.spaces) - 1, -1, -1):
            if self.spaces[depth][0] == tag:
                del self.spaces[depth:]
                return

    def set_cdata_mode(self, elem: str, **how: Any) -> None:
        if self.in_foreign:  # (an SVG or MathML script, style or title: markup)
            return
        super().set_cdata_mode(elem, **how)
        # A browser ends it at "</name" and white space, "/" or ">"; never a plaintext.
        ending = rf"</{re.escape(self.cdata_elem or elem)}(?=[\t\n\f\r />])"
        self.interesting = _NEVER if elem == "plaintext" else re.compile(ending, re.I)

    def parse_endtag(self, i: int) -> int:
        elem = self.cdata_elem
        raw = self.rawdata
        if elem is not None and raw[i + 2 : i + 2 + len(elem)].lower() == elem:
            end = raw.find(">", i + 2 + len(elem))
            if end < 0:
                return -1
            self.clear_cdata_mode()
            self.handle_endtag(elem)
            return end + 1
        return super().parse_endtag(i)

    def _note(self, tag: str) -> None:
        text = self.get_starttag_text()
        if tag in LINKING and text is not None:
            self.found.append((self.getpos(), text))

    def parse_comment(self, i: int, report: bool = True) -> int:
        raw = self.rawdata
        for empty in ("<!-->", "<!--->"):
            if raw.startswith(empty, i):
                return i + len(empty)
        ends = [found for found in (raw.find("-->", i + 4), raw.find("--!>", i + 4)) if found >= 0]
        if not ends:
            return len(raw) if self.closing else -1  # (open to the end of the HTML)
        end = min(ends)
        if report:
            self.handle_comment(raw[i + 4 : end])
        return end + (3 if raw.startswith("-->", end) else 4)

    def parse_html_declaration(self, i: int) -> int:
        raw = self.rawdata
        if raw.startswith("<![CDATA[", i) and self.spaces and self.spaces[-1][1]:
            end = raw.find("]]>", i + 9)  # (in SVG and MathML: text)
            return len(raw) if end < 0 else end + 3
        if raw.startswith("<![", i):
            return self.parse_bogus_comment(i)
        return super().parse_html_declaration(i)


def _edits(tag: str, prefix: str) -> list[tuple[int, int, str]]:
    """What changes in a start tag's text, in order: (offset, length, new text) for
    the leading slash (as written) of each site path its URL_ATTRIBUTES and srcset
    hold, which becomes `prefix` (the escaped base path); or for a whole unquoted value,
    put in quotes, if the prefix cannot stand in one unquoted."""
    edits: list[tuple[int, int, str]] = []
    name = _TAG_NAME.match(tag)
    at = name.end() if name else len(tag)
    while True:
        at = _BETWEEN.match(tag, at).end()  # type: ignore[union-attr]  # (matches "")
        attribute = _ATTRIBUTE.match(tag, at)
        if attribute is None or attribute.end() == at:
            return edits
        key = attribute[1].lower()
        group = next((g for g in (2, 3, 4) if attribute[g] is not None), None)
        if group is not None and (key in URL_ATTRIBUTES or key == SRCSET):
            value, offset = attribute[group], attribute.start(group)
            urls = [(0, value)] if key != SRCSET else candidates(value)
            slashes = []
            for start, url in urls:
                lead = _LEAD.match(url).end()  # type: ignore[union-attr]  # (matches "")
                slash = _SLASH.match(url, lead)
                if slash is not None and is_site_path(_as_browsed(url)):
                    slashes.append((start + lead, slash.end() - lead))
            if slashes and group == 4 and _UNQUOTABLE.search(prefix):
                for start, length in reversed(slashes):
                    value = value[:start] + prefix + value[start + length :]
                edits.append(
                    (offset, len(attribute[group]), f'"{value.replace(chr(34), "&quot;")}"')
                )
            else:
                edits += [(offset + start, length, prefix) for start, length in slashes]
        at = attribute.end()
