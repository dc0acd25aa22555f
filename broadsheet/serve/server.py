"""`broadsheet serve`: a Tornado server with livereload's protocol, watching the sources."""

from __future__ import annotations

import html
import ipaddress
import logging
import mimetypes
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from broadsheet.errors import BroadsheetError
from broadsheet.publish.output_dir import OLD, stage_path
from broadsheet.serve.devbuild import DevBuilder, DevResult
from broadsheet.serve.watch import Rebuilder, Sources, Watcher

# livereload's own snippet: fetch its client from this server, whatever the host name.
LIVE_SCRIPT = (
    '<script>(function(){var s=document.createElement("script");'
    'var port=window.location.port||(window.location.protocol=="https:"?443:80);'
    's.src="//"+window.location.hostname+":"+port+"/livereload.js?port="+port;'
    "document.head.appendChild(s);})();</script>"
)
NAME_MAX = 255  # bytes in one file name: a longer path component names nothing
READY_SECONDS = 5.0  # at most this long to wait for the OS to start watching
# How long a request waits for a page while a build swaps the site in (looking a
# millisecond apart): a deadline, not a count of looks (on a loaded machine, fifty looks
# once ran out while the swap was still between its two renames). It waits only while a
# build's stage is there: with no build under way there is no swap to wait for.
SWAP_WAIT = 1.0
SESSION = "broadsheet-serve-"  # the prefix of each session's temporary folder


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# A Host header: a name or IPv4 address, or an IPv6 address in brackets; then maybe a port.
HOST_HEADER = re.compile(r"(?P<name>[^\[\]:@/\s]+|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?")


def host_allowed(bound: str, header: str) -> bool:
    """Whether a server bound to `bound` answers a request whose Host header is `header`.

    Bound to this machine only, it answers only for names of this machine (localhost,
    127.0.0.0/8, [::1]) and the very host it was started with: otherwise a page on
    another site whose name its attacker then points at 127.0.0.1 (DNS rebinding) could
    read the drafts. Bound to other machines on purpose, it answers any name."""
    if not is_loopback(bound):
        return True
    match = HOST_HEADER.fullmatch(header)
    if match is None:
        return False
    name = match["name"]
    return is_loopback(name) or name.strip("[]").lower() == bound.strip("[]").lower()


def request_parts(requested: str) -> list[str] | None:
    """The request path's components, or None if it could name nothing in the site
    (`..`, NUL, a backslash, a component too long to be a file name)."""
    if "\0" in requested or "\\" in requested:
        return None
    parts = [part for part in requested.split("/") if part not in ("", ".")]
    if ".." in parts or any(len(part.encode("utf-8", "replace")) > NAME_MAX for part in parts):
        return None
    return parts


def resolve_inside(root: Path, requested: str) -> Path | None:
    """The file a request path names, or None if it would leave `root` (.., links, NUL)."""
    parts = request_parts(requested)
    if parts is None:
        return None
    try:
        base = root.resolve()
        target = base.joinpath(*parts).resolve()
    except (OSError, RuntimeError):  # a name too long for the system, a link loop
        return None
    if target != base and base not in target.parents:
        return None
    return target


@dataclass(frozen=True)
class Found:
    """A file the dev server answers with."""

    name: str  # the file's name, for its content type
    data: bytes


@dataclass(frozen=True)
class Redirect:
    """A redirect the dev server answers with."""

    location: str  # always a path on this server: one "/", then never another


class SiteFolder:
    """The dev site as requests see it: only files inside it, and always a whole version
    of each page, even while a build swaps the whole folder for a new one."""

    def __init__(self, output: Path):
        self.output = output
        self.stage = stage_path(output)  # a build's, while one is under way
        # Where a swap by two renames (where the folders cannot be exchanged in one
        # step) puts the last site until the new one is in (see output_dir._swap_in).
        self.previous = self.stage / OLD

    def find(self, requested: str) -> Found | Redirect | None:
        parts = request_parts(requested)
        if parts is None:
            return None
        slash = requested.endswith("/") or not parts
        deadline: float | None = None
        while True:
            before = _identity(self.output)
            if before is not None:
                answer = _look(self.output, parts, slash)
                if answer is not None or _identity(self.output) == before:
                    return answer  # (a miss counts only if the site stayed the same)
            elif _identity(self.previous) is not None:  # mid-swap: the last site, whole
                answer = _look(self.previous, parts, slash)
                if answer is not None:
                    return answer  # (a miss there may be its removal: look again)
            elif not os.path.lexists(self.stage):
                return None  # no site, and no build to bring one: nothing to wait for
            now = time.monotonic()
            if deadline is None:
                deadline = now + SWAP_WAIT
            elif now >= deadline:
                return None
            time.sleep(0.001)  # a swap is under way: give it a moment


def _identity(folder: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(folder)
    except OSError:
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISDIR(info.st_mode) else None


def _look(folder: Path, parts: list[str], slash: bool) -> Found | Redirect | None:
    target = resolve_inside(folder, "/".join(parts))
    if target is None:
        return None
    try:
        info = os.stat(target)
        if stat.S_ISDIR(info.st_mode):
            if not slash:
                return Redirect(quote("/" + "/".join(parts) + "/"))
            target = target / "index.html"
            info = os.stat(target)
        if not stat.S_ISREG(info.st_mode):
            return None  # never opened: a named pipe would block the server
        with open(target, "rb") as handle:
            return Found(target.name, handle.read())
    except OSError:
        return None


def error_page(message: str) -> str:
    """The page shown in place of every page while the site does not build (without the
    live-reload script: every HTML answer gets that, once, from `with_live_script`)."""
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
        "</main></body></html>"
    )


def with_live_script(page: bytes) -> bytes:
    """The page with the live-reload script before its last `</body>` (the only place
    it is added, so each open page makes one reload connection)."""
    marker = page.rfind(b"</body>")
    if marker < 0:
        return page
    return page[:marker] + LIVE_SCRIPT.encode() + page[marker:]


WRONG_HOST = (
    "403 Forbidden: this server shows drafts, so it answers only requests for localhost "
    "or 127.0.0.1. To serve it under another name, start it with --host.\n"
)


def make_app(site: SiteFolder, error: Callable[[], str | None], bound: str) -> Any:
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
            answer = site.find(path)
            if isinstance(answer, Redirect):
                self.redirect(answer.location)
                return
            failure = error()
            page = answer is None or answer.name.endswith(".html")
            if failure is not None and page:
                self._html(500, error_page(failure).encode(), body)
            elif answer is None:
                missing = site.find("404.html")
                text = missing.data if isinstance(missing, Found) else b"Not found"
                self._html(404, text, body)
            elif answer.name.endswith(".html"):
                self._html(200, answer.data, body)
            else:
                kind = mimetypes.guess_type(answer.name)[0] or "application/octet-stream"
                self.set_header("Content-Type", kind)
                self.set_header("Content-Length", len(answer.data))
                if body:
                    self.write(answer.data)

        def _html(self, status: int, page: bytes, body: bool) -> None:
            self.set_status(status)
            self.set_header("Content-Type", "text/html; charset=utf-8")
            page = with_live_script(page)
            self.set_header("Content-Length", len(page))
            if body:
                self.write(page)

        def write_error(self, status_code: int, **kwargs: Any) -> None:
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(f"{status_code} {self._reason}\n")

        def log_exception(self, kind: Any, value: Any, tb: Any) -> None:
            if isinstance(value, web.HTTPError):
                return  # a bad request, answered as such: nothing to report
            print(f"serve: {self.request.path}: {kind.__name__}: {value}", file=sys.stderr)

    class WrongHostHandler(web.RequestHandler):
        def prepare(self) -> None:  # every method, the websocket's upgrade too
            self.set_status(403)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.set_header("Cache-Control", "no-store")
            self.finish(WRONG_HOST)

    class HostCheckedApplication(web.Application):
        def find_handler(self, request: Any, **kwargs: Any) -> Any:
            if not host_allowed(bound, request.host):
                return self.get_handler_delegate(request, WrongHostHandler)
            return super().find_handler(request, **kwargs)

    LiveReloadHandler.live_css = True
    LiveReloadHandler.watcher = LivereloadWatcher()  # reload_waiters() logs its .filepath
    logging.getLogger("tornado.access").setLevel(logging.CRITICAL)  # errors say it once
    return HostCheckedApplication(
        [
            (r"/livereload", LiveReloadHandler),
            (r"/livereload.js", LiveReloadJSHandler),
            (r"/(.*)", SiteHandler),
        ]
    )


def serve(
    root: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    content_dir: Path | None = None,
    ready: Callable[[str], None] | None = None,
) -> int:
    """Build, serve and watch until Ctrl-C (or SIGTERM); return the exit code."""
    from tornado import httpserver, ioloop, netutil

    if not is_loopback(host):
        print(
            f"warning: serving on {host} makes your drafts visible to other machines; "
            "the default, 127.0.0.1, keeps them on this one",
            file=sys.stderr,
        )
    try:
        sockets = netutil.bind_sockets(port, address=host)
    except (OSError, OverflowError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise BroadsheetError(f"cannot listen on {host}:{port}: {reason}") from exc
    actual = sockets[0].getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{actual}/"
    session = _new_session()
    output = session / "site"
    builder = DevBuilder(root, output, {"base_url": url}, content_dir, cache=session / "cache")
    loop = ioloop.IOLoop.current()
    rebuilder = Rebuilder(builder, lambda result, changed: _rebuilt(loop, result, changed))
    watcher = Watcher(Sources(root, content_dir), rebuilder.request)
    try:
        builder.warm()
        watcher.start()
        watcher.wait_ready(READY_SECONDS)  # a change from here on is seen
        first = builder.rebuild()
        rebuilder.expect(first)
        _report(first, "built")
        server = httpserver.HTTPServer(make_app(SiteFolder(output), lambda: builder.error, host))
        server.add_sockets(sockets)
        rebuilder.start()
        _stop_on_signals(loop)
        print(f"Serving {root.name} on {url} (drafts shown; Ctrl-C to stop)", flush=True)
        if ready is not None:
            ready(url)
        loop.start()
        server.stop()
        print("Stopped.", flush=True)
        return 0
    finally:
        watcher.stop()
        rebuilder.stop()
        builder.close()
        shutil.rmtree(session, ignore_errors=True)


def _new_session() -> Path:
    """A temporary folder for this session's site and build cache. Those of sessions
    whose server is gone (killed, so it could not clean up) are removed first."""
    for folder in Path(tempfile.gettempdir()).glob(f"{SESSION}*"):
        _remove_if_abandoned(folder)
    session = Path(tempfile.mkdtemp(prefix=SESSION))
    (session / "serve.pid").write_text(f"{os.getpid()}\n", encoding="utf-8")
    return session


def _remove_if_abandoned(folder: Path) -> None:
    """Remove a session folder of ours whose server process no longer runs."""
    try:
        if not stat.S_ISDIR(folder.lstat().st_mode) or folder.lstat().st_uid != os.getuid():
            return
        pid_file = folder / "serve.pid"
        if not stat.S_ISREG(pid_file.lstat().st_mode):
            return  # never opened unless a plain file (a pipe would block)
        pid = int(pid_file.read_text(encoding="utf-8"))
        os.kill(pid, 0)
    except ProcessLookupError:
        shutil.rmtree(folder, ignore_errors=True)
    except (OSError, ValueError):
        pass  # running, someone else's, or not a session folder: left alone


def _stop_on_signals(loop: Any) -> None:
    """Ctrl-C and SIGTERM stop the loop (and then everything, in serve()'s `finally`)."""

    def stop(signum: int, frame: object) -> None:
        loop.asyncio_loop.call_soon_threadsafe(loop.stop)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


def _rebuilt(loop: Any, result: DevResult, changed: set[str]) -> None:
    """Say what a rebuild did, here and (by reloading them) in the open pages."""
    from livereload.handlers import LiveReloadHandler

    _report(result, "rebuilt")
    styles = result.ok and bool(changed) and all(path.endswith(".css") for path in changed)
    reload = sorted(changed)[0] if styles else "*"
    loop.add_callback(LiveReloadHandler.reload_waiters, reload)


def _report(result: DevResult, verb: str) -> None:
    if result.stopped:
        print(f"build stopped ({result.error}); building again", flush=True)
    elif result.ok:
        print(
            f"{verb} in {result.seconds:.2f} s: {result.written} files written, "
            f"{result.unchanged} unchanged",
            flush=True,
        )
    else:
        print(
            f"build error (the browser shows it too):\n{result.error}", file=sys.stderr, flush=True
        )
