"""URL slugs from headlines and section labels."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MAX_SLUG_LENGTH = 80
# ... and as UTF-8 bytes: a file or folder name holds 255 (80 characters of a script
# written in 4 bytes each would not fit), with room for "-1000" and ".md".
MAX_SLUG_BYTES = 200
_NOT_WORD = re.compile(r"[^\w]+")
_APOSTROPHES = re.compile(r"['’‘`´]")
_INITIAL_DOT = re.compile(r"(?<=\b[^\W\d_])\.")  # "U.S." -> "US"


@lru_cache(maxsize=65536)
def slugify(text: str, fallback: str = "article") -> str:
    """Lower-case words joined by hyphens; Latin accents dropped, other scripts kept.

    "Japan’s security future" -> "japans-security-future". The result is never empty,
    never starts or ends with a hyphen, and slugify(slugify(x)) == slugify(x).
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = _INITIAL_DOT.sub("", _APOSTROPHES.sub("", stripped))
    words = [w for w in _NOT_WORD.split(stripped.lower().replace("_", " ")) if w]
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > MAX_SLUG_LENGTH or _too_long(candidate):
            break
        slug = candidate
    if not slug and words:
        slug = words[0][:MAX_SLUG_LENGTH]
        while _too_long(slug):
            slug = slug[:-1]
    slug = unicodedata.normalize("NFC", slug)
    return slug or fallback


def _too_long(slug: str) -> bool:
    return len(slug.encode("utf-8", "surrogatepass")) > MAX_SLUG_BYTES


# Folder names that cannot be sections: their URLs belong to the site's own pages.
RESERVED_SECTIONS = {
    "tags": "the topic pages",
    "authors": "the author pages",
    "archive": "the archive by date",
    "search": "the search page",
    "page": "the front page's later pages (/page/2/ and on)",
    "sitemaps": "the sitemap files of a large site",
}
