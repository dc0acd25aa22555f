"""A build stopped by Ctrl-C, SIGTERM or SIGKILL leaves the last site byte-identical,
or, once its commit has begun, the new one whole: never a mix."""

from __future__ import annotations

import errno
import fcntl
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from benchmarks.corpus import write_corpus
from broadsheet.config import load_config
from broadsheet.content import post as post_module
from broadsheet.errors import BroadsheetError
from broadsheet.paths import open_source
from broadsheet.publish import output_dir
from broadsheet.publish.pipeline import build
from tests.conftest import run
from tests.reliability.helpers import (
    change_every_post,
    clean_build,
    leftovers,
    rendering,
    site_of,
    start_build,
    wait_until,
)


@pytest.fixture
def built(project: Path) -> Path:
    write_corpus(project / "content", 200)
    assert run(["build"]).code == 0
    change_every_post(project)  # so that the next build renders everything again
    return project


@pytest.fixture
def small(project: Path) -> Path:
    """As `built`, with fewer posts: for faults placed in the code rather than in time."""
    write_corpus(project / "content", 30)
    assert run(["build"]).code == 0
    change_every_post(project)
    return project


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_a_stopped_build_leaves_the_last_site(built: Path, stop: signal.Signals) -> None:
    before = site_of(built)
    process = start_build(built, "--jobs", "1")
    # Early in the render (10 of some 400 pages): with articles rendering faster, a busy
    # machine could let the build finish between 50 pages and the signal.
    wait_until(rendering(built, files=5))
    process.send_signal(stop)
    code = process.wait(timeout=60)
    _, err = process.communicate()
    assert code != 0
    assert "Traceback" not in err
    if stop != signal.SIGKILL:
        assert "interrupted; the previous site is untouched" in err
        assert leftovers(built) == []
    assert site_of(built) == before
    # The next build cleans up whatever the stopped one left, and finishes.
    assert run(["build"]).code == 0
    assert leftovers(built) == []
    assert site_of(built) != before


def killed_at(project: Path, where: str, patch: Callable[[], None]) -> None:
    """Build in a forked process that dies at once (as by SIGKILL: no cleanup at all)
    when `patch` has made the build reach `where`."""
    pid = os.fork()
    if pid == 0:
        try:
            patch()
            build(load_config(project), jobs=1)
        finally:
            os._exit(3)  # the build did not reach the fault: the test fails below
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 9, f"the build did not die {where}"


def test_a_build_killed_between_two_renames_gets_the_last_site_back(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where the system cannot exchange two folders, the site goes aside, then the new
    # one comes in: a build killed between the two leaves no site/ for a moment.
    before = site_of(small)
    (small / ".broadsheet-cache").rename(small / "no-cache")  # a cold build: the swap

    def patch() -> None:
        real = os.rename
        monkeypatch.setattr(output_dir, "exchange", lambda first, second: False)

        def rename(source: Path, target: Path) -> None:
            real(source, target)
            if Path(target).name == output_dir.OLD:
                os._exit(9)

        monkeypatch.setattr(output_dir.os, "rename", rename)

    killed_at(small, "between the renames", patch)
    assert not (small / "site").exists()  # for now
    output_dir.recover(small / "site")  # what the next build does first
    assert site_of(small) == before
    result = run(["build"])
    assert result.code == 0, result.err
    assert "warning" not in result.err
    assert leftovers(small) == []
    assert site_of(small) == clean_build(small)


def test_a_build_killed_while_committing_is_completed_by_the_next(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = site_of(small)

    def patch() -> None:
        real = output_dir._apply

        def die_halfway(
            output: Path, folder: Path, moves: list[str], removes: list[str], *kept: Any
        ) -> None:
            real(output, folder, moves[: len(moves) // 2], [], *kept)
            os._exit(9)  # the power goes

        monkeypatch.setattr(output_dir, "_apply", die_halfway)

    killed_at(small, "while committing", patch)
    assert site_of(small) != before  # a mix of old and new pages, for now
    assert run(["build"]).code == 0  # which first completes the commit
    assert leftovers(small) == []
    assert site_of(small) == clean_build(small)


@pytest.mark.parametrize(
    ("stop", "threads"),
    [(signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["Ctrl-C, another thread alive", "SIGTERM, one thread"],
)
def test_ctrl_c_or_sigterm_during_the_commit_lets_it_finish_and_says_so(
    small: Path, monkeypatch: pytest.MonkeyPatch, stop: signal.Signals, threads: bool
) -> None:
    # With another thread alive (a library's, say), the system may hand the signal to
    # it rather than to the thread that is committing: it must wait all the same.
    done = threading.Event()
    if threads:
        threading.Thread(target=done.wait, daemon=True).start()
    real = output_dir._apply

    def stopped_halfway(
        output: Path, folder: Path, moves: list[str], removes: list[str], *kept: Any
    ) -> None:
        half = len(moves) // 2
        real(output, folder, moves[:half], [], *kept)
        os.kill(os.getpid(), stop)  # the user presses Ctrl-C, or the system stops us
        real(output, folder, moves[half:], removes, *kept)

    monkeypatch.setattr(output_dir, "_apply", stopped_halfway)
    try:
        result = run(["build"])
    finally:
        done.set()
    assert result.code == 130
    assert result.err == "broadsheet: stopped: the new site is in place\n"
    monkeypatch.setattr(output_dir, "_apply", real)
    assert site_of(small) == clean_build(small)  # whole, before any other build
    assert run(["build"]).code == 0
    assert leftovers(small) == []
    assert site_of(small) == clean_build(small)


def test_a_failed_first_build_leaves_nothing_it_made(project: Path) -> None:
    write_corpus(project / "content", 5)
    (project / "content/asia/copy.md").write_text("---\ntitle: Copy\nslug: x\n---\n\nA\n")
    (project / "content/asia/other.md").write_text("---\ntitle: Other\nslug: x\n---\n\nB\n")
    before = sorted(os.listdir(project))
    for extra in ([], ["--output", "deeper/and/deeper/site"]):
        result = run(["build", *extra])
        assert result.code == 1 and "would write asia/x/index.html" in result.err
        assert sorted(os.listdir(project)) == before


def test_an_interrupted_first_build_leaves_nothing_it_made(project: Path) -> None:
    write_corpus(project / "content", 200)
    before = sorted(os.listdir(project))
    process = start_build(project, "--jobs", "1")
    wait_until(rendering(project))
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 130
    assert process.communicate()[1] == "broadsheet: interrupted; no site was written\n"
    assert sorted(os.listdir(project)) == before


# The whole class: a random fault at a random point of each stage of a build, on a
# corpus big enough that posts are read and pages rendered by worker processes.
FAULTS = ("SIGKILL of the build", "SIGKILL of a worker", "SIGINT", "SIGTERM")
# Where each stage begins: the timing line (BROADSHEET_TIMINGS=1) that ends the one
# before; and for how long after it to pick the moment of the fault (seconds).
STAGES = {
    "read": ("check cache", 0.8),
    "render": ("check output", 1.5),
    "index": ("render", 0.15),
    "commit": ("search index", 0.05),
}
WORKER_STAGES = ("read", "render")  # the stages that have workers to kill
HANG = 60  # seconds: a bound on a hang, far above a build of this corpus
ROUNDS = int(os.environ.get("BROADSHEET_FAULT_ROUNDS", "1"))  # each: one fault of each kind
ENDINGS = (
    "broadsheet: interrupted; the previous site is untouched\n",
    "broadsheet: stopped: the new site is in place\n",
)


def test_a_fault_anywhere_leaves_the_last_site_or_the_new_one_and_the_next_build_mends_all(
    project: Path,
) -> None:
    rng = random.Random(int(os.environ.get("BROADSHEET_FAULT_SEED", "16")))
    write_corpus(project / "content", 420)
    assert run(["build", "--jobs", "2"]).code == 0
    clean = {False: site_of(project)}  # (every post changed) -> a clean build's site
    changed = False
    tally = {fault: [0, 0] for fault in FAULTS}  # tried, survived
    ends: dict[str, int] = {}
    for round_ in range(ROUNDS):
        for number, fault in enumerate(FAULTS):
            change_every_post(project)
            changed = not changed
            if changed not in clean:
                clean[changed] = clean_build(project)
            # Each round puts a fault in every stage, in turn; where in it is random.
            stages = WORKER_STAGES if "worker" in fault else tuple(STAGES)
            stage = stages[(round_ + number) % len(stages)]
            if rng.random() < 0.3:  # a cold build: the whole tree is swapped in
                shutil.rmtree(project / ".broadsheet-cache")
            tally[fault][0] += 1
            end = one_fault(project, fault, stage, rng, clean[changed])
            tally[fault][1] += 1
            ends[f"{fault} in {stage}: {end}"] = ends.get(f"{fault} in {stage}: {end}", 0) + 1
    print("\nfaults tried, survived:", tally)
    print("\n".join(f"{count} x {end}" for end, count in sorted(ends.items())))


def one_fault(
    project: Path, fault: str, stage: str, rng: random.Random, clean: dict[str, bytes]
) -> str:
    """Run one build with `fault` in `stage`; say how it ended."""
    before = site_of(project)
    after, window = STAGES[stage]
    process = start_build(project, "--jobs", "2", env={**os.environ, "BROADSHEET_TIMINGS": "1"})
    assert process.stderr is not None
    seen = []
    for line in process.stderr:  # until the stage before ends
        seen.append(line)
        if line.startswith(f"{after} "):
            break
    time.sleep(rng.uniform(0, window))
    if fault == "SIGKILL of a worker":
        victim = a_child(process)
        if victim is not None:
            os.kill(victim, signal.SIGKILL)
    else:
        number = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM}.get(fault, signal.SIGKILL)
        process.send_signal(number)
    try:
        code = process.wait(timeout=HANG)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"{fault} in {stage}: the build hung") from None
    err = "".join(seen) + process.stderr.read()
    where = f"{fault} in {stage}: exit {code}: {err[-300:]}"
    assert "Traceback" not in err, where
    if fault in ("SIGINT", "SIGTERM") and code != 0:
        assert code == 130 and err.endswith(ENDINGS), where
    if fault == "SIGKILL of a worker" and code != 0:
        assert code == 1 and "a worker process" in err and "SIGKILL" in err, where
    wait_until(lambda: lock_is_free(project), HANG)
    left = site_of(project)
    if left not in (before, clean):
        # Only SIGKILL, which nothing can catch, stops a commit halfway: its journal
        # is there, and the next build completes it before anything else.
        assert fault == "SIGKILL of the build", where
        assert (project / ".site.building" / "journal.json").is_file(), where
    end = "finished first" if code == 0 else "last site" if left == before else "new site"
    end = end if left in (before, clean) else "commit cut short, journal kept"
    result = run(["build", "--jobs", "2"])
    assert result.code == 0, f"{where}; then: {result.err}"
    assert "warning" not in result.err, where
    assert leftovers(project) == [], where
    assert site_of(project) == clean, where
    return end


def a_child(process: subprocess.Popen[str]) -> int | None:
    """One of the build's child processes, as soon as it has one (None if it ends first)."""
    while process.poll() is None:
        try:
            children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text()
        except OSError:
            return None
        if children.split():
            return int(random.choice(children.split()))
        time.sleep(0.002)
    return None


def lock_is_free(project: Path) -> bool:
    lock = project / ".site.lock"
    if not lock.exists():
        return True
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def _file_to_folder(project: Path) -> None:
    """Sources whose next build turns a site file into a folder (a static page gives way
    to an alias's redirect) and a site folder into a file (a static folder to a file)."""
    (project / "static/press").mkdir(parents=True, exist_ok=True)
    (project / "static/press/release").write_text("old release\n", encoding="utf-8")
    (project / "static/data").mkdir(exist_ok=True)
    (project / "static/data/file.txt").write_text("old data\n", encoding="utf-8")
    assert run(["build"]).code == 0
    (project / "static/press/release").unlink()
    (project / "static/data/file.txt").unlink()
    (project / "static/data").rmdir()
    (project / "static/data").write_text("data, now a file\n", encoding="utf-8")
    post = next((project / "content").rglob("*.md"))
    text = post.read_text(encoding="utf-8")
    post.write_text(text.replace("\n---\n", "\naliases: [/press/release/]\n---\n", 1))


def test_a_site_file_that_becomes_a_folder_and_back_is_built_in_place(small: Path) -> None:
    _file_to_folder(small)
    result = run(["build"])
    assert result.code == 0, result.err
    assert (small / "site/press/release/index.html").is_file()
    assert (small / "site/data").read_text(encoding="utf-8") == "data, now a file\n"
    assert site_of(small) == clean_build(small)


@pytest.mark.parametrize("steps", [0, 1, 2, 3, 5, 8])
def test_a_commit_killed_anywhere_while_files_and_folders_trade_places_is_completed(
    small: Path, monkeypatch: pytest.MonkeyPatch, steps: int
) -> None:
    """SIGKILL after `steps` of the commit's changes: the next build rolls the journal
    forward (the removals first, so that each move finds its way clear) to the new site
    whole; a journal that could not be replayed used to stop every later build."""
    _file_to_folder(small)

    def patch() -> None:
        done = 0
        real_replace, real_unlink = os.replace, Path.unlink

        def counted(*args: Any, **kwargs: Any) -> Any:
            nonlocal done
            if done == steps:
                os._exit(9)  # the power goes
            done += 1
            return real(*args, **kwargs)

        def replace(*args: Any) -> None:
            nonlocal real
            real = real_replace
            counted(*args)

        def unlink(self: Path, missing_ok: bool = False) -> None:
            nonlocal real
            real = real_unlink
            counted(self, missing_ok=missing_ok)

        real: Any = real_replace
        original = output_dir._commit

        def committing(*args: Any) -> None:
            monkeypatch.setattr(output_dir.os, "replace", replace)
            monkeypatch.setattr(output_dir.Path, "unlink", unlink)
            original(*args)
            os._exit(9)  # (fewer changes than steps: killed once it is done)

        monkeypatch.setattr(output_dir, "_commit", committing)

    killed_at(small, "while committing", patch)
    result = run(["build"])
    assert result.code == 0, result.err
    assert leftovers(small) == []
    assert site_of(small) == clean_build(small)


def test_a_stop_that_a_clean_up_failed_in_is_still_a_stop(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A clean-up that fails as Ctrl-C unwinds (a descriptor closed twice: EBADF) raises
    # its own error in the stop's place. The build says it was interrupted, not that a
    # template failed (as CI saw once, with the error in a post's body being read).
    before = site_of(small)
    real = post_module.read_source
    reads: list[Path] = []

    def stopped_while_reading(path: Path) -> bytes:
        reads.append(path)
        real(path)
        try:
            raise KeyboardInterrupt  # the user presses Ctrl-C
        except KeyboardInterrupt:
            raise OSError(errno.EBADF, os.strerror(errno.EBADF)) from None

    monkeypatch.setattr(post_module, "read_source", stopped_while_reading)
    result = run(["build", "--jobs", "1"])
    assert reads  # (the fault was reached)
    assert (result.code, result.err) == (
        130,
        "broadsheet: interrupted; the previous site is untouched\n",
    )
    assert site_of(small) == before
    assert leftovers(small) == []


def test_ctrl_c_anywhere_in_opening_a_source_is_a_stop(tmp_path: Path) -> None:
    # Python runs the handler between two instructions of any Python frame: raise the
    # KeyboardInterrupt at each in turn, in open_source and whatever it calls. It must
    # come out as itself, never as the error of a descriptor closed twice.
    source = tmp_path / "post.md"
    source.write_bytes(b"---\ntitle: T\n---\n\nBody\n")
    instruction = 0
    while (outcome := _stopped_at(instruction, lambda: open_source(source).close())) is not None:
        if not isinstance(outcome, KeyboardInterrupt):
            pytest.fail(f"stopped at instruction {instruction}: {outcome!r}, not the stop")
        instruction += 1
    assert instruction > 20  # (every instruction was reached, through to the return)


def _stopped_at(instruction: int, call: Callable[[], object]) -> BaseException | None:
    """What `call` raises when a KeyboardInterrupt comes at its `instruction`th Python
    instruction (counting those of the frames it calls); None if it had fewer."""
    before = sys.gettrace()
    seen = 0

    def trace(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal seen
        frame.f_trace_opcodes = True
        if event == "opcode":
            seen += 1
            if seen > instruction:
                sys.settrace(before)
                raise KeyboardInterrupt
        return trace

    sys.settrace(trace)
    try:
        call()
    except BaseException as exc:
        return exc
    finally:
        sys.settrace(before)
    return None


def test_an_error_the_clean_up_finds_as_a_stop_unwinds_is_shown(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only a clean-up's failure in the stop's place (EBADF) is taken for the stop: an
    # error the clean-up finds (here a damaged journal) is the user's to see.
    def stopped_while_reading(path: Path) -> bytes:
        raise KeyboardInterrupt  # the user presses Ctrl-C

    found = "the journal of an interrupted commit is damaged; the site may be a mix"

    def recover(output: Path, *args: object) -> bool:
        raise BroadsheetError(found, output)

    monkeypatch.setattr(post_module, "read_source", stopped_while_reading)
    monkeypatch.setattr(output_dir, "recover", recover)  # (the stage's, as the stop unwinds)
    result = run(["build", "--jobs", "1"])
    assert (result.code, found in result.err) == (1, True), result.err
    assert "broadsheet: interrupted" not in result.err
