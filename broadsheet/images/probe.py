"""What an image is, or why it cannot be published: Pillow is loaded only when an image
must be looked at (broadsheet.images.header does the looking)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from broadsheet.config import ImageSettings
from broadsheet.images.info import ImageError, ImageInfo


def probe(path: Path, settings: ImageSettings | None = None) -> ImageInfo:
    """The ImageInfo of the image file at `path` (its header and tail read, not its
    pixels); raises ImageError naming it."""
    from broadsheet.images import header

    return header.probe(path, settings)


def probe_images(
    paths: Iterable[Path], settings: ImageSettings | None = None
) -> tuple[dict[Path, ImageInfo], list[ImageError]]:
    """Every image at `paths` probed: what each is, and every error (for `check`)."""
    from broadsheet.images import header

    return header.probe_images(paths, settings)


__all__ = ["ImageError", "ImageInfo", "probe", "probe_images"]
