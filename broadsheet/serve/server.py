"""`broadsheet serve`: a Tornado server with livereload's protocol, watching the sources."""

from __future__ import annotations

import html
import ipaddress
import logging
import mimetypes
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from broadsheet.errors import BroadsheetError
from broadsheet.serve.devbuild import DevBuilder, DevResult

POLL_SECONDS = 0.1
# livereload's own snippet: fetch its client from this server, whatever the host name.
LIVE_SCRIPT = (
    '<script>(function(){var s=document.createElement("script");'
    'var port=window.location.port||(window.location.protocol=="https:"?443:80);'
    's.src="//"+window.location.hostname+":"+port+"/livereload.js?port="+port;'
    "document.head.appendChild(s);})();</script>"
)


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_inside(root: Path, requested: str) -> Path | None:
    """The file a request path names, or None if it would leave `root` (.., links, NUL)."""
    if "\0" in requested or "\\" in requested:
        return None
    base = root.resolve()
    target = (base / requested.lstrip("/")).resolve()
    if target != base and base not in target.parents:
        return None
    return target


def error_page(message: str) -> str:
    lines = "\n".join(html.escape(line) for line in message.splitlines())
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Build error · Broadsheet</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<style>body{font:16px/1.5 system-ui,sans-serif;margin:2rem;color:#1b1b1b}"
        "pre{background:#fff0f0;border-left:4px solid #b00020;padding:1rem;white-space:pre-wrap}"
        "</style></head><body><main><h1>The site did not build</h1>"
        f'<pre id="build-error">{lines}</pre>'
        "<p>Fix the file and save it: this page reloads by itself.</p>"
        f"</main>{LIVE_SCRIPT}</body></html>"
    )


def make_app(builder: DevBuilder) -> Any:
    from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler
    from livereload.watcher import Watcher as LivereloadWatcher
    from tornado import web

    class SiteHandler(web.RequestHandler):
        def set_default_headers(self) -> None:
            self.set_header("Cache-Control", "no-store")

        def get(self, path: str) -> None:
            self._send(path, body=True)

        def head(self, path: str) -> None:
            self._send(path, body=False)

        def _send(self, path: str, body: bool) -> None:
            target = resolve_inside(builder.output, path)
            if target is not None and target.is_dir():
                if path and not path.endswith("/"):
                    self.redirect("/" + path + "/")
                    return
                target = target / "index.html"
            page = target is None or target.suffix == ".html" or not target.exists()
            if builder.error is not None and page:
                self._html(500, error_page(str(builder.error)), body)
            elif target is None or not target.is_file():
                missing = builder.output / "404.html"
                text = missing.read_text("utf-8") if missing.is_file() else "Not found"
                self._html(404, text, body)
            elif target.suffix == ".html":
                self._html(200, target.read_text("utf-8"), body)
            else:
                kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
                self.set_header("Content-Type", kind)
                if body:
                    self.write(target.read_bytes())

        def _html(self, status: int, text: str, body: bool) -> None:
            self.set_status(status)
            self.set_header("Content-Type", "text/html; charset=utf-8")
            if body:
                marker = text.rfind("</body>")
                if marker >= 0 and LIVE_SCRIPT not in text:
                    text = text[:marker] + LIVE_SCRIPT + text[marker:]
                self.write(text)

    LiveReloadHandler.live_css = True
    LiveReloadHandler.watcher = LivereloadWatcher()  # reload_waiters() logs its .filepath
    logging.getLogger("tornado.access").setLevel(logging.ERROR)
    return web.Application(
        [
            (r"/livereload", LiveReloadHandler),
            (r"/livereload.js", LiveReloadJSHandler),
            (r"/(.*)", SiteHandler),
        ]
    )


class Watcher(threading.Thread):
    """Polls the sources; on a change, rebuilds and calls `changed(result, path)`."""

    def __init__(
        self,
        paths: list[Path],
        rebuild: Callable[[], DevResult],
        changed: Callable[[DevResult, str], None],
    ):
        super().__init__(daemon=True, name="broadsheet-watcher")
        self.paths = paths
        self.rebuild = rebuild
        self.changed = changed
        self.stopping = threading.Event()
        # Taken now, before the first build reads the sources: a change made from here on
        # is seen, even one made before this thread gets to run.
        self.seen = self.snapshot()

    def snapshot(self) -> dict[Path, tuple[int, int]]:
        found: dict[Path, tuple[int, int]] = {}
        for root in self.paths:
            files = [root] if root.is_file() else root.rglob("*") if root.is_dir() else []
            for path in files:
                try:
                    stat = path.stat()
                except OSError:
                    continue
                if path.is_file():
                    found[path] = (stat.st_mtime_ns, stat.st_size)
        return found

    def _settled(self, now: dict[Path, tuple[int, int]]) -> dict[Path, tuple[int, int]]:
        """Wait until two looks in a row agree: an editor may still be writing the file."""
        for _ in range(20):
            time.sleep(POLL_SECONDS / 2)
            again = self.snapshot()
            if again == now:
                break
            now = again
        return now

    def run(self) -> None:
        seen = self.seen
        while not self.stopping.wait(POLL_SECONDS):
            now = self.snapshot()
            if now == seen:
                continue
            now = self._settled(now)
            touched = sorted(set(now.items()) ^ set(seen.items()))
            seen = now
            self.changed(self.rebuild(), str(touched[0][0]) if touched else "*")


def serve(
    root: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    content_dir: Path | None = None,
    ready: Callable[[str], None] | None = None,
) -> int:
    """Build, serve and watch until Ctrl-C (or SIGTERM); return the exit code."""
    from livereload.handlers import LiveReloadHandler
    from tornado import httpserver, ioloop, netutil

    if not is_loopback(host):
        print(
            f"warning: serving on {host} makes your drafts visible to other machines; "
            "the default, 127.0.0.1, keeps them on this one",
            file=sys.stderr,
        )
    try:
        sockets = netutil.bind_sockets(port, address=host)
    except OSError as exc:
        raise BroadsheetError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    actual = sockets[0].getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{actual}/"
    output = Path(tempfile.mkdtemp(prefix="broadsheet-serve-"))
    builder = DevBuilder(root, output, {"base_url": url}, content_dir)
    sources = [root / "content", root / "templates", root / "static", root / "pyproject.toml"]
    if content_dir is not None:
        sources[0] = content_dir
    try:
        loop = ioloop.IOLoop.current()

        def changed(result: DevResult, path: str) -> None:
            _report(result, "rebuilt")
            reload = path if path.endswith(".css") and result.ok else "*"
            loop.add_callback(LiveReloadHandler.reload_waiters, reload)

        watcher = Watcher(sources, builder.rebuild, changed)
        _report(builder.rebuild(), "built")
        server = httpserver.HTTPServer(make_app(builder))
        server.add_sockets(sockets)
        watcher.start()
        stop = lambda *_: loop.add_callback_from_signal(loop.stop)  # noqa: E731
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        print(f"Serving {root.name} on {url} (drafts shown; Ctrl-C to stop)", flush=True)
        if ready is not None:
            ready(url)
        loop.start()
        watcher.stopping.set()
        watcher.join(timeout=5)
        server.stop()
        print("Stopped.", flush=True)
        return 0
    finally:
        builder.close()
        shutil.rmtree(output, ignore_errors=True)


def _report(result: DevResult, verb: str) -> None:
    if result.ok:
        print(
            f"{verb}: {len(result.rendered)} pages rendered in {result.seconds:.2f} s", flush=True
        )
    else:
        print(
            f"build error (the browser shows it too):\n{result.error}", file=sys.stderr, flush=True
        )
