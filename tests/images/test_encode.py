"""Encoding: what a reader's browser gets from each kind of source image."""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from broadsheet.config import ImageSettings
from broadsheet.images.encode import (
    CROP_WIDTH,
    Encoded,
    _decode,
    crop_sizes,
    encode_image,
    published_widths,
)
from broadsheet.images.header import probe_bytes
from tests.images.makers import (
    GPS_IFD,
    SECRET,
    animated_gif,
    gps_exif,
    jpeg,
    linear_grey_profile,
    photo,
    png,
    png_raw,
    swapped_profile,
    xmp,
)

SMALL = ImageSettings(widths=(16, 32, 64))
HERE = Path("photo")


def opened(encoded: Encoded) -> Image.Image:
    image = Image.open(io.BytesIO(encoded.data))
    image.load()
    return image


def by_role(found: list[Encoded], role: str) -> list[Encoded]:
    return [e for e in found if e.role == role]


def close(pixel: tuple[int, ...], expected: tuple[int, ...], within: int = 40) -> bool:
    return all(abs(a - b) <= within for a, b in zip(pixel, expected, strict=False))


def test_every_width_in_every_format_with_a_jpeg_fallback() -> None:
    found = encode_image(jpeg(photo(100, 50)), HERE, SMALL, True, False)
    assert sorted({(e.role, e.mime) for e in found}) == [
        ("avif", "image/avif"),
        ("jpeg", "image/jpeg"),
        ("webp", "image/webp"),
    ]
    for role, fmt in (("avif", "AVIF"), ("webp", "WEBP"), ("jpeg", "JPEG")):
        files = by_role(found, role)
        assert [(e.width, e.height) for e in files] == [(64, 32), (32, 16), (16, 8)]
        assert all(opened(e).format == fmt and opened(e).size == (e.width, e.height) for e in files)


def test_formats_setting_limits_the_sources() -> None:
    found = encode_image(
        jpeg(photo(40, 40)), HERE, ImageSettings(widths=(32,), formats=()), True, False
    )
    assert {e.role for e in found} == {"jpeg"}


def test_an_image_taller_than_webp_allows_has_every_format_but_webp() -> None:
    """An infographic 17,000 px tall at its published width: WebP's sides stop at
    16,383 px, so it has no WebP, but AVIF and the JPEG at every width."""
    tall = Image.new("RGB", (400, 17_000), (200, 200, 200))
    found = encode_image(png(tall), HERE, ImageSettings(widths=(400,)), True, False)
    assert sorted({e.role for e in found}) == ["avif", "jpeg"]
    assert all(opened(e).size == (400, 17_000) for e in found)
    short = Image.new("RGB", (400, 16_383), (200, 200, 200))  # as tall as WebP goes
    roles = {
        e.role for e in encode_image(png(short), HERE, ImageSettings(widths=(400,)), True, False)
    }
    assert roles == {"avif", "webp", "jpeg"}


def test_metadata_and_gps_are_gone_from_every_published_file() -> None:
    tagged = photo(120, 90)
    sources = [
        jpeg(tagged, exif=gps_exif(6), xmp=xmp(), comment=SECRET),
        png(tagged, exif=gps_exif(), pnginfo=_text_chunk()),
        _webp(tagged),
    ]
    for data in sources:
        assert SECRET in data
        for encoded in encode_image(data, HERE, SMALL, True, True):
            assert SECRET not in encoded.data, encoded.role
            image = opened(encoded)
            exif = image.getexif()
            assert not exif.get_ifd(GPS_IFD) and 0x010E not in exif and 0x0131 not in exif
            assert not {"exif", "xmp", "XML:com.adobe.xmp", "comment", "icc_profile"} & set(
                image.info
            ), (encoded.role, image.info.keys())


def _text_chunk() -> object:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Location", SECRET.decode())
    return info


def _webp(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", exif=gps_exif().tobytes(), xmp=xmp())
    return buffer.getvalue()


def test_exif_orientation_is_applied() -> None:
    stored = Image.new("RGB", (80, 40), "red")
    stored.paste(Image.new("RGB", (40, 40), "blue"), (40, 0))  # left red, right blue
    found = encode_image(jpeg(stored, exif=gps_exif(6)), HERE, SMALL, True, False)
    for encoded in found:  # 6: turn a quarter clockwise to show it: the left goes on top
        image = opened(encoded).convert("RGB")
        assert image.height == 2 * image.width, encoded.role
        assert close(image.getpixel((image.width // 2, image.height // 8)), (255, 0, 0))
        assert close(image.getpixel((image.width // 2, image.height * 7 // 8)), (0, 0, 255))


def test_colour_is_converted_to_srgb_from_the_embedded_profile() -> None:
    # Under this profile the stored red is blue: dropping the profile would show red.
    data = png(Image.new("RGB", (40, 40), (255, 0, 0)), icc_profile=swapped_profile())
    for encoded in encode_image(data, HERE, SMALL, True, False):
        pixel = opened(encoded).convert("RGB").getpixel((20 * encoded.width // 40, 4))
        assert isinstance(pixel, tuple) and close(pixel, (0, 0, 255), 60), (encoded.role, pixel)


def test_a_profile_converts_colour_and_keeps_transparency() -> None:
    data = png(Image.new("RGBA", (40, 40), (255, 0, 0, 100)), icc_profile=swapped_profile())
    for encoded in encode_image(data, HERE, SMALL, True, False):
        pixel = opened(encoded).convert("RGBA").getpixel((4, 4))
        assert isinstance(pixel, tuple) and close(pixel, (0, 0, 255, 100), 60), (
            encoded.role,
            pixel,
        )


def test_a_grey_profile_converts_grey_with_or_without_alpha() -> None:
    for image in (Image.new("L", (40, 40), 128), Image.new("LA", (40, 40), (128, 100))):
        data = png(image, icc_profile=linear_grey_profile())
        for encoded in encode_image(data, HERE, SMALL, True, False):
            pixel = opened(encoded).convert("RGBA").getpixel((4, 4))
            alpha = 100 if image.mode == "LA" else 255
            assert isinstance(pixel, tuple) and close(pixel, (188, 188, 188, alpha), 12), (
                image.mode, encoded.role, pixel,
            )  # fmt: skip


def test_a_profile_that_does_not_fit_is_an_error_not_dropped_colour() -> None:
    cmyk = Image.new("CMYK", (20, 20), (255, 0, 0, 0))
    data = jpeg(cmyk, icc_profile=swapped_profile())  # an RGB profile on CMYK pixels
    try:
        encode_image(data, HERE, SMALL, True, False)
    except Exception as exc:
        assert "colour profile (ICC) cannot be applied" in str(exc)
    else:
        raise AssertionError("an unusable colour profile was dropped silently")


def test_cmyk_becomes_rgb() -> None:
    data = jpeg(Image.new("CMYK", (40, 40), (255, 0, 0, 0)))  # pure cyan
    for encoded in encode_image(data, HERE, SMALL, True, False):
        image = opened(encoded).convert("RGB")
        assert image.mode == "RGB" and close(image.getpixel((5, 5)), (0, 255, 255), 50)


def test_sixteen_bit_keeps_its_tones() -> None:
    grey = png_raw(40, 20, 16, 0, b"\x80\x00" * 40)  # half grey, 16 bits
    rgb = png_raw(40, 20, 16, 2, b"\x20\x00\x80\x00\xe0\x00" * 40)
    for data, expected in ((grey, (128, 128, 128)), (rgb, (32, 128, 224))):
        for encoded in encode_image(data, HERE, SMALL, True, False):
            pixel = opened(encoded).convert("RGB").getpixel((2, 2))
            assert isinstance(pixel, tuple) and close(pixel, expected, 12), (encoded.role, pixel)


def test_transparency_makes_a_png_fallback_and_survives_every_format() -> None:
    sources = {
        "RGBA": Image.new("RGBA", (40, 20), (255, 0, 0, 100)),
        "LA": Image.new("LA", (40, 20), (200, 100)),
        "P": _palette_with_transparency(),
    }
    for mode, image in sources.items():
        found = encode_image(png(image), HERE, SMALL, True, False)
        assert {e.role for e in found} == {"avif", "webp", "png"}, mode
        for encoded in found:
            decoded = opened(encoded).convert("RGBA")
            alpha = decoded.getpixel((1, 1))
            assert isinstance(alpha, tuple) and alpha[3] < 200, (mode, encoded.role, alpha)


def _palette_with_transparency() -> Image.Image:
    image = Image.new("P", (40, 20), 0)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.info["transparency"] = 0
    return image


def test_an_alpha_channel_that_hides_nothing_gives_a_jpeg() -> None:
    found = encode_image(png(Image.new("RGBA", (40, 20), (9, 9, 9, 255))), HERE, SMALL, True, False)
    assert {e.role for e in found} == {"avif", "webp", "jpeg"}


def test_animated_gif_and_svg_are_copied_as_they_are() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 30 20"><script/></svg>'
    for data, mime, size in (
        (animated_gif(), "image/gif", (40, 30)),
        (svg, "image/svg+xml", (30, 20)),
    ):
        [copied] = encode_image(data, HERE, SMALL, True, True)
        assert (copied.role, copied.mime, copied.data) == ("original", mime, data)
        assert (copied.width, copied.height) == size


def test_large_jpegs_are_decoded_at_reduced_size() -> None:
    data = jpeg(photo(2400, 1600))
    info = probe_bytes(data, HERE, SMALL)
    image = _decode(data, HERE, SMALL, info, 64 / 2400)
    assert 64 <= image.width <= 2400 // 8  # a JPEG decodes at 1/8 scale: 300 wide
    full = _decode(data, HERE, SMALL, info, 1.0)
    assert full.size == (2400, 1600)


def test_crops_for_google() -> None:
    found = encode_image(jpeg(photo(1600, 1200)), HERE, SMALL, False, True)
    sizes = {e.role: (e.width, e.height, e.mime) for e in found}
    assert sizes == {
        "crop-16x9": (1200, 675, "image/jpeg"),
        "crop-4x3": (1200, 900, "image/jpeg"),
        "crop-1x1": (1200, 1200, "image/jpeg"),
    }


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 20_000),
    st.integers(1, 20_000),
    st.lists(st.integers(16, 10_000), min_size=1, max_size=6, unique=True),
)
def test_widths_and_crops_never_exceed_the_original(
    width: int, height: int, wanted: list[int]
) -> None:
    widths = published_widths(width, tuple(sorted(wanted)))
    assert widths and all(w <= width for w in widths)
    assert set(widths) <= set(wanted) | {width}
    assert (width in widths) == (width <= max(wanted))
    for _, region_w, region_h, out_w, out_h in crop_sizes(width, height):
        assert 1 <= region_w <= width and 1 <= region_h <= height
        assert out_w == min(region_w, CROP_WIDTH) and out_w <= width and out_h >= 1


@settings(max_examples=12, deadline=None)
@given(st.integers(8, 200), st.integers(8, 200), st.sampled_from([1, 3, 6, 8]), st.booleans())
def test_published_files_keep_the_shape_shown(
    width: int, height: int, orientation: int, alpha: bool
) -> None:
    image = photo(width, height).convert("RGBA" if alpha else "RGB")
    if alpha:
        image.putalpha(128)
    data = png(image, exif=gps_exif(orientation))
    info = probe_bytes(data, HERE, SMALL)
    for encoded in encode_image(data, HERE, SMALL, True, False):
        assert encoded.width <= info.width
        assert abs(encoded.height - info.height * encoded.width / info.width) <= 1
        assert opened(encoded).size == (encoded.width, encoded.height)


def _saved(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def test_every_raster_format_and_mode_is_published() -> None:
    base = photo(80, 40)
    sources = {
        "grey JPEG": jpeg(base.convert("L")),
        "TIFF": _saved(base, "TIFF"),
        "still GIF": _saved(base.convert("P"), "GIF"),
        "WebP": _saved(base, "WEBP"),
        "AVIF": _saved(base, "AVIF"),
        "1-bit PNG": png(base.convert("1")),
    }
    for name, data in sources.items():
        found = encode_image(data, HERE, SMALL, True, False)
        assert {e.role for e in found} == {"avif", "webp", "jpeg"}, name
        assert {(e.width, e.height) for e in found} == {(16, 8), (32, 16), (64, 32)}, name
        assert all(opened(e).mode in ("RGB", "L") for e in found if e.role == "jpeg"), name


def test_a_transparent_colour_of_an_rgb_or_grey_png_stays_transparent() -> None:
    """A PNG without an alpha channel may still name one colour transparent (tRNS)."""
    for mode, see_through, other in (("RGB", (0, 255, 0), (255, 0, 0)), ("L", 7, 200)):
        image = Image.new(mode, (40, 20), see_through)
        image.paste(other, (20, 0, 40, 20))
        found = encode_image(png(image, transparency=see_through), HERE, SMALL, True, False)
        assert {e.role for e in found} == {"avif", "webp", "png"}, mode
        for encoded in found:
            decoded = opened(encoded).convert("RGBA")
            left, right = decoded.getpixel((1, 1)), decoded.getpixel((decoded.width - 2, 1))
            assert isinstance(left, tuple) and left[3] < 50, (mode, encoded.role, left)
            assert isinstance(right, tuple) and right[3] > 200, (mode, encoded.role, right)


def test_grey_tagged_with_an_rgb_profile_is_published_grey() -> None:
    """Some scanners tag grey JPEGs with sRGB: browsers show them grey, and so do we."""
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = jpeg(Image.new("L", (40, 20), 90), icc_profile=srgb)
    for encoded in encode_image(data, HERE, SMALL, True, False):
        pixel = opened(encoded).convert("RGB").getpixel((4, 4))
        assert isinstance(pixel, tuple) and close(pixel, (90, 90, 90), 8), (encoded.role, pixel)
