"""A build's images and bundle files: which files the shown posts use (all errors at
once, at the posts' lines), the files published beside bundled articles, and each
image as pages show it once the image engine (broadsheet.images) has published it."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from broadsheet.config import SiteConfig
from broadsheet.content.bundles import Folders, Uses, attachments, image_error, uses
from broadsheet.content.post import Post
from broadsheet.errors import BroadsheetError, BroadsheetErrors
from broadsheet.publish.statics import published_whole, site_folders
from broadsheet.render.pictures import Shown
from broadsheet.stamps import racy_after, stamp_file

if TYPE_CHECKING:
    from broadsheet.images import Picture
    from broadsheet.outputs.site import Site
    from broadsheet.publish.stage import Stage

FILE_SIGNATURE = "file:"  # a bundle file's entry among the build cache's page signatures


@dataclass(frozen=True)
class Featured:
    """A post's featured image, as its pages and feeds show it."""

    shown: Shown
    alt: str
    caption: str | None
    credit: str | None
    mime: str
    url: str  # the widest fallback file's absolute URL (og:image, the Atom entry)
    crops: tuple[str, ...]  # absolute URLs of the 16:9, 4:3 and 1:1 crops (JSON-LD)


@dataclass
class Media:
    """What the shown posts use; `publish` fills in how each image is shown."""

    config: SiteConfig
    folders: Folders
    used: dict[Path, Uses] = field(default_factory=dict)  # post path -> what it shows
    pictures: dict[Path, Picture] = field(default_factory=dict)  # source -> published
    encoded: int = 0  # images decoded and encoded by this build (the rest came cached)
    posts: dict[Path, Post] = field(default_factory=dict)  # the posts that show images

    def pictures_for(self, post: Post) -> dict[str, Shown]:
        """The post's body images as published, by `src` as written."""
        found = self.used.get(post.path)
        if found is None:
            return {}
        return {src: shown(self.pictures[path]) for src, path in found.images.items()}

    def featured(self, post: Post) -> Featured | None:
        found = self.used.get(post.path)
        if found is None or found.featured is None or post.image_alt is None:
            return None
        picture = self.pictures[found.featured]
        base = self.config.base_url
        crops = tuple(urljoin(base, crop.url) for crop in picture.crops)
        return Featured(
            shown(picture), post.image_alt, post.image_caption, post.image_credit,
            picture.mime, urljoin(base, picture.src), crops,
        )  # fmt: skip

    def publish(self, stage: Stage, cache: Path | None, jobs: int | None) -> None:
        """Publish every image the posts use into `stage` (and drop those no post uses any
        more); an image that cannot be published is an error at each line that shows it."""
        from broadsheet.images import ImageError, ImageRequest, publish_images

        requests = [
            ImageRequest(path, crops=path == found.featured)
            for found in self.used.values()
            for path in found.files()
        ]
        try:
            outcome = publish_images(self.config, requests, stage, cache, jobs)
        except BroadsheetErrors as exc:
            raise BroadsheetErrors(self._at_posts(exc.errors)) from None
        except ImageError as exc:
            raise BroadsheetErrors(self._at_posts([exc])) from None
        self.pictures = outcome.pictures
        self.encoded = outcome.encoded

    def _at_posts(self, errors: tuple[BroadsheetError, ...] | list[Any]) -> list[BroadsheetError]:
        """Each image's error, at every line of a shown post that uses the image."""
        found: list[BroadsheetError] = []
        for error in errors:
            reason = getattr(error, "reason", error.message)
            shown_in = [
                image_error(
                    self.posts[path], src or str(self.posts[path].image), reason, src is None
                )
                for path, src in self._users(error.path)
            ]
            found += shown_in or [error]
        return found

    def _users(self, source: Path | None) -> list[tuple[Path, str | None]]:
        """(post path, src as written, or None for its featured image) of each use."""
        users: list[tuple[Path, str | None]] = []
        for post_path, found in sorted(self.used.items()):
            users += [(post_path, src) for src, path in found.images.items() if path == source]
            if found.featured == source:
                users.append((post_path, None))
        return users


def gather(config: SiteConfig, posts: list[Post], folders: Folders) -> tuple[Media, list[Post]]:
    """What each post shows, and the posts, each with a hash of the image files it
    shows (their stamps: see broadsheet.stamps) and of the image settings: an edited
    photo changes the pages that show it. Raises every reference that names no file, at
    its post's line."""
    media = Media(config, folders)
    errors: list[BroadsheetError] = []
    marked = []
    racy = racy_after()
    settings = repr(config.images)
    for post in posts:
        if post.image is None and not post.images and not post.unlabelled:
            marked.append(post)
            continue
        found, problems = uses(post, folders)
        errors += problems
        media.used[post.path] = found
        media.posts[post.path] = post
        files = found.files()
        key = repr([settings, *(_stamp(path, racy) for path in files)])
        marked.append(dataclasses.replace(post, media=_digest(key)))
    if errors:  # and, so that all are reported at once, those of the images found
        from broadsheet.images import probe_images

        sources = [path for found in media.used.values() for path in found.files()]
        errors += media._at_posts(probe_images(sorted(set(sources)), config.images)[1])
        raise BroadsheetErrors(errors)
    return media, marked


def _stamp(path: Path, racy: int) -> Any:
    try:
        return stamp_file(str(path), racy)
    except OSError:  # gone since the walk: publishing it says so, naming it
        return None


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def shown(picture: Picture) -> Shown:
    """An image as templates and Markdown show it."""
    srcset = picture.fallback.srcset if picture.kind == "raster" else ""
    sources = tuple((source.mime, source.srcset) for source in picture.sources)
    return Shown(picture.src, picture.width, picture.height, srcset, sources)


def copy_attachments(
    site: Site,
    folders: Folders,
    stage: Stage,
    previous: set[str],
    pages: set[str],
    statics: set[str],
) -> dict[str, str]:
    """Publish each shown bundle's files beside its article (only those whose bytes
    changed are written), and remove those of `previous` no bundle has now. A file
    where a page or a file of static/ is published is an error naming both. Returns the
    entries to keep among the build cache's signatures, so the next build knows them."""
    published: dict[str, str] = {}
    errors = []
    static_folders = {f for name in statics for f in site_folders(name)}
    for post in site.posts:
        for relative, source in attachments(post, folders):
            if relative in pages:
                message = f"would overwrite the page {relative}; rename the file"
                errors.append(BroadsheetError(message, source))
                continue
            clash = _static_clash(relative, statics, static_folders)
            if clash is not None:
                errors.append(BroadsheetError(f"{clash}; rename one", source))
                continue
            try:
                stage.write_bytes(relative, published_whole(source))
            except BroadsheetError as exc:
                errors.append(exc)
                continue
            published[relative] = FILE_SIGNATURE + str(source)
    if errors:
        raise BroadsheetErrors(errors)
    for gone in sorted(previous - published.keys() - pages):
        stage.remove(gone)
    return published


def _static_clash(relative: str, statics: set[str], folders: set[str]) -> str | None:
    """How a bundle's file at the site path `relative` clashes with static/'s files
    (published at `statics`, in `folders`), if it does."""
    if relative in statics:
        return f"would overwrite static/{relative}, published at {relative} too"
    if relative in folders:
        return f"is where static/{relative}/ is published, as a folder"
    above = next((f for f in site_folders(relative) if f in statics), None)
    if above is not None:
        return f"needs a folder where static/{above} is published"
    return None


def split_signatures(
    signatures: dict[str, str], pages: int | None = None
) -> tuple[dict[str, str], set[str]]:
    """The build cache's page signatures, and the bundle files it recorded apart. (With
    no bundle file, as a rule, the signatures given: not copied. Neither is changed.)
    `pages`: how many of them are pages, if known (the cache's page_count, saved with
    them): when all are, none is looked at (30,000, three times a build)."""
    if pages == len(signatures):
        return signatures, set()
    files = {path for path, value in signatures.items() if value.startswith(FILE_SIGNATURE)}
    if not files:
        return signatures, files
    return {p: v for p, v in signatures.items() if p not in files}, files


MediaFor = Callable[[Post], dict[str, Shown]]
