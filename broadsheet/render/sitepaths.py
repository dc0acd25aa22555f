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

# The elements whose links and sources `check` judges, and the build puts under the
# base path in raw HTML: links, images, media, frames.
LINKING = frozenset(
    {"a", "area", "img", "source", "video", "audio", "track", "iframe", "embed", "link"}
)
URL_ATTRIBUTES = frozenset({"href", "src", "poster"})  # one URL each
SRCSET = "srcset"  # a list of candidates: "a.png 1x, b.png 2x"
# A candidate of a srcset: a URL (a run without white space: a data: URL keeps its
# commas), then its descriptor.
CANDIDATE = re.compile(r"[\s,]*(\S+)[^,]*")

# Inside a start tag, after its name: an attribute, as the HTML tokenizer reads one
# (a name up to white space, "/", ">" or "="; then perhaps "=" and a value, quoted or
# not). Between attributes: white space and stray slashes.
_MAY_LINK = re.compile(r"(?:href|src|poster|srcset)\s*=", re.IGNORECASE)
_TAG_NAME = re.compile(r"<[^\s/>]+")
_BETWEEN = re.compile(r"[\s/]*")
_ATTRIBUTE = re.compile(r"""([^\s/>][^\s/>=]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")


def is_site_path(url: str) -> bool:
    """Whether `url` is a path from the site's root ("/asia/"), not a URL of another
    host ("//example.com/") or relative to the page."""
    return url.startswith("/") and not url.startswith("//")


def under(base_path: str, url: str) -> str:
    """`url` under `base_path` if it is a site path."""
    return base_path + url[1:] if is_site_path(url) else url


def raw_html_under(markup: str, base_path: str) -> str:
    """Raw HTML with the site paths of its linking elements' href, src, poster and
    srcset put under `base_path`; nothing else changes (not even how the values are
    quoted or escaped). Tags in comments, in script and style text, and in attribute
    values are text, as they are to a browser."""
    if base_path == "/" or not _MAY_LINK.search(markup):  # (code's colours: no link)
        return markup
    prefix = html.escape(base_path, quote=True)
    edits: list[int] = []  # where the prefix goes (each where a site path's "/" is)
    for start, tag in _start_tags(markup):
        edits += [start + at for at in _site_path_starts(tag)]
    for at in sorted(edits, reverse=True):
        markup = markup[:at] + prefix + markup[at + 1 :]
    return markup


def _start_tags(markup: str) -> list[tuple[int, str]]:
    """(offset, text) of each start tag of a linking element in `markup`."""
    finder = _StartTags()
    finder.feed(markup)
    finder.close()
    lines = [0]  # where each line starts (the parser counts lines by "\n" alone)
    while (end := markup.find("\n", lines[-1])) >= 0:
        lines.append(end + 1)
    return [(lines[row - 1] + column, text) for (row, column), text in finder.found]


class _StartTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.found: list[tuple[tuple[int, int], str]] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        text = self.get_starttag_text()
        if tag in LINKING and text is not None:
            self.found.append((self.getpos(), text))

    handle_startendtag = handle_starttag


def _site_path_starts(tag: str) -> list[int]:
    """The offsets in a start tag's text of the leading "/" of each site path its
    href, src, poster and srcset hold."""
    found: list[int] = []
    name = _TAG_NAME.match(tag)
    at = name.end() if name else len(tag)
    while True:
        at = _BETWEEN.match(tag, at).end()  # type: ignore[union-attr]  # (matches "")
        attribute = _ATTRIBUTE.match(tag, at)
        if attribute is None or attribute.end() == at:
            return found
        key = attribute[1].lower()
        group = next((g for g in (2, 3, 4) if attribute[g] is not None), None)
        if group is not None and (key in URL_ATTRIBUTES or key == SRCSET):
            value, offset = attribute[group], attribute.start(group)
            urls = [(0, value)] if key != SRCSET else _candidates(value)
            found += [offset + start for start, url in urls if is_site_path(url)]
        at = attribute.end()


def _candidates(srcset: str) -> list[tuple[int, str]]:
    """(offset, URL) of each candidate of a srcset."""
    return [(m.start(1), m[1].rstrip(",")) for m in CANDIDATE.finditer(srcset)]
