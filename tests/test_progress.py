"""On a terminal a big build shows progress and a one-line summary; elsewhere, silence."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from benchmarks.corpus import write_corpus


def run_on_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run a command with its stdout and stderr on a pseudo-terminal; return all it printed."""
    master, slave = pty.openpty()
    process = subprocess.Popen(args, cwd=cwd, stdout=slave, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return process.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


def test_a_big_build_shows_progress_and_a_summary_on_a_terminal(project: Path) -> None:
    write_corpus(project / "content", 150)  # about 300 pages
    build = [sys.executable, "-m", "broadsheet", "build"]
    code, shown = run_on_terminal(build, project)
    assert code == 0, shown
    assert "rendering [" in shown and "pages" in shown
    # What the terminal shows last: the summary, after the bar's line was cleared.
    summary = shown.replace("\x1b[K", "").strip().splitlines()[-1].split("\r")[-1]
    assert summary.startswith("built site/: 150 articles, ")
    assert "written" in summary and "unchanged" in summary and summary.endswith(" s")
    quiet_code, quiet = run_on_terminal([*build, "--quiet"], project)
    assert quiet_code == 0 and quiet.strip() == ""
    piped = subprocess.run(build, cwd=project, capture_output=True, text=True)
    assert piped.returncode == 0 and piped.stdout == "" and piped.stderr == ""
