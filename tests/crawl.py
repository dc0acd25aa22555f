"""Follow every link of a served site, as a reader clicking everything would."""

from __future__ import annotations

import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlsplit

from tests.sitecheck import scan


@dataclass
class CrawlResult:
    status: dict[str, int] = field(default_factory=dict)  # URL -> HTTP status
    referrers: dict[str, str] = field(default_factory=dict)  # URL -> first page linking it
    html: dict[str, str] = field(default_factory=dict)  # URL -> HTML of pages fetched

    def broken(self) -> list[str]:
        return [
            f"{url} ({code}), linked from {self.referrers.get(url, 'the start')}"
            for url, code in sorted(self.status.items())
            if code != 200
        ]


def _fetch(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            kind = response.headers.get_content_type()
            body = response.read().decode("utf-8", "replace") if kind == "text/html" else ""
            return response.status, kind, body
    except urllib.error.HTTPError as exc:  # a 404 page's links must work too
        kind = exc.headers.get_content_type() if exc.headers else ""
        body = exc.read().decode("utf-8", "replace") if kind == "text/html" else ""
        return exc.code, kind, body


def crawl(
    start: str, extra: list[str] | None = None, prefix: str | None = None, workers: int = 8
) -> CrawlResult:
    """Fetch `start` and every URL reachable from it under `prefix`, once each."""
    result = CrawlResult()
    origin = urlsplit(prefix or start)
    frontier = [start, *(extra or [])]
    seen = set(frontier)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while frontier:
            batch, frontier = frontier, []
            for url, (code, kind, body) in zip(batch, pool.map(_fetch, batch), strict=True):
                result.status[url] = code
                if kind != "text/html" or code not in (200, 404):
                    continue
                if code == 200:
                    result.html[url] = body
                for link in scan(body).links:
                    target = urldefrag(urljoin(url, link)).url
                    parts = urlsplit(target)
                    if parts.netloc != origin.netloc or not parts.path.startswith(origin.path):
                        if parts.netloc == origin.netloc:  # same host, outside the prefix
                            result.status[target] = -1
                            result.referrers.setdefault(target, url)
                        continue
                    if target not in seen:
                        seen.add(target)
                        frontier.append(target)
                        result.referrers[target] = url
    return result
