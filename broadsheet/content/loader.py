"""Find and read every post below content/; report every bad one, not just the first."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from zoneinfo import ZoneInfo

from broadsheet.content.frontmatter import parse_post
from broadsheet.content.post import Post, decoded
from broadsheet.errors import BroadsheetError, BroadsheetErrors, display_path
from broadsheet.paths import read_source, source_files
from broadsheet.slugs import RESERVED_SECTIONS, slugify
from broadsheet.stamps import Stamp, file_hash, racy_after, stamp_file, unchanged
from broadsheet.workers import worker_pool

BUNDLE_INDEX = "index.md"  # content/<section>/<slug>/index.md: an article and its files


# Markdown files by the other names editors give them: never read as posts.
OTHER_MARKDOWN = (".markdown", ".mdown", ".mkd", ".mkdn", ".mdwn", ".mdtxt", ".mdtext")
_MARKDOWN = (".md", *OTHER_MARKDOWN)


def find_post_files(
    content_dir: Path,
    stamps: Iterable[str] | None = None,
    strays: list[BroadsheetError] | None = None,
) -> list[str]:
    """Every post file (as a path string): *.md below content/, outside hidden folders,
    a bundle's index.md but not the other files of a bundle. From `stamps`' paths when
    given, which list every file below content/. `strays` gets an error for each
    Markdown file that would be no post: by another name (story.markdown, story.MD),
    or in a bundle beside its index.md (neither an article nor published as a file,
    which would publish its front matter, drafts included)."""
    if not content_dir.is_dir():
        raise BroadsheetError("the content folder does not exist", content_dir)
    prefix = str(content_dir) + os.sep
    names = []
    start, hidden = len(prefix), os.sep + "."  # (a hidden file, or one in a hidden folder)
    for name in source_files(content_dir) if stamps is None else stamps:
        post = name.endswith(".md")
        if not post and (strays is None or not name.lower().endswith(_MARKDOWN)):
            continue
        if not name.startswith(prefix) or name.startswith(".", start):
            continue
        if name.find(hidden, start) >= 0:
            continue
        if post:
            names.append(name)
        elif strays is not None:
            stem = os.path.basename(name).rsplit(".", 1)[0]
            why = f"only .md files are posts: rename it {stem}.md, or it is not published"
            strays.append(BroadsheetError(why, Path(name)))
    folders = bundle_folders(content_dir, names)
    if not folders:  # (most sites have no bundle: no look at each name again)
        return sorted(names)
    if strays is not None:
        for name in sorted(n for n in names if _inside_bundle(n, folders)):
            why = (
                "a Markdown file in an article's folder is neither an article nor published: "
                "move it to its section's folder to make it an article, or give it "
                "another extension to publish it as a file"
            )
            strays.append(BroadsheetError(why, Path(name)))
    return sorted(name for name in names if not _inside_bundle(name, folders))


def bundle_folders(content_dir: Path, names: list[str]) -> set[str]:
    """The page bundles among `names` (path strings below content/): the folders
    content/<section>/<slug>/ that hold an index.md."""
    prefix = str(content_dir) + os.sep
    index = os.sep + BUNDLE_INDEX
    found = set()
    for name in names:
        if not name.endswith(index):  # (as a rule: no split of every post's path)
            continue
        parts = name[len(prefix) :].split(os.sep)
        if len(parts) == 3 and parts[2] == BUNDLE_INDEX:
            found.add(name[: -len(BUNDLE_INDEX) - 1])
    return found


def bundle_of(name: str, folders: set[str]) -> str | None:
    """The bundle folder (of `folders`) that the file `name` is in, if any."""
    if not folders:  # most sites have no bundle: no walk up every post's path
        return None
    folder = name
    while (folder := os.path.dirname(folder)) and folder != os.path.dirname(folder):
        if folder in folders:
            return folder
    return None


def _inside_bundle(name: str, folders: set[str]) -> bool:
    """Whether `name` is one of a bundle's files other than its index.md."""
    folder = bundle_of(name, folders)
    return folder is not None and name != folder + os.sep + BUNDLE_INDEX


def bundle_errors(content_dir: Path, names: list[str]) -> list[BroadsheetError]:
    """An error for each bundle (content/asia/foo/index.md) beside a flat post of the
    same name (content/asia/foo.md): both would be the article /asia/foo/."""
    present = set(names)
    errors = []
    for folder in sorted(bundle_folders(content_dir, names)):
        flat = folder + ".md"
        if flat in present:
            index = Path(folder) / BUNDLE_INDEX
            url = "/" + Path(folder).relative_to(content_dir).as_posix() + "/"
            errors.append(
                BroadsheetError(
                    f"this bundle and {display_path(Path(flat))} are both the article {url}; "
                    "keep one (move the post into the bundle as its index.md)",
                    index,
                )
            )
    return errors


def section_folder_errors(content_dir: Path, names: list[str]) -> list[BroadsheetError]:
    """An error for each folder of posts (among `names`, from find_post_files) that
    cannot be a section: its name is not a slug, or its URL is one of the site's own."""
    prefix = len(str(content_dir)) + 1
    found: set[str] = set()
    last = None  # the folder of the name before, with its separator: most share it
    for name in names:
        if last is not None and name.startswith(last):
            continue
        end = name.find(os.sep, prefix)
        if end >= 0:
            found.add(name[prefix:end])
            last = name[: end + 1]
    folders = sorted(found)
    errors = []
    for folder in folders:
        if folder in RESERVED_SECTIONS:
            why = (
                f"cannot be a section: its URL /{folder}/ belongs to "
                f"{RESERVED_SECTIONS[folder]}; rename the folder"
            )
        elif slugify(folder, fallback="") != folder:
            hint = slugify(folder, fallback="")
            why = "cannot be a section: a section's folder name is its URL, and must be a slug"
            why += f"; rename the folder to '{hint}'" if hint else "; rename the folder"
        else:
            continue
        errors.append(BroadsheetError(why, content_dir / folder))
    return errors


def read_post(path: Path, content_dir: Path, zone: ZoneInfo) -> Post:
    relative = path.relative_to(content_dir)
    bundle = len(relative.parts) == 3 and relative.name == BUNDLE_INDEX
    if len(relative.parts) != 2 and not bundle:
        raise BroadsheetError(
            "a post belongs in a section folder, such as content/asia/my-article.md, "
            "or is a page bundle's index.md, such as content/asia/my-article/index.md",
            path,
        )
    data = read_source(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + data[: exc.start].count(b"\r")
        line -= data[: exc.start].count(b"\r\n")  # each line end counted once
        raise BroadsheetError("not UTF-8 text", path, line + 1) from exc
    return parse_post(path, text, relative.parts[0], zone, bundle=bundle)


PostCache = dict[str, tuple[Stamp, Post]]  # path -> (its file's stamp, post)
PARALLEL_MINIMUM = 300  # files to parse before it pays to fork workers
_CHUNK = 160  # files a task: fewer, larger results for the parent to take in (measured)


def load_posts(
    content_dir: Path,
    zone: ZoneInfo,
    cache: PostCache | None = None,
    jobs: int = 1,
    stamps: dict[str, Stamp] | None = None,
    hashed: Mapping[str, str] | None = None,
) -> list[Post]:
    """Every post, or every error. With a `cache` (the dev server's, or the one a build
    keeps on disk), a file whose stamp shows it unchanged (broadsheet.stamps) is not
    read again, and the cache is brought up to date. Posts come without their bodies in
    memory: `post.body` reads the file when a page needs it. `stamps` (path -> stamp of
    every file below content/, when the caller has them) saves a walk. `hashed` (path ->
    hash) gives the hash of files whose stamps changed, known already: a cached post
    parsed from bytes of that hash is kept, the file unread (see _same)."""
    posts: PostCache = {}
    wanted: list[tuple[Path, Stamp]] = []
    folders: dict[str, Path] = {}
    racy = racy_after()
    strays: list[BroadsheetError] = []
    names = find_post_files(content_dir, stamps, strays)
    errors = section_folder_errors(content_dir, names) + strays
    refused = tuple({str(error.path) + os.sep for error in errors})
    twins = bundle_errors(content_dir, names)
    errors += twins
    skipped = {str(error.path) for error in twins}
    for name in names:
        if (refused and name.startswith(refused)) or name in skipped:
            continue
        stamp = stamps[name] if stamps is not None else stamp_file(name, racy)
        cached = cache.get(name) if cache is not None else None
        if cached is not None and (
            unchanged(cached[0], stamp, name)
            or (hashed is not None and hashed.get(name) == cached[1].digest)
            or _same(cached, stamp)
        ):
            posts[name] = cached if cached[0] == stamp else (stamp, cached[1])
        else:
            posts[name] = (stamp, None)  # type: ignore[assignment]  # filled in below
            wanted.append((_path(name, folders), stamp))
    for path, stamp, result in _parse_all(wanted, content_dir, zone, jobs):
        if isinstance(result, Post):
            posts[str(path)] = (stamp, result)
        else:
            del posts[str(path)]
            errors.extend(result)
    if cache is not None:
        cache.clear()
        cache.update(posts)
    if errors:
        raise BroadsheetErrors(errors)
    return [post for _, post in posts.values()]


def _same(cached: tuple[Stamp, Post], stamp: Stamp) -> bool:
    """Whether a post file whose stamp changed (a fresh clone gives every file new
    times) still holds the bytes its cached post was parsed from."""
    post = cached[1]
    if cached[0][0] != stamp[0] or not post.digest:
        return False
    if file_hash(str(post.path), stamp) == post.digest:  # the bytes of a file that
        return True  # normalise() leaves as they are; the build's cache takes this hash too
    try:
        return decoded(read_source(post.path))[1] == post.digest
    except BroadsheetError:
        return False


_Parsed = tuple[Path, Stamp, Post | list[BroadsheetError]]
_job: tuple[Path, ZoneInfo] | None = None  # what forked parsers inherit


def _parse_all(
    wanted: list[tuple[Path, Stamp]], content_dir: Path, zone: ZoneInfo, jobs: int
) -> list[_Parsed]:
    """Parse the files, in `jobs` forked processes when there are enough of them."""
    global _job
    if jobs < 2 or len(wanted) < PARALLEL_MINIMUM:
        return _parse_some(wanted, content_dir, zone)
    chunks = [wanted[start : start + _CHUNK] for start in range(0, len(wanted), _CHUNK)]
    _job = (content_dir, zone)
    texts: dict[str, str] = {}
    paths = iter(wanted)
    try:
        with worker_pool(jobs, "reading posts") as pool:
            return [
                _adopted(item, next(paths)[0], texts)
                for part in pool.imap(_parse_chunk, chunks)
                for item in part
            ]
    finally:
        _job = None


def _path(name: str, folders: dict[str, Path]) -> Path:
    """Path(name), made as its folder's path / its file name, so that the posts of a
    folder share its parts rather than each holding copies (3 MB at 10,000)."""
    head, _, file = name.rpartition(os.sep)
    if not head or not file:
        return Path(name)
    folder = folders.get(head)
    if folder is None:
        folder = folders[head] = Path(head)
    return folder / file


def _adopted(parsed: _Parsed, path: Path, texts: dict[str, str]) -> _Parsed:
    """A post as a worker parsed it, with this process's `path` for its own copy, and
    one copy of each section, author and tag name shared by all the posts that have it
    (each post came with its own: 3 MB at 10,000 posts, held by every later process)."""
    _, stamp, post = parsed
    if not isinstance(post, Post):
        return path, stamp, post

    def shared(text: str) -> str:
        return texts.setdefault(text, text)

    # Just unpickled, the post is this process's alone: changed in place, not copied
    # (dataclasses.replace made each post twice: 0.1 s at 10,000).
    adopt = object.__setattr__
    adopt(post, "path", path)
    adopt(post, "section", shared(post.section))
    adopt(post, "section_slug", shared(post.section_slug))
    if post.author is not None:
        adopt(post, "author", shared(post.author))
    adopt(post, "tags", tuple(shared(tag) for tag in post.tags))
    return path, stamp, post


def _parse_chunk(chunk: list[tuple[Path, Stamp]]) -> list[_Parsed]:
    assert _job is not None
    return _parse_some(chunk, *_job)


def _parse_some(
    chunk: list[tuple[Path, Stamp]], content_dir: Path, zone: ZoneInfo
) -> list[_Parsed]:
    done: list[_Parsed] = []
    for path, stamp in chunk:
        try:
            post = read_post(path, content_dir, zone)
            done.append((path, stamp, dataclasses.replace(post, body_text=None)))
        except BroadsheetErrors as exc:
            done.append((path, stamp, list(exc.errors)))
        except BroadsheetError as exc:
            done.append((path, stamp, [exc]))
    return done
