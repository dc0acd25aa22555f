"""Files published whole (animated images, static/'s photos) carry no metadata: no GPS
position, no XMP, no comment; their pixels, animation and orientation are kept."""

from __future__ import annotations

import io

from PIL import Image, ImageSequence

from broadsheet.images.encode import encode_image
from broadsheet.images.strip import strip_metadata
from tests.images.makers import GPS_IFD, SECRET, gps_exif, jpeg, photo, png, xmp
from tests.images.test_encode import HERE, SMALL

FRAMES = [photo(40, 30, seed) for seed in range(3)]


def _animated(fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    FRAMES[0].save(buffer, fmt, save_all=True, append_images=FRAMES[1:], **options)
    return buffer.getvalue()


def _frames(data: bytes) -> list[bytes]:
    with Image.open(io.BytesIO(data)) as image:
        return [frame.convert("RGB").tobytes() for frame in ImageSequence.Iterator(image)]


def _orientation(data: bytes) -> int:
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        assert not exif.get_ifd(GPS_IFD) and 0x010E not in exif and 0x0131 not in exif
        return int(exif.get(0x0112, 1))


def test_an_animated_image_is_published_without_its_gps_position() -> None:
    from PIL.PngImagePlugin import PngInfo

    text = PngInfo()
    text.add_text("Location", SECRET.decode())
    sources = [
        _animated("WEBP", exif=gps_exif(6).tobytes(), xmp=xmp()),
        _animated("GIF", comment=SECRET),
        _animated("PNG", exif=gps_exif(6), pnginfo=text),
    ]
    for data in sources:
        assert SECRET in data
        [copied] = encode_image(data, HERE, SMALL, True, True)
        assert copied.role == "original"
        assert SECRET not in copied.data
        assert _frames(copied.data) == _frames(data)  # the animation, pixel for pixel


def test_stripping_keeps_the_orientation_the_page_was_measured_with() -> None:
    for data in (
        jpeg(photo(60, 40), exif=gps_exif(6), xmp=xmp(), comment=SECRET),
        png(photo(60, 40), exif=gps_exif(6)),
        _animated("WEBP", exif=gps_exif(6).tobytes(), xmp=xmp()),
    ):
        stripped = strip_metadata(data)
        assert SECRET not in stripped
        assert _orientation(stripped) == 6
        with Image.open(io.BytesIO(stripped)) as image:
            image.load()
    rotated = strip_metadata(jpeg(photo(60, 40), exif=gps_exif(6)))
    assert rotated[2:4] == b"\xff\xe0"  # JFIF's APP0 still first, the orientation after it
    upright = strip_metadata(jpeg(photo(60, 40), exif=gps_exif(1)))
    assert _orientation(upright) == 1 and b"Exif" not in upright


def test_a_jpeg_keeps_its_colour_profile_and_loses_what_follows_its_end() -> None:
    icc = b"\0" * 128  # (Pillow carries a profile's bytes; it need not be a real one)
    source = jpeg(photo(30, 20), icc_profile=icc, exif=gps_exif()) + b"VIDEO" + SECRET
    stripped = strip_metadata(source)
    assert SECRET not in stripped and stripped.endswith(b"\xff\xd9")
    with Image.open(io.BytesIO(stripped)) as image:
        assert image.info.get("icc_profile") == icc
        assert image.size == (30, 20)


def test_what_it_cannot_follow_is_left_as_it_is() -> None:
    for data in (b"", b"\xff\xd8\xff", b"GIF89a", b"not an image", b"<svg/>" + SECRET):
        assert strip_metadata(data) == data
