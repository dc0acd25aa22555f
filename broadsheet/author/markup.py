"""What an article's rendered HTML holds for `check`: the URLs it links to, and what in it
would run script in a reader's browser.

The HTML is parsed as a browser parses it (Lexbor, an HTML5 parser, with scripting on),
so character references are decoded and tags, attributes and foreign (SVG, MathML)
content are what a browser makes of them, however the source spells them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from broadsheet.author.lines import (
    Block,
    SourceLines,
    Value,
    blocks,
    comparable,
    paragraphs,
    references,
)
from broadsheet.render.sitepaths import LINKING, SRCSET, candidates
from broadsheet.render.sitepaths import URL_ATTRIBUTES as LINK_ATTRIBUTES

RUNS = "it runs in readers' browsers"
# A raw HTML block of more runs than this has each parsed alone (else: quadratic).
_MAX_RUNS = 200
# Attributes whose value is one URL, on any element (MathML and SVG included).
URL_ATTRIBUTES = frozenset(
    "href xlink:href src action formaction data poster background dynsrc lowsrc codebase "
    "cite longdesc usemap profile classid manifest icon".split()
)
# Attributes whose value is a list of URLs.
URL_LIST_ATTRIBUTES = frozenset({"srcset", "imagesrcset", "ping", "archive"})
# Schemes whose URL is a program: the browser runs it when it follows the URL.
SCRIPT_SCHEMES = frozenset({"javascript", "vbscript", "livescript"})
# data: URLs of these types are only shown, never run; any other type may be a document.
_SHOWN_DATA = re.compile(r"(?:image/(?!svg)|audio/|video/|font/|text/plain|text/css|$)")
# Elements that show an image: an SVG image there is only drawn, its script never runs.
_IMAGE_ELEMENTS = frozenset({"img", "source", "image", "input"})
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
_REFRESH_URL = re.compile(r"^[\d.\s]*[;,]?\s*(?:url\s*=\s*)?['\"]?([^'\"]*)", re.IGNORECASE)
_CSS_SCRIPT = re.compile(r"javascript:|vbscript:|expression\s*\(|-moz-binding|behavior\s*:")
_ANIMATIONS = frozenset({"animate", "set", "animatemotion", "animatetransform"})
# Elements whose content is an embedded document or a plug-in, able to run script.
_EMBEDS = {
    "object": "it embeds a document or plug-in that can run script",
    "embed": "it embeds a document or plug-in that can run script",
    "applet": "it runs a Java program",
    "base": "it re-points every relative link and script on the page",
}


@dataclass(frozen=True)
class Finding:
    """A problem found in a post's Markdown, and the text that names the line it is on."""

    message: str
    needles: tuple[str, ...]  # text to look for in the Markdown to name the line


@dataclass(frozen=True)
class Link:
    """A link or image a post's HTML holds."""

    url: str  # as the browser reads it, references decoded
    image: bool


class Article:
    """One article's Markdown, rendered and parsed as its readers' browsers get it.

    A finding is named by the line it came from: each top-level block of the Markdown
    (a raw HTML block: each run of its lines between blank lines) is rendered and parsed
    alone, and the n-th finding of a kind in the article is the n-th of that kind in the
    blocks; within its block, its line is where its text is."""

    def __init__(self, markdown: str, first_line: int):
        from broadsheet.render.markdown import render_markdown

        self.markdown = markdown
        self.first_line = first_line  # the file line the Markdown starts on
        self.root = parse(render_markdown(markdown).html)
        self._units: list[tuple[Block, LexborNode, LexborNode | None]] | None = None
        self._links: list[Link] | None = None
        self._link_lines: list[int] | None = None

    def warnings(self) -> list[tuple[int, str]]:
        """What in it would run script: the file line and a message for each."""
        findings = list(script_findings(self.root))
        if not findings:
            return []
        keys = self._keys(lambda root: [f.message for f in script_findings(root)])
        wanted = [(f.needles, ()) for f in findings]
        lines = self._locate([f.message for f in findings], keys, wanted)
        return [(line, f.message) for line, f in zip(lines, findings, strict=True)]

    def links(self) -> list[Link]:
        if self._links is None:
            self._links = list(links(self.root))
        return self._links

    def link_line(self, index: int) -> int:
        """The file line of the `index`-th of `links()`."""
        if self._link_lines is None:
            found = self.links()
            keys = self._keys(lambda root: list(links(root)))
            # A link by reference: its URL is written where the reference is defined.
            wanted = [((Value(link.url),), (Value(f"]:{link.url}"),)) for link in found]
            self._link_lines = self._locate(found, keys, wanted)
        return self._link_lines[index]

    def _locate(
        self,
        found: Sequence[Hashable],
        keys: list[list[Any]],
        wanted: Sequence[tuple[tuple[str, ...], tuple[str, ...]]],
    ) -> list[int]:
        """The line of each of `found` (keyed as `keys` key each block's findings),
        looked for by its `wanted` needles."""
        owners: dict[Hashable, list[int]] = {}
        for unit, unit_keys in enumerate(keys):
            for key in unit_keys:
                owners.setdefault(key, []).append(unit)
        units = self._blocks()
        sources: dict[int, SourceLines] = {}
        seen: Counter[Hashable] = Counter()
        whole = SourceLines(self.markdown, self.first_line)
        defined = SourceLines(references(self.markdown), self.first_line)
        lines = []
        for key, (needles, wrapped) in zip(found, wanted, strict=True):
            ordinal, seen[key] = seen[key], seen[key] + 1
            owner = owners.get(key, [])
            if ordinal < len(owner):
                block = units[owner[ordinal]][0]
                if owner[ordinal] not in sources:
                    sources[owner[ordinal]] = SourceLines(block.text, block.first_line)
                source = sources[owner[ordinal]]
                # Not after the last one found in its block: a link by reference, met
                # again, or made where its reference is defined.
                line = source.find_line(*needles, again=False)
                if line is None:
                    line = defined.find_line(*wrapped, *needles)
                if line is None:
                    line = source.find_line(*needles)
                lines.append(block.first_line if line is None else line)
            else:  # not made by any block alone: looked for in the whole article
                lines.append(whole.line_of(*needles, wrapped=wrapped))
        return lines

    def _keys(self, keys: Callable[[LexborNode], list[Any]]) -> list[list[Any]]:
        """The `keys` of what each block makes (of a run of a raw HTML block: what the
        block up to it makes, less what the block before it makes)."""
        found = []
        for _, root, previous in self._blocks():
            made = Counter(keys(root))
            if previous is not None:
                made -= Counter(keys(previous))
            found.append(list(made.elements()))
        return found

    def _blocks(self) -> list[tuple[Block, LexborNode, LexborNode | None]]:
        """Each top-level block (a raw HTML block: each run of its lines), parsed."""
        if self._units is None:  # only for the few articles with a problem
            from markdown.util import BLOCK_LEVEL_ELEMENTS

            from broadsheet.render.markdown import render_markdown

            definitions = [line for line in references(self.markdown).split("\n") if line]
            labels = [line.split("]:")[0].strip().lower() + "]" for line in definitions]
            level = frozenset(BLOCK_LEVEL_ELEMENTS)
            self._units = []
            for block in blocks(self.markdown, self.first_line, level):
                text = block.text
                if definitions and "[" in text:  # so that its links by reference are links
                    lower = text.lower()
                    used = [
                        d for d, label in zip(definitions, labels, strict=True) if label in lower
                    ]
                    text += "\n\n" + "\n".join(used) if used else ""
                html = render_markdown(text).html
                # After the first, in the body, as in the article: there a <template> or
                # a <frameset> is not the head's or the document's.
                start = "<body>" if self._units else ""
                if html.strip() not in (block.text.strip(), text.strip()):
                    self._units.append((block, parse(start + html), None))
                    continue
                # Raw HTML, as written: each run of lines is what it adds to those before
                # it (a comment or an attribute may run over blank lines).
                previous = None
                runs = paragraphs(block)
                for number, run in enumerate(runs):
                    if len(runs) > _MAX_RUNS:  # parsed alone: as exact, but for those
                        self._units.append((run, parse(start + run.text), None))
                        continue
                    before = "\n\n".join(r.text for r in runs[: number + 1])
                    root = parse(start + before)
                    self._units.append((run, root, previous))
                    previous = root
        return self._units


def parse(html: str) -> LexborNode:
    """The document a browser with scripting on makes of `html`."""
    root = LexborHTMLParser(html, scripting=True).root
    assert root is not None  # a document always has its <html>
    return root


def elements(root: LexborNode) -> Iterator[LexborNode]:
    for node in root.traverse(include_text=False):
        if node.is_element_node:
            yield node


def links(root: LexborNode) -> Iterator[Link]:
    """Each URL the page links to or loads, in document order."""
    for node in elements(root):
        tag = (node.tag or "").lower()
        if tag not in LINKING:  # (the elements whose site paths the build puts under
            continue  # the base path: broadsheet.render.sitepaths)
        for name, value in node.attributes.items():
            if value is None:
                continue
            name = name.lower()
            image = tag in ("img", "image") or (tag, name) in (("source", SRCSET), ("input", "src"))
            if name in LINK_ATTRIBUTES:
                yield Link(value, image or name == "poster")
            elif name == SRCSET:
                yield from (Link(url, image) for url in _candidates(value))


def script_findings(root: LexborNode) -> Iterator[Finding]:
    """Everything in the page that would run script, in document order."""
    for node in elements(root):
        yield from _element(node)
        tag = (node.tag or "").lower()
        for name, value in node.attributes.items():
            yield from _attribute(tag, name.lower(), value or "")


def _element(node: LexborNode) -> Iterator[Finding]:
    tag = (node.tag or "").lower()
    attributes = {k.lower(): v or "" for k, v in node.attributes.items()}
    if tag == "script":
        yield Finding(f"raw HTML <script> element: {RUNS}", ("<script",))
    elif tag in _EMBEDS:
        yield Finding(f"raw HTML <{tag}> element: {_EMBEDS[tag]}", (f"<{tag}",))
    elif tag in ("iframe", "frame") and "srcdoc" in attributes:
        yield Finding(
            f"<{tag} srcdoc>: an embedded document, whose script runs in readers' browsers",
            ("srcdoc", f"<{tag}"),
        )
    elif tag == "meta" and attributes.get("http-equiv", "").strip().lower() == "refresh":
        match = _REFRESH_URL.match(attributes.get("content", ""))
        url = match.group(1) if match else ""
        if dangerous_url(url, tag):
            yield Finding(f"<meta> refresh to a {_what(url)}: {RUNS}", (Value(url), "http-equiv"))
    elif tag == "style" and _CSS_SCRIPT.search(comparable_css(node.text(deep=True))):
        yield Finding(f"<style> with script in it: {RUNS} (in older ones)", ("<style",))
    elif tag in _ANIMATIONS:
        yield from _animation(tag, attributes)


def _animation(tag: str, attributes: dict[str, str]) -> Iterator[Finding]:
    """SVG's <animate>, <set>: they set another attribute, which may be a handler or URL."""
    target = attributes.get("attributename", "").strip().lower()
    values = [attributes.get(key, "") for key in ("to", "from", "values", "by")]
    urls = [url for value in values for url in value.split(";")]
    if target.startswith("on"):
        yield Finding(
            f"<{tag}> that sets the event handler {target}: {RUNS}", (Value(target), f"<{tag}")
        )
    elif target in ("href", "xlink:href"):
        for url in urls:
            if dangerous_url(url, tag):
                yield Finding(f"<{tag}> that sets a {_what(url)}: {RUNS}", (Value(url), f"<{tag}"))


def _attribute(tag: str, name: str, value: str) -> Iterator[Finding]:
    if name.startswith("on"):
        written = [Value(f"{name}={quote}{value}{quote}") for quote in ("", '"', "'")]
        needles = (*written, f"{name}=", name, f"<{tag}")
        yield Finding(f"inline event handler ({name}=) on <{tag}>: {RUNS}", needles)
    elif name in URL_ATTRIBUTES or name in URL_LIST_ATTRIBUTES:
        for url in _urls(name, value):
            if dangerous_url(url, tag):
                yield Finding(f"{_what(url)} in {name}= of <{tag}>: {RUNS}", (Value(url), name))
    elif name == "style" and _CSS_SCRIPT.search(comparable_css(value)):
        yield Finding(f"style= with script in it on <{tag}>: {RUNS} (in older ones)", ("style",))


def scheme(url: str) -> str:
    """The URL's scheme as a browser reads it: control characters and white space
    (which browsers strip, or Markdown made of a tab) do not hide it."""
    match = _SCHEME.match(comparable(url))
    return match.group(1) if match else ""


def dangerous_url(url: str, tag: str = "a") -> bool:
    """Whether following or loading `url` runs script: a javascript: URL, or a data: URL
    of a type that is a document (HTML, SVG, XML) rather than a picture or a sound."""
    found = scheme(url)
    if found in SCRIPT_SCHEMES:
        return True
    if found != "data":
        return False
    kind = comparable(url)[len("data:") :].split(",")[0].split(";")[0]
    shown = _SHOWN_DATA.match(kind) is not None
    return not shown and not (tag in _IMAGE_ELEMENTS and kind == "image/svg+xml")


def _what(url: str) -> str:
    found = scheme(url)
    return f"{found}: URL" if found != "data" else "data: URL of a document"


def _urls(name: str, value: str) -> list[str]:
    if name in ("srcset", "imagesrcset"):
        return _candidates(value)
    if name in URL_LIST_ATTRIBUTES:
        return [url for url in re.split(r"[\s,]+", value) if url]
    return [value]


def _candidates(value: str) -> list[str]:
    """The URLs of a srcset, as the build reads them (broadsheet.render.sitepaths)."""
    return [url for _, url in candidates(value)]


def comparable_css(css: str) -> str:
    """CSS as compared: its escapes ("\\6a") decoded, lower case, no white space."""
    decoded = re.sub(r"\\([0-9a-fA-F]{1,6})\s?", _css_character, css)
    decoded = re.sub(r"\\(.)", r"\1", decoded)
    return "".join(decoded.lower().split())


def _css_character(match: re.Match[str]) -> str:
    code = int(match.group(1), 16)
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
