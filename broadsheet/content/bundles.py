"""Where a post's images and files come from: its page bundle, the folder beside a flat
post, or static/ for a site path; each reference resolved to a file of the one strict
walk of the sources (broadsheet.paths), or an error at the post's line naming it."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Collection, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote, urlsplit

from broadsheet.content.post import Post
from broadsheet.errors import BroadsheetError, display_path

# Files a bundle does not publish as they are: images are published only as the
# build processes them (resized, their metadata stripped: no GPS position leaks out).
IMAGE_SUFFIXES = frozenset(
    ".jpg .jpeg .jpe .jfif .png .gif .webp .avif .svg .tif .tiff .bmp .heic .heif .ico".split()
)


@dataclass(frozen=True)
class Folders:
    """The walked sources: every file below content/ and static/, as path strings."""

    content: Path
    static: Path
    files: AbstractSet[str]

    @cached_property
    def bundled(self) -> dict[str, list[str]]:
        """The files below content/ by the folder content/<section>/<slug> they are in:
        worked out once, so that finding a bundle's files costs no walk of them all."""
        prefix = f"{self.content}{os.sep}"
        found: dict[str, list[str]] = {}
        for name in self.files:
            if name.startswith(prefix):
                parts = name[len(prefix) :].split(os.sep, 2)
                if len(parts) == 3:
                    found.setdefault(prefix + os.sep.join(parts[:2]), []).append(name)
        return found

    @classmethod
    def from_stamps(
        cls, root: Path, content: Path, static: Path, names: Collection[str]
    ) -> Folders:
        """From the build's source stamps, named relative to the project `root`."""
        return cls(content, static, _Below(f"{root}{os.sep}", names))


class _Below(AbstractSet[str]):
    """The path strings of the files `names` names below `prefix` (a folder and os.sep):
    each made only when asked for. Made all at once, they were 17 MB of an edit's peak
    at 100,000 articles, for the few a build's posts show."""

    def __init__(self, prefix: str, names: Collection[str]):
        self.prefix = prefix
        self.names = names if isinstance(names, (AbstractSet, Mapping)) else frozenset(names)

    def __contains__(self, path: object) -> bool:
        prefix = self.prefix
        return type(path) is str and path.startswith(prefix) and path[len(prefix) :] in self.names

    def __iter__(self) -> Iterator[str]:
        return (self.prefix + name for name in self.names)

    def __len__(self) -> int:
        return len(self.names)


@dataclass
class Uses:
    """What one post shows: each image reference (as written) and the file it names."""

    images: dict[str, Path] = field(default_factory=dict)  # body's src -> file
    featured: Path | None = None  # front matter `image`

    def files(self) -> list[Path]:
        return [*self.images.values(), *([self.featured] if self.featured else [])]


def resolve(post: Post, src: str, folders: Folders, literal: bool = False) -> Path | str:
    """The file an image reference names, or why there is none: a site path
    (/images/x.jpg) is a file of static/; any other path is relative to the post's
    folder (its bundle, or the section folder of a flat post), inside content/.
    `src` is a URL (`a%23b.jpg`), or with `literal` a file's name as it is (`a#b.jpg`)."""
    path = src if literal else unquote(urlsplit(src).path)
    if path.startswith("/"):
        base, shown = folders.static, f"{display_path(folders.static)}/"
        candidate = posixpath.normpath(path.lstrip("/"))
    else:
        base, shown = folders.content, f"{display_path(folders.content)}/"
        relative = post.folder.relative_to(folders.content).as_posix()
        candidate = posixpath.normpath(posixpath.join(relative, path))
    if candidate == ".." or candidate.startswith("../") or candidate == ".":
        return f"it leads outside {shown}"
    target = base / candidate
    if str(target) in folders.files:
        return target
    if any(part.startswith(".") for part in Path(candidate).parts):
        return f"{display_path(target)} is hidden, and hidden files are never published"
    if os.path.lexists(target):  # refused by the walk, which says why
        return f"{display_path(target)} cannot be published (see the error that names it)"
    return f"there is no such file ({display_path(target)})"


def uses(post: Post, folders: Folders) -> tuple[Uses, list[BroadsheetError]]:
    """The files `post` shows, and an error at its line for each reference that names
    no file."""
    found = Uses()
    errors: list[BroadsheetError] = []
    if post.image is not None and post.image_alt is None:
        why = "needs image_alt: a description of the picture for readers who cannot see it"
        errors.append(image_error(post, post.image, why, featured=True))
    for src in post.unlabelled:
        why = (
            "has no alt text: describe it for readers who cannot see it, "
            "as in ![Boats in the harbour](boats.jpg)"
        )
        errors.append(image_error(post, src, why, shown_as=f"![]({src}"))
    if post.image is not None:  # a file's name (a#b.jpg), or written as a URL (a%23b.jpg)
        target = resolve(post, post.image, folders, literal=True)
        if not isinstance(target, Path) and isinstance(
            decoded := resolve(post, post.image, folders), Path
        ):
            target = decoded
        if isinstance(target, Path):
            found.featured = target
        else:
            errors.append(image_error(post, post.image, target, featured=True))
    for src in post.images:
        target = resolve(post, src, folders)
        if isinstance(target, Path):
            found.images[src] = target
        else:
            errors.append(image_error(post, src, target))
    return found, errors


def image_error(
    post: Post, src: str, why: str, featured: bool = False, shown_as: str = ""
) -> BroadsheetError:
    """`path:line: image <src>: <why>`, at the line that names the image (the one that
    shows it as `shown_as`, when that is found: of a photo shown twice, the use at fault)."""
    if featured:
        return BroadsheetError(f"image: {src}: {why}", post.path, key_line(post, "image"))
    return BroadsheetError(f"image {src}: {why}", post.path, body_line_of(post, src, shown_as))


def key_line(post: Post, key: str) -> int:
    """The line of a front matter key (the first line when it cannot be found)."""
    try:
        text = post.path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return 1
    for number, line in enumerate(text.split("\n")[: post.body_line], start=1):
        if line.startswith(f"{key}:"):
            return number
    return 1


def body_line_of(post: Post, src: str, shown_as: str = "") -> int:
    """The line of the body that shows the image `src` (as the Markdown `shown_as`, if
    given and found; else its first use)."""
    from broadsheet.author.lines import SourceLines, Value

    try:
        body = post.body
    except BroadsheetError:
        return post.body_line
    lines = SourceLines(body, post.body_line)
    found = lines.find_line(shown_as) if shown_as else None
    return found if found is not None else lines.line_of(Value(src))


def attachments(post: Post, folders: Folders) -> list[tuple[str, Path]]:
    """A bundle's files published beside its article (output path, source): all but its
    index.md and its images (published only as processed). A flat post has none."""
    if not post.bundle:
        return []
    prefix = f"{post.folder}{os.sep}"
    found = []
    for name in folders.bundled.get(str(post.folder), []):
        if name.startswith(prefix):
            relative = name[len(prefix) :].replace(os.sep, "/")
            if relative != "index.md" and Path(relative).suffix.lower() not in IMAGE_SUFFIXES:
                found.append((post.url_path + relative, Path(name)))
    return sorted(found)
