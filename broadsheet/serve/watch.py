"""Watch the sources with the OS's file events (watchfiles), and rebuild on each change.

The watchers only say *that* something changed: the build itself finds out what, from
the files, so a missed or doubled event can cost a rebuild but never a stale page.
Nothing here opens a file: a named pipe or a link loop in content/ cannot block it.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from broadsheet.outputs.published import RECORD_NAME
from broadsheet.serve.devbuild import DevBuilder, DevResult

SETTINGS = "pyproject.toml"
TICK_MS = 100  # how often an idle watcher looks up (to notice it is asked to stop)
CLOCK_SECONDS = 60.0  # how often an idle rebuilder waiting for a time reads the clock
# again (the system clock may be set, or the machine sleep, meanwhile)
RETRY_SECONDS = 1.0
TIME = "*"  # what a build for the time, not for an edit, reports as changed (all pages)
# Editors' swap, lock, backup and probe files: vim .x.swp and 4913, emacs .#x and #x#,
# x~ backups, JetBrains' x___jb_tmp___. Saving never waits for a rebuild they start.
EDITOR_FILES = re.compile(r"^\..*\.sw[a-z]$|~$|^\.#|^#.*#$|^4913$|___jb_\w+___$|^\.DS_Store$")


def is_editor_file(name: str) -> bool:
    return EDITOR_FILES.search(name) is not None


class Sources:
    """Where the sources live, and which changed paths can change the site."""

    def __init__(self, root: Path, content: Path | None = None):
        self.root = root
        self.content = content or root / "content"
        self.folders = (self.content, root / "templates", root / "static")

    def matters(self, path: str) -> bool:
        """False for editors' temporary files, and for hidden files in content/ and
        static/, which the build skips: but for the published-URL record, which it
        reads (`broadsheet gone`, a pull, may change it)."""
        changed = Path(path)
        if is_editor_file(changed.name):
            return False
        if changed.parent == self.root:
            return changed.name == SETTINGS or changed in self.folders
        if changed == self.content / RECORD_NAME:
            return True
        for folder in (self.content, self.root / "static"):
            if folder in changed.parents:
                parts = changed.relative_to(folder).parts
                return not any(part.startswith(".") for part in parts)
        return True


class Rebuilder(threading.Thread):
    """Runs builds one after another: changes that come during a build make one more.
    So does the time the last build said the site changes at with no edit (a post
    dated in the future falls due: see BuildResult.valid_until)."""

    def __init__(self, builder: DevBuilder, done: Callable[[DevResult, set[str]], None]):
        super().__init__(daemon=True, name="broadsheet-rebuilder")
        self.builder = builder
        self.done = done
        self.stopping = threading.Event()
        self._wake = threading.Condition()
        self._pending: set[str] = set()
        self._due: datetime | None = None  # (guarded by _wake)

    def expect(self, result: DevResult) -> None:
        """Note when the site `result` built changes with no edit (a failed build
        waits for a save instead)."""
        due = None
        if result.ok and result.valid_until is not None:
            # (never at once again: a build that found the time not yet come, by a
            # clock set back meanwhile, is tried again a moment later, not in a loop)
            soonest = datetime.now(UTC) + timedelta(seconds=RETRY_SECONDS)
            due = max(datetime.fromisoformat(result.valid_until), soonest)
        with self._wake:
            self._due = due
            self._wake.notify()

    def request(self, paths: Iterable[str]) -> None:
        with self._wake:
            self._pending.update(paths)
            self._wake.notify()
        self.builder.stop_if_stuck()

    def stop(self) -> None:
        self.stopping.set()
        with self._wake:
            self._wake.notify()

    def run(self) -> None:
        while not self.stopping.is_set():
            with self._wake:
                while not self._pending and not self.stopping.is_set():
                    if self._due is not None and datetime.now(UTC) >= self._due:
                        self._pending.add(TIME)
                        break
                    self._wake.wait(self._seconds_to_due())
                changed, self._pending = self._pending, set()
            if self.stopping.is_set():
                return
            try:
                self._build(changed)
            except Exception as exc:  # the thread must outlive anything a report raises
                print(f"serve: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)

    def _seconds_to_due(self) -> float | None:
        """How long to wait for the due time (at most CLOCK_SECONDS); None: no time."""
        if self._due is None:
            return None
        left = (self._due - datetime.now(UTC)).total_seconds()
        return min(CLOCK_SECONDS, max(left, 0.0) + 0.001)

    def _build(self, changed: set[str]) -> None:
        result = self.builder.rebuild()
        with self._wake:
            raced = bool(self._pending)
        # A build that failed while the files were still changing is not worth showing:
        # the editor may have been half-way through a save. The next one runs at once.
        if result.stopped or (raced and not result.ok):
            with self._wake:
                self._pending |= changed
            return
        self.expect(result)
        self.done(result, changed)


class Watcher(threading.Thread):
    """Reports changes below `folders` (recursive) or directly in `root` (the settings
    file, and source folders made or removed) to `changed`, until `stopping` is set."""

    def __init__(self, sources: Sources, changed: Callable[[set[str]], None]):
        super().__init__(daemon=True, name="broadsheet-watcher")
        self.sources = sources
        self.changed = changed
        self.stopping = threading.Event()
        self._ready = (threading.Event(), threading.Event())  # the OS is watching
        self._restart = threading.Event()

    def wait_ready(self, seconds: float) -> bool:
        """Wait until the OS watches both the folders and the project's root."""
        deadline = time.monotonic() + seconds
        return all(event.wait(max(0.0, deadline - time.monotonic())) for event in self._ready)

    def run(self) -> None:
        folder_watch = threading.Thread(target=self._folders, daemon=True)
        folder_watch.start()
        self._watch([self.sources.root], recursive=False, ready=self._ready[1])
        folder_watch.join()

    def stop(self) -> None:
        self.stopping.set()

    def _folders(self) -> None:
        first = True
        while not self.stopping.is_set():
            self._restart.clear()
            folders = [f for f in self.sources.folders if f.is_dir()]
            if folders:
                self._watch(folders, recursive=True, ready=self._ready[0], again=not first)
            else:
                self._ready[0].set()
                self._restart.wait(TICK_MS / 1000)
            first = False

    def _watch(
        self, paths: list[Path], recursive: bool, ready: threading.Event, again: bool = False
    ) -> None:
        """Watch until asked to stop (or, for the folders, to start again). When the
        watching starts again (a folder came or went, or watching failed: reported),
        a rebuild is asked for once it is back, for what changed while no one watched."""
        import watchfiles

        stop = _Either(self.stopping, self._restart) if recursive else self.stopping
        while not stop.is_set():
            try:
                batches = watchfiles.watch(
                    *paths,
                    watch_filter=None,
                    recursive=recursive,
                    stop_event=stop,
                    rust_timeout=TICK_MS,
                    yield_on_timeout=True,
                    debounce=1600,
                    step=50,
                    raise_interrupt=False,
                )
                for batch in batches:
                    if not ready.is_set() or again:
                        ready.set()
                        if again:
                            again = False
                            self.changed({"*"})
                    self._report({path for _, path in batch}, recursive)
                return
            except Exception as exc:
                if stop.is_set():
                    return
                print(f"serve: watching the sources: {exc}; again", file=sys.stderr, flush=True)
                time.sleep(0.5)
                again = True

    def _report(self, paths: set[str], recursive: bool) -> None:
        if not recursive:
            folders = {str(folder) for folder in self.sources.folders}
            if paths & folders:
                self._restart.set()  # a source folder came or went: watch it anew
        wanted = {path for path in paths if self.sources.matters(path)}
        if wanted:
            self.changed(wanted)


class _Either:
    """An event that is set when either of two is (for watchfiles' stop_event)."""

    def __init__(self, first: threading.Event, second: threading.Event):
        self.first, self.second = first, second

    def is_set(self) -> bool:
        return self.first.is_set() or self.second.is_set()
