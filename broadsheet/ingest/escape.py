"""Escape plain text so that Python-Markdown renders exactly that text and no markup."""

from __future__ import annotations

import re

# Characters with a meaning anywhere in a Markdown line; backslash escapes work for these.
_INLINE = {"\\": "\\\\", "*": "\\*", "_": "\\_", "`": "\\`", "[": "\\[", "]": "\\]"}
# No backslash escape exists for these in Python-Markdown: use character references.
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# What makes a block of a line start: headings, lists, quotes, rules, fences, indents.
_TABLE = str.maketrans({**_INLINE, **_ENTITIES})
_BLOCK_START = re.compile(r"^(#|[-+]|\d+[.)]|~|:|=|\|)")


def escape_text(text: str) -> str:
    """One paragraph of plain text -> Markdown that renders as that very text."""
    out = text.translate(_TABLE)
    match = _BLOCK_START.match(out)
    if match:
        marker = match.group(0)
        if marker[0].isdigit():
            out = marker[:-1] + "\\" + marker[-1] + out[len(marker) :]
        elif marker in "#-+":
            out = "\\" + out
        else:
            out = f"&#{ord(marker)};" + out[1:]
    return out


_ESCAPED = re.compile(r"\\(.)|&(amp|lt|gt);|&#(\d+);", re.DOTALL)
_NAMED = {"amp": "&", "lt": "<", "gt": ">"}


def unescape_text(markdown: str) -> str:
    """The inverse of escape_text, for comparing imported posts with their source."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return match.group(1)
        if match.group(2) is not None:
            return _NAMED[match.group(2)]
        return chr(int(match.group(3)))

    return _ESCAPED.sub(replace, markdown)
