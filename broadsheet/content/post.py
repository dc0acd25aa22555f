"""The Post record: one article, as its Markdown file describes it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from broadsheet.errors import BroadsheetError
from broadsheet.paths import read_source
from broadsheet.stamps import bytes_hash
from broadsheet.text import remove_unshowable, showable_utf8, space_out_non_ascii_breaks

WORDS_PER_MINUTE = 230
# Bytes of word characters become "a", other ASCII bytes a space.
_WORD_RUNS = bytes(
    ord("a") if c >= 128 or chr(c).isalnum() or chr(c) == "_" else ord(" ") for c in range(256)
)


@dataclass(frozen=True, slots=True)
class Post:
    """An article, as its file says and the build needs it (its body read again when asked)."""

    path: Path
    title: str
    section: str  # the section's label as written, e.g. "ASIA"
    section_slug: str  # its folder, e.g. "asia"
    slug: str
    date: datetime | None  # aware, in the site's time zone; None when the source gave none
    has_time: bool
    updated: datetime | None
    author: str | None
    tags: tuple[str, ...]
    summary: str | None
    source: str | None
    draft: bool
    body_line: int  # the file line the body starts on
    digest: str = ""  # a hash of the whole file: what changes when the post changes
    excerpt: str = ""  # plain text of the first paragraph, cut near 160 characters
    words: int = 0  # words in the body
    # A hash of its path and front matter: all that decides its place in the site.
    header_digest: str = ""
    # A hash of what of that decides the site's plan besides its place in the reading
    # order (see `place_of`): not its title or summary, which only show.
    place_digest: str = ""
    # Old site paths that redirect here ("asia/old-slug/"), from front matter `aliases`.
    aliases: tuple[str, ...] = ()
    # The Markdown body, when held in memory. A build drops it (its posts would
    # otherwise hold the whole archive's text) and `body` reads the file again.
    body_text: str | None = field(default=None, repr=False, compare=False)
    bundle: bool = False  # content/<section>/<slug>/index.md, with its files beside it
    # The featured image: a file of the bundle (or beside the post), or a site path.
    image: str | None = None
    image_alt: str | None = None
    image_caption: str | None = None
    image_credit: str | None = None
    # The local images its Markdown shows (each `src` as written), in order.
    images: tuple[str, ...] = ()
    unlabelled: tuple[str, ...] = ()  # the images it shows without alt text: errors
    # A hash of the image files it shows (set by the build): what changes the pages
    # that show it when a photo changes though its text does not.
    media: str = ""
    # Its site path, "asia/some-slug/": made once, so that the build's many holders of
    # it (its pages, its search entry, its signature's state, the lists of articles)
    # share one string (they each held a copy: 20 MB at 100,000 articles).
    url_path: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "url_path", f"{self.section_slug}/{self.slug}/")

    @property
    def folder(self) -> Path:
        """Where its relative references (images, files) are looked for: its bundle's
        folder, or the section folder of a flat post."""
        return self.path.parent

    @property
    def body(self) -> str:
        """The Markdown body, from memory or read again from the file (which must be
        the one this post was parsed from)."""
        if self.body_text is not None:
            return self.body_text
        raw = read_source(self.path)
        text, digest = decoded(raw)
        if digest != self.digest:
            raise BroadsheetError("the file changed during the build; build again", self.path)
        return body_of(text, self.body_line)

    @property
    def word_count(self) -> int:
        return self.words

    @property
    def reading_minutes(self) -> int:
        return max(1, -(-self.word_count // WORDS_PER_MINUTE))


def count_words(body: str) -> int:
    """How many runs of word characters (letters, digits, "_") `body` has.

    Each character that is not one (str.isalnum() is re's \\w, less "_") becomes a
    space, each that is one an "a" (bytes.translate does the ASCII ones and every byte
    of the others), and the runs are counted where a space meets an "a": no string is
    made for each word. Three times faster than re's findall.
    """
    spaced = space_out_non_ascii_breaks(body)
    return (b" " + spaced.encode("utf-8").translate(_WORD_RUNS)).count(b" a")


def normalise(text: str) -> str:
    """The text a post's digest and line numbers are taken from: without the characters
    no page or feed may hold (control characters: `check` warns about them)."""
    return remove_unshowable(newlines(text))


def newlines(text: str) -> str:
    """`text` without its byte order mark, and every line ending ("\r\n", a lone "\r")
    made "\n", as Python's text files read it: the same lines, read either way."""
    text = text.removeprefix("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def decoded(raw: bytes) -> tuple[str, str]:
    """A post file's text, as normalise() leaves it, and its digest."""
    if plain_utf8(raw):  # as normalise() would leave it: hash the bytes as they are
        return raw.decode("utf-8", errors="replace"), _digest(raw)
    text = normalise(raw.decode("utf-8", errors="replace"))
    return text, text_digest(text)


def text_digest(text: str) -> str:
    return _digest(text.encode("utf-8"))


def _digest(data: bytes) -> str:
    return bytes_hash(data)  # (a post's digest is its file's hash, when it is plain UTF-8)


def plain_utf8(data: bytes) -> bool:
    """Whether a post file's bytes are already as normalise() leaves their text: no byte
    order mark, no carriage return, nothing to remove."""
    return b"\r" not in data and not data.startswith(b"\xef\xbb\xbf") and showable_utf8(data)


def body_of(text: str, body_line: int) -> str:
    """The body of a post's file text, given the line it starts on."""
    lines = text.split("\n")
    return "\n".join(lines[body_line - 1 :]).strip("\n") + "\n"


def shape_of(posts: Iterable[Post]) -> str:
    """A hash of everything about `posts` that decides a site's plan (which pages exist
    and which posts each one shows): their paths and front matter, in this order."""
    data = "\n".join([post.header_digest or _header(post) for post in posts])
    return hashlib.blake2b(data.encode("utf-8"), digest_size=16).hexdigest()


def places_of(posts: Iterable[Post]) -> str:
    """A hash of what decides a site's plan besides the posts' titles and summaries:
    each post's `place_of`, in this order (the reading order, which titles can change).
    Two sites with equal places have the same pages, showing the same posts (as
    identified by their paths) in the same places."""
    data = "\n".join([post.place_digest or place_of(post) for post in posts])
    return hashlib.blake2b(data.encode("utf-8"), digest_size=16).hexdigest()


def place_of(post: Post) -> str:
    """A hash of every field of `post` that the plan reads (listings, pagination,
    neighbours, feeds, sitemaps, redirects), all but those only shown: its title and
    summary (which the plan reads only to order posts: see `places_of`), its excerpt,
    words and images."""
    data = repr(
        (
            str(post.path),
            post.section_slug,
            post.slug,
            post.section,
            post.date,
            post.has_time,
            post.updated,
            post.author,
            post.tags,
            post.source,
            post.draft,
            post.aliases,
            post.bundle,
        )
    )
    return text_digest(data)


def _header(post: Post) -> str:
    """For a post made without its file's header digest: its metadata itself."""
    return repr(
        (
            str(post.path),
            post.section_slug,
            post.slug,
            post.title,
            post.section,
            post.date,
            post.has_time,
            post.updated,
            post.author,
            post.tags,
            post.summary,
            post.source,
            post.draft,
            post.aliases,
        )
    )
