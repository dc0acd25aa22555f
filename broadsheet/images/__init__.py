"""Photographs: probed, oriented, converted to sRGB, stripped of metadata, resized and
encoded (AVIF, WebP, JPEG or PNG) into hash-named files, each encoded once."""

from __future__ import annotations

from broadsheet.images.probe import ImageError, ImageInfo, probe, probe_images
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
