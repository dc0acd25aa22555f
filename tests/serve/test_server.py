"""`broadsheet serve`, driven for real: a process on a free port, a live-reload client."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ARTICLE = "america/does-us-afghanistan-policy-have-a-future/"
POST = "content/america/does-us-afghanistan-policy-have-a-future.md"


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    out: queue.Queue[str]
    err: queue.Queue[str]

    def fetch(self, path: str = "") -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def wait_for(self, path: str, check: Callable[[int, str], bool], seconds: float = 10) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            status, body = self.fetch(path)
            if check(status, body):
                return body
            time.sleep(0.05)
        raise AssertionError(f"{path} never reached the expected state: {status}")


def _pump(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


@pytest.fixture
def server(seeded: Path) -> Iterator[Server]:
    process = subprocess.Popen(
        [sys.executable, "-m", "broadsheet", "serve", "--port", "0"],
        cwd=seeded,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out: queue.Queue[str] = queue.Queue()
    err: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, out), daemon=True).start()
    threading.Thread(target=_pump, args=(process.stderr, err), daemon=True).start()
    url = ""
    deadline = time.monotonic() + 60
    while not url and time.monotonic() < deadline:
        try:
            line = out.get(timeout=1)
        except queue.Empty:
            assert process.poll() is None, "serve exited early"
            continue
        if line.startswith("Serving"):
            url = line.split(" on ", 1)[1].split()[0]
    assert url.startswith("http://127.0.0.1:")
    yield Server(process, url, out, err)
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


def test_serves_the_site_with_the_live_reload_client(server: Server) -> None:
    status, body = server.fetch()
    assert status == 200 and "Latest articles" in body
    assert "/livereload.js?port=" in body
    assert server.fetch("livereload.js")[0] == 200
    assert server.fetch("no/such/page/")[0] == 404


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
    assert "/livereload.js?port=" in page  # so that the fix reloads it
    deadline = time.monotonic() + 5
    errors = ""
    while POST not in errors and time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):
            errors += server.err.get(timeout=0.5)
    assert f"{POST}:2: front matter is not valid YAML" in errors
    post.write_text(good)
    server.wait_for(ARTICLE, lambda status, body: status == 200 and "Crises often" in body)
    assert server.process.poll() is None


@pytest.mark.parametrize(
    "path",
    [
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
    ],
)
def test_never_serves_a_file_from_outside_the_site(server: Server, path: str) -> None:
    host, port = server.url.removeprefix("http://").rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read().decode("utf-8", "replace")
    connection.close()
    assert response.status in (400, 403, 404)
    assert "[tool.broadsheet]" not in body and "root:" not in body


def test_ctrl_c_stops_it_cleanly(server: Server) -> None:
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=15) == 0
    lines: list[str] = []
    deadline = time.monotonic() + 5
    while not any("Stopped." in line for line in lines) and time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):
            lines.append(server.out.get(timeout=0.5))
    assert any("Stopped." in line for line in lines)
