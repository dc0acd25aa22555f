"""The images the posts use -> published files in one site-wide folder, and what a page
needs to show each (a Picture): encoded across the worker pool, each file once."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from broadsheet.config import IMAGE_FORMATS, ImageSettings, SiteConfig
from broadsheet.errors import BroadsheetError, BroadsheetErrors
from broadsheet.images.info import MIMES, SVG_MIME, Encoded, ImageError, Kind
from broadsheet.images.store import (
    NAME,
    Entry,
    ImageStore,
    entry_key,
    file_name,
    legacy_source_digest,
    source_digest,
)
from broadsheet.paths import read_source
from broadsheet.publish import timing
from broadsheet.publish.stage import Stage
from broadsheet.stamps import racy_after

PARTS = ("srcsets", "crops")
MEDIA = "media"  # the site-wide folder every published image is in


@dataclass(frozen=True)
class ImageRequest:
    """An image to publish, and whether its crops are wanted too."""

    source: Path  # the image file, absolute
    crops: bool = False  # a featured image: also the crops for NewsArticle JSON-LD


@dataclass(frozen=True)
class ImageFile:
    """One published file of an image: its URL and size."""

    url: str  # under the site's base path: "/archive/media/0123456789abcdef-800.webp"
    width: int
    height: int


@dataclass(frozen=True)
class Source:
    """One format of a picture, in every width published, narrowest first."""

    mime: str
    files: tuple[ImageFile, ...]

    @property
    def srcset(self) -> str:
        return ", ".join(f"{f.url} {f.width}w" for f in self.files)


@dataclass(frozen=True)
class Crop:
    """A crop of a featured image, published for NewsArticle JSON-LD."""

    ratio: str  # "16:9", "4:3" or "1:1"
    url: str
    width: int
    height: int


@dataclass(frozen=True)
class Picture:
    """An image as a page shows it: its published sources, fallback and crops."""

    kind: Kind  # "raster"; or "animated" / "svg", copied as they are (no sources, no crops)
    width: int  # the widest file published (for <img width height>)
    height: int
    sources: tuple[Source, ...]  # the modern formats (AVIF, WebP), best first
    fallback: Source  # JPEG, or PNG when the image has transparency; or the copied file
    crops: tuple[Crop, ...] = ()  # when asked for (a featured image)

    @property
    def src(self) -> str:
        """The widest fallback file: the <img src>, og:image."""
        return self.fallback.files[-1].url

    @property
    def mime(self) -> str:
        return self.fallback.mime


@dataclass(frozen=True)
class ImageOutcome:
    """What publishing the site's images gave: each source's picture, and the files."""

    pictures: dict[Path, Picture]
    encoded: int  # sources decoded and encoded by this call (0 when all came from the cache)
    files: frozenset[str]  # every published file, relative to the site ("media/...")


@dataclass(frozen=True)
class _Task:
    """The work of one image for a worker: its source, what to make, and how."""

    source: Path
    parts: tuple[str, ...]  # "srcsets", "crops"
    settings: ImageSettings


def publish_images(
    config: SiteConfig,
    requests: Iterable[ImageRequest],
    stage: Stage,
    cache: Path | None,
    jobs: int | None = None,
) -> ImageOutcome:
    """Write into `stage` every file the requested images need (from the cache folder
    `cache` where it has them, else encoded across `jobs` processes), remove the ones
    no request needs any more, and say how to show each image. Raises the ImageErrors
    of every image that cannot be published, all at once."""
    wanted: dict[Path, bool] = {}
    for request in requests:
        wanted[request.source] = wanted.get(request.source, False) or request.crops
    store = ImageStore(cache)
    published = _Published(stage, stage.names(MEDIA, ""))
    with timing.stage(f"images: {len(wanted)} looked up"):
        encoders = store.encoders()
        found, tasks, errors = _look_up(config.images, encoders, wanted, store, published)
    with timing.stage(f"images: {len(tasks)} encoded"):
        for task, result in _encode_all(list(tasks), jobs):
            if isinstance(result, ImageError):
                errors.append(result)
                continue
            digest, encoded = result
            for part in task.parts:
                key = entry_key(digest, config.images, part, encoders)
                made = [e for e in encoded if e.role.startswith("crop-") == (part == "crops")]
                entries = _keep(store, published, key, made)
                for source in tasks[task]:
                    if part == "srcsets" or wanted[source]:
                        found[source, part] = (key, entries)
    if errors:
        raise errors[0] if len(errors) == 1 else BroadsheetErrors(errors)
    files = {f"{MEDIA}/{e.name}" for _, entries in found.values() for e in entries}
    _prune(published, files)
    for key, entries in found.values():
        store.use(key, [e.name for e in entries])
    store.finish(set(wanted))
    pictures = {
        source: _picture(config, found[source, "srcsets"][1], found.get((source, "crops")))
        for source in wanted
    }
    return ImageOutcome(pictures, len(tasks), frozenset(files))


Found = dict[tuple[Path, str], tuple[str, list[Entry]]]  # (source, part) -> key, its files


def _look_up(
    settings: ImageSettings,
    encoders: list[Any],
    wanted: dict[Path, bool],
    store: ImageStore,
    published: _Published,
) -> tuple[Found, dict[_Task, list[Path]], list[ImageError]]:
    """What the cache holds of each wanted image (its files staged), and what is left
    to encode: one task for each set of bytes, with the sources that hold them."""
    racy = racy_after()
    found: Found = {}
    missing: dict[str, tuple[set[str], list[Path]]] = {}  # digest -> parts, sources
    errors: list[ImageError] = []
    for source, crops in sorted(wanted.items()):
        try:
            digest = store.digest(source, racy)
        except ImageError as exc:
            errors.append(exc)
            continue
        for part in PARTS if crops else PARTS[:1]:
            key = entry_key(digest, settings, part, encoders)
            entries = _from_cache(store, published, key)
            if entries is None:
                entries = _from_legacy(store, published, source, key, (settings, part, encoders))
            if entries is not None:
                found[source, part] = (key, entries)
                continue
            parts, sources = missing.setdefault(digest, (set(), []))
            parts.add(part)
            if source not in sources:
                sources.append(source)
    tasks = {
        _Task(sources[0], tuple(p for p in PARTS if p in parts), settings): sources
        for parts, sources in missing.values()
    }
    return found, tasks, errors


@dataclass
class _Published:
    """The stage, and the names of the files in its media folder (listed once: a
    rebuild looks up thousands)."""

    stage: Stage
    names: set[str]

    def write(self, name: str, data: bytes) -> None:
        if name not in self.names:  # the name is the hash of the bytes: the same bytes
            self.stage.write_bytes(f"{MEDIA}/{name}", data)
            self.names.add(name)


def _from_cache(store: ImageStore, published: _Published, key: str) -> list[Entry] | None:
    """The files of the cache's entry `key`, staged; None if it lacks any of them."""
    entries = store.entry(key)
    if entries is None:
        return None
    for entry in entries:
        if entry.name in published.names:
            continue
        data = store.file(entry.name)
        if data is None or file_name_of(data, entry) != entry.name:
            return None
        published.write(entry.name, data)
    return entries


def _from_legacy(
    store: ImageStore,
    published: _Published,
    source: Path,
    key: str,
    recipe: tuple[ImageSettings, str, list[Any]],
) -> list[Entry] | None:
    """The files an earlier version kept for the same bytes and recipe (`entry_key`'s
    other arguments), under the key it made from their blake2b hash, staged: found
    once, and kept under `key` from then on (the same files). A cache made before
    sources were hashed by XXH3 is hours of encoding for a large archive; a source the
    cache has never seen costs one more read of its bytes."""
    try:
        data = read_source(source)
    except BroadsheetError:
        return None  # (encoding reports it)
    old = entry_key(legacy_source_digest(data), *recipe)
    entries = _from_cache(store, published, old)
    if entries is not None:
        store.alias(key, entries)
    return entries


def file_name_of(data: bytes, entry: Entry) -> str:
    extension = entry.name.rsplit(".", 1)[-1]
    return file_name(Encoded(entry.role, extension, entry.mime, entry.width, entry.height, data))


def _keep(store: ImageStore, published: _Published, key: str, made: list[Encoded]) -> list[Entry]:
    files = [(Entry(file_name(e), e.role, e.mime, e.width, e.height), e.data) for e in made]
    for entry, data in files:
        published.write(entry.name, data)
    store.put(key, files)
    return [entry for entry, _ in files]


def _encode_all(
    tasks: list[_Task], jobs: int | None
) -> Iterator[tuple[_Task, tuple[str, list[Encoded]] | ImageError]]:
    """Each task with what it made, as they come: across the worker pool when there
    is more than one (each worker holds one image at a time: memory stays bounded)."""
    processes = min(jobs or len(os.sched_getaffinity(0)), len(tasks))
    if processes <= 1:
        for task in tasks:
            yield task, _encode_task(task)
        return
    from broadsheet.workers import worker_pool

    with worker_pool(processes, "encoding images") as pool:
        yield from pool.imap_unordered(_run_task, tasks)


def _run_task(task: _Task) -> tuple[_Task, tuple[str, list[Encoded]] | ImageError]:
    return task, _encode_task(task)


def _encode_task(task: _Task) -> tuple[str, list[Encoded]] | ImageError:
    """The hash of the source's bytes and the files made from them, or why not."""
    try:
        data = read_source(task.source)
    except BroadsheetError as exc:
        return ImageError(f"cannot read the image: {exc.message}", task.source)
    from broadsheet.images.encode import encode_image  # (Pillow: only when encoding)

    try:
        made = encode_image(data, task.source, task.settings, *(p in task.parts for p in PARTS))
    except ImageError as exc:
        return exc
    except (OSError, ValueError, MemoryError) as exc:  # an encoder's own failure
        return ImageError(f"cannot be encoded: {exc}", task.source)
    return source_digest(data), made


def _prune(published: _Published, files: set[str]) -> None:
    """Remove the published images no page uses any more."""
    for name in sorted(published.names - {f.removeprefix(f"{MEDIA}/") for f in files}):
        if NAME.fullmatch(name):  # (not a file of static/'s)
            published.stage.remove(f"{MEDIA}/{name}")


def _picture(
    config: SiteConfig, srcsets: list[Entry], crops: tuple[str, list[Entry]] | None
) -> Picture:
    base = f"{config.base_path}{MEDIA}/"

    def source(mime: str, entries: list[Entry]) -> Source:
        ordered = sorted(entries, key=lambda e: e.width)
        return Source(mime, tuple(ImageFile(base + e.name, e.width, e.height) for e in ordered))

    if len(srcsets) == 1 and srcsets[0].role == "original":
        only = srcsets[0]
        kind: Kind = "svg" if only.mime == SVG_MIME else "animated"
        return Picture(kind, only.width, only.height, (), source(only.mime, srcsets))
    by_role: dict[str, list[Entry]] = {}
    for entry in srcsets:
        by_role.setdefault(entry.role, []).append(entry)
    fallback_role = "png" if "png" in by_role else "jpeg"
    modern = tuple(source(MIMES[r], by_role[r]) for r in IMAGE_FORMATS if r in by_role)
    fallback = source(MIMES[fallback_role], by_role[fallback_role])
    widest = fallback.files[-1]
    shapes = tuple(
        Crop(e.role.removeprefix("crop-").replace("x", ":"), base + e.name, e.width, e.height)
        for e in (crops[1] if crops is not None else [])
    )
    return Picture("raster", widest.width, widest.height, modern, fallback, shapes)
