"""`broadsheet check`: validate every post and every internal link, reporting all problems."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from broadsheet.author.markup import Article, dangerous_url
from broadsheet.config import SiteConfig
from broadsheet.content.bundles import Folders, attachments, image_error, key_line, uses
from broadsheet.content.frontmatter import unshowable_characters
from broadsheet.content.loader import (
    bundle_errors,
    find_post_files,
    read_post,
    section_folder_errors,
)
from broadsheet.content.post import Post
from broadsheet.content.visibility import status
from broadsheet.errors import BroadsheetError, BroadsheetErrors, display_path
from broadsheet.locks import content_lock
from broadsheet.outputs.published import judge_urls, write_record
from broadsheet.outputs.site import plan_site
from broadsheet.paths import scan_source
from broadsheet.publish.statics import PYGMENTS_CSS, static_clashes
from broadsheet.stamps import Stamp


@dataclass(frozen=True)
class Problem:
    """One thing `check` found: where (file and line, if known), what, and whether it only warns."""

    path: Path
    line: int | None
    message: str
    warning: bool = False

    def __str__(self) -> str:
        where = display_path(self.path) + (f":{self.line}" if self.line else "")
        return f"{where}: {'warning: ' if self.warning else ''}{self.message}"


def check_content(
    config: SiteConfig, now: datetime | None = None, record: bool = False
) -> tuple[list[Problem], int]:
    """Every problem in the content, and how many posts were checked. With `record`,
    the published articles' URLs are added to the published-URL record. Read with the
    content lock shared, as a build reads: never an import or mv half done."""
    with content_lock(config.path(config.content_dir), shared=True):
        return _check_content(config, now, record)


def _check_content(
    config: SiteConfig, now: datetime | None, record: bool
) -> tuple[list[Problem], int]:
    content = config.path(config.content_dir)
    problems, found, statics = _walk_sources(config)
    posts: list[Post] = []
    strays: list[BroadsheetError] = []
    names = find_post_files(content, found, strays)
    refused = section_folder_errors(content, names)
    twins = bundle_errors(content, names)
    problems += [Problem(e.path or content, e.line, e.message) for e in refused + twins + strays]
    skip = tuple(str(e.path) + os.sep for e in refused)
    twinned = {str(e.path) for e in twins}
    files = [Path(name) for name in names if not name.startswith(skip) and name not in twinned]
    for path in files:
        try:
            posts.append(read_post(path, content, config.zone))
        except BroadsheetErrors as exc:
            problems += [Problem(e.path or path, e.line, e.message) for e in exc.errors]
        except BroadsheetError as exc:
            problems.append(Problem(exc.path or path, exc.line, exc.message))
    problems += _unique_slugs(posts)
    now = now or config.now or datetime.now(config.zone)
    published = {p.path for p in posts if not status(p, now)}
    folders = Folders(content, config.path(config.static_dir), frozenset({*found, *statics}))
    targets, planning = _targets(config, [p for p in posts if p.path in published], folders)
    problems += [Problem(e.path or content, e.line, e.message) for e in planning]
    drafts = _targets(config, posts, folders)[0] - targets
    problems += _images(config, posts, folders)
    problems += _templates(config)
    planned = bool(targets)  # empty when the site could not be planned at all
    if not planning and len(posts) == len(files):  # else URLs would seem gone that are not
        problems += _published_urls(config, posts, targets, now, record)
    for post in posts:
        problems += _rendered(post, targets if planned else None, drafts)
        problems += _unshowable(post)
    problems.sort(key=lambda p: (str(p.path), p.line or 0, p.message))
    return problems, len(files)


def _walk_sources(
    config: SiteConfig,
) -> tuple[list[Problem], dict[str, Stamp], dict[str, Stamp]]:
    """Every unreadable, odd or linked-out source (broadsheet.paths), and content/'s and
    static/'s files."""
    problems: list[Problem] = []
    walked = []
    for name in (config.content_dir, config.static_dir, config.templates_dir):
        files, errors = scan_source(config.path(name))
        problems += [Problem(e.path or config.path(name), e.line, e.message) for e in errors]
        walked.append(files)
    return problems, walked[0], walked[1]


def _templates(config: SiteConfig) -> list[Problem]:
    """Every template that does not parse, names one that does not exist, or extends
    itself (see broadsheet.render.templates.template_errors)."""
    from broadsheet.render.templates import template_errors

    folder = config.path(config.templates_dir)
    return [Problem(e.path or folder, e.line, e.message) for e in template_errors(folder)]


def _images(config: SiteConfig, posts: list[Post], folders: Folders) -> list[Problem]:
    """Every image reference that names no file, and every image that cannot be
    published (unreadable, corrupt, not an image, a bomb...), at each line showing it."""
    from broadsheet.images import probe_images

    problems: list[Problem] = []
    users: dict[Path, list[tuple[Post, str, bool]]] = {}
    for post in posts:
        found, errors = uses(post, folders)
        problems += [Problem(e.path or post.path, e.line, e.message) for e in errors]
        for src, path in found.images.items():
            users.setdefault(path, []).append((post, src, False))
        if found.featured is not None and post.image is not None:
            users.setdefault(found.featured, []).append((post, post.image, True))
    _, failures = probe_images(sorted(users), config.images)
    for failure in failures:
        for post, src, featured in users.get(failure.path or Path(), []):
            error = image_error(post, src, failure.reason, featured)
            problems.append(Problem(error.path or post.path, error.line, error.message))
    return problems


def _unique_slugs(posts: list[Post]) -> list[Problem]:
    first: dict[str, Post] = {}
    problems = []
    for post in sorted(posts, key=lambda p: str(p.path)):
        owner = first.setdefault(post.url_path, post)
        if owner is not post:
            problems.append(
                Problem(
                    post.path,
                    key_line(post, "slug"),
                    f"slug '{post.slug}' is already used by {display_path(owner.path)}: "
                    f"both would be /{post.url_path}",
                )
            )
    return problems


def _published_urls(
    config: SiteConfig, posts: list[Post], targets: set[str], now: datetime, record: bool
) -> list[Problem]:
    """A problem for each published URL the site would no longer answer; with `record`,
    the published articles are added to the record. A record it cannot write (a
    read-only checkout) is a warning, as it is to a build: the content is not at fault.
    (check_content holds the content lock.)"""
    content = config.path(config.content_dir)
    try:
        found = judge_urls(content, posts, targets, now, "record" if record else "verify")
        if found is not None:
            try:
                write_record(content, found)
            except BroadsheetError as exc:
                message = f"{exc.message}; the published-URL record was not updated"
                return [Problem(exc.path or content, exc.line, message, warning=True)]
    except BroadsheetErrors as exc:
        return [Problem(e.path or content, e.line, e.message) for e in exc.errors]
    except BroadsheetError as exc:
        return [Problem(exc.path or content, exc.line, exc.message)]
    return []


def _targets(
    config: SiteConfig, posts: list[Post], folders: Folders
) -> tuple[set[str], list[BroadsheetError]]:
    """Every path the site will have: its pages and feeds, the static files, and the
    files published beside bundled articles; or the errors that stop it being planned
    (an alias that is a page, say)."""
    unique = {post.url_path: post for post in reversed(posts)}  # duplicates: reported apart
    try:
        site = plan_site(list(unique.values()), config)
    except BroadsheetErrors as exc:
        return set(), list(exc.errors)
    except BroadsheetError as exc:
        return set(), [exc]
    paths = {page.path for page in site.pages}
    paths |= {relative for post in site.posts for relative, _ in attachments(post, folders)}
    statics, _ = scan_source(config.path(config.static_dir))  # its problems: reported apart
    static = str(config.path(config.static_dir))
    files = [(Path(name).relative_to(static).as_posix(), Path(name)) for name in statics]
    clashes = static_clashes(files, paths)  # as the build would find them
    paths |= {relative for relative, _ in files}
    return paths | {PYGMENTS_CSS, "search/meta.json"}, clashes


def _rendered(post: Post, targets: set[str] | None, drafts: set[str]) -> list[Problem]:
    """The article's links and script, judged on the HTML its readers get; each named
    by the line of the Markdown it came from. Links are judged only against a site that
    could be planned (`targets`)."""
    try:
        body = post.body
    except BroadsheetError as exc:
        return [Problem(exc.path or post.path, exc.line, exc.message)]
    article = Article(body, post.body_line)
    problems = [
        Problem(post.path, line, message, warning=True) for line, message in article.warnings()
    ]
    source = body.split("\n")
    for index, link in enumerate(article.links()):
        if dangerous_url(link.url):
            continue  # warned about above
        if targets is None:
            continue  # no site to judge it by
        if link.image and link.url in post.images:  # a photo: checked with the images,
            line = article.link_line(index)  # unless raw HTML shows it by its own name
            at = line - post.body_line
            if not 0 <= at < len(source) or _markdown_image(source[at], link.url):
                continue
            raw = (
                f"image {link.url} in raw HTML: the article's photos are published only as "
                f"the build makes them, so show it with Markdown: ![...]({link.url})"
            )
            problems.append(Problem(post.path, line, raw))
            continue
        message = _broken(post, link.url, link.image, targets, drafts)
        if message:
            problems.append(Problem(post.path, article.link_line(index), message))
    return problems


def _markdown_image(line: str, src: str) -> bool:
    """Whether the Markdown `line` shows the image `src` as Markdown does: inline
    (`![...](src ...)`, `(<src>)`), or as the definition of a reference (`[ref]: src`)."""
    if f"({src}" in line or f"(<{src}>" in line:
        return True
    return line.lstrip().startswith("[") and "]:" in line and src in line


def _broken(
    post: Post, target: str, image: bool, targets: set[str], drafts: set[str]
) -> str | None:
    """What is wrong with a link to `target`, or None when it leads somewhere."""
    resolved = _resolve(post, target)
    if resolved is None:
        return None
    candidates = {resolved, resolved.rstrip("/") + "/index.html", resolved + "index.html"}
    if candidates & targets:
        return None
    what = "image" if image else "link"
    if candidates & drafts:
        return f"{what} to {target} points at a draft or scheduled post"
    return f"{what} to {target}: no such page or file in the site"


def _resolve(post: Post, target: str) -> str | None:
    """The site path an internal link points at, or None for external links and anchors."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    path = unquote(parts.path)
    if path.startswith("/"):  # a site path, which the build puts under the base path
        path = path[1:]
    else:
        joined = PurePosixPath("/" + post.url_path) / path
        path = _normalise(str(joined))[1:]
        if target.endswith("/") and not path.endswith("/"):
            path += "/"
    return path


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/" + "/".join(parts)


def _unshowable(post: Post) -> list[Problem]:
    """A warning for each line that held characters no page or feed can hold."""
    try:
        text = post.path.read_bytes().decode("utf-8", errors="replace")
    except OSError:  # gone since it was read: the next check sees what replaced it
        return []
    lines: dict[int, list[str]] = {}
    for line, char in unshowable_characters(post.path, text):
        lines.setdefault(line, []).append(f"U+{ord(char):04X}" if len(char) == 1 else char)
    return [
        Problem(
            post.path,
            line,
            f"removed {', '.join(dict.fromkeys(chars))}: "
            "no web page or feed can hold these control characters",
            warning=True,
        )
        for line, chars in lines.items()
    ]
