"""The build's one-line summary counts the same pages however much the build had to do."""

import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result


def summary(cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> tuple[int, int, int]:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)  # the summary is for a terminal
    result = cli("build")
    assert result.code == 0, result.err
    found = re.search(r"(\d+) pages \((\d+) written, (\d+) unchanged\)", result.out)
    assert found, result.out
    pages, written, unchanged = (int(n) for n in found.groups())
    assert written + unchanged == pages
    return pages, written, unchanged


def test_identical_builds_count_the_same_pages(
    seeded: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = summary(cli, monkeypatch)
    again = summary(cli, monkeypatch)
    assert cold[0] == again[0] and cold[2] == 0 and again[1] == 0
    (seeded / "static/favicon.svg").write_text((seeded / "static/favicon.svg").read_text() + " ")
    static_edit = summary(cli, monkeypatch)
    assert static_edit == again  # a static file is no page
    html = {p for p in (seeded / "site").rglob("*.html")}
    assert cold[0] >= len(html)


def test_a_bundles_files_are_no_pages_in_any_build(
    seeded: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = seeded / "content/asia/figures-of-the-year"
    bundle.mkdir()
    text = "---\ntitle: Figures\ndate: 2025-01-02\n---\n\n[Data](t.csv)\n"
    (bundle / "index.md").write_text(text)
    (bundle / "t.csv").write_text("year,tonnes\n2024,12\n")
    cold = summary(cli, monkeypatch)
    again = summary(cli, monkeypatch)  # nothing to do
    assert again[0] == cold[0] and again[1] == 0
    (bundle / "t.csv").write_text("year,tonnes\n2024,13\n")
    edited = summary(cli, monkeypatch)  # the file changed, no page did
    assert edited[0] == cold[0]
