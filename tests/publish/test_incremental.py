"""Incremental builds equal cold builds, byte for byte; the cache is never trusted blindly."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from broadsheet.config import load_config
from broadsheet.errors import BroadsheetError
from broadsheet.publish import render
from broadsheet.publish.pipeline import build
from tests.sitecheck import tree_bytes


def cold(project: Path, out: str = "cold") -> dict[str, bytes]:
    build(load_config(project), output=project / out, use_cache=False, jobs=1)
    return tree_bytes(project / out)


def warm(project: Path, jobs: int = 1):  # type: ignore[no-untyped-def]
    return build(load_config(project), jobs=jobs)


def bump(path: Path) -> None:
    """Make sure a rewritten file's modification time moves on, however fast the test is."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new, 1))
    bump(path)


STEPS: list[tuple[str, Callable[[Path], None]]] = [
    (
        "edit a body",
        lambda p: edit(sorted((p / "content/asia").glob("*.md"))[2], "\n\n", "\n\nNew words.\n\n"),
    ),
    (
        "add a post",
        lambda p: (p / "content/asia/added.md").write_text(
            "---\ntitle: Added\ndate: 2019-03-03\ntags: [trade]\n---\n\nAdded text.\n"
        ),
    ),
    (
        "edit a title",
        lambda p: edit(sorted((p / "content/asia").glob("*.md"))[3], "title: ", "title: New "),
    ),
    ("delete a post", lambda p: sorted((p / "content/europe").glob("*.md"))[0].unlink()),
    (
        "rename a post",
        lambda p: sorted((p / "content/africa").glob("*.md"))[1].rename(
            p / "content/africa/renamed.md"
        ),
    ),
    (
        "change a template",
        lambda p: edit(p / "templates/article.html", "Related articles", "More like this"),
    ),
    (
        "change the card template",  # listings use it as a filter: {{ post|card }}
        lambda p: edit(p / "templates/_card.html", "article-item-excerpt", "article-item-summary"),
    ),
    (
        "change the settings",
        lambda p: edit(p / "pyproject.toml", 'title = "Test Archive"', 'title = "Retitled"'),
    ),
    (
        "change the base URL",  # every link; compiled templates must not keep the old one
        lambda p: edit(
            p / "pyproject.toml",
            'base_url = "https://example.test/"',
            'base_url = "https://example.test/news/"',
        ),
    ),
    (
        "change a static file",
        lambda p: edit(p / "static/css/site.css", "--measure: 68ch;", "--measure: 66ch;"),
    ),
    ("delete a static file", lambda p: (p / "static/favicon.svg").unlink()),
    (
        "edit two bodies",
        lambda p: [
            edit(path, "\n\n", "\n\nMore words.\n\n")
            for path in sorted((p / "content/europe").glob("*.md"))[:2]
        ],
    ),
]


@pytest.mark.parametrize("jobs", [1, 2])  # 2: edited bodies are rendered in a second process
def test_an_incremental_build_after_each_change_equals_a_cold_build(
    corpus: Path, jobs: int
) -> None:
    first = warm(corpus, jobs)
    assert first.written > 0
    for name, change in STEPS:
        before = tree_bytes(corpus / "site")
        change(corpus)
        warm(corpus, jobs)
        after = tree_bytes(corpus / "site")
        assert after != before, f"{name} changed nothing"
        assert after == cold(corpus), f"after: {name}"


def test_nothing_changed_writes_nothing(corpus: Path) -> None:
    warm(corpus)
    before = {p: p.stat().st_mtime_ns for p in (corpus / "site").rglob("*") if p.is_file()}
    again = warm(corpus)
    assert again.written == 0 and again.pages > 0
    after = {p: p.stat().st_mtime_ns for p in (corpus / "site").rglob("*") if p.is_file()}
    assert after == before


def test_an_edit_rewrites_only_the_pages_that_show_it(corpus: Path) -> None:
    warm(corpus)
    edit(sorted((corpus / "content/asia").glob("*.md"))[2], "\n\n", "\n\nNew words.\n\n")
    result = warm(corpus)
    assert 0 < result.written < result.pages / 4


def test_parallel_and_serial_rendering_give_the_same_site(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render, "PARALLEL_MINIMUM", 1)
    build(load_config(corpus), output=corpus / "parallel", use_cache=False, jobs=2)
    assert tree_bytes(corpus / "parallel") == cold(corpus)


def test_an_error_in_a_worker_still_names_the_template_and_line(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render, "PARALLEL_MINIMUM", 1)
    edit(corpus / "templates/article.html", "{{ post.title }}", "{{ post.titel }}")
    with pytest.raises(BroadsheetError) as caught:
        build(load_config(corpus), use_cache=False, jobs=2)
    assert "templates/article.html:" in str(caught.value) and "titel" in str(caught.value)
