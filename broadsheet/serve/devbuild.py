"""Serve's builds: the real `build()`, drafts shown, in a process of its own.

The dev server never builds in its own process: a build that crashes, hangs or is killed
cannot take the server down, and whatever it raises is shown, not lost. The build
process lives on from one build to the next (`python -m broadsheet.serve.devbuild`: a
request on each line of its stdin, an answer on its stdout), so that an edit's rebuild
finds the build's modules imported and warm; when it dies, or is stopped because it is
stuck, a new one takes its place.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import broadsheet

MINIMUM_BOUND = 60.0  # seconds a build may take before it counts as stuck
SECONDS_PER_FILE = 0.02  # ... plus this for each post (a cold build of a big site)
EXPECTED_PER_FILE = 0.005  # a cold build's seconds for each post, until one has finished
STUCK_AFTER = 2.0  # a build still running this long (and 3x the last one) when a new save
# comes is stopped and started again: the save may be the fix for what it is stuck on
ANSWER = "broadsheet-serve-build:"  # the line on a build's stdout that carries its result
BUILDS_PER_PROCESS = 200  # then a fresh build process, lest anything pile up in one


@dataclass(frozen=True)
class DevResult:
    """What one of the dev server's builds did, for its page and its log."""

    ok: bool
    seconds: float
    written: int = 0
    unchanged: int = 0
    error: str = ""
    stopped: bool = False  # stopped on purpose (a newer save, or the server stopping)
    # When the site changes with no edit (a post dated in the future falls due), as an
    # ISO date and time with its offset (see BuildResult); None if never.
    valid_until: str | None = None


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
        self._state = threading.Lock()  # guards what follows
        self._worker: BuildProcess | None = None
        self._running: float | None = None  # when the running build started
        self._stopping = False
        self._stop_asked = False

    def warm(self) -> None:
        """Start the build process now (if none runs), so that the next build finds it
        ready, its modules imported."""
        with self._state:
            if self._stopping:
                return
            if self._worker is not None and self._worker.builds >= BUILDS_PER_PROCESS:
                self._worker.retire()
                self._worker = None
            if self._worker is None or not self._worker.alive():
                self._worker = BuildProcess(self.command, self.root)

    def rebuild(self) -> DevResult:
        """Build once; never raises, whatever the build did."""
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
        """Stop the running build if it has run for much longer than builds take (a
        newer save is coming: it may be the fix). True if one was stopped."""
        with self._state:
            if self._running is None or self._worker is None:
                return False
            if time.monotonic() - self._running < max(STUCK_AFTER, 3 * self.expected()):
                return False
            self._stop_asked = True
            self._worker.kill()
            return True

    def close(self) -> None:
        """Stop the build process (and any build it runs, with the processes it made)."""
        with self._state:
            self._stopping = self._stop_asked = True
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.kill()
            worker.process.wait()

    def _run(self, started: float) -> DevResult:
        self.warm()
        with self._state:
            worker = self._worker
            if worker is None:
                return DevResult(False, 0.0, error="the server is stopping", stopped=True)
            self._running, self._stop_asked = started, False
        bound = self.bound()
        try:
            answer = worker.ask(self.request, bound)
            timed_out = False
        except TimeoutError:
            answer, timed_out = None, True
            worker.kill()  # stuck: stopped, with every process it made
        finally:
            with self._state:
                self._running = None
                stopped = self._stop_asked
        seconds = time.monotonic() - started
        if answer is not None:
            return _answer(answer, seconds, stopped)
        with self._state:
            if self._worker is worker:
                self._worker = None
        if not timed_out:
            return _ended(worker, seconds, stopped)
        worker.ended()
        message = (
            f"the build did not finish within {bound:.0f} s and was stopped "
            "(is a file in content/, templates/ or static/ something other than a "
            "plain file, such as a named pipe?); save a file to try again"
        )
        return DevResult(False, seconds, error=message)

    def bound(self) -> float:
        """How long a build may take before it is stopped as stuck."""
        return max(MINIMUM_BOUND + SECONDS_PER_FILE * self._posts(), 10 * self.slowest)

    def expected(self) -> float:
        """How long a build may well take: the slowest so far, or a guess before one."""
        return self.slowest or EXPECTED_PER_FILE * self._posts()

    def _posts(self) -> int:
        """How many files the content folder holds (a walk: nothing is opened)."""
        return sum(len(names) for _, _, names in os.walk(self.content))


class BuildProcess:
    """The process that runs serve's builds, one request at a time; what it prints on
    its stderr goes to ours as it comes (and its last lines are kept, for a crash)."""

    def __init__(self, command: list[str], root: Path):
        package = str(Path(broadsheet.__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package, env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: stopped whole, never by Ctrl-C
        )
        self.builds = 0
        self.last_words: deque[str] = deque(maxlen=20)
        self._answers: queue.Queue[str | None] = queue.Queue()
        assert self.process.stdout is not None and self.process.stderr is not None
        self._readers = [
            threading.Thread(target=self._read_answers, args=(self.process.stdout,)),
            threading.Thread(target=self._read_errors, args=(self.process.stderr,)),
        ]
        for reader in self._readers:
            reader.daemon = True
            reader.start()

    def alive(self) -> bool:
        return self.process.poll() is None

    def ask(self, request: dict[str, Any], seconds: float) -> dict[str, Any] | None:
        """Send one request; the answer, or None if the process ended first. Raises
        TimeoutError if it takes longer than `seconds`."""
        self.builds += 1
        assert self.process.stdin is not None
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
        except OSError:  # a broken pipe: it had ended
            return None
        try:
            answer = self._answers.get(timeout=seconds)
        except queue.Empty:
            raise TimeoutError from None
        return json.loads(answer) if answer is not None else None

    def kill(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def retire(self) -> None:
        """Let it end once it has read all it was asked (it exits at the end of stdin)."""
        assert self.process.stdin is not None
        with contextlib.suppress(OSError):
            self.process.stdin.close()

    def ended(self) -> int:
        """Its exit status, once it and its readers are done."""
        code = self.process.wait()
        for reader in self._readers:
            reader.join(timeout=5)
        return code

    def _read_answers(self, stream: IO[bytes]) -> None:
        for raw in stream:
            line = raw.decode("utf-8", "replace")
            if line.startswith(ANSWER):
                self._answers.put(line[len(ANSWER) :])
        self._answers.put(None)  # the end: the process is gone

    def _read_errors(self, stream: IO[bytes]) -> None:
        for raw in stream:
            line = raw.decode("utf-8", "replace")
            self.last_words.append(line.rstrip("\n"))
            sys.stderr.write(line)
            sys.stderr.flush()


def _answer(data: dict[str, Any], seconds: float, stopped: bool) -> DevResult:
    if data["ok"]:
        return DevResult(
            True, seconds, data["written"], data["unchanged"], valid_until=data.get("valid_until")
        )
    return DevResult(False, seconds, error=data["error"], stopped=stopped)


def _ended(worker: BuildProcess, seconds: float, stopped: bool) -> DevResult:
    """A build whose process ended before it answered: stopped on purpose, or died."""
    code = worker.ended()
    if stopped:
        return DevResult(False, seconds, error="stopped for a newer save", stopped=True)
    how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
    message = f"the build process ended without finishing ({how})"
    return DevResult(False, seconds, error="\n".join([message, *worker.last_words]))


def _unexpected(exc: BaseException) -> str:
    text = "".join(traceback.format_exception(exc)).rstrip()
    return f"unexpected error in the build ({type(exc).__name__}: {exc}):\n{text}"


def build_once(request: dict[str, Any]) -> dict[str, Any]:
    """Run the real build for one request: what the build process does."""
    from dataclasses import replace

    from broadsheet.config import load_config
    from broadsheet.publish.pipeline import build

    root = Path(request["root"])
    config = load_config(root, request["overrides"])
    if request["content"] is not None:
        config = replace(config, content_dir=request["content"])
    result = build(config, Path(request["output"]), drafts=True, cache_dir=Path(request["cache"]))
    return {
        "ok": True,
        "written": result.written,
        "unchanged": result.unchanged,
        "valid_until": result.valid_until,
    }


def main() -> None:
    """The build process: import the build's modules, then build for each request."""
    from broadsheet.errors import BroadsheetError

    _import_the_build()
    for line in sys.stdin:
        if not line.strip():
            continue
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
