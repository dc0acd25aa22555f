"""An edit rebuilds only what it affects; a template change only the pages using it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from benchmarks.corpus import write_corpus
from broadsheet.serve.devbuild import DevBuilder
from tests.sitecheck import tree_bytes


@pytest.fixture
def builder(project: Path, tmp_path: Path) -> DevBuilder:
    write_corpus(project / "content", 60)
    dev = DevBuilder(project, tmp_path / "out", {"base_url": "http://127.0.0.1:8000/"})
    (tmp_path / "out").mkdir()
    first = dev.rebuild()
    assert first.ok, first.error
    return dev


def touch(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    stat = path.stat()
    import os

    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


def test_nothing_changed_renders_nothing(builder: DevBuilder) -> None:
    assert builder.rebuild().rendered == ()


def test_an_edited_post_rebuilds_only_what_shows_it(builder: DevBuilder, project: Path) -> None:
    post = sorted((project / "content/asia").glob("*.md"))[3]
    text = post.read_text()
    touch(post, "\n\n", "\n\nA new opening sentence for the test.\n\n")
    result = builder.rebuild()
    assert result.ok, result.error
    rendered = set(result.rendered)
    slug = post.stem
    html = (builder.output / f"asia/{slug}/index.html").read_text()
    assert "A new opening sentence for the test." in html
    assert f"asia/{slug}/index.html" in rendered
    assert {"feed.xml", "asia/feed.xml"} <= rendered
    assert any(
        p.startswith("asia/") and p.count("/") in (1, 3)
        for p in rendered - {f"asia/{slug}/index.html"}
    )
    date = next(line for line in text.splitlines() if line.startswith("date:"))[6:13]
    assert f"archive/{date.replace('-', '/')}/index.html" in rendered
    author = next(line for line in text.splitlines() if line.startswith("author:"))
    assert any(p.startswith("authors/") for p in rendered), author
    assert any(p.startswith("tags/") for p in rendered)
    # Neighbours link to it (previous/next), so they are rebuilt too; far-off articles not.
    articles = [p for p in rendered if p.count("/") == 2 and p.split("/")[0] in ("asia",)]
    assert 2 <= len(articles) <= 8
    total = len(builder._signatures)
    assert len(rendered) < total / 5


def test_a_template_change_rebuilds_the_pages_that_use_it(
    builder: DevBuilder, project: Path
) -> None:
    touch(project / "templates/tag.html", "Topic: ", "Topic — ")
    result = builder.rebuild()
    assert result.rendered
    assert all(p.startswith("tags/") and p != "tags/index.html" for p in result.rendered)
    touch(
        project / "templates/_card.html",
        'class="article-item-excerpt"',
        'class="article-item-excerpt x"',
    )
    listing = set(builder.rebuild().rendered)
    assert "index.html" in listing and "asia/index.html" in listing
    assert not any(p.count("/") == 2 and p.startswith("asia/") and "page" not in p for p in listing)


def test_incremental_output_equals_a_cold_build(
    builder: DevBuilder, project: Path, tmp_path: Path
) -> None:
    posts = sorted((project / "content").rglob("*.md"))
    touch(posts[0], "\n\n", "\n\nEdited.\n\n")
    posts[1].unlink()
    (project / "content/asia/new-one.md").write_text(
        "---\ntitle: A new one\ndate: 2020-05-05\n---\n\nNew.\n"
    )
    touch(project / "templates/base.html", "Skip to content", "Skip to the content")
    assert builder.rebuild().ok
    cold = DevBuilder(project, tmp_path / "cold", {"base_url": "http://127.0.0.1:8000/"})
    (tmp_path / "cold").mkdir()
    assert cold.rebuild().ok
    assert tree_bytes(builder.output) == tree_bytes(cold.output)  # search index included


def test_a_broken_post_is_an_error_and_fixing_it_recovers(
    builder: DevBuilder, project: Path
) -> None:
    post = sorted((project / "content/asia").glob("*.md"))[0]
    good = post.read_text()
    post.write_text(good.replace("title:", "title: [oops", 1))
    broken = builder.rebuild()
    assert not broken.ok
    assert f"content/asia/{post.name}:2: front matter is not valid YAML" in broken.error
    post.write_text(good)
    time.sleep(0.01)
    assert builder.rebuild().ok and builder.error is None


def test_a_settings_change_rebuilds_every_page(builder: DevBuilder, project: Path) -> None:
    touch(project / "pyproject.toml", 'title = "Test Archive"', 'title = "Renamed Archive"')
    result = builder.rebuild()
    assert result.ok
    assert len(result.rendered) == len(builder._signatures)
    assert "Renamed Archive" in (builder.output / "index.html").read_text()
