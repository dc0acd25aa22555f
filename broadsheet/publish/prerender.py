"""Article bodies that a rebuild after an edit will need, rendered on the other core.

After an edit, most of a rebuild is reading the cached posts and planning the site,
which the build process does alone. The few article bodies it will then render (the
edited article's, its neighbours', which show its title, and the feeds' when it is
among their entries) cost it a tenth of a second more, most of it making Markdown and
Pygments ready for the first one. A forked process renders them meanwhile and hands
them over through a pipe; a body it did not foresee, or any failure on its side, only
means that the build process renders that body itself, as it would have.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from broadsheet.config import SiteConfig
from broadsheet.content.post import Post
from broadsheet.content.visibility import status, visible
from broadsheet.outputs.listings import group, reading_order, section_key
from broadsheet.outputs.related import Opened, foreseen_rankings, open_rankings
from broadsheet.publish.context import BodyCache
from broadsheet.render.markdown import RenderedBody, render_markdown
from broadsheet.workers import fork

MOST_EDITED = 20  # more edited posts than this: a bigger rebuild, with its own workers
PATIENCE = 60.0  # seconds to wait for the bodies (a few dozen take a fraction of one)


def foreseen(
    posts: Iterable[Post],
    edited: set[str],
    feed_size: int,
    related: tuple[Sequence[Sequence[int]], Sequence[Sequence[int]]] | None = None,
    ordered: bool = False,
) -> list[Post]:
    """The posts whose bodies a rebuild renders when the posts at `edited` (paths, as
    strings) changed: those, their neighbours in their section, every entry of a feed
    that shows one of them, and, given the last build's ranking of related articles
    and the one this build will make (`related`: by index in reading order), the posts
    whose articles listed one of them as related (they show its title) and those whose
    related articles change. `posts` are the shown ones, in any order (or in reading
    order already: `ordered`)."""
    posts = list(posts) if ordered else list(reading_order(posts))
    sections = [members for _, members in group(posts, section_key).values()]
    wanted: dict[str, Post] = {}
    for members in (posts, *sections):
        feed = members[:feed_size]
        if any(str(post.path) in edited for post in feed):
            wanted.update((str(post.path), post) for post in feed)
    for members in sections:
        for index, post in enumerate(members):
            if str(post.path) in edited:
                around = members[max(index - 1, 0) : index + 2]
                wanted.update((str(other.path), other) for other in around)
    if related is not None and len(related[0]) == len(related[1]) == len(posts):
        marked = {n for n, post in enumerate(posts) if str(post.path) in edited}
        for row, before, after in zip(posts, *related, strict=True):
            if before != after or not marked.isdisjoint(before):
                wanted[str(row.path)] = row
    return sorted(wanted.values(), key=lambda post: str(post.path))


def may_be_fed(
    post: Post, posts: Iterable[Post], feed_size: int, now: datetime, drafts: bool
) -> bool:
    """Whether `post` may be an entry of the home page's feed or of its section's (the
    first `feed_size` shown posts of either, in reading order): unless as many shown
    posts of its section come before it for certain (dated later than it, or dated
    when it is not)."""
    if not drafts and status(post, now):
        return False  # (not shown, and its front matter is as it was: nor was it)
    before = 0
    for other in posts:
        if (
            other.date is not None
            and (post.date is None or other.date > post.date)
            and other.section_slug == post.section_slug
            and (drafts or not status(other, now))
        ):
            before += 1
            if before >= feed_size:
                return False
    return True


class Prerender:
    """The bodies of `foreseen` posts, rendered in a forked process started by
    `start()` and collected by `bodies()` (with the process reaped, whatever happens,
    when its `with` block ends)."""

    def __init__(self) -> None:
        self._pid: int | None = None
        self._pipe: int | None = None

    def __enter__(self) -> Prerender:
        return self

    def __exit__(self, *exc: object) -> None:
        self._finish()

    def start(
        self,
        posts: list[Post],
        edited: set[str],
        config: SiteConfig,
        now: datetime,
        drafts: bool,
        related: Path | None = None,
        bodies_only: list[Post] | None = None,
    ) -> None:
        """Start rendering the bodies `foreseen` for the posts at `edited`; `related` is
        the build cache's ranking of related articles (broadsheet.outputs.related).

        Not if only their bodies were edited (`bodies_only`: the edited posts, each of
        a file that was there before, with the same front matter) and none may be in a
        feed: the rebuild then renders a handful of bodies (theirs, their neighbours',
        those of the articles that list them as related), and the forked process would
        cost this one more than it saves. Every page of the posts it shares that this
        one writes to afterwards (as the plan counts references to each post) is copied
        first: 10,000 page faults, 25 ms, at 10,000 articles, against 13 ms to render
        six bodies here. A feed's entries are up to `feed_size` bodies."""
        if not edited or len(edited) > MOST_EDITED or not hasattr(os, "fork"):
            return
        if bodies_only is not None and not any(
            may_be_fed(post, posts, config.feed_size, now, drafts) for post in bodies_only
        ):
            return
        # (opened before the build goes on to replace them: see open_rankings)
        opened = open_rankings(related) if related is not None else None
        try:
            read, write = os.pipe()
        except OSError:
            _close(opened)
            return
        try:
            pid = fork()
        except OSError:
            os.close(read)
            os.close(write)
            _close(opened)
            return
        if pid == 0:  # the forked process: it only writes the bodies into the pipe
            try:
                os.close(read)
                shown = visible(posts, now, drafts)
                ordered = reading_order(shown)  # (the plan's reading order)
                rankings = foreseen_rankings(ordered, opened) if opened is not None else None
                found = foreseen(ordered, edited, config.feed_size, rankings, ordered=True)
                with os.fdopen(write, "wb") as pipe:
                    pipe.write(orjson.dumps(_rendered(found, config.base_path)))
            finally:
                os._exit(0)
        _close(opened)
        os.close(write)
        self._pid, self._pipe = pid, read

    def bodies(self) -> BodyCache:
        """What the forked process rendered (waiting for it): (digest, base path) ->
        body. Empty if it was not started or did not finish."""
        if self._pipe is None:
            return {}
        try:
            data = orjson.loads(_read_all(self._pipe, PATIENCE))
            return {(d, base): RenderedBody(h, t, n) for d, base, h, t, n in data}
        except (OSError, ValueError, TypeError):
            if self._pid is not None:  # stuck, say: the build renders the bodies itself
                with contextlib.suppress(OSError):
                    os.kill(self._pid, signal.SIGKILL)
            return {}
        finally:
            self._finish()

    def _finish(self) -> None:
        if self._pipe is not None:
            with contextlib.suppress(OSError):
                os.close(self._pipe)  # a process still writing stops at once
            self._pipe = None
        if self._pid is not None:
            pid, self._pid = self._pid, None
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def _close(opened: Opened | None) -> None:
    for handle in opened or ():
        if handle is not None:
            handle.close()


def _read_all(pipe: int, seconds: float) -> bytes:
    """Everything written into `pipe` until it is closed; TimeoutError (an OSError) if
    that takes longer than `seconds`."""
    deadline = time.monotonic() + seconds
    parts: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([pipe], [], [], left)[0]:
            raise TimeoutError("the bodies did not come")
        part = os.read(pipe, 1 << 16)
        if not part:
            return b"".join(parts)
        parts.append(part)


def _rendered(posts: list[Post], base_path: str) -> list[list[Any]]:
    rendered = []
    for post in posts:
        if post.image is not None or post.images:
            continue  # its pictures are known only once the build has published them
        try:
            body = render_markdown(post.body, base_path)
        except Exception:  # the build process meets it again, and reports it
            continue
        rendered.append([post.digest, base_path, body.html, body.toc_html, body.headings])
    return rendered
