"""Python-Markdown, unchanged in what it makes, quicker at making it.

A made converter gets a cheap test in front of each costly pattern that cannot match
most text, and plain lists and sets where Markdown looks things up again and again.
Each test only says "no" where the pattern could not have matched, so the HTML is stock
Markdown's (tests/render/test_markdown.py compares them over generated text).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Markdown asks each block processor about every block (most are paragraphs), and their
# patterns scan the block position by position. Each pattern needs one of these strings
# to match, so a block with none of them is answered "no" without running it.
_BLOCK_NEEDS = (
    ("hashheader", ("#",)),
    ("setextheader", ("\n=", "\n-")),  # the underline starts the block's second line
    ("quote", (">",)),
)
# A rule is a line of three or more of one of "-", "_", "*", after at most 3 spaces.
_RULE_LINE = re.compile(r"\n {0,3}[-_*]")
_RULE_MARKS = ("-", "_", "*")
# Markdown's link patterns, "(?<!\!)\[", start with a look back, so Python's re tries
# them at every position. The same test led by the "[" it looks for skips to each "[".
_LINK_PATTERN = r"(?<!\!)\["
_LINK_LED = re.compile(r"\[(?<!!\[)", re.DOTALL | re.UNICODE)


@dataclass(frozen=True)
class _Needing:
    """A compiled inline pattern, searched only when the rest of the text has `need`."""

    compiled: re.Pattern[str]
    need: str

    def finditer(self, data: str, pos: int = 0) -> Iterator[re.Match[str]]:
        if data.find(self.need, pos) < 0:
            return iter(())
        return self.compiled.finditer(data, pos)


def quicken(converter: Any) -> None:
    """Put a cheap test in front of the costly patterns that cannot match most text.

    Each test only says "no" where the pattern could not have matched, so the HTML is
    Markdown's own (tested against it). Articles render in about half the time.
    """
    from markdown.preprocessors import NormalizeWhitespace

    blocks = converter.parser.blockprocessors
    for name, needs in _BLOCK_NEEDS:
        if name in blocks:
            blocks[name].test = _needing(needs, blocks[name].test)
    if "hr" in blocks:
        rule_test = blocks["hr"].test
        blocks["hr"].test = lambda parent, block: _may_be_rule(block) and rule_test(parent, block)
    if "reference" in blocks:  # "[id]: url" lines; its test says yes to every block
        reference_run = blocks["reference"].run
        blocks["reference"].run = lambda parent, blocks: (
            "]:" in blocks[0] and reference_run(parent, blocks)
        )
    inline = converter.inlinePatterns
    for name in ("reference", "link", "short_reference"):
        if name in inline and inline[name].pattern == _LINK_PATTERN:
            inline[name].compiled_re = _LINK_LED
    if "backtick" in inline:  # every match has a "`" (its backslashes come before one)
        inline["backtick"].compiled_re = _Needing(inline["backtick"].compiled_re, "`")
    preprocessors = converter.preprocessors
    if "html_block" in preprocessors:  # all it finds in text without "<" or "&" is text
        html_run = preprocessors["html_block"].run
        preprocessors["html_block"].run = lambda lines: (
            html_run(lines) if _has_markup(lines) else lines
        )
    whitespace = "normalize_whitespace"
    if whitespace in preprocessors and type(preprocessors[whitespace]) is NormalizeWhitespace:
        preprocessors.register(_quick_whitespace()(converter), whitespace, 30)
    _settle(converter)


def _settle(converter: Any) -> None:
    """Fix what a made converter runs with, where Markdown looks it up again and again.

    Its registries make a new sorted list each time they are iterated (for every
    block) or indexed (for every inline pattern tried): the parser and the inline
    processor get plain lists, which is all they use. "Is this tag block-level?" is
    asked of each element, from a list: it gets a set. And Pygments looks a language's
    lexer up by scanning all of its lexers' names, for every code block.
    """
    converter.parser.blockprocessors = list(converter.parser.blockprocessors)
    inline = converter.treeprocessors["inline"]
    inline.inlinePatterns = list(inline.inlinePatterns)
    levels = frozenset(converter.block_level_elements)
    converter.is_block_level = lambda tag: (
        isinstance(tag, str) and tag.lower().rstrip("/") in levels
    )
    if "hilite" in converter.treeprocessors:
        from markdown.extensions import codehilite
        from pygments import lexers

        if getattr(codehilite, "get_lexer_by_name", None) is lexers.get_lexer_by_name:
            setattr(codehilite, "get_lexer_by_name", _lexer_by_name)  # noqa: B010 (once)


def _lexer_by_name(alias: str, **options: Any) -> Any:
    """Pygments' get_lexer_by_name(), finding each language's lexer class once."""
    return _lexer_class(alias)(**options)


@lru_cache(maxsize=128)
def _lexer_class(alias: str) -> Any:
    from pygments.lexers import get_lexer_by_name

    return type(get_lexer_by_name(alias))  # (an unknown one raises, and is not kept)


@lru_cache(maxsize=1)
def _quick_whitespace() -> type:
    from markdown import util
    from markdown.preprocessors import NormalizeWhitespace

    odd = ("\n ", "\t", "\r", util.STX, util.ETX)

    class QuickWhitespace(NormalizeWhitespace):
        """Markdown's own, which searches the whole text for lines of only spaces. A
        text with none of `odd` has no such line, no tab and nothing else to replace,
        so all the original does to it is add a blank line."""

        def run(self, lines: list[str]) -> list[str]:
            source = "\n".join(lines)
            if any(mark in source for mark in odd):
                return super().run(lines)
            return f"{source}\n\n".split("\n")

    return QuickWhitespace


def _may_be_rule(block: str) -> bool:
    return block[:4].lstrip(" ").startswith(_RULE_MARKS) or bool(_RULE_LINE.search(block))


def _has_markup(lines: list[str]) -> bool:
    source = "\n".join(lines)
    return "<" in source or "&" in source


def _needing(needs: tuple[str, ...], test: Any) -> Any:
    def quick_test(parent: Any, block: str) -> bool:
        return any(need in block for need in needs) and bool(test(parent, block))

    return quick_test
