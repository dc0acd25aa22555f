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
from tests.photos import photo_bytes
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


def _photo(path: Path, seed: int) -> None:
    path.write_bytes(photo_bytes(48, 36, seed))
    bump(path)


def _as_bundle(project: Path) -> None:
    """The post c made a bundle: its text in c/index.md, a PDF beside it."""
    folder = project / "content/america/c"
    folder.mkdir()
    (project / "content/america/c.md").rename(folder / "index.md")
    (folder / "report.pdf").write_bytes(b"%PDF-1.4 report\n")


A, B = "content/america/a.md", "content/america/b.md"  # a shows a photo, b features it
PHOTO_STEPS: list[tuple[str, Callable[[Path], None]]] = [
    (
        "add a photo to a post",
        lambda p: (
            _photo(p / "content/america/boat.jpg", 1),
            edit(p / A, "\n\n", '\n\n![A boat](boat.jpg "A caption.")\n\n'),
        ),
    ),
    (
        "add a featured image",
        lambda p: edit(p / B, "title: ", "image: boat.jpg\nimage_alt: X\ntitle: "),
    ),
    ("replace a photo", lambda p: _photo(p / "content/america/boat.jpg", 2)),
    ("change its alt text", lambda p: edit(p / A, "![A boat]", "![A moored boat]")),
    ("change its caption", lambda p: edit(p / A, "A caption.", "Another caption.")),
    ("change the featured alt", lambda p: edit(p / B, "image_alt: X", "image_alt: Y")),
    (
        "rename a photo",
        lambda p: (
            (p / "content/america/boat.jpg").rename(p / "content/america/ship.jpg"),
            edit(p / A, "(boat.jpg", "(ship.jpg"),
            edit(p / B, "image: boat.jpg", "image: ship.jpg"),
        ),
    ),
    ("make a post a bundle", _as_bundle),
    (
        "move the photo into the bundle",
        lambda p: (
            (p / "content/america/ship.jpg").rename(p / "content/america/c/ship.jpg"),
            edit(p / A, "(ship.jpg", "(c/ship.jpg"),
            edit(p / B, "image: ship.jpg", "image: c/ship.jpg"),
        ),
    ),
    ("remove a bundle file", lambda p: (p / "content/america/c/report.pdf").unlink()),
    (
        "remove the photo and what shows it",
        lambda p: (
            (p / "content/america/c/ship.jpg").unlink(),
            edit(p / A, "![A moored boat]", "[A moored boat]"),
            edit(p / B, "image: c/ship.jpg\nimage_alt: Y\n", ""),
        ),
    ),
]


def test_an_incremental_build_after_each_photo_edit_equals_a_cold_build(corpus: Path) -> None:
    america = sorted((corpus / "content/america").glob("*.md"))
    for name, post in zip("abc", america, strict=False):
        post.rename(corpus / f"content/america/{name}.md")
    warm(corpus, 2)
    for name, change in PHOTO_STEPS:
        before = tree_bytes(corpus / "site")
        change(corpus)
        warm(corpus, 2)
        after = tree_bytes(corpus / "site")
        # (published images are named by their bytes: a renamed photo is the same file)
        assert (after != before) == (name != "rename a photo"), name
        assert after == cold(corpus), f"after: {name}"


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


@pytest.mark.parametrize("what", ["post", "template", "nothing"])
def test_a_build_judges_which_sources_changed_once(
    corpus: Path, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    """Whether a build is current and how far its plan can go by the last one's both go
    by one judging of the sources against the cache (it compared 10,000 stamps three
    times a build): after an edited post, an edited template, or nothing, each built
    as a cold build builds it."""
    from broadsheet.publish import cache

    warm(corpus)
    if what == "post":
        edit(sorted((corpus / "content").rglob("*.md"))[3], "\n\n", "\n\nA new sentence.\n\n")
    elif what == "template":
        edit(corpus / "templates/article.html", "Related articles", "More like this")
    judged = []
    judge = cache.changed_names
    monkeypatch.setattr(cache, "changed_names", lambda *a, **k: judged.append(1) or judge(*a, **k))
    result = warm(corpus)
    assert len(judged) == (0 if what == "nothing" else 1)
    assert (result.written == 0) == (what == "nothing")
    assert tree_bytes(corpus / "site") == cold(corpus)


def test_an_edit_parses_no_template(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A body edit goes by the templates' stored keys: none is parsed again to tell
    what its pages show or whether they use cards (21 ms of an edit at 10,000
    articles was three templates parsed to let the cards go)."""
    from broadsheet.publish import signatures

    warm(corpus)
    before = tree_bytes(corpus / "site")

    def parsed(source: str) -> None:
        raise AssertionError("a template was parsed")

    monkeypatch.setattr(signatures, "_references", parsed)
    post = sorted((corpus / "content").rglob("*.md"))[3]
    edit(post, "\n\n", "\n\nA sentence nobody had written.\n\n")
    warm(corpus)
    after = tree_bytes(corpus / "site")
    assert sum(after[name] != before.get(name) for name in after) >= 1
    monkeypatch.undo()
    assert after == cold(corpus)


def test_an_edit_to_bodies_takes_the_posts_groups_from_the_last_build(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body edit's posts are ordered, listed and ranked as the last build's were, and
    not again (40 ms of an edit at 10,000 articles); an edit that moves an article is,
    and both sites are a cold build's."""
    from broadsheet.outputs import grouped

    made = []
    ordered = grouped.reading_order
    monkeypatch.setattr(grouped, "reading_order", lambda posts: made.append(1) or ordered(posts))
    warm(corpus)
    assert made == [1]
    articles = sorted((corpus / "content/asia").glob("*.md"))
    edit(articles[2], "\n\n", "\n\nNew words.\n\n")
    made.clear()
    warm(corpus)
    assert made == []
    assert tree_bytes(corpus / "site") == cold(corpus)
    edit(articles[3], "title: ", "title: 0 ")  # (its front matter: made again)
    made.clear()
    warm(corpus)
    assert made == [1]
    assert tree_bytes(corpus / "site") == cold(corpus)


@pytest.mark.parametrize(
    ("what", "old", "new", "kept"),
    [
        ("a body", "\n\n", "\n\nWords nobody had written.\n\n", True),
        ("a headline", "title: ", "title: Retitled ", True),
        ("the tags", "tags: [", "tags: [brand-new-topic, ", False),
        ("the author", "author: ", "author: Zed ", False),
        ("the year", "date: 20", "date: 19", False),
    ],
)
def test_an_edit_that_moves_no_article_makes_search_entries_only_for_those_it_reindexes(
    corpus: Path, monkeypatch: pytest.MonkeyPatch, what: str, old: str, new: str, kept: bool
) -> None:
    """An edit to a body or a headline leaves every article's place (its URL, section,
    date, author and tags): the search index's facets are kept, and no article is made
    into the index's search entry (every article's took 30 ms of an edit at 10,000
    articles; the edited one's docs file is written as it renders). An edit to what the
    facets show makes them all again. Either way, the site is a cold build's."""
    made: list[str] = []
    entry = render.search_doc

    def counted(post):  # type: ignore[no-untyped-def]
        made.append(post.url_path)
        return entry(post)

    from broadsheet.publish import assemble

    warm(corpus)
    facets = {p.name: p.stat().st_mtime_ns for p in (corpus / "site/search/facets").iterdir()}
    post = sorted((corpus / "content/asia").glob("*.md"))[2]
    assert old in post.read_text()
    edit(post, old, new)
    monkeypatch.setattr(assemble, "search_doc", counted)  # (the index's; not the render's)
    warm(corpus)
    monkeypatch.undo()
    if kept:
        assert made == []
        after = {p.name: p.stat().st_mtime_ns for p in (corpus / "site/search/facets").iterdir()}
        assert after == facets  # (not written again)
    else:
        assert len(made) > 20
    assert tree_bytes(corpus / "site") == cold(corpus)


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


def test_an_article_hidden_then_shown_again_is_in_the_search_index_again(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An article dated in the future (hidden), then shown once its time comes: the
    site, its search index too, is a cold build's at each step. (The build that hid it
    kept its search state, so the one that showed it again took its words as indexed,
    and they were missing from the index: found by a review.)"""
    import re

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1900000000")  # (2030)
    warm(corpus)
    post = sorted((corpus / "content/america").glob("*.md"))[0]
    text = post.read_text(encoding="utf-8")
    post.write_text(re.sub(r"(?m)^date: .*$", "date: 2031-01-01 10:00", text, count=1))
    bump(post)
    warm(corpus)
    assert tree_bytes(corpus / "site") == cold(corpus)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1950000000")  # (October 2031: it is shown)
    warm(corpus)
    site = tree_bytes(corpus / "site")
    assert site == cold(corpus)
    assert any(post.stem[7:] in path for path in site)  # (its article is there again)
