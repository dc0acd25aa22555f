"""Photographs: probed, oriented, converted to sRGB, stripped of metadata, resized and
encoded (AVIF, WebP, JPEG or PNG) into hash-named files, each encoded once."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from broadsheet.config import ImageSettings
from broadsheet.images.info import ImageError, ImageInfo
from broadsheet.images.publish import (
    MEDIA,
    Crop,
    ImageFile,
    ImageOutcome,
    ImageRequest,
    Picture,
    Source,
    publish_images,
)


def probe(path: Path, settings: ImageSettings | None = None) -> ImageInfo:
    """The ImageInfo of the image file at `path`; raises ImageError naming it."""
    from broadsheet.images import header  # (Pillow: only when asked)

    return header.probe(path, settings)


def probe_images(
    paths: Iterable[Path], settings: ImageSettings | None = None
) -> tuple[dict[Path, ImageInfo], list[ImageError]]:
    """Every image at `paths` probed: what each is, and every error (for `check`)."""
    from broadsheet.images import header

    return header.probe_images(paths, settings)


__all__ = [
    "MEDIA",
    "Crop",
    "ImageError",
    "ImageFile",
    "ImageInfo",
    "ImageOutcome",
    "ImageRequest",
    "Picture",
    "Source",
    "probe",
    "probe_images",
    "publish_images",
]
