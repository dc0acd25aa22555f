"""An image as pages show it: a <picture> of AVIF and WebP sources and a fallback <img>,
with its width and height (no layout shift), in Markdown bodies and templates alike."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

# What the layout gives an image (static/css/site.css): an article's column is
# --measure (68ch of 1.125rem text, at most 42rem) inside main's 1rem padding; listing
# cards are one, two (from 48rem) or three (from 72rem) columns of 72rem less gaps.
ARTICLE_SIZES = "(min-width: 44rem) 42rem, calc(100vw - 2rem)"
CARD_SIZES = "(min-width: 72rem) 22rem, (min-width: 48rem) calc(50vw - 2rem), calc(100vw - 2rem)"


@dataclass(frozen=True)
class Shown:
    """A published image: its fallback file and, for a raster photo, its other formats."""

    src: str  # the fallback's URL (under the site's base path)
    width: int
    height: int
    srcset: str = ""  # the fallback format's widths ("a.jpg 480w, b.jpg 960w")
    sources: tuple[tuple[str, str], ...] = ()  # (MIME type, srcset), best first

    def key(self) -> str:
        """What pages that show it depend on."""
        return repr((self.src, self.width, self.height, self.srcset, self.sources))


def attributes(
    shown: Shown, alt: str, sizes: str, lead: bool = False, title: str | None = None
) -> list[tuple[str, dict[str, str]]]:
    """The elements of a picture, in order: (tag, attributes), the <source>s then the
    <img>. The lead image is fetched first; every other one only when it is near view."""
    elements: list[tuple[str, dict[str, str]]] = []
    for mime, srcset in shown.sources:
        elements.append(("source", {"type": mime, "srcset": srcset, "sizes": sizes}))
    img = {"src": shown.src, "alt": alt, "width": str(shown.width), "height": str(shown.height)}
    if shown.srcset:
        img.update(srcset=shown.srcset, sizes=sizes)
    img["decoding"] = "async"
    if lead:
        img["fetchpriority"] = "high"
    else:
        img["loading"] = "lazy"
    if title:
        img["title"] = title
    elements.append(("img", img))
    return elements


def picture_html(
    shown: Shown, alt: str, sizes: str, lead: bool = False, css_class: str = ""
) -> str:
    """The picture as HTML (a bare <img> for a GIF or SVG, which has no other format)."""
    parts = [
        f"<{tag}"
        + "".join(f' {name}="{html.escape(value)}"' for name, value in attrs.items())
        + ">"
        for tag, attrs in attributes(shown, alt, sizes, lead)
    ]
    if not shown.sources:
        img = parts[-1]
        return img.replace("<img", f'<img class="{css_class}"', 1) if css_class else img
    opening = f'<picture class="{css_class}">' if css_class else "<picture>"
    return opening + "".join(parts) + "</picture>"


def build_picture(parent: Any, index: int, img: Any, shown: Shown, sizes: str) -> None:
    """Put the picture in place of the Markdown's `img` (the `index`-th child of
    `parent`, an ElementTree), keeping its alt text, its title and the text after it."""
    import xml.etree.ElementTree as etree

    alt = img.get("alt", "")
    title = img.get("title")
    made = attributes(shown, alt, sizes, title=title)
    if not shown.sources:
        replacement = etree.Element("img", made[-1][1])
    else:
        replacement = etree.Element("picture")
        for tag, attrs in made:
            etree.SubElement(replacement, tag, attrs)
    replacement.tail = img.tail
    parent.remove(img)
    parent.insert(index, replacement)
