"""Metadata taken out of an image file that is published whole (an animated image, a
file of static/), without decoding it: EXIF (GPS positions above all), XMP, IPTC,
comments and text chunks go; the pixels, the colour profile, the animation and the
EXIF orientation (which browsers apply) stay. No Pillow: a cached build never loads it."""

from __future__ import annotations

import struct
import zlib

_ORIENTATION = 0x0112


def strip_metadata(data: bytes) -> bytes:
    """`data` without its metadata, for a JPEG, PNG, WebP or GIF; any other file (or
    one these parsers cannot follow) is returned as it is."""
    try:
        if data.startswith(b"\xff\xd8"):
            return _jpeg(data)
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            return _png(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp(data)
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return _gif(data)
    except (IndexError, ValueError, struct.error):
        return data
    return data


# ISOBMFF images (AVIF, HEIF): their brands.
_ISOBMFF_IMAGES = frozenset(b"avif avis heic heix heim heis hevc hevx mif1 msf1".split())
# A TIFF's own tags that tell of the camera, the place or the people: description,
# make, model, software, date, artist, XMP, IPTC, Photoshop, EXIF and GPS blocks.
_TIFF_PRIVATE = frozenset(
    (0x010E, 0x010F, 0x0110, 0x0131, 0x0132, 0x013B, 0x02BC, 0x83BB, 0x8649, 0x8769, 0x8825)
)


def metadata_kept(data: bytes) -> str | None:
    """The kind of image `data` is, when it holds metadata that strip_metadata cannot
    take out (an AVIF or HEIF file with an Exif or XMP item, a TIFF with a tag of
    _TIFF_PRIVATE: their metadata is woven into the file's structure); else None."""
    if data[4:8] == b"ftyp" and data[8:12] in _ISOBMFF_IMAGES:
        head = data[: 1 << 16]  # (the meta box, which lists the items, comes first)
        items = head.find(b"iinf")
        if items >= 0 and (b"Exif" in head[items:] or b"application/rdf+xml" in head[items:]):
            return "HEIF" if data[8:12].startswith(b"he") else "AVIF"
        return None
    # A TIFF's first directory: its offset, and how its count and entries are sized
    # (a BigTIFF's are 8-byte offsets, counts of 8 bytes, entries of 20).
    layout = {
        b"II*\0": ("<", "I", 4, "H", 12),
        b"MM\0*": (">", "I", 4, "H", 12),
        b"II+\0": ("<", "Q", 8, "Q", 20),
        b"MM\0+": (">", "Q", 8, "Q", 20),
    }.get(data[:4])
    if layout is None:
        return None
    order, offset, at, counter, entry = layout
    try:
        (first,) = struct.unpack(order + offset, data[at : at + struct.calcsize(offset)])
        size = struct.calcsize(counter)
        (count,) = struct.unpack(order + counter, data[first : first + size])
        for index in range(min(count, 1 << 16)):
            start = first + size + entry * index
            (tag,) = struct.unpack(order + "H", data[start : start + 2])
            if tag in _TIFF_PRIVATE:
                return "TIFF"
    except struct.error:
        return "TIFF"  # (one that cannot be followed is not published blind)
    return None


def _orientation_tiff(tiff: bytes) -> bytes | None:
    """A TIFF (EXIF) block holding only the orientation of the EXIF block `tiff`
    (which starts at its byte-order mark), or None when it has none but the upright 1."""
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None:
        return None
    (first,) = struct.unpack(order + "I", tiff[4:8])
    (count,) = struct.unpack(order + "H", tiff[first : first + 2])
    for index in range(count):
        at = first + 2 + 12 * index
        tag, kind = struct.unpack(order + "HH", tiff[at : at + 4])
        if tag == _ORIENTATION and kind == 3:
            (value,) = struct.unpack(order + "H", tiff[at + 8 : at + 10])
            if 2 <= value <= 8:
                entry = struct.pack(">HHIHH", _ORIENTATION, 3, 1, value, 0)
                return b"MM\0*" + struct.pack(">IH", 8, 1) + entry + b"\0\0\0\0"
    return None


def _jpeg(data: bytes) -> bytes:
    """Segments before the first scan: APP1 (EXIF, XMP), APP13 (IPTC), comments and
    makers' blocks dropped, an orientation kept in a fresh APP1; the image data copied,
    and nothing after it."""
    out = [data[:2]]
    at = 2
    orientation: bytes | None = None
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            raise ValueError("not a marker")
        marker = data[at + 1]
        if marker == 0xFF:
            at += 1
            continue
        if marker == 0xDA:  # the first scan: everything from here on is image data
            break
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        segment = data[at : at + 2 + length]
        if marker == 0xE1 and segment[4:10] == b"Exif\0\0":
            orientation = orientation or _orientation_tiff(segment[10:])
        elif marker in (0xE1, 0xED, 0xFE) or 0xE3 <= marker <= 0xEC or marker == 0xEF:
            pass  # XMP, IPTC, comments, makers' blocks (APP0, APP2 ICC, APP14 Adobe stay)
        elif marker == 0xE2 and segment[4:16] != b"ICC_PROFILE\0":
            pass  # a multi-picture index (MPF), of images dropped below
        else:
            out.append(segment)
        at += 2 + length
    if orientation is not None:
        body = b"Exif\0\0" + orientation
        at_jfif = 2 if len(out) > 1 and out[1][:2] == b"\xff\xe0" else 1  # APP0 stays first
        out.insert(at_jfif, b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body)
    # the image data, up to its end marker (stuffed, FF D9 occurs nowhere before it):
    # what a phone appends after it (a second picture, a video) has metadata of its own
    end = data.find(b"\xff\xd9", at)
    return b"".join(out) + (data[at : end + 2] if end != -1 else data[at:])


_PNG_DROPPED = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}


def _png(data: bytes) -> bytes:
    out = [data[:8]]
    at = 8
    while at + 12 <= len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        chunk = data[at : at + 12 + length]
        if kind == b"eXIf":
            tiff = _orientation_tiff(chunk[8:-4])
            if tiff is not None:
                out.append(_png_chunk(b"eXIf", tiff))
        elif kind not in _PNG_DROPPED:
            out.append(chunk)
        at += 12 + length
        if kind == b"IEND":
            break
    return b"".join(out)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04


def _webp(data: bytes) -> bytes:
    chunks = []
    at = 12
    end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    orientation: bytes | None = None
    while at + 8 <= end:
        kind = data[at : at + 4]
        length = int.from_bytes(data[at + 4 : at + 8], "little")
        chunk = data[at : at + 8 + length + (length & 1)]
        if kind == b"EXIF":
            body = chunk[8 : 8 + length]
            orientation = _orientation_tiff(body.removeprefix(b"Exif\0\0"))
        elif kind != b"XMP ":
            chunks.append(chunk)
        at += 8 + length + (length & 1)
    if orientation is not None:
        chunks.append(b"EXIF" + struct.pack("<I", len(orientation)) + orientation)
    if chunks and chunks[0][:4] == b"VP8X":
        flags = chunks[0][8] & ~(_VP8X_EXIF | _VP8X_XMP)
        if orientation is not None:
            flags |= _VP8X_EXIF
        chunks[0] = chunks[0][:8] + bytes([flags]) + chunks[0][9:]
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


_GIF_KEPT_APPLICATIONS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")  # the loop count


def _gif(data: bytes) -> bytes:
    """Comment extensions and application extensions other than the loop count
    (XMP, makers' data) dropped."""
    flags = data[10]
    at = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    out = [data[:at]]
    while at < len(data):
        introducer = data[at]
        if introducer == 0x3B:  # trailer
            out.append(data[at : at + 1])
            return b"".join(out)
        start = at
        if introducer == 0x21:
            label = data[at + 1]
            at = _sub_blocks(data, at + 2)
            block = data[start:at]
            keep = label not in (0xFE, 0xFF) or (
                label == 0xFF and block[3:14] in _GIF_KEPT_APPLICATIONS
            )
            if keep:
                out.append(block)
        elif introducer == 0x2C:
            local = data[at + 9]
            at += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0)
            at = _sub_blocks(data, at + 1)  # after the LZW code size
            out.append(data[start:at])
        else:
            raise ValueError("not a GIF block")
    raise ValueError("no trailer")


def _sub_blocks(data: bytes, at: int) -> int:
    """Where the data sub-blocks starting at `at` end (after their terminator)."""
    while True:
        size = data[at]
        at += 1 + size
        if size == 0:
            return at
