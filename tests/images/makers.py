"""Images made in the tests, hostile ones included: nothing is downloaded."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image

SECRET = b"SECRET-PLACE-51N"  # planted in every piece of metadata a test image carries
GPS_IFD = 0x8825


def photo(width: int, height: int, seed: int = 0) -> Image.Image:
    """A photo-like RGB image: a gradient with noise (so JPEG works as on a photo)."""
    gradient = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.effect_noise((width, height), 20 + seed).convert("RGB")
    return Image.blend(gradient, noise, 0.3)


def jpeg(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, **options)
    return buffer.getvalue()


def png(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **options)
    return buffer.getvalue()


def gps_exif(orientation: int = 1) -> Image.Exif:
    """EXIF with a GPS position, a description and an orientation."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010E] = SECRET.decode()  # ImageDescription
    exif[0x0131] = "Camera firmware 1.0"  # Software
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (51.0, 30.0, 12.5)
    gps[3] = "W"
    gps[4] = (0.0, 7.0, 39.0)
    gps[27] = b"ASCII\0\0\0" + SECRET  # GPSProcessingMethod
    return exif


def xmp() -> bytes:
    return (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="'
        + SECRET
        + b'"/></rdf:RDF></x:xmpmeta>'
    )


_WHITE = (0.9642, 1.0, 0.8249)  # D50, as ICC's connection space has it


def _xyz(values: tuple[float, float, float]) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(struct.pack(">i", round(v * 65536)) for v in values)


def _gamma(value: float) -> bytes:
    return b"curv\0\0\0\0" + struct.pack(">IH", 1, round(value * 256)) + b"\0\0"


def swapped_profile() -> bytes:
    """An ICC v2 RGB profile whose red and blue colorants are swapped: a pixel stored
    as pure red under it is blue. Converted, it must come out blue; dropped, red."""
    red, green, blue = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)
    curve = _gamma(2.2)
    return _profile(b"RGB ", [(b"rXYZ", _xyz(blue)), (b"gXYZ", _xyz(green)), (b"bXYZ", _xyz(red)),
                              (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)])  # fmt: skip


def linear_grey_profile() -> bytes:
    """An ICC v2 grey profile with a linear tone curve: stored 128 is sRGB's 188."""
    return _profile(b"GRAY", [(b"kTRC", _gamma(1.0))])


def _profile(space: bytes, colour_tags: list[tuple[bytes, bytes]]) -> bytes:
    desc_text = b"made in a test\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(desc_text)) + desc_text
    desc += b"\0" * 8 + b"\0" * 3 + b"\0" * 67
    tags = [
        (b"desc", desc),
        (b"wtpt", _xyz(_WHITE)),
        *colour_tags,
        (b"cprt", b"text\0\0\0\0none\0\0\0\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        data += b"\0" * (-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = struct.pack(">I", size) + b"lcms" + bytes([2, 0x10, 0, 0]) + b"mntr" + space + b"XYZ "
    header += struct.pack(">6H", 2020, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 4 + b"\0" * 4
    header += b"\0" * 8 + b"\0" * 8 + struct.pack(">I", 0) + _xyz(_WHITE)[8:] + b"\0" * 4
    header += b"\0" * (128 - len(header))
    return header + struct.pack(">I", len(tags)) + table + body


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_raw(width: int, height: int, depth: int, colour: int, row: bytes) -> bytes:
    """A PNG written by hand (Pillow cannot write 16-bit RGB): every row `row`."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\0" + row for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", pixels)
        + png_chunk(b"IEND", b"")
    )


def bomb_png(width: int = 40_000, height: int = 40_000) -> bytes:
    """A PNG of a few hundred bytes that claims `width` x `height` pixels."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 1000)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", pixels)
        + png_chunk(b"IEND", b"")
    )


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (40, 30), colour) for colour in ("red", "green", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
