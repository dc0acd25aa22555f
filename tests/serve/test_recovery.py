"""Nothing a build meets stops `serve`: each failure shows in the browser and the
terminal, and the next save brings the site back."""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import write_post
from tests.serve.conftest import Server, start_server
from tests.serve.faults import fault_env

ARTICLE = "asia/rice/"


@pytest.fixture
def faulty(project: Path, tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    """A server whose builds meet the fault named in a file (none while it is empty)."""
    write_post(project, "asia/rice.md", "---\ntitle: Rice\n---\n\nRice.\n")
    fault = tmp_path / "fault"
    fault.write_text("", encoding="utf-8")
    running = start_server(project, env=fault_env(tmp_path / "faults", fault))
    yield running, fault
    running.stop()


def save_until_served(server: Server, project: Path, headline: str) -> None:
    """Save content/asia/rice.md with a new headline (again and again: a stuck build is
    stopped by a later save) until serve shows it."""
    stop = threading.Event()

    def keep_saving() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            text = f"---\ntitle: {headline}\n---\n\nSaved {n} times.\n"
            write_post(project, "asia/rice.md", text)
            stop.wait(1.0)

    saver = threading.Thread(target=keep_saving)
    saver.start()
    try:
        server.wait_for(ARTICLE, lambda status, body: status == 200 and headline in body, 60)
    finally:
        stop.set()
        saver.join()


FAULTS = {
    "RuntimeError": "RuntimeError: injected fault",
    "OSError": "OSError: [Errno 5] injected I/O error",
    "KeyError": "KeyError: &#x27;injected fault&#x27;",
    "kill": "killed by SIGKILL",  # the build process killed, as by the OOM killer
}


def test_a_failing_build_shows_and_the_next_save_recovers(
    faulty: tuple[Server, Path], project: Path
) -> None:
    server, fault = faulty
    for kind, shown in FAULTS.items():
        fault.write_text(kind)
        write_post(project, "asia/rice.md", f"---\ntitle: Rice, {kind}\n---\n\nRice.\n")
        page = server.wait_for(
            ARTICLE, lambda status, body, shown=shown: status == 500 and shown in body
        )
        assert "/livereload.js?port=" in page  # so that the fix reloads it
        server.stderr_until(shown.replace("&#x27;", "'"))
        fault.write_text("")
        save_until_served(server, project, f"Rice, fixed after {kind}")
    assert server.process.poll() is None


def test_odd_sources_never_stop_serve(server: Server, seeded: Path) -> None:
    post = seeded / "content/america/does-us-afghanistan-policy-have-a-future.md"
    good = post.read_text()
    loop = seeded / "content/asia/loop"
    breakages = {
        "a post dated 0001-01-01": lambda: post.write_text(
            good.replace("title: ", "date: 0001-01-01\ntitle: ", 1)
        ),
        "a link to itself in content/": lambda: loop.symlink_to(loop),
        "a link loop in content/": lambda: loop.symlink_to(seeded / "content"),
    }
    for n, (name, breakage) in enumerate(breakages.items()):
        server.drain()
        breakage()
        write_post(seeded, "asia/rice.md", f"---\ntitle: Rice {n}\n---\n\nRice.\n")
        assert server.reported(), name  # a build met it (and said what it made of it)
        post.write_text(good)  # then it is undone, and a post saved: serve must show it
        loop.unlink(missing_ok=True)
        save_until_served(server, seeded, f"Written after {name}")
        server.wait_for("", lambda status, body, name=name: f"Written after {name}" in body)
    assert server.process.poll() is None


def test_a_named_pipe_among_the_posts_is_an_error_and_never_stops_serve(
    server: Server, seeded: Path
) -> None:
    pipe = seeded / "content/asia/x.md"
    os.mkfifo(pipe)
    write_post(seeded, "asia/rice.md", "---\ntitle: Rice\n---\n\nRice.\n")
    # The build never opens it (it would wait for ever): it names it, and serve shows that.
    page = server.wait_for(ARTICLE, lambda status, body: status == 500 and "x.md" in body)
    assert "not a plain file" in page or "FIFO" in page or "pipe" in page, page
    pipe.unlink()
    save_until_served(server, seeded, "Written after the pipe")
    assert server.process.poll() is None


def test_an_editor_that_deletes_and_rewrites_never_stops_serve(
    server: Server, seeded: Path
) -> None:
    post = seeded / "content/america/does-us-afghanistan-policy-have-a-future.md"
    good = post.read_text()
    pauses = random.Random(15)
    for n in range(25):  # builds start while the file is gone, or half-written
        post.unlink()
        post.write_text(good.replace("title: ", f"title: Save {n} ", 1))
        threading.Event().wait(pauses.uniform(0.02, 0.12))
    server.wait_for(
        "america/does-us-afghanistan-policy-have-a-future/",
        lambda status, body: status == 200 and "Save 24 " in body,
    )
    write_post(seeded, "asia/after.md", "---\ntitle: Written after\n---\n\nAfter.\n")
    server.wait_for("asia/after/", lambda status, body: status == 200)
