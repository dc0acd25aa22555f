"""Serve a built site on 127.0.0.1 under a prefix, as GitHub Pages serves a project site."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit


class _PagesHandler(SimpleHTTPRequestHandler):
    """Files under `prefix`; anything else, or missing, gets the site's 404.html with 404."""

    prefix = "/"

    def __init__(self, *args: Any, site: Path, prefix: str, **kwargs: Any) -> None:
        self.site = site
        self.prefix = prefix
        super().__init__(*args, directory=str(site), **kwargs)

    def translate_path(self, path: str) -> str:
        route = unquote(urlsplit(path).path)
        missing = str(self.site / ".no-such-file")
        if not route.startswith(self.prefix) or "\0" in route:
            return missing
        relative = route[len(self.prefix) :]
        target = (self.site / relative).resolve()
        if self.site.resolve() not in (target, *target.parents):
            return missing
        return str(target)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = self.site / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(site: Path, prefix: str = "/") -> Iterator[str]:
    """Yield the site's base URL, e.g. http://127.0.0.1:PORT/archive/; stop on exit."""
    handler = partial(_PagesHandler, site=site, prefix=prefix)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
