"""Markdown -> HTML with Python-Markdown: fenced code (Pygments), tables, footnotes, TOC."""

from __future__ import annotations

import contextlib
import importlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from broadsheet.errors import BroadsheetError
from broadsheet.files import write_if_changed
from broadsheet.render.plain import plain_html, toc_html
from broadsheet.render.quick import quicken
from broadsheet.render.sitepaths import is_site_path, raw_html_under

if TYPE_CHECKING:
    from broadsheet.render.pictures import Shown

TOC_MIN_HEADINGS = 3
TOC_MARKER = "[TOC]"  # Markdown's: a paragraph of just this becomes the table of contents
PYGMENTS_STYLE = "friendly"
PYGMENTS_DARK_STYLE = "monokai"
HIGHLIGHT_CLASS = "highlight"
# Blocks that are not a paragraph of prose: headings, code, tables, HTML, lists, quotes.
_NOT_PROSE = ("#", "```", "~~~", "|", "<", "    ", "[^", "-", "*", ">", "+")


@dataclass(frozen=True)
class RenderedBody:
    """An article's body as HTML, its table of contents, and how many headings it has."""

    html: str
    toc_html: str  # empty unless the article is long enough to want one
    headings: int


# Searched in "\n" + text, and led by one character, so that re skips from line to line
# ("^" or a choice of characters would make it try every position); and after a ">"
# too, since a quote's lines are Markdown of their own.
_LIST = (re.compile(r"\n\s*(?:[-*+]|\d+\.)\s"), re.compile(r">\s*(?:[-*+]|\d+\.)\s"))
# Indented code: four columns at the start of a line (a tab stops at four).
_INDENTED = (re.compile(r"\n(?: {4}| {0,3}\t)"), re.compile(r">(?: {4}| {0,3}\t)"))


def extensions_for(text: str) -> tuple[str, ...]:
    """Only the extensions this text can use: each one costs time on every article.

    An extension left out changes nothing for a text without its syntax, so the HTML is
    the same as with all of them enabled.
    """
    text = _as_read(text)
    wanted = ["toc"]
    fenced = "```" in text or "~~~" in text
    if fenced:
        wanted.append("fenced_code")
    lines = f"\n{text}"
    if fenced or _found(_INDENTED, lines):
        wanted.append("codehilite")
    if "|" in text:
        wanted.append("tables")
    if "[^" in text:
        wanted.append("footnotes")
    if _found(_LIST, lines):
        wanted.append("sane_lists")
    return tuple(wanted)


def _found(patterns: tuple[re.Pattern[str], ...], text: str) -> bool:
    return any(pattern.search(text) for pattern in patterns)


def _as_read(text: str) -> str:
    """The text as Markdown's first step reads it: without the two characters it keeps
    for itself, and with its line breaks made "\n"."""
    if "\x02" in text or "\x03" in text or "\r" in text:
        text = text.replace("\x02", "").replace("\x03", "")
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


# Python-Markdown tries each inline pattern on every run of text; each needs one of
# these to match, so a text without it leaves the pattern out and renders the same.
_INLINE_NEEDS = (
    ("backtick", ("`",)),
    ("escape", ("\\",)),
    ("footnote", ("[^",)),
    ("reference", ("[",)),
    ("link", ("[",)),
    ("image_link", ("![",)),
    ("image_reference", ("![",)),
    ("short_reference", ("[",)),
    ("short_image_ref", ("![",)),
    ("autolink", ("<",)),
    ("automail", ("<",)),
    ("linebreak", ("  \n",)),
    ("html", ("<",)),
    ("entity", ("&",)),
    ("em_strong", ("*", "_")),
)

_NEEDLES = tuple(sorted({need for _, needs in _INLINE_NEEDS for need in needs}))


def inline_unused(text: str) -> tuple[str, ...]:
    """The inline patterns that cannot match anywhere in `text`."""
    text = _as_read(text)
    if "\t" in text:  # (made spaces before the patterns run)
        return ()
    present = {need for need in _NEEDLES if need in text}
    if "<" in text and "  " in text:  # raw HTML is put on lines of its own
        present.add("  \n")
    return tuple(name for name, needs in _INLINE_NEEDS if present.isdisjoint(needs))


@lru_cache(maxsize=256)
def _converter(
    base_path: str,
    extensions: tuple[str, ...],
    unused: tuple[str, ...] = (),
    toc_marker: bool = True,
    quick: bool = True,
) -> Any:
    """A converter with these extensions, without the `unused` inline patterns, and
    looking for the "[TOC]" marker only if asked (the search walks every element).
    `quick`: with the cheap tests of `quick.quicken` in front of Markdown's own."""
    # Imported here so that commands that never render stay quick to start.
    import markdown

    configs: dict[str, dict[str, Any]] = {
        "toc": {"toc_depth": "2-3", "permalink": False, "marker": TOC_MARKER * toc_marker},
        "footnotes": {"UNIQUE_IDS": False},
    }
    if "codehilite" in extensions:  # (only then Pygments' formatters: 25 ms to import)
        configs["codehilite"] = {
            "css_class": HIGHLIGHT_CLASS,
            "guess_lang": False,
            "pygments_formatter": _formatter(),
        }
    converter = markdown.Markdown(
        extensions=[*(_extension(name, configs) for name in extensions), _site_links(base_path)],
        output_format="html",
    )
    for name in unused:
        converter.inlinePatterns.deregister(name, strict=False)
    if quick:
        quicken(converter)
    return converter


def _extension(name: str, configs: dict[str, dict[str, Any]]) -> Any:
    """Python-Markdown's extension `name`, made from its own module. (Given by name,
    Markdown first looks through every installed package's entry points for one of
    that name: 25 ms, with 150 packages installed, in each process that renders.)"""
    module = importlib.import_module(f"markdown.extensions.{name}")
    return module.makeExtension(**configs.get(name, {}))


@lru_cache(maxsize=1)
def _formatter() -> type:
    """Pygments' HTML formatter, working out its style's CSS classes once rather than
    for every code block (0.45 ms each). It is given the same options as the one
    Markdown would pick by name, and its output is the same (tested)."""
    from pygments.formatters import HtmlFormatter

    class SharedStyleFormatter(HtmlFormatter):  # type: ignore[type-arg]
        _made: dict[tuple[Any, str], tuple[Any, Any]] = {}  # noqa: RUF012 (shared on purpose)
        ttype2class: Any
        class2style: Any

        def _create_stylesheet(self) -> None:
            key = (self.style, self.classprefix)
            made = self._made.get(key)
            if made is None:  # its two tables are only read once made
                HtmlFormatter._create_stylesheet(self)  # type: ignore[attr-defined]
                made = self._made[key] = (self.ttype2class, self.class2style)
            self.ttype2class, self.class2style = made

    return SharedStyleFormatter


def render_markdown(
    text: str, base_path: str = "/", pictures: Mapping[str, Shown] | None = None
) -> RenderedBody:
    """Render one article's Markdown; the converter is built once and reset between uses.

    Site-relative links and images ("/asia/other-story/") are put under `base_path`, so
    that they work when the site is served from a sub-path such as /archive/. Images the
    build published (`pictures`, by their `src` as written) become pictures.
    """
    if not pictures:
        plain = plain_html(text, base_path)
        if plain is not None:  # prose and headings only: Markdown's HTML, made directly
            html, tokens = plain
            headings = _count(tokens)
            toc = ""
            if headings >= TOC_MIN_HEADINGS:
                toc = toc_html(_converter(base_path, ("toc",), (), False), tokens)
            return RenderedBody(html=html, toc_html=toc, headings=headings)
    marker = TOC_MARKER in text  # only text that has it can have it replaced
    converter = _converter(base_path, extensions_for(text), inline_unused(text), marker)
    converter.reset()
    _prepare(converter, text, pictures)
    html = converter.convert(text)
    tokens = converter.toc_tokens
    headings = _count(tokens)
    toc = converter.toc if headings >= TOC_MIN_HEADINGS else ""
    return RenderedBody(html=html, toc_html=toc, headings=headings)


def _site_links(base_path: str) -> Any:
    from markdown.extensions import Extension
    from markdown.treeprocessors import Treeprocessor

    class SiteLinks(Treeprocessor):
        """Site paths put under the base path; images made pictures and figures."""

        def run(self, root: Any) -> None:
            md: Any = self.md
            images = getattr(md, "broadsheet_images", False)
            if base_path == "/" and not images:
                return
            if base_path != "/":  # the raw HTML too, all of it stashed by now (once:
                # the toc extension runs the postprocessors again for each heading)
                stash = md.htmlStash
                stash.rawHtmlBlocks = [
                    raw_html_under(block, base_path) if isinstance(block, str) else block
                    for block in stash.rawHtmlBlocks
                ]
            found: list[tuple[Any, Any]] = []  # (parent, img)
            for element in root.iter():
                if images:
                    for child in element:
                        if child.tag == "img":  # (seen before its src is rewritten)
                            found.append((element, child))
                            md.broadsheet_sources[id(child)] = child.get("src", "")
                if base_path == "/":
                    continue
                for attribute in ("href", "src"):
                    value = element.get(attribute)
                    if value and is_site_path(value):
                        element.set(attribute, base_path + value[1:])
            if found:
                _show_images(md, found)

    class SiteLinksExtension(Extension):
        def extendMarkdown(self, md: Any) -> None:
            md.treeprocessors.register(SiteLinks(md), "broadsheet_site_links", 0)

    return SiteLinksExtension()


@dataclass(frozen=True)
class MarkdownImage:
    """An image in an article's Markdown: its `src` as written, alt text and title."""

    src: str
    alt: str
    title: str | None


def _show_images(md: Any, found: list[tuple[Any, Any]]) -> None:
    """Each image as readers get it: a picture when the build published it (under its
    `src` as written, in md.broadsheet_pictures), with alt, width and height, decoded
    off the main thread and fetched lazily; alone in its paragraph, a figure whose
    caption is the Markdown title."""
    from broadsheet.render.pictures import ARTICLE_SIZES, build_picture

    pictures = getattr(md, "broadsheet_pictures", None) or {}
    written: list[MarkdownImage] = md.broadsheet_found
    for parent, img in found:
        src = md.broadsheet_sources.get(id(img), img.get("src", ""))
        title = img.get("title")
        written.append(MarkdownImage(src, img.get("alt", ""), title))
        alone = (
            parent.tag == "p"
            and len(parent) == 1
            and not (parent.text or "").strip()
            and not (img.tail or "").strip()
        )
        if alone and title:
            del img.attrib["title"]
        shown = pictures.get(src)
        if shown is not None:
            build_picture(parent, list(parent).index(img), img, shown, ARTICLE_SIZES)
        else:
            img.set("decoding", "async")
            img.set("loading", "lazy")
        if alone:
            parent.tag = "figure"
            parent.text = parent[0].tail = None
            if title:
                import xml.etree.ElementTree as etree

                etree.SubElement(parent, "figcaption").text = title


def markdown_images(text: str) -> list[MarkdownImage]:
    """Every image the Markdown `text` shows, in order (none in code or raw HTML)."""
    converter = _converter("/", extensions_for(text), inline_unused(text), TOC_MARKER in text)
    converter.reset()
    _prepare(converter, text, None)
    converter.convert(text)
    return list(converter.broadsheet_found)


def _prepare(converter: Any, text: str, pictures: Mapping[str, Shown] | None) -> None:
    """What the image step reads for one conversion."""
    converter.broadsheet_images = "![" in text
    converter.broadsheet_pictures = pictures
    converter.broadsheet_found = []
    converter.broadsheet_sources = {}


def _count(tokens: list[dict[str, Any]]) -> int:
    return sum(1 + _count(token.get("children", [])) for token in tokens)


def pygments_css(kept: Path | None = None) -> str:
    """The highlighting stylesheet, light by default and dark when the OS asks for it.

    With `kept` (a file in the build cache), it is read from there while Pygments and
    the styles are the same and it is whole (a hash of it heads the file): working it
    out imports Pygments' formatters, 30 ms of a rebuild after an edit to an article
    without code."""
    import hashlib

    import pygments

    key = f"/* pygments {pygments.__version__}: {PYGMENTS_STYLE}, {PYGMENTS_DARK_STYLE}"

    def headed(css: str) -> str:
        digest = hashlib.blake2b(css.encode("utf-8"), digest_size=16).hexdigest()
        return f"{key} {digest} */\n{css}"

    if kept is not None:
        from broadsheet.sealed import read_file  # (never a pipe or a device in its place)

        try:
            text = (read_file(kept) or b"").decode("utf-8")
        except UnicodeDecodeError:
            text = ""
        css = text.partition("\n")[2]
        if text.startswith(key) and text == headed(css):
            return css
    css = _pygments_css()
    if kept is not None:
        with contextlib.suppress(BroadsheetError):  # only a cache
            write_if_changed(kept, headed(css))
    return css


@lru_cache(maxsize=1)
def _pygments_css() -> str:
    from pygments.formatters import HtmlFormatter

    light: str = HtmlFormatter(style=PYGMENTS_STYLE).get_style_defs(f".{HIGHLIGHT_CLASS}")  # type: ignore[no-untyped-call]
    dark: str = HtmlFormatter(style=PYGMENTS_DARK_STYLE).get_style_defs(f".{HIGHLIGHT_CLASS}")  # type: ignore[no-untyped-call]
    indented = "\n".join(f"  {line}" for line in dark.splitlines())
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{indented}\n}}\n"


@lru_cache(maxsize=64)
def _plain_converter(unused: tuple[str, ...] = ()) -> Any:
    import markdown

    converter = markdown.Markdown(output_format="html")
    for name in unused:
        converter.inlinePatterns.deregister(name, strict=False)
    quicken(converter)
    return converter


# A paragraph of only words, spaces and everyday punctuation, with no line that could
# start a list or a heading, has no Markdown in it: its text is itself.
_PLAIN = re.compile(r"(?:[^\W_]|[ \n.,;:'\"?()%$/’‘“”—–-])*")
_LINE_MARKUP = re.compile(r"^ *(?:-|\d+[.)])", re.MULTILINE)
_TAG = re.compile(r"<[^>]+>")


def _paragraphs(body: str) -> Iterator[str]:
    """body.split("\n\n"), one at a time: an excerpt seldom needs more than the first."""
    start = 0
    while (end := body.find("\n\n", start)) >= 0:
        yield body[start:end]
        start = end + 2
    yield body[start:]


def excerpt(body: str, limit: int = 160) -> str:
    """Plain text of the first real paragraph, cut at a word near `limit` characters."""
    import html

    for block in _paragraphs(body):
        block = block.strip()
        if block and not block.startswith(_NOT_PROSE):
            if _PLAIN.fullmatch(block) and not _LINE_MARKUP.search(block):
                text = " ".join(block.split())  # what Markdown would make of it (tested)
            else:  # prose with links made directly, anything else by Markdown
                plain = plain_html(block, "/")
                if plain is not None:
                    made = plain[0]
                else:
                    converter = _plain_converter(inline_unused(block))
                    converter.reset()
                    made = converter.convert(block)
                text = " ".join(html.unescape(_TAG.sub("", made)).split())
                if not text:  # a photo, say, leading the text: the words come after it
                    continue
            if len(text) <= limit:
                return text
            return text[:limit].rsplit(" ", 1)[0] + "…"
    return ""
