"""The importer's memory stays bounded whatever the raw file's shape: a flood of section
labels, one enormous line, one enormous article. Peak memory is measured (GNU time's
maximum resident set size of the import process), never time."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import pytest

from tests.tools import program

SIZE = 8 * 1024 * 1024  # the bound must not depend on this: the old importer held it 4-10 times
PEAK_LIMIT_MB = 50  # measured: 21 MB for a one-article file, 24-31 MB for these shapes


def labels(handle: TextIO) -> None:
    while handle.tell() < SIZE:
        handle.write("ASIA\n" * 10_000)


def one_line(handle: TextIO) -> None:
    handle.write("ASIA\n\nH\n\nPublished\n\non\n\n")
    handle.write("x" * SIZE + "\n")


def one_article(handle: TextIO) -> None:
    handle.write("ASIA\n\nH\n\nPublished\n\non\n\n")
    paragraph = "The ministers met again to discuss the border, the budget and trade. " * 12
    while handle.tell() < SIZE:
        handle.write(paragraph + "\n\n")


def peak_mb(project: Path, raw: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    report = project / "peak.txt"
    time = program("/usr/bin/time", "apt-get install -y time")
    command = [time, "-f", "%M", "-o", str(report), sys.executable, "-m", "broadsheet"]
    result = subprocess.run(
        [*command, "import", str(raw)], cwd=project, capture_output=True, text=True, timeout=600
    )
    return int(report.read_text().split()[-1]) / 1024, result


@pytest.mark.parametrize("shape", [labels, one_line, one_article], ids=lambda f: f.__name__)
def test_memory_is_bounded_whatever_the_shape(
    project: Path, shape: Callable[[TextIO], None]
) -> None:
    raw = project / "shape.txt"
    with raw.open("w", encoding="utf-8") as handle:
        shape(handle)
    peak, result = peak_mb(project, raw)
    print(f"\n{shape.__name__}: {raw.stat().st_size >> 20} MB raw, peak {peak:.0f} MB")
    assert "Traceback" not in result.stderr
    if shape is one_line:  # refused, by file and line, before it is held whole
        assert result.returncode == 1
        assert "shape.txt:9: a line longer than 1,000,000 characters" in result.stderr
        assert not list((project / "content").rglob("*.md"))
    else:
        assert result.returncode == 0, result.stderr
        assert "outside any article" in result.stdout
    assert peak < PEAK_LIMIT_MB
