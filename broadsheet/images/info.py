"""What the image package's parts tell each other, with no Pillow to import: a build
that finds every image in its cache never loads Pillow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from broadsheet.errors import BroadsheetError

Kind = Literal["raster", "animated", "svg"]
# Pillow's names of the formats we publish from, and how they are sent.
RASTER_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif",
                  "WEBP": "image/webp", "AVIF": "image/avif", "TIFF": "image/tiff"}  # fmt: skip
SVG_MIME = "image/svg+xml"


class ImageError(BroadsheetError):
    """An image that cannot be published; `reason` says why, without the path, so that
    a post can name it at its own line."""

    def __init__(self, reason: str, path: Path | str | None = None, line: int | None = None):
        super().__init__(reason, path, line)
        self.reason = reason


@dataclass(frozen=True)
class ImageInfo:
    """What an image file is: its size as shown, its kind and format, and whether it has
    transparency."""

    width: int  # as shown: after EXIF orientation
    height: int
    kind: Kind  # "raster" is resized and re-encoded; "animated" and "svg" are copied
    format: str  # Pillow's name ("JPEG", "PNG", ...), or "SVG"
    mime: str
    alpha: bool  # it has an alpha channel or a transparent colour (maybe all opaque)
    orientation: int = 1  # the EXIF orientation applied to show it


MIMES = {"avif": "image/avif", "webp": "image/webp", "jpeg": "image/jpeg", "png": "image/png"}


@dataclass(frozen=True)
class Encoded:
    """One published file: `role` is a format ("avif", "webp", "jpeg", "png") for the
    srcsets, "crop-16x9" (and so on) for a crop, or "original" for a file copied whole."""

    role: str
    extension: str
    mime: str
    width: int
    height: int
    data: bytes
