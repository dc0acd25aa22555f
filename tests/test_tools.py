"""The README's rule for tests whose tool is missing: skipped on your machine, saying how
to install it; a failure in CI, which must have every tool."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.parametrize(("ci", "outcome"), [("", "skipped"), ("true", "failed")])
def test_a_test_whose_tool_is_missing_is_skipped_here_and_fails_in_ci(
    tmp_path: Path, ci: str, outcome: str
) -> None:
    test = tmp_path / "test_needs_a_tool.py"
    test.write_text(
        textwrap.dedent(
            """
            from tests.tools import program

            def test_it():
                program("no-such-tool-anywhere", "apt-get install -y no-such-tool")
            """
        ),
        encoding="utf-8",
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "CI": ci}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rsf", "-p", "no:cacheprovider", str(test)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert f"1 {outcome}" in done.stdout, done.stdout
    assert "apt-get install -y no-such-tool" in done.stdout
