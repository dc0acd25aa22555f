"""`broadsheet serve`, driven for real: a process on a free port, a live-reload client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from broadsheet.serve.server import LIVE_SCRIPT
from tests.conftest import run_process
from tests.serve.conftest import Server

ARTICLE = "america/does-us-afghanistan-policy-have-a-future/"
POST = "content/america/does-us-afghanistan-policy-have-a-future.md"


def test_serves_the_site_with_the_live_reload_client(site_server: Server) -> None:
    server = site_server
    status, body = server.fetch()
    assert status == 200 and "Latest articles" in body
    assert body.count(LIVE_SCRIPT) == 1  # one reload connection per open page
    assert server.fetch(ARTICLE)[1].count(LIVE_SCRIPT) == 1
    assert server.fetch("livereload.js")[0] == 200
    status, missing = server.fetch("no/such/page/")
    assert status == 404 and missing.count(LIVE_SCRIPT) == 1


def test_an_edit_is_served_and_a_reload_is_sent(server: Server, seeded: Path) -> None:
    from tornado.websocket import websocket_connect

    post = seeded / POST

    async def edit_and_listen() -> dict[str, object]:
        socket = await websocket_connect(server.url.replace("http", "ws") + "livereload")
        hello = {"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]}
        await socket.write_message(json.dumps(hello))
        assert json.loads(await socket.read_message())["command"] == "hello"
        await socket.write_message(json.dumps({"command": "info", "url": server.url + ARTICLE}))
        await asyncio.sleep(0.3)
        post.write_text(
            post.read_text().replace("Crises often define", "Crises, above all, define")
        )
        message = await asyncio.wait_for(socket.read_message(), timeout=10)
        socket.close()
        return json.loads(message)

    # Its own thread and loop: Playwright's sync API may hold this thread's event loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        message = pool.submit(asyncio.run, edit_and_listen()).result(timeout=60)
    assert message["command"] == "reload"
    status, body = server.fetch(ARTICLE)
    assert status == 200 and "Crises, above all, define" in body


def test_a_build_error_shows_in_the_browser_and_recovers(server: Server, seeded: Path) -> None:
    post = seeded / POST
    good = post.read_text()
    post.write_text(good.replace("title: ", "title: [", 1))
    expected = f"{POST}:2: front matter is not valid YAML"
    page = server.wait_for(ARTICLE, lambda status, body: status == 500 and expected in body)
    assert page.count(LIVE_SCRIPT) == 1  # so that the fix reloads it, over one connection
    assert server.fetch("no/such/page/")[1].count(LIVE_SCRIPT) == 1  # the 404 shows it too
    deadline = time.monotonic() + 5
    errors = ""
    while POST not in errors and time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):
            errors += server.err.get(timeout=0.5)
    assert f"{POST}:2: front matter is not valid YAML" in errors
    post.write_text(good)
    server.wait_for(ARTICLE, lambda status, body: status == 200 and "Crises often" in body)
    assert server.process.poll() is None


HOSTILE = [
    "/../pyproject.toml",
    "/../../../../etc/passwd",
    "/%2e%2e/pyproject.toml",
    "/%2E%2E/%2E%2E/etc/passwd",
    "/asia/..%2f..%2fpyproject.toml",
    "/asia/%2e%2e%2f%2e%2e%2fpyproject.toml",
    "/%252e%252e/pyproject.toml",
    "/..%5cpyproject.toml",
    "//etc/passwd",
    "/%00/etc/passwd",
]


def test_never_serves_a_file_from_outside_the_site(site_server: Server) -> None:
    for path in HOSTILE:
        response = site_server.raw(path)
        assert response.status in (400, 403, 404), path


def test_redirects_never_leave_this_host(site_server: Server) -> None:
    server = site_server
    # A folder asked for without its slash is redirected, to a path on this server only.
    assert server.raw("/asia").getheader("Location") == "/asia/"
    assert server.raw("//asia").getheader("Location") == "/asia/"
    for path in ("//evil.example%2F..%2Fasia", "//evil.example/../asia", "/\\evil.example/asia"):
        response = server.raw(path)
        location = response.getheader("Location") or ""
        assert not location.startswith(("//", "/\\")) and "evil" not in location, path
    assert server.raw("//evil.example%2F..%2Fasia").status == 404


def test_a_name_too_long_for_a_file_is_a_plain_404(server: Server) -> None:
    for path in (
        "/" + "a" * 300,
        "/asia/" + "%C3%A9" * 200 + "/",
        "/" + "/".join(["b" * 250] * 20),
    ):
        assert server.raw(path).status == 404, path
        assert server.raw(path, "HEAD").status == 404, path
    server.process.send_signal(signal.SIGINT)
    server.process.wait(timeout=30)
    errors = "".join(iter(lambda: _next(server.err), ""))
    assert "Traceback" not in errors and "500" not in errors, errors


def _next(lines: queue.Queue[str]) -> str:
    with contextlib.suppress(queue.Empty):
        return lines.get(timeout=2)
    return ""


def test_a_port_out_of_range_is_refused(seeded: Path) -> None:
    for port in ("70000", "-1", "http"):
        result = run_process(["serve", "--port", port], seeded)
        assert result.returncode != 0 and "Serving" not in result.stdout, port
        assert f"{port!r} is not a port" in result.stderr and "Traceback" not in result.stderr


def test_ctrl_c_stops_it_cleanly(server: Server) -> None:
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=15) == 0
    server.stdout_until("Stopped.")
