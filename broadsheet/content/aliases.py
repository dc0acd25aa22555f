"""`aliases`: old site paths of an article, checked and turned into the files that answer them."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

from broadsheet.text import UNSHOWABLE

MAX_ALIAS_LENGTH = 1_000
# Pages GitHub Pages serves as HTML: an old URL ending in one of these is answered by a
# file of that name; any other is a folder, answered by its index.html.
PAGE_SUFFIXES = (".html", ".htm")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SLASH = re.compile(r"%2F", re.IGNORECASE)


def parse_alias(text: str) -> str:
    """The site path (as Post.url_path: "asia/old-slug/", or "2019/story.html") that an
    alias written as `text` ("/asia/old-slug/") names. Raises ValueError saying why
    `text` cannot be one."""
    if len(text) > MAX_ALIAS_LENGTH:
        raise ValueError(f"is {len(text):,} characters long; the limit is {MAX_ALIAS_LENGTH:,}")
    parts = urlsplit(text)
    if parts.scheme or parts.netloc or text.startswith("//"):
        raise ValueError(
            f"'{text}' is not a site path: write the path alone, such as /asia/old-slug/"
        )
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise ValueError(
            f"'{text}' has a query or fragment: an alias is a path; "
            "the redirect keeps the reader's own query and fragment"
        )
    if not text.startswith("/"):
        raise ValueError(f"'{text}' must start with '/', as a site path: /{text.lstrip('./')}")
    if _BAD_ESCAPE.search(text):
        raise ValueError(f"'{text}' has a '%' that starts no escape: write a % sign as %25")
    if _SLASH.search(text):
        raise ValueError(f"'{text}' holds an encoded slash (%2F), which hosts do not serve")
    path = unquote(text)
    if UNSHOWABLE.search(path) or any(c.isspace() and c != " " for c in path) or "\\" in path:
        raise ValueError(f"'{text}' holds a control character, a tab or a backslash")
    segments = path.strip("/").split("/")
    if path == "/":
        raise ValueError("'/' is the site's front page, which always answers")
    if any(s in ("", ".", "..") for s in segments):
        raise ValueError(f"'{text}' is outside the site or not a plain path (empty, '.' or '..')")
    if any(s.startswith(".") for s in segments):
        raise ValueError(f"'{text}' names a hidden file or folder, which hosts do not publish")
    last = segments[-1]
    if not path.endswith("/") and "." in last:
        if not last.lower().endswith(PAGE_SUFFIXES):
            raise ValueError(
                f"'{text}' ends in a file name that hosts would not serve as a page; "
                "an alias is a folder (/asia/old/) or an .html file"
            )
        return "/".join(segments)
    return "/".join(segments) + "/"


def alias_file(site_path: str) -> str:
    """The output file that answers a parsed alias."""
    return site_path + "index.html" if site_path.endswith("/") else site_path


def written(site_path: str) -> str:
    """An alias as authors write it, from its site path."""
    return "/" + site_path


def encoded(site_path: str) -> str:
    """An alias as a URL names it ("/caf%C3%A9/", "/100%25/"), for hosts' lists."""
    return quote(written(site_path), safe="/")
