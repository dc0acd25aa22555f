"""A real `broadsheet serve` process on a free port, and ways to talk to it."""

from __future__ import annotations

import contextlib
import http.client
import queue
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from broadsheet.serve.server import LIVE_SCRIPT
from tests.conftest import PYPROJECT, REPO


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    out: queue.Queue[str]
    err: queue.Queue[str]

    @property
    def port(self) -> int:
        return int(self.url.rstrip("/").rsplit(":", 1)[1])

    def fetch(self, path: str = "") -> tuple[int, str]:
        status, body = self.fetch_bytes(path)
        return status, body.decode("utf-8", "replace")

    def fetch_bytes(self, path: str = "") -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def raw(self, path: str, method: str = "GET") -> http.client.HTTPResponse:
        """A request for exactly `path`, as sent (no normalising), read whole."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request(method, path)
        response = connection.getresponse()
        response.read()
        connection.close()
        return response

    def page(self, path: str) -> bytes | None:
        """The served file without the live-reload script, or None if not served (200)."""
        status, body = self.fetch_bytes(path)
        return body.replace(LIVE_SCRIPT.encode(), b"") if status == 200 else None

    def wait_for(self, path: str, check: Callable[[int, str], bool], seconds: float = 30) -> str:
        """Fetch `path` until `check(status, body)` holds; fail after `seconds`."""
        deadline = time.monotonic() + seconds
        status, body = 0, ""
        while time.monotonic() < deadline:
            status, body = self.fetch(path)
            if check(status, body):
                return body
            time.sleep(0.05)
        raise AssertionError(f"/{path} never reached the expected state: {status}\n{body[:500]}")

    def stderr_until(self, wanted: str, seconds: float = 30) -> str:
        """What serve printed on stderr, read until `wanted` appears in it."""
        return _read_until(self.err, wanted, seconds)

    def stdout_until(self, wanted: str, seconds: float = 30) -> str:
        return _read_until(self.out, wanted, seconds)

    def drain(self) -> str:
        """Forget what it has printed so far (returned, stdout then stderr)."""
        text = ""
        for lines in (self.out, self.err):
            with contextlib.suppress(queue.Empty):
                while True:
                    text += lines.get_nowait()
        return text

    def reported(self, seconds: float = 10) -> str:
        """The next build's report (stdout "rebuilt" or stderr "build error"), or ""
        if none came within `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for lines in (self.out, self.err):
                with contextlib.suppress(queue.Empty):
                    line = lines.get(timeout=0.1)
                    if line.startswith(("rebuilt", "build error")):
                        return line
        return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _read_until(lines: queue.Queue[str], wanted: str, seconds: float) -> str:
    text = ""
    deadline = time.monotonic() + seconds
    while wanted not in text and time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):
            text += lines.get(timeout=0.2)
    assert wanted in text, f"never printed {wanted!r}; printed:\n{text}"
    return text


def _pump(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


def start_server(root: Path, *args: str, env: dict[str, str] | None = None) -> Server:
    process = subprocess.Popen(
        [sys.executable, "-m", "broadsheet", "serve", "--port", "0", *args],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out: queue.Queue[str] = queue.Queue()
    err: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, out), daemon=True).start()
    threading.Thread(target=_pump, args=(process.stderr, err), daemon=True).start()
    url = ""
    deadline = time.monotonic() + 120
    while not url and time.monotonic() < deadline:
        try:
            line = out.get(timeout=1)
        except queue.Empty:
            assert process.poll() is None, "serve exited early"
            continue
        if line.startswith("Serving"):
            url = line.split(" on ", 1)[1].split()[0]
    assert url.startswith("http://127.0.0.1:")
    return Server(process, url, out, err)


@pytest.fixture
def server(seeded: Path) -> Iterator[Server]:
    running = start_server(seeded)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def site_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server of the seed archive for the tests that only read from it."""
    root = tmp_path_factory.mktemp("served") / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    for name in ("templates", "static", "content"):
        shutil.copytree(REPO / name, root / name)
    running = start_server(root)
    yield running
    running.stop()


def printed(lines: queue.Queue[str]) -> str:
    """What a server has printed so far (waiting a moment for the last lines)."""
    text = ""
    with contextlib.suppress(queue.Empty):
        while True:
            text += lines.get(timeout=0.5)
    return text
