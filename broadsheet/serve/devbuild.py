"""Serve's builds: the real `build()`, drafts shown, each in a process of its own.

The dev server never builds in its own process: a build that crashes, hangs or is killed
cannot take the server down, and whatever it raises is shown, not lost. To keep an
edit's rebuild quick, a spare process is started ahead of time with the build's modules
already imported; it waits for a request on its stdin, builds once, answers with one
line of JSON on its stdout, and ends. Run as `python -m broadsheet.serve.devbuild`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import broadsheet

MINIMUM_BOUND = 60.0  # seconds a build may take before it counts as stuck
SECONDS_PER_FILE = 0.02  # ... plus this for each post (a cold build of a big site)
EXPECTED_PER_FILE = 0.005  # a cold build's seconds for each post, until one has finished
STUCK_AFTER = 2.0  # a build still running this long (and 3x the last one) when a new save
# comes is stopped and started again: the save may be the fix for what it is stuck on
ANSWER = "broadsheet-serve-build:"  # the line on a build's stdout that carries its result


@dataclass(frozen=True)
class DevResult:
    ok: bool
    seconds: float
    written: int = 0
    unchanged: int = 0
    error: str = ""
    stopped: bool = False  # stopped on purpose (a newer save, or the server stopping)


class DevBuilder:
    """Builds the site into `output` with drafts shown, as `build --drafts` would, keeping
    its build cache in `cache` (never in the project's .broadsheet-cache/)."""

    def __init__(
        self,
        root: Path,
        output: Path,
        overrides: dict[str, Any] | None = None,
        content_dir: Path | None = None,
        cache: Path | None = None,
        command: list[str] | None = None,
    ):
        self.root = root
        self.output = output
        self.content = content_dir or root / "content"
        self.cache = cache or output.parent / f".{output.name}.serve-cache"
        self.request = {
            "root": str(root),
            "output": str(output),
            "cache": str(self.cache),
            "overrides": dict(overrides or {}),
            "content": str(content_dir) if content_dir is not None else None,
        }
        self.command = command or [sys.executable, "-m", "broadsheet.serve.devbuild"]
        self.error: str | None = None  # the last build's failure, until one succeeds
        self.slowest = 0.0  # the slowest build that finished, in seconds
        self._lock = threading.Lock()  # one build at a time
        self._state = threading.Lock()  # guards _running and _spare
        self._running: tuple[subprocess.Popen[bytes], float] | None = None
        self._spare: subprocess.Popen[bytes] | None = None
        self._stopping = False
        self._stop_asked = False

    def warm(self) -> None:
        """Start the spare process now, so that the next build finds it ready."""
        with self._state:
            if self._spare is None and not self._stopping:
                self._spare = self._start()

    def rebuild(self) -> DevResult:
        """Build once, in a process of its own; never raises, whatever the build did."""
        with self._lock:
            started = time.monotonic()
            try:
                result = self._run(started)
            except Exception as exc:  # e.g. no process could be started: shown, not fatal
                result = DevResult(False, time.monotonic() - started, error=_unexpected(exc))
            if result.ok:
                self.error = None
                self.slowest = max(self.slowest, result.seconds)
            elif not result.stopped:
                self.error = result.error
            self.warm()
            return result

    def stop_if_stuck(self) -> bool:
        """Stop the running build if it has run for much longer than the last one did (a
        newer save is coming: it may be the fix). True if one was stopped."""
        with self._state:
            if self._running is None:
                return False
            process, started = self._running
            if time.monotonic() - started < max(STUCK_AFTER, 3 * self.expected()):
                return False
            self._stop_asked = True
            _kill_group(process)
            return True

    def close(self) -> None:
        """Stop the spare and any running build (and the processes they started)."""
        with self._state:
            self._stopping = True
            self._stop_asked = True
            spare, self._spare = self._spare, None
            for process in (spare, self._running[0] if self._running else None):
                if process is not None:
                    _kill_group(process)
        if spare is not None:
            spare.communicate()  # (a running build is waited for by its rebuild())

    def _run(self, started: float) -> DevResult:
        with self._state:
            if self._stopping:
                return DevResult(False, 0.0, error="the server is stopping", stopped=True)
            process, self._spare = self._spare or self._start(), None
            if process.poll() is not None:  # the spare died while it waited: a fresh one
                process = self._start()
            self._running, self._stop_asked = (process, started), False
        bound = self.bound()
        request = (json.dumps(self.request) + "\n").encode()
        try:
            out, err = process.communicate(request, timeout=bound)
            timed_out = False
        except subprocess.TimeoutExpired:
            _kill_group(process)
            out, err = process.communicate()
            timed_out = True
        finally:
            with self._state:
                self._running = None
                stopped = self._stop_asked
        seconds = time.monotonic() - started
        _forward(err)
        if timed_out:
            message = (
                f"the build did not finish within {bound:.0f} s and was stopped "
                "(is a file in content/, templates/ or static/ something other than a "
                "plain file, such as a named pipe?); save a file to try again"
            )
            return DevResult(False, seconds, error=message)
        return _answer(out, err, process.returncode, seconds, stopped)

    def bound(self) -> float:
        """How long a build may take before it is stopped as stuck."""
        return max(MINIMUM_BOUND + SECONDS_PER_FILE * self._posts(), 10 * self.slowest)

    def expected(self) -> float:
        """How long a build may well take: the slowest so far, or a guess before one."""
        return self.slowest or EXPECTED_PER_FILE * self._posts()

    def _posts(self) -> int:
        """How many files the content folder holds (a walk: nothing is opened)."""
        return sum(len(names) for _, _, names in os.walk(self.content))

    def _start(self) -> subprocess.Popen[bytes]:
        package = str(Path(broadsheet.__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package, env.get("PYTHONPATH")]))
        return subprocess.Popen(
            self.command,
            cwd=self.root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: stopped whole, never by Ctrl-C
        )


def _answer(out: bytes, err: bytes, code: int | None, seconds: float, stopped: bool) -> DevResult:
    """The result a build process gave, or an error saying how it ended without one."""
    for line in reversed(out.decode("utf-8", "replace").splitlines()):
        if line.startswith(ANSWER):
            data = json.loads(line[len(ANSWER) :])
            if data["ok"]:
                return DevResult(True, seconds, data["written"], data["unchanged"])
            return DevResult(False, seconds, error=data["error"], stopped=stopped)
    if stopped:
        return DevResult(False, seconds, error="stopped for a newer save", stopped=True)
    how = f"killed by {signal.Signals(-code).name}" if code and code < 0 else f"exit code {code}"
    tail = err.decode("utf-8", "replace").strip().splitlines()[-20:]
    message = f"the build process ended without finishing ({how})"
    return DevResult(False, seconds, error="\n".join([message, *tail]))


def _forward(err: bytes) -> None:
    """What a build printed on its stderr (warnings, a crash's last words), to ours."""
    if err:
        sys.stderr.write(err.decode("utf-8", "replace"))
        sys.stderr.flush()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


def _unexpected(exc: BaseException) -> str:
    text = "".join(traceback.format_exception(exc)).rstrip()
    return f"unexpected error in the build ({type(exc).__name__}: {exc}):\n{text}"


def build_once(request: dict[str, Any]) -> dict[str, Any]:
    """Run the real build for one request: what the spare process does."""
    from dataclasses import replace

    from broadsheet.config import load_config
    from broadsheet.publish.pipeline import build

    root = Path(request["root"])
    config = load_config(root, request["overrides"])
    if request["content"] is not None:
        config = replace(config, content_dir=request["content"])
    result = build(config, Path(request["output"]), drafts=True, cache_dir=Path(request["cache"]))
    return {"ok": True, "written": result.written, "unchanged": result.unchanged}


def main() -> None:
    """The spare process: import the build's modules, wait for a request, build, answer."""
    from broadsheet.errors import BroadsheetError

    _import_the_build()
    line = sys.stdin.readline()
    if not line.strip():
        return  # the server went away before it needed this one
    try:
        answer = build_once(json.loads(line))
    except BroadsheetError as exc:
        answer = {"ok": False, "error": str(exc)}
    except BaseException as exc:  # anything at all: shown in the browser, never lost
        answer = {"ok": False, "error": _unexpected(exc)}
    sys.stdout.write("\n" + ANSWER + json.dumps(answer) + "\n")
    sys.stdout.flush()


def _import_the_build() -> None:
    import broadsheet.publish.assemble
    import broadsheet.publish.pipeline
    import broadsheet.publish.prerender
    import broadsheet.render.markdown  # noqa: F401


if __name__ == "__main__":
    main()
    from broadsheet.cli import finish

    finish(0)
