"""The commonest article, paragraphs of prose with links and plain headings, rendered as
Python-Markdown renders it, without running its pipeline.

Markdown parses every block, runs a dozen inline patterns over every run of text and
serializes a tree; for prose with nothing but words, punctuation and `[links](/x/)` all
that makes `<p>` + the text + `</p>`. Anything else (emphasis, code, lists, tables, raw
HTML, images, an entity, a stray bracket, odd spacing) sends the whole article to
Markdown. The output is Markdown's, byte for byte (tests/render/test_plain.py compares
them over generated text); headings get ids from Markdown's own toc functions.
"""

from __future__ import annotations

import re
from typing import Any

# Characters that may mean Markdown: code, escapes, HTML and entities, tables, fenced
# code; and the two Markdown keeps for itself, tabs, carriage returns.
_MARKS = ("`", "\\", "<", ">", "&", "|", "~", "\t", "\r", "\x02", "\x03")
_EMPHASIS = ("*", "_")  # which a link's URL may hold: the link is found first
# A link whose text is plain and whose URL has no space, quote, parenthesis or bracket
# (led by the "[" it looks for, so that re skips from one to the next).
_LINK = re.compile(r"\[(?<!!\[)([^\[\]\n*_]+)\]\(([^\s()\"'\[\]]+)\)")
# A line that could start a list, a quote, a rule or a setext underline (a heading's
# "#" is looked at block by block).
_ODD_START = (">", "=", "+", "*", "-")
_NUMBERED = re.compile(r"\d+[.)](?:\s|$)")
_HEADING = re.compile(r"(#{1,6}) ([^#\n]*[^#\s])")
_TOC_LEVELS = (2, 3)  # the toc extension's toc_depth, as render/markdown.py sets it


def plain_html(text: str, base_path: str) -> tuple[str, list[dict[str, Any]]] | None:
    """The HTML Markdown makes of `text` and its toc tokens (as the toc extension makes
    them, nested), or None if `text` is not only plain paragraphs and headings."""
    if any(mark in text for mark in _MARKS) or not _plain_lines(text):
        return None
    if "[" in text or "]" in text:
        if any(mark in base_path for mark in (*_MARKS, '"', "'")):
            return None  # a base path Markdown would escape in each site link's href
        bare = _LINK.sub("", text)
        if "[" in bare or "]" in bare or any(mark in bare for mark in _EMPHASIS):
            return None  # a bracket that is not a plain link's, or emphasis
        text = _LINK.sub(lambda link: _anchor(link, base_path), text)
    elif any(mark in text for mark in _EMPHASIS):
        return None
    text = text.strip("\n")
    if not text:
        return None
    html: list[str] = []
    headings: list[tuple[int, str]] = []
    for block in re.split(r"\n\n+", text):
        if block[:1] == "#":
            heading = _HEADING.fullmatch(block)
            if heading is None or "<" in block or " ".join(heading[2].split()) != heading[2]:
                return None  # (the toc extension collapses whitespace, \u2028 too, in names)
            level = len(heading[1])
            headings.append((level, heading[2]))
            html.append(f"<h{level}>{heading[2]}</h{level}>")
        elif "\n#" in block:
            return None
        else:
            html.append(f"<p>{block}</p>")
    return _with_ids(html, headings)


def _plain_lines(text: str) -> bool:
    """No line starts with a space or what could start a list, a quote, a rule or a
    setext underline, or ends with a space (a line break)."""
    for line in text.split("\n"):
        if not line:
            continue
        first = line[0]
        if first in _ODD_START or first.isspace() or line[-1].isspace():
            return False
        if first.isdigit() and _NUMBERED.match(line):
            return False
    return True


def _anchor(link: re.Match[str], base_path: str) -> str:
    href = link[2]
    if href.startswith("/") and not href.startswith("//"):
        href = base_path + href[1:]
    return f'<a href="{href}">{link[1]}</a>'


def _with_ids(html: list[str], headings: list[tuple[int, str]]) -> tuple[str, list[Any]]:
    """Each heading with the id the toc extension gives it, and the toc's tokens."""
    if not headings:
        return "\n".join(html), []
    from markdown.extensions.toc import nest_toc_tokens, slugify, unique

    used: set[str] = set()
    counters: dict[str, int] = {}
    tokens: list[dict[str, Any]] = []
    found = iter(headings)
    for index, element in enumerate(html):
        if element[1] != "h":
            continue
        level, name = next(found)
        ident = unique(slugify(name, "-"), used, counters)
        html[index] = f'<h{level} id="{ident}">{name}</h{level}>'
        if _TOC_LEVELS[0] <= level <= _TOC_LEVELS[1]:
            tokens.append(
                {"level": level, "id": ident, "name": name, "html": name, "data-toc-label": ""}
            )
    return "\n".join(html), nest_toc_tokens(tokens)  # type: ignore[arg-type]


def toc_html(converter: Any, tokens: list[dict[str, Any]]) -> str:
    """The table of contents the toc extension of `converter` makes of `tokens`."""
    toc = converter.treeprocessors["toc"]
    div = toc.build_toc_div(tokens)
    text: str = converter.serializer(div)
    for postprocessor in converter.postprocessors:
        text = postprocessor.run(text)
    return text
