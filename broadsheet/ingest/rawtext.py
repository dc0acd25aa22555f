"""Split the scraped text of news-site pages into articles, stripping the site chrome."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
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
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BroadsheetError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8 and import again",
            source,
            line,
        ) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_raw(source: Path, text: str) -> RawFile:
    """Find every article in one raw file's text."""
    removed = len(_CONTROL.findall(text))
    text = _CONTROL.sub("", text)
    lines = [
        _Line(number, stripped)
        for number, raw in enumerate(text.split("\n"), start=1)
        if (stripped := _strip(raw))
    ]
    lines = _strip_chrome(lines)
    starts = [i for i in range(len(lines)) if _starts_article(lines, i)]
    articles = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(lines)
        articles.append(_article(source, lines[start:end]))
    first = starts[0] if starts else len(lines)
    unclaimed = tuple(line.number for line in lines[:first])
    return RawFile(source, tuple(articles), removed, unclaimed)


def _strip(line: str) -> str:
    """Trim white space, including no-break spaces, at both ends of a line."""
    return line.strip().strip("\u00a0\u2007\u202f\ufeff").strip()


def _strip_chrome(lines: list[_Line]) -> list[_Line]:
    if lines and lines[0].text == CONNECT:
        lines = lines[1:]
    for index, line in enumerate(lines):
        if line.text == MOST_READ:
            return lines[:index]
    return lines


def is_section_label(text: str) -> bool:
    """A line in capitals ("ASIA", "MIDDLE EAST"): some upper-case letter and no lower-case one."""
    return (
        len(text) <= MAX_LABEL_LENGTH
        and any(c.isupper() for c in text)
        and not any(c.islower() for c in text)
    )


def _starts_article(lines: list[_Line], i: int) -> bool:
    return (
        i + 3 < len(lines)
        and is_section_label(lines[i].text)
        and lines[i + 2].text == PUBLISHED
        and lines[i + 3].text == ON
    )


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
