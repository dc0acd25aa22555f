"""Walk a built site like a reader would: parse pages, resolve links, extract text."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit


@dataclass
class PageScan:
    links: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scan = PageScan()
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scan.tags.append(tag)
        values = dict(attrs)
        for name in ("href", "src"):
            if values.get(name):
                self.scan.links.append(values[name] or "")
        if values.get("id"):
            self.scan.ids.add(values["id"] or "")
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.scan.text.append(data)


def scan(html: str) -> PageScan:
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    return scanner.scan


def page_text(html: str) -> str:
    """The page's visible text with white space folded, as a reader sees it."""
    return " ".join(" ".join(scan(html).text).split())


def resolve(site: Path, base_path: str, page_url: str, link: str) -> Path | None:
    """The file a site-internal link points at, or None for external links."""
    parts = urlsplit(link)
    if parts.scheme in ("http", "https", "mailto") or parts.netloc:
        return None
    target = urlsplit(urljoin(page_url, link)).path
    assert target.startswith(base_path), f"{link} on {page_url} escapes the base path {base_path}"
    relative = unquote(target[len(base_path) :])
    path = site / relative
    return path / "index.html" if target.endswith("/") or path.is_dir() else path


def broken_links(site: Path, base_path: str = "/") -> list[str]:
    """Every internal link or asset, on every page, whose file is missing."""
    problems = []
    for page in sorted(site.rglob("*.html")):
        relative = page.relative_to(site).as_posix()
        url = base_path + relative.removesuffix("index.html")
        for link in scan(page.read_text(encoding="utf-8")).links:
            if link.startswith("#"):
                continue
            target = resolve(site, base_path, url, link)
            if target is not None and not target.is_file():
                problems.append(f"{relative}: {link}")
    return problems


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def article_pages(site: Path) -> dict[str, str]:
    """url path -> HTML of every article page (the pages with an article body)."""
    pages = {}
    for path in sorted(site.rglob("index.html")):
        html = path.read_text(encoding="utf-8")
        if '<div class="article-body">' in html:
            pages[path.parent.relative_to(site).as_posix() + "/"] = html
    return pages
