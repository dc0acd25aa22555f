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

# Inside a start tag, after its name: an attribute, as the HTML tokenizer reads one
# (a name up to white space, "/", ">" or "="; then perhaps "=" and a value, quoted or
# not). Between attributes: white space and stray slashes.
_MAY_LINK = re.compile(r"(?:href|src|poster|srcset|action|data)\s*=", re.IGNORECASE)
_TAG_NAME = re.compile(r"<[^\s/>]+")
_BETWEEN = re.compile(r"[\s/]*")
_ATTRIBUTE = re.compile(r"""([^\s/>][^\s/>=]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
# A value's leading slash as it may be written: itself, or a character reference to it.
_SLASH = re.compile(r"/|&#0*47;?|&#[xX]0*2[fF];?|&sol;")
# What an unquoted value cannot hold (the base path is put in quotes if it has any).
_UNQUOTABLE = re.compile(r"[\s\"'=<>`]")


def is_site_path(url: str) -> bool:
    """Whether `url` is a path from the site's root ("/asia/"), not a URL of another
    host ("//example.com/") or relative to the page."""
    return url.startswith("/") and not url.startswith("//")


def under(base_path: str, url: str) -> str:
    """`url` under `base_path` if it is a site path."""
    return base_path + url[1:] if is_site_path(url) else url


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
    """Raw HTML with the site paths of its linking elements' href, src, poster and
    srcset put under `base_path`; nothing else changes (not how the values are quoted
    or escaped, unless the base path cannot go in a value without quotes). Tags in
    comments, in the text of script, style, textarea, title and the like, and in
    attribute values are text, as they are to a browser."""
    if base_path == "/" or not _MAY_LINK.search(markup):  # (code's colours: no link)
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


# In SVG or MathML, an HTML element that ends them (the HTML standard's list), and the
# elements in which HTML is read again.
_BREAKOUT = frozenset(
    "b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i "
    "img li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table "
    "tt u ul var".split()
)
_HTML_POINTS = frozenset({"foreignobject", "desc", "title", "mi", "mo", "mn", "ms", "mtext"})


class _StartTags(HTMLParser):
    """The standard library's parser, made to read what browsers read as text as text:
    the content of every raw-text and escapable raw-text element, a comment closed
    at once (<!-->), and a marked section (<![if IE]>, a bogus comment in HTML)."""

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
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.found: list[tuple[tuple[int, int], str]] = []
        # SVG and MathML (foreign content, where a script's or a style's content is
        # markup), and within them the points where HTML is back: one entry each open
        self.spaces: list[tuple[str, bool]] = []
        self.in_foreign = False  # whether the last start tag was read in SVG or MathML

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._note(tag)
        foreign = self.in_foreign = bool(self.spaces) and self.spaces[-1][1]
        if foreign and (tag in _BREAKOUT or tag == "font"):
            self.spaces.clear()  # (an HTML element ends SVG and MathML)
        elif tag in ("svg", "math"):
            self.spaces.append((tag, True))
        elif foreign and tag in _HTML_POINTS:
            self.spaces.append((tag, False))

    def handle_startendtag(self, tag: str, attrs: object) -> None:
        self._note(tag)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.spaces) - 1, -1, -1):
            if self.spaces[depth][0] == tag:
                del self.spaces[depth:]
                break

    def set_cdata_mode(self, elem: str, **how: Any) -> None:
        if not self.in_foreign:  # (an SVG or MathML script, style or title: markup)
            super().set_cdata_mode(elem, **how)

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
            return -1
        end = min(ends)
        if report:
            self.handle_comment(raw[i + 4 : end])
        return end + (3 if raw.startswith("-->", end) else 4)

    def parse_html_declaration(self, i: int) -> int:
        if self.rawdata.startswith("<![", i):
            return self.parse_bogus_comment(i)
        return super().parse_html_declaration(i)


def _edits(tag: str, prefix: str) -> list[tuple[int, int, str]]:
    """What changes in a start tag's text, in order: (offset, length, new text) for
    the leading slash (as written) of each site path its href, src, poster and srcset
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
                slash = _SLASH.match(url)
                if slash is not None and is_site_path(html.unescape(url[:32])):
                    slashes.append((start, slash.end()))
            if slashes and group == 4 and _UNQUOTABLE.search(prefix):
                for start, length in reversed(slashes):
                    value = value[:start] + prefix + value[start + length :]
                edits.append(
                    (offset, len(attribute[group]), f'"{value.replace(chr(34), "&quot;")}"')
                )
            else:
                edits += [(offset + start, length, prefix) for start, length in slashes]
        at = attribute.end()
