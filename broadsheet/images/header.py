"""What an image is (size after EXIF orientation, format, alpha, animation), read from
its header and tail without decoding its pixels, or why it cannot be published."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import IO, cast
from xml.etree.ElementTree import Element, ParseError, XMLPullParser

from PIL import Image, ImageCms, UnidentifiedImageError

from broadsheet.config import ImageSettings
from broadsheet.errors import BroadsheetError
from broadsheet.images.info import RASTER_FORMATS, SVG_MIME, ImageError, ImageInfo, Kind
from broadsheet.paths import read_source

_HEIF_BRANDS = {b"ftyp" + brand for brand in (b"heic", b"heix", b"hevc", b"heim", b"mif1", b"msf1")}
_ANIMATED = {"GIF", "PNG", "WEBP", "AVIF"}  # formats browsers animate
_ORIENTATION = 0x0112
_TRANSPOSED = {5, 6, 7, 8}  # EXIF orientations that swap width and height


def probe(path: Path, settings: ImageSettings | None = None) -> ImageInfo:
    """The ImageInfo of the image file at `path`; raises ImageError naming it."""
    try:
        data = read_source(path)
    except BroadsheetError as exc:
        raise ImageError(f"cannot read the image: {exc.message}", path) from exc
    return probe_bytes(data, path, settings or ImageSettings())


def probe_images(
    paths: Iterable[Path], settings: ImageSettings | None = None
) -> tuple[dict[Path, ImageInfo], list[ImageError]]:
    """Every image at `paths` probed: what each is, and every error (for `check`)."""
    found: dict[Path, ImageInfo] = {}
    errors: list[ImageError] = []
    for path in dict.fromkeys(paths):
        try:
            found[path] = probe(path, settings)
        except ImageError as exc:
            errors.append(exc)
    return found, errors


def probe_bytes(data: bytes, path: Path, settings: ImageSettings) -> ImageInfo:
    if _looks_like_svg(data):
        return _probe_svg(data, path)
    with open_image(io.BytesIO(data), path, settings) as image:
        fmt = image.format or "?"
        mime = RASTER_FORMATS[fmt]
        _check_whole(data, image, path)
        # (a TIFF's other pages are not an animation: its first page is published)
        animated = fmt in _ANIMATED and getattr(image, "n_frames", 1) > 1
        orientation = _orientation(image)
        width, height = image.size
        if orientation in _TRANSPOSED:
            width, height = height, width
        alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or ("transparency" in image.info)
        _check_profile(image, path)
        kind: Kind = "animated" if animated else "raster"
        return ImageInfo(width, height, kind, fmt, mime, alpha, orientation)


def open_image(source: IO[bytes], path: Path, settings: ImageSettings) -> Image.Image:
    """The image in `source`, opened (its header read, not its pixels) and checked:
    a format we publish, no more pixels than `settings.max_pixels`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(source)
    except Image.DecompressionBombError as exc:  # (beyond Pillow's own limit, and ours)
        size = re.search(r"\(([0-9]+) pixels\)", str(exc))
        pixels = f"{int(size[1]):,} pixels, " if size else ""
        raise ImageError(
            f"refused as a decompression bomb: {pixels}more than max_pixels "
            f"({settings.max_pixels:,}) in [tool.broadsheet.images]",
            path,
        ) from exc
    except UnidentifiedImageError as exc:
        source.seek(4)
        if source.read(8) in _HEIF_BRANDS:
            raise ImageError(
                "a HEIC/HEIF photo (as phones take them), which browsers cannot show and "
                "Broadsheet cannot read: export it as JPEG",
                path,
            ) from exc
        raise ImageError("not an image (or a format Broadsheet cannot read)", path) from exc
    except (OSError, SyntaxError, ValueError, EOFError, RuntimeError) as exc:  # (AVIF)
        raise ImageError(f"corrupt image: {exc}", path) from exc
    if image.format not in RASTER_FORMATS:
        image.close()
        known = ", ".join(sorted(RASTER_FORMATS)) + ", SVG"
        raise ImageError(f"unsupported image format {image.format} (use one of {known})", path)
    width, height = image.size
    if width < 1 or height < 1:
        image.close()
        raise ImageError(f"corrupt image: it is {width}x{height} pixels", path)
    if width * height > settings.max_pixels:
        image.close()
        raise ImageError(
            f"refused as a decompression bomb: {width}x{height} is {width * height:,} pixels, "
            f"more than max_pixels ({settings.max_pixels:,}) in [tool.broadsheet.images]",
            path,
        )
    return image


_SPACES = {"RGB ": "RGB", "GRAY": "L", "CMYK": "CMYK"}  # ICC colour spaces we convert from


def colour_profile(icc: bytes, path: Path) -> tuple[ImageCms.ImageCmsProfile, str]:
    """The embedded ICC profile `icc`, and the mode of the pixels it describes (RGB, L
    or CMYK), or an ImageError: a profile that cannot be read or is of another space."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        raise profile_error(exc, path) from exc
    space = _SPACES.get(profile.profile.xcolor_space)
    if space is None:
        raise profile_error(f"a profile of {profile.profile.xcolor_space.strip()!r} colour", path)
    return profile, space


def profile_error(why: object, path: Path) -> ImageError:
    return ImageError(
        f"its colour profile (ICC) cannot be applied, so its colours would be wrong: {why}; "
        "save it with an sRGB or no profile",
        path,
    )


def _check_profile(image: Image.Image, path: Path) -> None:
    """That the image's colour profile, if any, converts its pixels (as the encoder will:
    broadsheet.images.encode), found from its header so that `check` reports it."""
    icc = image.info.get("icc_profile")
    if not icc:
        return
    profile, space = colour_profile(icc, path)
    mode = image.mode
    stored = (
        "CMYK"
        if mode == "CMYK"
        else "L"
        if mode in ("L", "LA", "La", "I", "F", "1") or mode.startswith("I;16")
        else "RGB"
    )
    if stored == "L" and space == "RGB":
        stored = "RGB"  # grey tagged with an RGB profile: converted as grey in that space
    if stored != space:
        raise profile_error(f"a profile of {space} colour on {stored} pixels", path)
    try:
        ImageCms.buildTransform(profile, SRGB, stored, "RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        raise profile_error(exc, path) from exc


SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_ORIENTATION, 1)
    except Exception:  # a damaged EXIF block: shown as stored, as browsers do
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _check_whole(data: bytes, image: Image.Image, path: Path) -> None:
    """Refuse a file cut short, from what its format puts at its end (no decoding)."""
    fmt = image.format
    if fmt == "JPEG" and not _jpeg_ends(data):
        raise ImageError("truncated image: the JPEG data ends before its end marker", path)
    if fmt == "GIF" and not data.rstrip(b"\0\r\n ").endswith(b"\x3b"):
        raise ImageError("truncated image: the GIF data ends before its trailer", path)
    if fmt == "WEBP" and len(data) < 8 + int.from_bytes(data[4:8], "little"):
        raise ImageError("truncated image: the WebP file is shorter than it says", path)
    if fmt == "AVIF" and not _boxes_whole(data):
        raise ImageError("truncated image: the AVIF data ends inside one of its boxes", path)
    if fmt == "TIFF" and not _tiff_whole(image, len(data)):
        raise ImageError("truncated image: the TIFF's pixel data ends past the file's end", path)
    if fmt == "PNG":
        try:
            with Image.open(io.BytesIO(data)) as again:
                again.verify()  # every chunk's checksum, up to IEND
        except Exception as exc:
            raise ImageError(f"corrupt or truncated image: {exc}", path) from exc


def _boxes_whole(data: bytes) -> bool:
    """Whether the top-level boxes of an ISO media file (AVIF) fit in `data`."""
    at = 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        if size == 1:  # a 64-bit size follows the type
            size = int.from_bytes(data[at + 8 : at + 16], "big")
        elif size == 0:  # the last box: to the end of the file
            return True
        if size < 8:
            return False
        at += size
    return at <= len(data)  # (a few stray bytes after the last box: as browsers do)


_STRIPS = ((273, 279), (324, 325))  # StripOffsets and StripByteCounts; the same of tiles


def _tiff_whole(image: Image.Image, size: int) -> bool:
    """Whether the pixel data a TIFF's (first page's) header points to lies within the
    `size` bytes of its file."""
    tags = getattr(image, "tag_v2", {})
    for offsets_tag, counts_tag in _STRIPS:
        offsets, counts = tags.get(offsets_tag), tags.get(counts_tag)
        if offsets is None or counts is None:
            continue
        pairs = zip(_ints(offsets), _ints(counts), strict=False)
        if any(offset + count > size for offset, count in pairs):
            return False
    return True


def _ints(value: object) -> list[int]:
    items = value if isinstance(value, (tuple, list)) else (value,)
    return [int(item) for item in items if isinstance(item, int)]


def _jpeg_ends(data: bytes) -> bool:
    """Whether the JPEG `data` has its end marker after its first scan. The segments
    before the scan are skipped by their lengths (an EXIF thumbnail in them has its own
    end marker), and data after the end is allowed (a phone's motion photo appends a
    video)."""
    at = 2
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
        elif marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # markers without length
            at += 2
        elif marker == 0xDA:  # the first scan: compressed data, then more scans, the end
            return data.find(b"\xff\xd9", at + 2) != -1
        else:
            at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    return False


def _looks_like_svg(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype svg")) and b"<svg" in head


_LENGTH = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(px)?\s*")


def _probe_svg(data: bytes, path: Path) -> ImageInfo:
    """An SVG's size from its root's width and height, else from its viewBox; the
    whole document must be well-formed (it is published as it is)."""
    parser: XMLPullParser[Element] = XMLPullParser(events=("start",))
    root: Element | None = None
    try:
        parser.feed(data)
        parser.close()
    except ParseError as exc:
        raise ImageError(f"not a well-formed SVG: {exc}", path) from exc
    for event in parser.read_events():
        _, root = cast(tuple[str, Element], event)
        break
    if root is None:
        raise ImageError("not an SVG: it has no root element", path)
    return _svg_size(root.tag, root.attrib, path)


def _svg_size(tag: str, attributes: dict[str, str], path: Path) -> ImageInfo:
    if tag not in ("{http://www.w3.org/2000/svg}svg", "svg"):
        raise ImageError(f"not an SVG: its root element is <{tag}>, not <svg>", path)
    width, height = _svg_length(attributes.get("width")), _svg_length(attributes.get("height"))
    box = _view_box(attributes.get("viewBox", ""))
    ratio = box[0] / box[1] if box is not None else None
    if width is None and height is None and box is not None:
        width, height = box
    elif width is None and height is not None and ratio is not None:
        width = height * ratio
    elif height is None and width is not None and ratio is not None:
        height = width / ratio
    if width is None or height is None or round(width) < 1 or round(height) < 1:
        raise ImageError(
            "the SVG has no size: give its <svg> a width and height in pixels, or a viewBox",
            path,
        )
    if max(width, height) > _SVG_MOST:
        raise ImageError(
            f"the SVG says it is {width:g} x {height:g} pixels: more than {_SVG_MOST:,} across "
            "is surely a mistake",
            path,
        )
    return ImageInfo(round(width), round(height), "svg", "SVG", SVG_MIME, True)


_SVG_MOST = 100_000


def _svg_length(value: str | None) -> float | None:
    match = _LENGTH.fullmatch(value) if value else None
    return float(match[1]) if match else None  # "100%", "10cm": the viewBox decides


def _view_box(value: str) -> tuple[float, float] | None:
    """The width and height of a viewBox "min-x min-y width height", if it is one."""
    try:
        numbers = [float(v) for v in re.split(r"[\s,]+", value.strip()) if v]
    except ValueError:
        return None
    if len(numbers) != 4 or not (0 < numbers[2] < 1e9 and 0 < numbers[3] < 1e9):
        return None
    return numbers[2], numbers[3]
