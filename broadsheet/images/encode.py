"""One source image -> the files published for it: EXIF orientation applied, colour
converted to sRGB, every other piece of metadata left behind, resized to the widths
asked for (never wider than the original) and encoded in each format."""

from __future__ import annotations

import io
import math
from pathlib import Path

from PIL import Image, ImageCms, ImageOps

from broadsheet.config import ImageSettings
from broadsheet.images.header import (
    SRGB,
    colour_profile,
    open_image,
    probe_bytes,
    profile_error,
)
from broadsheet.images.info import MIMES, Encoded, ImageError, ImageInfo
from broadsheet.images.strip import strip_metadata

CROPS = ((16, 9), (4, 3), (1, 1))  # the shapes Google asks of a NewsArticle's image
CROP_WIDTH = 1200  # and at least this wide, where the original allows
_EXTENSIONS = {"avif": "avif", "webp": "webp", "jpeg": "jpg", "png": "png"}
WEBP_MAX = 16_383  # WebP's longest side: a taller image (an infographic) has no WebP


def published_widths(width: int, wanted: tuple[int, ...]) -> list[int]:
    """The srcset widths for an image `width` pixels wide: those asked for that are
    narrower, and the original's own width when it is narrower than the widest asked."""
    widths = [w for w in wanted if w < width]
    if width <= max(wanted):
        widths.append(width)
    return widths


def crop_sizes(width: int, height: int) -> list[tuple[str, int, int, int, int]]:
    """For each crop: its name, the centred region's width and height in the original,
    and the size it is published at."""
    sizes = []
    for across, down in CROPS:
        region_w = max(1, min(width, height * across // down))
        region_h = max(1, min(height, region_w * down // across))
        out_w = min(region_w, CROP_WIDTH)
        out_h = max(1, round(out_w * down / across))
        sizes.append((f"crop-{across}x{down}", region_w, region_h, out_w, out_h))
    return sizes


def encode_image(
    data: bytes, path: Path, settings: ImageSettings, srcsets: bool, crops: bool
) -> list[Encoded]:
    """The files to publish for the image `data` (read from `path`): its srcsets in
    every format, its crops, or both. Animated images and SVGs are copied as they are."""
    info = probe_bytes(data, path, settings)
    if info.kind != "raster":
        if not srcsets:
            return []
        extension = "svg" if info.kind == "svg" else info.format.lower()
        copied = data if info.kind == "svg" else strip_metadata(data)  # no GPS, no XMP
        return [Encoded("original", extension, info.mime, info.width, info.height, copied)]
    widths = published_widths(info.width, settings.widths) if srcsets else []
    regions = crop_sizes(info.width, info.height) if crops else []
    scale = max([w / info.width for w in widths] + [r[3] / r[1] for r in regions])
    image = _decode(data, path, settings, info, scale)
    transparent = image.mode == "RGBA"
    fallback = "png" if transparent else "jpeg"
    formats = settings.formats
    widest = max(widths, default=0)
    if max(widest, round(info.height * widest / info.width)) > WEBP_MAX:
        formats = tuple(f for f in formats if f != "webp")  # (the others at every size)
    found: list[Encoded] = []
    for width in sorted(widths, reverse=True):
        height = max(1, round(info.height * width / info.width))
        resized = _resize(image, width, height)
        for fmt in (*formats, fallback):
            found.append(_encode(resized, fmt, fmt, settings.quality))
    for role, region_w, region_h, out_w, out_h in regions:
        found.append(_encode(_crop(image, info, region_w, region_h, out_w, out_h), role,
                             fallback, settings.quality))  # fmt: skip
    return found


def _decode(
    data: bytes, path: Path, settings: ImageSettings, info: ImageInfo, scale: float
) -> Image.Image:
    """The image's pixels, upright, in sRGB (RGB, or RGBA when some pixel is not
    opaque), decoded no larger than `scale` needs where the format allows (JPEG)."""
    with open_image(io.BytesIO(data), path, settings) as image:
        if image.format == "JPEG" and scale < 1:
            stored_w, stored_h = image.size
            image.draft(None, (math.ceil(stored_w * scale), math.ceil(stored_h * scale)))
        try:
            image.load()
        except (OSError, SyntaxError, ValueError, EOFError, RuntimeError) as exc:  # (AVIF)
            raise ImageError(f"corrupt or truncated image: {exc}", path) from exc
        except Image.DecompressionBombError as exc:  # pragma: no cover (refused at open)
            raise ImageError(f"refused as a decompression bomb: {exc}", path) from exc
        icc = image.info.get("icc_profile")
        upright = ImageOps.exif_transpose(image) if info.orientation != 1 else image.copy()
    return _to_srgb(upright, icc, path)


def _to_srgb(image: Image.Image, icc: bytes | None, path: Path) -> Image.Image:
    """RGB, or RGBA when some pixel is not opaque: the colour converted from the
    profile `icc` (the alpha channel set aside meanwhile), nothing else kept."""
    image = _eight_bit(image)
    alpha = image.getchannel("A") if image.mode in ("LA", "RGBA") else None
    if alpha is not None:
        low, _ = alpha.getextrema()
        if isinstance(low, (int, float)) and low >= 255:
            alpha = None  # an alpha channel that hides nothing
        image = image.convert(image.mode.removesuffix("A"))
    if icc:
        profile, space = colour_profile(icc, path)
        if space == "RGB" and image.mode == "L":
            image = image.convert("RGB")  # grey tagged with an RGB profile: grey in that space
        try:
            converted = ImageCms.profileToProfile(image, profile, SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
            raise profile_error(exc, path) from exc
        assert converted is not None  # (None only when converting in place)
        image = converted
    elif image.mode != "RGB":
        image = image.convert("RGB")
    if alpha is not None:
        image.putalpha(alpha)
    image.info = {}  # EXIF, GPS, XMP, comments, the profile: none is published
    return image


def _eight_bit(image: Image.Image) -> Image.Image:
    """`image` in a mode the colour conversion takes: L, LA, RGB, RGBA or CMYK."""
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        return image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if mode == "F":
        return image.point(lambda v: v * 255).convert("L")
    if mode in ("L", "RGB") and "transparency" in image.info:  # a PNG's one see-through colour
        return image.convert("RGBA")
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    if mode == "La":
        return image.convert("LA")
    if mode == "RGBa":
        return image.convert("RGBA")
    if mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return image
    return image.convert("RGB")  # 1, YCbCr, LAB, HSV, RGBX


def _resize(image: Image.Image, width: int, height: int) -> Image.Image:
    if image.size == (width, height):
        return image
    return image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)


def _crop(
    image: Image.Image, info: ImageInfo, region_w: int, region_h: int, out_w: int, out_h: int
) -> Image.Image:
    """The centred `region_w` x `region_h` region (in the original's pixels) of `image`
    (decoded maybe smaller), at `out_w` x `out_h`."""
    ratio = image.width / info.width
    left = (info.width - region_w) / 2 * ratio
    top = (info.height - region_h) / 2 * ratio
    box = (left, top, left + region_w * ratio, top + region_h * ratio)
    return image.resize((out_w, out_h), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)


def _encode(image: Image.Image, role: str, fmt: str, quality: int) -> Encoded:
    buffer = io.BytesIO()
    if fmt == "avif":
        image.save(buffer, "AVIF", quality=quality, speed=8)
    elif fmt == "webp":
        image.save(buffer, "WEBP", quality=quality, method=4)
    elif fmt == "jpeg":
        image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
    else:
        image.save(buffer, "PNG", compress_level=6)
    return Encoded(role, _EXTENSIONS[fmt], MIMES[fmt], image.width, image.height,
                   buffer.getvalue())  # fmt: skip
