"""Markdown -> HTML with Python-Markdown: fenced code (Pygments), tables, footnotes, TOC."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

TOC_MIN_HEADINGS = 3
PYGMENTS_STYLE = "friendly"
PYGMENTS_DARK_STYLE = "monokai"
HIGHLIGHT_CLASS = "highlight"
# Blocks that are not a paragraph of prose: headings, code, tables, HTML, lists, quotes.
_NOT_PROSE = ("#", "```", "~~~", "|", "<", "    ", "[^", "-", "*", ">", "+")


@dataclass(frozen=True)
class RenderedBody:
    html: str
    toc_html: str  # empty unless the article is long enough to want one
    headings: int


@lru_cache(maxsize=1)
def _converter() -> Any:
    # Imported here so that commands that never render stay quick to start.
    import markdown

    return markdown.Markdown(
        extensions=["fenced_code", "codehilite", "tables", "footnotes", "toc", "sane_lists"],
        extension_configs={
            "codehilite": {"css_class": HIGHLIGHT_CLASS, "guess_lang": False},
            "toc": {"toc_depth": "2-3", "permalink": False},
            "footnotes": {"UNIQUE_IDS": False},
        },
        output_format="html",
    )


def render_markdown(text: str) -> RenderedBody:
    """Render one article's Markdown; the converter is built once and reset between uses."""
    converter = _converter()
    converter.reset()
    html = converter.convert(text)
    tokens = converter.toc_tokens
    headings = _count(tokens)
    toc = converter.toc if headings >= TOC_MIN_HEADINGS else ""
    return RenderedBody(html=html, toc_html=toc, headings=headings)


def _count(tokens: list[dict[str, Any]]) -> int:
    return sum(1 + _count(token.get("children", [])) for token in tokens)


def pygments_css() -> str:
    """The highlighting stylesheet, light by default and dark when the OS asks for it."""
    from pygments.formatters import HtmlFormatter

    light: str = HtmlFormatter(style=PYGMENTS_STYLE).get_style_defs(f".{HIGHLIGHT_CLASS}")  # type: ignore[no-untyped-call]
    dark: str = HtmlFormatter(style=PYGMENTS_DARK_STYLE).get_style_defs(f".{HIGHLIGHT_CLASS}")  # type: ignore[no-untyped-call]
    indented = "\n".join(f"  {line}" for line in dark.splitlines())
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{indented}\n}}\n"


@lru_cache(maxsize=1)
def _plain_converter() -> Any:
    import markdown

    return markdown.Markdown(output_format="html")


def excerpt(body: str, limit: int = 160) -> str:
    """Plain text of the first real paragraph, cut at a word near `limit` characters."""
    import html
    import re

    for block in body.split("\n\n"):
        block = block.strip()
        if block and not block.startswith(_NOT_PROSE):
            converter = _plain_converter()
            converter.reset()
            text = html.unescape(re.sub(r"<[^>]+>", "", converter.convert(block)))
            text = " ".join(text.split())
            if len(text) <= limit:
                return text
            return text[:limit].rsplit(" ", 1)[0] + "…"
    return ""
