"""The published-URL record: every article URL the archive has published, kept in
content/.broadsheet-published (committed with the posts), so that no build can drop one.

`build` and `check` add the URL of every article but drafts (a scheduled one too: a
later build publishes it, maybe in CI); `mv` adds the old URL as an alias and names the
post's new file; `gone` retires a URL on purpose. A build whose site would not answer a
recorded URL (no page, no alias) fails, naming the URL and the post that last had it.
`build --frozen-urls` (CI) never writes the record and fails on an article it does not
hold: what is deployed is always what was committed.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

from broadsheet.content.aliases import alias_file
from broadsheet.content.post import Post, place_of
from broadsheet.content.visibility import status
from broadsheet.errors import BroadsheetError, BroadsheetErrors, display_path
from broadsheet.files import replace_whole, user_mode
from broadsheet.paths import read_source
from broadsheet.sealed import read_file

RECORD_NAME = ".broadsheet-published"
HEADER = """\
# Article URLs this archive has published, and the post file that last had each.
# Broadsheet keeps this file: `build` and `check` add published articles, `mv` records
# moves, `gone URL` retires a URL on purpose. Commit it with the posts; do not edit it.
# A build fails if one of these URLs would no longer answer (no page and no alias).
"""
GONE = "gone "
# Written as %XX in a post's path, so that each entry stays on one line.
_ESCAPED = re.compile(r"[%\s\x00-\x1f\x7f-\x9f]")
MODES = ("record", "verify", "frozen")
UNREADABLE = "unreadable"  # record_digest of a record that cannot be read


@dataclass
class Record:
    """URL path ("asia/foo/") -> post path below content/ ("asia/foo.md")."""

    published: dict[str, str] = field(default_factory=dict)
    gone: dict[str, str] = field(default_factory=dict)

    def publish(self, url: str, post: str) -> bool:
        """Record `post` under `url`; whether that changed the record."""
        was_gone = self.gone.pop(url, None) is not None
        if not was_gone and self.published.get(url) == post:
            return False
        self.published[url] = post
        return True

    def retire(self, url: str) -> bool:
        post = self.published.pop(url, None)
        if post is None:
            return url in self.gone
        self.gone[url] = post
        return True

    def moved(self, old: str, new: str) -> None:
        """A post's file moved from `old` to `new` (paths below content/)."""
        for entries in (self.published, self.gone):
            for url, post in entries.items():
                if post == old:
                    entries[url] = new


def record_path(content_dir: Path) -> Path:
    return content_dir / RECORD_NAME


def read_record(content_dir: Path) -> Record:
    """The record, or an empty one when there is none yet; a malformed line (say, a
    merge's conflict markers) is an error naming it."""
    path = record_path(content_dir)
    if not os.path.lexists(path):
        return Record()
    try:  # (never blocks on a named pipe in its place: an error naming it)
        text = read_source(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BroadsheetError("the published-URL record is not UTF-8 text", path) from exc
    record = Record()
    for number, line in enumerate(_split_lines(text), start=1):
        line = line.removesuffix("\r")  # a checkout that made line ends CRLF
        if not line.strip() or line.startswith("#"):
            continue
        gone = line.startswith(GONE)
        url, _, post = line.removeprefix(GONE).partition(" ")
        if not (url.startswith("/") and url.endswith("/") and post) or " " in post or "//" in url:
            raise BroadsheetError(
                "not a line of the published-URL record ('/section/slug/ section/file.md'); "
                "if a merge left conflict markers, keep both sides' lines",
                path,
                number,
            )
        entries = record.gone if gone else record.published
        entries[url[1:]] = unquote(post)
    for url in record.published:  # a line in both (two branches merged): still published
        record.gone.pop(url, None)
    return record


def _split_lines(text: str) -> Iterator[str]:
    """What text.split("\\n") gives, a line at a time: not a list of every line beside
    the text and the record being made (10 MB at 100,000 articles)."""
    start = 0
    while (end := text.find("\n", start)) >= 0:
        yield text[start:end]
        start = end + 1
    yield text[start:]


def record_bytes(record: Record) -> bytes:
    """The record's text: sorted by URL, one per line, so that it diffs and merges well."""
    return "".join(_lines(record)).encode("utf-8")


def _lines(record: Record) -> Iterator[str]:
    yield HEADER
    for url in sorted(record.published.keys() | record.gone.keys()):
        if url in record.published:
            yield f"/{url} {_escape(record.published[url])}\n"
        else:
            yield f"{GONE}/{url} {_escape(record.gone[url])}\n"


def _escape(path: str) -> str:
    return _ESCAPED.sub(lambda m: "".join(f"%{b:02X}" for b in m[0].encode("utf-8")), path)


def judge_urls(
    content_dir: Path, posts: Iterable[Post], answering: set[str], now: datetime, mode: str
) -> Record | None:
    """Check a planned site against the record: every recorded URL must be among the
    `answering` output paths, or be a scheduled post's (it answers on its date). `posts`
    are all the posts, drafts and scheduled ones too. `frozen`: every post but drafts
    must be recorded too. In `record` mode, the record with them added, to write once
    the site is built."""
    record = read_record(content_dir)
    kept = [post for post in posts if not post.draft]  # published, or due to be
    scheduled = [p for p in kept if status(p, now) == "scheduled"]  # (its URLs answer then)
    due = {alias_file(url) for p in scheduled for url in (p.url_path, *p.aliases)}
    errors = vanished(record, answering, content_dir, due)
    if mode == "frozen":
        errors += unrecorded(record, kept, content_dir)
    if errors:
        raise BroadsheetErrors(errors)
    if mode != "record":
        return None
    if not add_published(record, kept, content_dir) and _as_written(record, content_dir):
        return None  # (nothing to write: not held while the site is built, 25 MB at 100,000)
    return record


def _as_written(record: Record, content_dir: Path) -> bool:
    """Whether the record file holds `record` as write_record would write it: compared a
    line at a time (its text made whole, beside the file and the record, was 35 MB of a
    deploy's peak at 100,000 articles)."""
    data = read_file(record_path(content_dir))
    if data is None:
        return False
    with memoryview(data) as view:
        at = 0
        for line in _lines(record):
            piece = line.encode("utf-8")
            if view[at : at + len(piece)] != piece:
                return False
            at += len(piece)
        return at == len(data)


def judged_inputs(posts: Iterable[Post], answering: Iterable[str], now: datetime, mode: str) -> str:
    """A digest of all that `judge_urls` reads but the record itself: each of `posts`'
    place digest (see post.place_of: its file's path and the front matter that places
    it, its aliases, draft flag and date among them, but not its title or summary,
    which judge_urls never reads), URL and status at `now` (all posts, as judge_urls
    takes them), the output paths that answer (`answering`) and
    the mode. A build whose judged inputs and record (`record_digest`) are those a
    finished build judged, and left the record as, gets the same judgement: none of
    its errors, nothing to add. (So a headline edited is not judged again.) The paths
    are taken in sorted order: a plan of only some pages has the whole plan's paths in
    the last build's order (see site.page_paths)."""
    lines = [
        f"{post.place_digest or place_of(post)}\0{post.url_path}\0{status(post, now)}"
        for post in posts
    ]
    digest = hashlib.blake2b(mode.encode(), digest_size=16)
    digest.update("\n".join(lines).encode("utf-8", "surrogatepass"))
    digest.update(b"\1")
    digest.update("\n".join(sorted(answering)).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def write_record(content_dir: Path, record: Record) -> str:
    """Write the record, whole or not at all, if its bytes change; its record_digest
    as written."""
    path = record_path(content_dir)
    data = record_bytes(record)
    try:
        if read_file(path) != data:
            replace_whole(path, data, user_mode(), prefix=f"{RECORD_NAME}.")
    except OSError as exc:
        raise BroadsheetError(f"cannot write: {exc.strerror or exc}", path) from exc
    return bytes_digest(data)


def record_digest(content_dir: Path) -> str:
    """A hash of the record file as it is now: "none" when there is none, and
    UNREADABLE when something else is in its place (a folder, a pipe, a broken link, a
    file it may not read), which read_record refuses: no build that finished saw that."""
    path = record_path(content_dir)
    data = read_file(path)
    if data is None and os.path.lexists(path):
        return UNREADABLE
    return bytes_digest(data)


def bytes_digest(data: bytes | None) -> str:
    """The record_digest of a record file that holds `data` (None: no file)."""
    if data is None:
        return "none"
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def vanished(
    record: Record, answering: Container[str], content_dir: Path, due: Container[str] = ()
) -> list[BroadsheetError]:
    """An error for each recorded URL that no planned file (`answering`: paths of the
    output; or `due`, a scheduled post's) would answer, in the URLs' order. (Neither
    the two sets joined nor the record sorted: 14 MB at 100,000 articles, while the
    plan is held.)"""
    found: list[tuple[str, BroadsheetError]] = []
    for url, post in record.published.items():
        answer = alias_file(url)
        if answer in answering or answer in due:
            continue
        source = content_dir / post
        shown = f"/{url}"
        # (os.path: an unreadable folder is no file here, not an error)
        mine = os.path.isfile(source)
        where = "its front matter" if mine else "the front matter of the article that replaces it"
        message = (
            f"{shown} was published (last by {display_path(source)}) and would no longer "
            f'answer: add {shown} to the aliases in {where} (the line "aliases: [{shown}]",'
            f' or one more item of the list it has), or run "broadsheet gone {shown}" to '
            "retire the URL on purpose"
        )
        found.append((url, BroadsheetError(message, source)))
    return [error for _, error in sorted(found, key=lambda item: item[0])]


def unrecorded(record: Record, posts: Iterable[Post], content_dir: Path) -> list[BroadsheetError]:
    """For `build --frozen-urls`: an error for each published article the record lacks."""
    path = display_path(record_path(content_dir))
    return [
        BroadsheetError(
            f"/{post.url_path} is not in the published-URL record ({path}); run "
            f'"broadsheet check" (or a build) where you write, and commit {path}',
            post.path,
        )
        for post in sorted(posts, key=lambda p: p.url_path)
        if post.url_path not in record.published
    ]


def add_published(record: Record, posts: Iterable[Post], content_dir: Path) -> bool:
    """Record each of `posts` (the published articles) under its URL; whether that
    changed the record."""
    below = _below(content_dir)
    changed = False
    for post in posts:
        changed |= record.publish(post.url_path, post_name(post.path, content_dir, below))
    return changed


def post_name(path: Path, content_dir: Path, below: str | None = None) -> str:
    """A post's path below content/, as the record keeps it (ValueError if it is not
    below it). `below`: `_below(content_dir)`, for many posts.

    Plain strings: a build names every post so, 10,000 of them at 10,000 articles."""
    name = os.path.abspath(path)
    prefix = below or _below(content_dir)
    if not name.startswith(prefix) or len(name) == len(prefix):
        raise ValueError(f"{name!r} is not below {prefix!r}")
    return name[len(prefix) :].replace(os.sep, "/")


def _below(content_dir: Path) -> str:
    folder = os.path.abspath(content_dir)
    return folder if folder.endswith(os.sep) else folder + os.sep
