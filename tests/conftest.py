"""Shared fixtures: a throwaway project with the real templates and static files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from broadsheet.cli import main

REPO = Path(__file__).resolve().parent.parent
SEEDS = sorted((REPO / "raw").glob("*.txt"))

PYPROJECT = """\
[tool.broadsheet]
title = "Test Archive"
base_url = "https://example.test/"
per_page = 10

[tool.broadsheet.sections]
asia = "Asia"
america = "America"
"""


@dataclass
class Result:
    code: int
    out: str
    err: str


def lay_out(root: Path, settings: str = PYPROJECT) -> Path:
    """A project at `root`: `settings` as its pyproject.toml, and the repository's
    templates and static files."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(settings, encoding="utf-8")
    for name in ("templates", "static"):
        shutil.copytree(REPO / name, root / name, dirs_exist_ok=True)
    return root


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project (settings, templates, static) as the working directory."""
    root = lay_out(tmp_path / "project")
    (root / "content").mkdir()
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def seeded(project: Path) -> Path:
    """The project with the seed archive imported."""
    assert run(["import", *map(str, SEEDS)]).code == 0
    return project


@pytest.fixture
def corpus(project: Path) -> Path:
    """The project with 40 generated articles (tags, authors, dates, six sections)."""
    from benchmarks.corpus import write_corpus

    write_corpus(project / "content", 40)
    return project


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    def invoke(*args: str) -> Result:
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


def run(args: list[str]) -> Result:
    """Run the command line in-process, outside pytest's capture."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return Result(code, out.getvalue(), err.getvalue())


def run_process(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `python -m broadsheet ARGS` as a real process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "broadsheet", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_post(root: Path, relative: str, text: str) -> Path:
    path = root / "content" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
