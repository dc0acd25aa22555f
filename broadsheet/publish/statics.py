"""Copy static/ into the output, and the generated Pygments stylesheet."""

from __future__ import annotations

import bisect
from pathlib import Path

from broadsheet.errors import BroadsheetError
from broadsheet.images.publish import MEDIA
from broadsheet.images.store import NAME
from broadsheet.images.strip import metadata_kept, strip_metadata
from broadsheet.paths import read_source, source_files
from broadsheet.publish.stage import Stage
from broadsheet.render.markdown import pygments_css
from broadsheet.search.store import INDEX_PARTS, SEARCH_DIR

PYGMENTS_CSS = "css/pygments.css"


def static_files(static_dir: Path) -> list[tuple[str, Path]]:
    """(output path, source) for every file below static/, hidden files excepted,
    or an error naming every file there that cannot be published (broadsheet.paths)."""
    files = []
    for name in source_files(static_dir):  # an unreadable file or a bad link is an error
        source = Path(name)
        files.append((source.relative_to(static_dir).as_posix(), source))
    return sorted(files)


def copy_static(
    static_dir: Path, stage: Stage, generated: set[str], state: Path | None = None
) -> set[str]:
    """Copy static/ over (only what differs), its photos without their metadata; a file
    that would shadow a page is an error. Returns the site paths it published.
    The Pygments stylesheet is kept in the build's `state` folder, when it has one."""
    files = static_files(static_dir)
    clashes = static_clashes(files, generated)
    if clashes:
        raise clashes[0]
    for relative, source in files:
        stage.write_bytes(relative, published_whole(source))
    stage.write_text(PYGMENTS_CSS, pygments_css(state / "pygments.css" if state else None))
    return {relative for relative, _ in files}


def published_whole(source: Path) -> bytes:
    """A file published as it is (of static/, or a bundle's), its photos' metadata
    taken out whatever their names (no GPS position leaks out), or an error for an image
    whose metadata cannot be (AVIF, HEIF, TIFF)."""
    data = strip_metadata(read_source(source))
    kind = metadata_kept(data)
    if kind is not None:
        raise BroadsheetError(
            f"this {kind} image holds metadata (EXIF or XMP: a camera, a GPS position) "
            "that Broadsheet cannot take out of it without encoding it again: remove it "
            "(exiftool -all= FILE), or save the image as JPEG, PNG or WebP",
            source,
        )
    return data


def static_clashes(files: list[tuple[str, Path]], generated: set[str]) -> list[BroadsheetError]:
    """An error for each static file (output path, source) that would shadow a page, or
    stand where a page needs a folder (or need one where a page is).

    A few static files against every page: each is looked up in the sorted page paths,
    not every page's folders listed (17,000 pages at 10,000 articles)."""
    pages = sorted(generated)
    errors = []
    for relative, source in files:
        if relative in generated or relative == PYGMENTS_CSS:
            errors.append(BroadsheetError(f"would overwrite the generated page {relative}", source))
        elif relative.startswith(f"{MEDIA}/") and NAME.fullmatch(relative[len(MEDIA) + 1 :]):
            message = f"is named as the photos the build publishes in {MEDIA}/: rename it"
            errors.append(BroadsheetError(message, source))
        elif relative == MEDIA:
            message = f"is where the build needs the folder {MEDIA}/ for its photos: rename it"
            errors.append(BroadsheetError(message, source))
        elif part := _index_part(relative):
            message = f"is where the build writes its search index ({part}): rename it"
            errors.append(BroadsheetError(message, source))
        elif inside := _first_inside(pages, relative):  # a file and a folder cannot share a name
            message = f"is where the generated page {inside} needs a folder"
            errors.append(BroadsheetError(message, source))
        elif above := next((f for f in site_folders(relative) if f in generated), None):
            message = f"needs a folder where the generated page {above} is"
            errors.append(BroadsheetError(message, source))
    return errors


def _index_part(relative: str) -> str | None:
    """The part of the search index (search/meta.json, or one of its folders) that a
    static file at `relative` would stand in, or take the place of; None if none."""
    top, _, rest = relative.partition("/")
    part = rest.split("/", 1)[0]
    if top != SEARCH_DIR or part not in INDEX_PARTS:
        return None
    return f"{SEARCH_DIR}/{part}" + ("/" if part != "meta.json" else "")


def _first_inside(pages: list[str], folder: str) -> str | None:
    """The first of the sorted `pages` below `folder`, if any."""
    prefix = f"{folder}/"
    at = bisect.bisect_left(pages, prefix)
    return pages[at] if at < len(pages) and pages[at].startswith(prefix) else None


def site_folders(name: str) -> list[str]:
    """The folders a site path is in: "a", "a/b" for "a/b/index.html"."""
    parts = name.split("/")[:-1]
    return ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
