"""An import reads the posts already in content/ the way a build does: a named pipe, or
anything else a build would refuse, is an error naming it, never a hang."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SEEDS, run_process


@pytest.mark.parametrize("where", ["content/asia/x.md", "content/asia/deeper/y.md"])
def test_a_named_pipe_among_the_posts_is_an_error_and_nothing_is_written(
    project: Path, where: str
) -> None:
    pipe = project / where
    pipe.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(pipe)
    before = sorted(p.relative_to(project).as_posix() for p in (project / "content").rglob("*"))
    try:  # a real process, bounded: the old importer opened the pipe and waited for ever
        done = run_process(["import", str(SEEDS[0])], project)
    except subprocess.TimeoutExpired:
        pytest.fail("the import waited on the named pipe")
    assert done.returncode == 1, done
    assert f"{where}: is a named pipe (FIFO), not a file" in done.stderr
    assert "Traceback" not in done.stderr
    after = sorted(p.relative_to(project).as_posix() for p in (project / "content").rglob("*"))
    assert after == before  # nothing written, and the content lock let go:
    pipe.unlink()
    again = run_process(["import", str(SEEDS[0])], project)
    assert again.returncode == 0, again
