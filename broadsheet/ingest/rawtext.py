"""Read a raw file once, as a stream of numbered lines: UTF-8 or an error naming the line."""

from __future__ import annotations

import codecs
import sys
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from broadsheet.errors import BroadsheetError

CONNECT = "Connect with us"
MOST_READ = "MOST READ"
PUBLISHED = "Published"
ON = "on"
CONTINUE = "Continue Reading"

STDIN = Path("-")
MAX_LABEL_LENGTH = 60
# A paragraph a line: no scraped paragraph comes near this. A longer line is refused, so
# that memory stays bounded whatever the input (a line is held whole while it is read).
MAX_LINE = 1_000_000
_CHUNK = 1 << 18
_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d", "%B %d %Y")


def source_name(source: Path) -> str:
    return "<stdin>" if source == STDIN else str(source)


def read_lines(source: Path, chunk: int = _CHUNK) -> Iterator[tuple[int, str]]:
    """The numbered lines of a file (`-` is standard input), decoded as it is read once."""
    try:
        if source == STDIN:
            yield from _lines_of(source, sys.stdin.buffer, chunk)
            return
        with source.open("rb") as handle:
            yield from _lines_of(source, handle, chunk)
    except IsADirectoryError as exc:
        raise BroadsheetError("is a directory, not a raw text file", source) from exc
    except OSError as exc:
        raise BroadsheetError(f"cannot read: {exc.strerror or exc}", source) from exc


def _lines_of(source: Path, handle: BinaryIO, chunk: int) -> Iterator[tuple[int, str]]:
    return iter_lines(source, iter(lambda: handle.read(chunk), b""))


def decode(source: Path, data: bytes) -> str:
    """UTF-8 (with or without a BOM, LF or CRLF) to text; anything else is an error."""
    return "\n".join(text for _, text in iter_lines(source, [data]))


def iter_lines(source: Path, chunks: Iterable[bytes]) -> Iterator[tuple[int, str]]:
    """(line number, text) of UTF-8 bytes in chunks; a BOM, CRLF and CR are fine."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    number, offset, pending = 1, 0, ""
    for chunk in chunks:
        try:
            pending += decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise _not_utf8(source, exc, offset - (len(exc.object) - len(chunk)), number) from exc
        offset += len(chunk)
        # A CR at the very end may be the first half of a CRLF: keep it for the next chunk.
        held = pending.endswith("\r")
        parts = _split(pending[:-1] if held else pending)
        pending = parts.pop() + ("\r" if held else "")
        for part in parts:
            _check_length(source, number, part)
            yield number, part
            number += 1
        _check_length(source, number, pending)
    try:
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise _not_utf8(source, exc, offset - len(exc.object), number) from exc
    parts = _split(pending)
    if parts[-1] == "":
        parts.pop()
    for part in parts:
        yield number, part
        number += 1


def _check_length(source: Path, number: int, line: str) -> None:
    if len(line) > MAX_LINE:
        raise BroadsheetError(
            f"a line longer than {MAX_LINE:,} characters: raw files hold a paragraph a line "
            "(is this scraped text?)",
            source,
            number,
        )


def _split(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _not_utf8(source: Path, exc: UnicodeDecodeError, start: int, number: int) -> BroadsheetError:
    line = number + exc.object[: exc.start].count(b"\n")
    return BroadsheetError(
        f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {start + exc.start}); "
        "save it as UTF-8 and import again",
        source,
        line,
    )


def is_section_label(text: str) -> bool:
    """A line in capitals ("ASIA", "MIDDLE EAST"): some upper-case letter and no lower-case one."""
    return (
        len(text) <= MAX_LABEL_LENGTH
        and any(c.isupper() for c in text)
        and not any(c.islower() for c in text)
    )


def parse_date(text: str) -> date | None:
    """A date line such as "February 9, 2025", or None when the line is not a date."""
    if len(text) > 40 or not any(c.isdigit() for c in text):
        return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None
