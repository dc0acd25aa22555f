"""Which source line of a post a value found in its rendered HTML came from."""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass

# A character reference, as the HTML parser reads one (the ";" may be missing), or a
# backslash of Markdown's escapes, which never reaches the HTML.
_MARKS = re.compile(
    r"(?P<reference>&(?:#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[A-Za-z][A-Za-z0-9]*;?))"
    r"|\\(?=[!-/:-@\[-`{-~])"
)
# Text that never becomes an element or a link: comments, fenced code, code spans.
_INERT = re.compile(
    r"<!--.*?-->"
    r"|^ {0,3}(?P<fence>`{3,}|~{3,}).*?(?:^ {0,3}(?P=fence)[`~]*[ \t]*$|\Z)"
    r"|(?P<ticks>`+)(?:(?!\n[ \t]*\n).)+?(?<!`)(?P=ticks)(?!`)",
    re.DOTALL | re.MULTILINE,
)


class Value(str):
    """A needle that is a value as the HTML parser decoded it (an attribute's), found in
    the source with its character references decoded too. Other needles are markup
    (a tag, an attribute's name), which references cannot spell."""

    __slots__ = ()


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# A run of what `comparable` keeps: white space and control characters drop out.
_KEPT = re.compile(r"[^\x00-\x20\x7f]+")


def comparable(text: str) -> str:
    """`text` as compared: ASCII letters in lower case (as in URL schemes, tag and
    attribute names), without white space or control characters (which HTML's URL
    parsing and Markdown's tab expansion change or drop)."""
    return "".join(_KEPT.findall(text)).translate(_ASCII_LOWER)


class _Searchable:
    """Text as `comparable` puts it, each run of it remembering its source offset."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.starts: list[int] = []  # where each part starts in `text`
        self.sources: list[int] = []  # and in the source
        self.length = 0

    def add(self, text: str, offset: int) -> None:
        for run in _KEPT.finditer(text):
            self.parts.append(run.group().translate(_ASCII_LOWER))
            self.starts.append(self.length)
            self.sources.append(offset + run.start())
            self.length += run.end() - run.start()

    def finish(self) -> None:
        self.text = "".join(self.parts)

    def find(self, wanted: str, after: int) -> int | None:
        """The source offset of `wanted`, looked for from source offset `after` on."""
        part = bisect.bisect_left(self.sources, after)
        start = self.starts[part] if part < len(self.starts) else self.length
        found = self.text.find(wanted, start)
        if found < 0:
            return None
        part = bisect.bisect_right(self.starts, found) - 1
        return self.sources[part] + (found - self.starts[part])


class SourceLines:
    """Finds rendered values in a post's Markdown, in reading order.

    The Markdown is read as `comparable` puts it, and for values as HTML reads it
    (character references decoded). A needle is looked for after the last one found,
    then anywhere; outside code and comments first, which show no markup, then inside.
    """

    def __init__(self, markdown: str, first_line: int):
        self.first_line = first_line
        self.breaks = [m.start() for m in re.finditer("\n", markdown)]
        self.cursor = 0
        self.prose, self.everything = _Searchable(), _Searchable()
        self.raw_prose, self.raw = _Searchable(), _Searchable()
        self.raw.add(markdown, 0)
        _decode_into(self.everything, markdown, 0)
        position = 0
        for span in [*_INERT.finditer(markdown), None]:
            end = span.start() if span else len(markdown)
            self.raw_prose.add(markdown[position:end], position)
            _decode_into(self.prose, markdown[position:end], position)
            position = span.end() if span else end
        for searchable in (self.prose, self.everything, self.raw_prose, self.raw):
            searchable.finish()

    def line_of(self, *needles: str, wrapped: tuple[str, ...] = ()) -> int:
        """The file line of the first of `needles` found after the last find, else from
        the start (trying `wrapped` first then); the body's first line when none is."""
        found = self.find_line(*needles, wrapped=wrapped)
        return self.first_line if found is None else found

    def find_line(
        self, *needles: str, wrapped: tuple[str, ...] = (), again: bool = True
    ) -> int | None:
        """As `line_of`, but None when no needle is found (and, unless `again`, only
        looked for after the last find)."""
        for decoded in (True, False):
            texts = (self.prose, self.everything) if decoded else (self.raw_prose, self.raw)
            for text in texts:
                passes = [(self.cursor, needles), (0, (*wrapped, *needles))][: 2 if again else 1]
                for after, tried in passes:
                    for needle in tried:
                        wanted = comparable(needle)
                        if wanted and isinstance(needle, Value) == decoded:
                            offset = text.find(wanted, after)
                            if offset is not None:
                                self.cursor = offset + 1
                                return self.first_line + bisect.bisect_left(self.breaks, offset)
        return None


def _decode_into(searchable: _Searchable, text: str, offset: int) -> None:
    """Add `text` as HTML reads it: references decoded, Markdown's escapes dropped."""
    position = 0
    for mark in _MARKS.finditer(text):
        searchable.add(text[position : mark.start()], offset + position)
        if mark.group("reference"):
            # A name that is not an entity decodes to itself, and is read on as text.
            searchable.add(html.unescape(mark.group()), offset + mark.start())
        position = mark.end()
    searchable.add(text[position:], offset + position)


@dataclass(frozen=True)
class Block:
    """A top-level Markdown block: its text, and the file line it starts on."""

    text: str
    first_line: int


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# A raw HTML block's opening tag, as Python-Markdown reads one: a block-level element
# at the start of a line, which runs on (over blank lines) to its closing tag.
_HTML_OPEN = re.compile(r"^ {0,3}<([A-Za-z][A-Za-z0-9-]*)(?=[\s/>]|$)")
_INDENTED = re.compile(r"^(?: {4}|\t)")
_LIST = re.compile(r"^ {0,3}(?:[*+-]|\d+\.)[ \t]")
_REFERENCE = re.compile(r"^ {0,3}\[(?!\^)[^\]\n]+\]:[ \t]*\S")  # not a footnote's


def blocks(markdown: str, first_line: int, block_level: frozenset[str]) -> list[Block]:
    """The Markdown's top-level blocks, as Python-Markdown separates them: by blank
    lines, except inside fenced code, an HTML comment or a raw HTML block (an element
    of `block_level` opened at a line's start, until it is closed)."""
    found: list[Block] = []
    lines = markdown.split("\n")
    start: int | None = None
    fence = ""
    comment = False
    element = ""
    depth = 0
    for number, line in enumerate(lines):
        if start is None:
            if not line.strip():
                continue
            start = number
            opening = _HTML_OPEN.match(line)
            name = opening.group(1).lower() if opening else ""
            element, depth = (name, 0) if name in block_level else ("", 0)
        if fence:
            if re.match(rf"^ {{0,3}}{fence[0]}{{{len(fence)},}}[ \t]*$", line):
                fence = ""
        elif comment:
            comment = "-->" not in line
        else:
            match = _FENCE.match(line)
            if match:
                fence = match.group(1)
            elif "<!--" in line:
                comment = "-->" not in line.split("<!--")[-1]
            if element:
                depth += len(re.findall(rf"<{element}(?=[\s/>]|$)", line, re.IGNORECASE))
                depth -= len(re.findall(rf"</{element}\s*>", line, re.IGNORECASE))
        ending = number + 1 == len(lines) or not lines[number + 1].strip()
        if ending and not fence and not comment and (not element or depth <= 0):
            if found and _INDENTED.match(lines[start]) and _LIST.match(found[-1].text):
                start = found.pop().first_line - first_line  # a list item's, continued
            text = "\n".join(lines[start : number + 1])
            found.append(Block(text, first_line + start))
            start = None
    if start is not None:
        found.append(Block("\n".join(lines[start:]), first_line + start))
    return found


def paragraphs(block: Block) -> list[Block]:
    """A block's runs of lines between blank lines."""
    found: list[Block] = []
    run: list[str] = []
    lines = block.text.split("\n")
    for number, line in enumerate([*lines, ""]):
        if line.strip():
            run.append(line)
        elif run:
            found.append(Block("\n".join(run), block.first_line + number - len(run)))
            run = []
    return found


def references(markdown: str) -> str:
    """The Markdown with only its reference definitions ("[label]: url") kept, every
    other line blanked: each keeps its line."""
    return "\n".join(line if _REFERENCE.match(line) else "" for line in markdown.split("\n"))
