"""Split scraped news-site pages into articles, and account for every line of them.

A page is "Connect with us", then articles (a section label in capitals, the headline,
"Published", "on", maybe a date line, the paragraphs, maybe "Continue Reading"), then the
"MOST READ" widget. A file may hold several pages. Every line ends up in exactly one of
the counts of `LineCounts`: in a post, chrome that was skipped, blank, or text outside
any article (reported by line number); the parser checks that they add up.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from tempfile import TemporaryFile
from typing import BinaryIO

from broadsheet.errors import BroadsheetError
from broadsheet.ingest.rawtext import (
    CONNECT,
    CONTINUE,
    MOST_READ,
    ON,
    PUBLISHED,
    is_section_label,
    parse_date,
)

OPENING = 64  # paragraphs fingerprinted one by one: enough to tell a teaser's story
_SPOOL = 1 << 20  # bytes of an article (or widget) kept in memory before it goes to disk
# C0/C1 control characters (but tab) cannot appear in an HTML document.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MAX_RANGES = 10


def fingerprint(paragraph: str) -> tuple[bytes, int]:
    """What a paragraph says, whatever its white space or Unicode composition; and how
    much it says (its length)."""
    normal = " ".join(unicodedata.normalize("NFC", paragraph).split())
    return hashlib.blake2b(normal.encode("utf-8"), digest_size=12).digest(), len(normal)


class Spool:
    """Lines of text kept in memory up to a point, then in a temporary file."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._size = 0
        self._file: BinaryIO | None = None
        self.count = 0
        self.last = ""

    def add(self, text: str) -> None:
        self.count += 1
        self.last = text
        if self._file is not None:
            self._file.write(text.encode("utf-8") + b"\n")
            return
        self._lines.append(text)
        self._size += len(text)
        if self._size > _SPOOL:
            self._file = TemporaryFile()  # noqa: SIM115 (closed by close())
            self._file.writelines(line.encode("utf-8") + b"\n" for line in self._lines)
            self._lines = []

    def __iter__(self) -> Iterator[str]:
        if self._file is None:
            yield from list(self._lines)
            return
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            yield line[:-1].decode("utf-8")
        self._file.seek(0, 2)

    def clear(self) -> None:
        self.close()
        self._lines, self._size = [], 0
        self.count, self.last = 0, ""

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class Body(Spool):
    """An article's paragraphs, and the fingerprints that say which story it is."""

    def __init__(self, paragraphs: Iterable[str] = ()) -> None:
        super().__init__()
        self.opening: list[bytes] = []
        self.sizes: list[int] = []
        self._whole = hashlib.blake2b(digest_size=16)
        for paragraph in paragraphs:
            self.add(paragraph)

    def add(self, text: str) -> None:
        super().add(text)
        digest, size = fingerprint(text)
        if len(self.opening) < OPENING:
            self.opening.append(digest)
            self.sizes.append(size)
        self._whole.update(digest)

    @property
    def whole(self) -> str:
        return self._whole.hexdigest()


@dataclass(frozen=True)
class RawArticle:
    """One article as found in a raw file: its label, headline, date and paragraphs."""

    source: Path
    line: int  # the headline's
    label: str
    title: str
    date: date | None
    body: Body
    continued: bool  # the page showed "Continue Reading": the text may be a teaser
    label_line: int = 0

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return tuple(self.body)

    @classmethod
    def of(cls, source: Path, line: int, label: str, title: str, *paragraphs: str) -> RawArticle:
        return cls(source, line, label, title, None, Body(paragraphs), False, line - 1)


@dataclass
class LineCounts:
    """Where every line of a raw file went."""

    lines: int = 0
    posted: int = 0  # labels, headlines, date lines and paragraphs
    chrome: int = 0  # "Connect with us", "Published", "on", "Continue Reading", the widget
    blank: int = 0
    outside: int = 0  # text outside any article: not imported, reported
    outside_ranges: list[list[int]] = field(default_factory=list)
    control_characters_removed: int = 0
    _last_outside: bool = False

    def place(self, number: int, kind: str) -> None:
        if kind == "outside":
            self.outside += 1
            if self._last_outside and self.outside_ranges:
                self.outside_ranges[-1][1] = number
            elif len(self.outside_ranges) < MAX_RANGES:
                self.outside_ranges.append([number, number])
        elif kind == "posted":
            self.posted += 1
        else:
            self.chrome += 1
        self._last_outside = kind == "outside"

    def check(self, source: Path) -> None:
        placed = self.posted + self.chrome + self.blank + self.outside
        if placed != self.lines:  # a bug, never the input's fault: stop before writing
            raise BroadsheetError(
                f"internal error: {self.lines} lines read but {placed} accounted for", source
            )


@dataclass
class _Open:
    """The article being read: its header, and its last line held back (which may be
    "Continue Reading" or the next page's "Connect with us")."""

    source: Path
    header: tuple[tuple[int, str], ...]
    body: Body = field(default_factory=Body)
    date: date | None = None
    started: bool = False
    pending: tuple[int, str] | None = None


class _Parser:
    def __init__(self, source: Path, counts: LineCounts) -> None:
        self.source = source
        self.counts = counts
        self.window: deque[tuple[int, str]] = deque()  # up to three lines, not yet placed
        self.article: _Open | None = None
        self.widget: Spool | None = None  # from a "MOST READ": the widget, or text after all
        self.widget_lines: list[int] = []  # ... and its first and last line numbers

    def feed(self, number: int, text: str) -> Iterator[RawArticle]:
        window = self.window
        if (
            text == ON
            and len(window) == 3
            and window[2][1] == PUBLISHED
            and is_section_label(window[0][1])
        ):
            yield from self._close(at_page_start=False)
            self.article = _Open(self.source, (*window, (number, text)))
            for line, _ in window:
                self.counts.place(line, "posted" if line != window[2][0] else "chrome")
            self.counts.place(number, "chrome")
            window.clear()
            return
        window.append((number, text))
        if len(window) > 3:
            self._place(*window.popleft())

    def finish(self) -> Iterator[RawArticle]:
        while self.window:
            self._place(*self.window.popleft())
        yield from self._close(at_page_start=True)

    def _place(self, number: int, text: str) -> None:
        """A line that is not part of an article's header."""
        if text == MOST_READ:
            if self.widget is not None:  # the earlier one was text in an article
                self._release_widget(keep=True)
            else:
                self.widget = Spool()
            self.widget.add(f"{number}\t{text}")
        elif self.widget is not None:
            self.widget.add(f"{number}\t{text}")
        elif self.article is None:
            self.counts.place(number, "chrome" if text == CONNECT else "outside")
        else:
            self._to_body(self.article, number, text)

    def _to_body(self, article: _Open, number: int, text: str) -> None:
        if article.pending is not None:
            held, article.pending = article.pending, None
            self._append(article, *held)
        article.pending = (number, text)

    def _append(self, article: _Open, number: int, text: str) -> None:
        if not article.started:
            article.started = True
            article.date = parse_date(text)
            if article.date is not None:
                self.counts.place(number, "posted")
                return
        article.body.add(text)
        self.counts.place(number, "posted")

    def _release_widget(self, keep: bool = False) -> None:
        """A "MOST READ" followed by more of the article: all of it is text. With `keep`,
        the widget's spool is emptied for the next one rather than closed."""
        widget = self.widget
        assert widget is not None
        self.widget = None
        for entry in widget:
            number, _, text = entry.partition("\t")
            if self.article is None:
                self.counts.place(int(number), "chrome" if text == MOST_READ else "outside")
            else:
                self._to_body(self.article, int(number), text)
        if keep:
            widget.clear()
            self.widget = widget
        else:
            widget.close()

    def _close(self, at_page_start: bool) -> Iterator[RawArticle]:
        """End the current article: at the end of the file, or where the next one starts."""
        article = self.article
        widget, self.widget = self.widget, None
        if widget is not None:
            if at_page_start or article is None or widget.last.partition("\t")[2] == CONNECT:
                for entry in widget:  # the widget, and the next page's "Connect with us"
                    self.counts.place(int(entry.partition("\t")[0]), "chrome")
                widget.close()
            else:
                self.widget = widget
                self._release_widget()
        elif article is not None and article.pending is not None and article.pending[1] == CONNECT:
            self.counts.place(article.pending[0], "chrome")  # a new page, without a widget
            article.pending = None
        if article is None:
            return
        self.article = None
        continued = False
        if article.pending is not None:
            number, text = article.pending
            if text == CONTINUE:
                continued = True
                self.counts.place(number, "chrome")
            else:
                self._append(article, number, text)
        (label_line, label), (line, title) = article.header[0], article.header[1]
        yield RawArticle(
            source=self.source,
            line=line,
            label=unicodedata.normalize("NFC", label),
            title=title,
            date=article.date,
            body=article.body,
            continued=continued,
            label_line=label_line,
        )


def parse_lines(
    source: Path, lines: Iterable[tuple[int, str]], counts: LineCounts
) -> Iterator[RawArticle]:
    """Articles, each once it is complete. The caller closes each article's body."""
    parser = _Parser(source, counts)
    for number, raw in lines:
        counts.lines += 1
        if _CONTROL.search(raw):
            counts.control_characters_removed += len(_CONTROL.findall(raw))
            raw = _CONTROL.sub("", raw)
        text = _strip(raw)
        if not text:
            counts.blank += 1
            continue
        yield from parser.feed(number, text)
    yield from parser.finish()
    counts.check(source)


def _strip(line: str) -> str:
    """Trim white space, including no-break spaces, at both ends of a line."""
    return line.strip().strip("\u00a0\u2007\u202f\ufeff").strip()


@dataclass(frozen=True)
class RawFile:
    """A raw file, read: its articles and the counts of its lines."""

    source: Path
    articles: tuple[RawArticle, ...]
    counts: LineCounts


def parse_raw(source: Path, text: str) -> RawFile:
    """Every article in one raw file's text (for tests and small inputs)."""
    counts = LineCounts()
    lines = enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1)
    if text.endswith(("\n", "\r")):
        lines = enumerate(text.replace("\r\n", "\n").replace("\r", "\n")[:-1].split("\n"), 1)
    return RawFile(source, tuple(parse_lines(source, lines, counts)), counts)
