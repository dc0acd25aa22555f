"""Split the scraped text of news-site pages into articles, stripping the site chrome."""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from broadsheet.errors import BroadsheetError

CONNECT = "Connect with us"
MOST_READ = "MOST READ"
PUBLISHED = "Published"
ON = "on"
CONTINUE = "Continue Reading"

MAX_LABEL_LENGTH = 60
_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d", "%B %d %Y")
# C0/C1 control characters (but tab) cannot appear in an HTML document.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class RawArticle:
    """One article as found in a raw file: its label, headline, date and paragraphs."""

    source: Path
    line: int
    label: str
    title: str
    date: date | None
    paragraphs: tuple[str, ...]
    continued: bool  # the page showed "Continue Reading": the text may be a teaser


@dataclass(frozen=True)
class RawFile:
    source: Path
    articles: tuple[RawArticle, ...]
    control_characters_removed: int
    unclaimed_lines: tuple[int, ...]  # text outside every article and the known chrome


@dataclass(frozen=True)
class _Line:
    number: int
    text: str


def decode(source: Path, data: bytes) -> str:
    """UTF-8 (with or without a BOM, LF or CRLF) to text; anything else is an error."""
    return "\n".join(text for _, text in iter_lines(source, [data]))


def read_lines(source: Path, chunk: int = 1 << 20) -> Iterator[tuple[int, str]]:
    """The numbered lines of a file, decoded as it is read: memory stays bounded."""
    try:
        with source.open("rb") as handle:
            yield from iter_lines(source, iter(lambda: handle.read(chunk), b""))
    except IsADirectoryError as exc:
        raise BroadsheetError("is a directory, not a raw text file", source) from exc
    except OSError as exc:
        raise BroadsheetError(f"cannot read: {exc.strerror or exc}", source) from exc


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
            yield number, part
            number += 1
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


@dataclass
class ParseStats:
    control_characters_removed: int = 0
    unclaimed_lines: list[int] = field(default_factory=list)


def parse_raw(source: Path, text: str) -> RawFile:
    """Find every article in one raw file's text."""
    stats = ParseStats()
    lines = enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1)
    articles = tuple(parse_lines(source, lines, stats))
    return RawFile(source, articles, stats.control_characters_removed, tuple(stats.unclaimed_lines))


def parse_lines(
    source: Path, lines: Iterable[tuple[int, str]], stats: ParseStats
) -> Iterator[RawArticle]:
    """Articles, each as soon as the next one starts: a look-ahead of four lines."""
    window: deque[_Line] = deque()
    current: list[_Line] | None = None
    first = True
    for number, raw in lines:
        removed = len(_CONTROL.findall(raw))
        if removed:
            stats.control_characters_removed += removed
            raw = _CONTROL.sub("", raw)
        text = _strip(raw)
        if not text:
            continue
        if first:
            first = False
            if text == CONNECT:
                continue
        if text == MOST_READ:
            break
        window.append(_Line(number, text))
        while len(window) >= 4:
            if _starts_article(window):
                if current is not None:
                    yield _article(source, current)
                current = [window.popleft() for _ in range(4)]
            else:
                line = window.popleft()
                if current is None:
                    stats.unclaimed_lines.append(line.number)
                else:
                    current.append(line)
    if current is not None:
        current.extend(window)
        yield _article(source, current)
    else:
        stats.unclaimed_lines.extend(line.number for line in window)


def _strip(line: str) -> str:
    """Trim white space, including no-break spaces, at both ends of a line."""
    return line.strip().strip("\u00a0\u2007\u202f\ufeff").strip()


def is_section_label(text: str) -> bool:
    """A line in capitals ("ASIA", "MIDDLE EAST"): some upper-case letter and no lower-case one."""
    return (
        len(text) <= MAX_LABEL_LENGTH
        and any(c.isupper() for c in text)
        and not any(c.islower() for c in text)
    )


def _starts_article(window: deque[_Line]) -> bool:
    return is_section_label(window[0].text) and window[2].text == PUBLISHED and window[3].text == ON


def _article(source: Path, lines: list[_Line]) -> RawArticle:
    label, headline = lines[0], lines[1]
    body = lines[4:]
    published = parse_date(body[0].text) if body else None
    if published is not None:
        body = body[1:]
    continued = bool(body) and body[-1].text == CONTINUE
    if continued:
        body = body[:-1]
    return RawArticle(
        source=source,
        line=headline.number,
        label=unicodedata.normalize("NFC", label.text),
        title=headline.text,
        date=published,
        paragraphs=tuple(line.text for line in body),
        continued=continued,
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
