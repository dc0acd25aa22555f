"""Bodies a rebuild will need, rendered beforehand in a second process: the same bodies
the build would render, for the posts whose pages the edit changes."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from broadsheet.config import load_config
from broadsheet.content.loader import load_posts
from broadsheet.content.post import Post
from broadsheet.outputs.listings import sort_key
from broadsheet.outputs.related import RELATED_COUNT, related_posts, title_words
from broadsheet.publish import prerender as prerender_module
from broadsheet.publish.prerender import MOST_EDITED, Prerender, foreseen
from broadsheet.render.markdown import render_markdown


def _posts(corpus: Path) -> list[Post]:
    config = load_config(corpus)
    return load_posts(config.path(config.content_dir), config.zone)


def _section(posts: list[Post], slug: str) -> list[Post]:
    return sorted((p for p in posts if p.section_slug == slug), key=sort_key)


def test_an_edited_post_brings_its_neighbours_in_its_section(corpus: Path) -> None:
    posts = _posts(corpus)
    asia = _section(posts, "asia")
    edited = asia[len(asia) // 2]
    found = foreseen(posts, {str(edited.path)}, feed_size=1)
    assert {p.path for p in found} == {p.path for p in asia[len(asia) // 2 - 1 :][:3]}


def test_a_post_in_a_feed_brings_every_entry_of_that_feed(corpus: Path) -> None:
    posts = _posts(corpus)
    newest = sorted(posts, key=sort_key)
    section = _section(posts, newest[0].section_slug)
    found = {p.path for p in foreseen(posts, {str(newest[0].path)}, feed_size=3)}
    assert {p.path for p in newest[:3]} | {p.path for p in section[:3]} <= found
    assert len(found) < len(posts)


def test_the_bodies_are_those_the_build_would_render(corpus: Path) -> None:
    config = load_config(corpus)
    posts = _posts(corpus)
    edited = {str(_section(posts, "europe")[1].path)}
    with Prerender() as prerender:
        prerender.start(posts, edited, config, datetime.now(config.zone), drafts=False)
        bodies = prerender.bodies()
    wanted = foreseen(posts, edited, config.feed_size)
    base = config.base_path
    assert bodies == {(p.digest, base): render_markdown(p.body, base) for p in wanted}
    assert prerender.bodies() == {}  # handed over once


def test_a_body_that_fails_is_left_to_the_build(corpus: Path) -> None:
    config = load_config(corpus)
    posts = _posts(corpus)
    europe = _section(posts, "europe")
    edited = {str(europe[1].path)}
    europe[0].path.unlink()  # its body cannot be read any more
    with Prerender() as prerender:
        prerender.start(posts, edited, config, datetime.now(config.zone), drafts=False)
        bodies = prerender.bodies()
    assert (europe[1].digest, config.base_path) in bodies
    assert (europe[0].digest, config.base_path) not in bodies


def test_nothing_is_rendered_beforehand_for_many_edits(corpus: Path) -> None:
    config = load_config(corpus)
    posts = _posts(corpus)
    edited = {str(p.path) for p in posts[: MOST_EDITED + 1]}
    with Prerender() as prerender:
        prerender.start(posts, edited, config, datetime.now(config.zone), drafts=False)
        assert prerender.bodies() == {}


def test_bodies_that_do_not_come_are_given_up_and_their_process_stopped(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(corpus)
    posts = _posts(corpus)
    monkeypatch.setattr(prerender_module, "PATIENCE", 0.5)
    monkeypatch.setattr(prerender_module, "_rendered", lambda *_: time.sleep(30) or [])
    started = time.monotonic()
    with Prerender() as prerender:
        prerender.start(posts, {str(posts[0].path)}, config, datetime.now(config.zone), False)
        assert prerender.bodies() == {}
    assert time.monotonic() - started < 10  # the stuck process was not waited for


@pytest.mark.parametrize(("shared", "late"), [(False, False), (True, False), (True, True)])
def test_a_title_edit_leaves_the_build_no_body_to_render_itself(
    corpus: Path, monkeypatch: pytest.MonkeyPatch, shared: bool, late: bool
) -> None:
    """The articles that list the edited one as related show its title: their bodies
    are foreseen too (from the last build's ranking), not rendered by the build; and
    so are those whose related articles change, when the new title has a word other
    titles have (`shared`); even if the process foreseeing them starts only once the
    build has ranked the articles anew and replaced the last build's ranking (`late`:
    on a busy machine; it read the new one, and foresaw no change, found by CI)."""
    from broadsheet.publish import context
    from broadsheet.publish.pipeline import build
    from tests.publish.test_incremental import edit

    settings = corpus / "pyproject.toml"  # (feeds of two: most posts are in none)
    settings.write_text(
        settings.read_text().replace("per_page = 10", "per_page = 10\nfeed_size = 2")
    )
    build(load_config(corpus), jobs=2)
    by_build: list[str] = []
    real = context.render_markdown

    def counted(body: str, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        by_build.append(body)
        return real(body, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(context, "render_markdown", counted)  # (this process's only)
    edited = _listed_as_related_elsewhere(corpus)
    word = "Zz"  # (too short to be a word related lists share)
    if shared:  # the commonest title word no article of its section has
        words = Counter(w for p in _posts(corpus) for w in title_words(p.title))
        mine = {
            w for p in _section(_posts(corpus), edited.section_slug) for w in title_words(p.title)
        }
        word = next(w for w, _ in words.most_common() if w not in mine)
    before = related_posts(tuple(sorted(_posts(corpus), key=sort_key)))
    edit(edited.path, "title: ", f"title: {word} ")
    if shared:  # some other article's related list changes
        after = related_posts(tuple(sorted(_posts(corpus), key=sort_key)))
        paths = [[p.path for p in row] for row in before], [[p.path for p in row] for row in after]
        assert paths[0] != paths[1]
    if late:
        (kept,) = corpus.glob(".broadsheet-cache/*/related.json")
        _start_late(monkeypatch, kept)
    result = build(load_config(corpus), jobs=2)
    assert result.written > 3  # its article, neighbours', listings, and those it is related to
    assert by_build == []


def _start_late(monkeypatch: pytest.MonkeyPatch, ranking: Path) -> None:
    """Make the forked process wait, before it does anything, until the build process
    has replaced the `ranking` file (for at most ten seconds)."""
    before = ranking.stat().st_ino
    real = prerender_module.visible

    def late(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + 10
        while ranking.stat().st_ino == before and time.monotonic() < deadline:
            time.sleep(0.01)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(prerender_module, "visible", late)


def _listed_as_related_elsewhere(corpus: Path) -> Post:
    """A post in no feed that an article of another section lists as related."""
    from broadsheet.publish.assemble import load_site

    site = load_site(load_config(corpus), drafts=False)
    fed = {path for page in site.pages for path in page.sources if page.template == "feed.xml"}
    for page in site.pages:
        if page.post is not None:
            for other in page.context["related"]:
                if other.section_slug != page.post.section_slug and other.path not in fed:
                    return other
    raise AssertionError("no such post in the corpus")


def test_the_articles_that_listed_an_edited_post_as_related_are_foreseen(
    corpus: Path,
) -> None:
    posts = _posts(corpus)
    ordered = sorted(posts, key=sort_key)
    edited = ordered[5]
    before = [(5,) if n in (0, 30) else (n + 1,) for n in range(len(ordered))]
    after = [(7,) if n == 20 else row for n, row in enumerate(before)]  # 20's list changes
    found = {p.path for p in foreseen(posts, {str(edited.path)}, 1, (before, after))}
    assert {ordered[0].path, ordered[30].path, ordered[20].path} <= found
    alone = {p.path for p in foreseen(posts, {str(edited.path)}, 1)}
    assert not {ordered[0].path, ordered[30].path, ordered[20].path} & alone


def test_a_new_date_that_moves_a_post_foresees_only_the_articles_it_changes(
    corpus: Path,
) -> None:
    """The last build's ranking is by index in its reading order, which a new date moves:
    taken index for index, every row between the post's two places looked changed (at
    10,000 articles, 7,832 bodies rendered beforehand for nothing, and 200 MB held). By
    the posts it names, only the articles whose related list changed, or that list the
    moved post, are foreseen (with its neighbours and the feeds it is in)."""
    from broadsheet.outputs.related import foreseen_rankings, open_rankings
    from broadsheet.publish.pipeline import build
    from tests.publish.test_incremental import edit

    config = load_config(corpus)
    build(config, jobs=1)
    ordered = sorted(_posts(corpus), key=sort_key)
    moved = ordered[3]  # among the newest: a date in the last century sends it last
    before = {
        p.path: [q.path for q in row]
        for p, row in zip(ordered, related_posts(tuple(ordered)), strict=True)
    }
    edit(moved.path, "date: 20", "date: 19")
    posts = tuple(sorted(_posts(corpus), key=sort_key))
    assert posts[-1].path == moved.path
    after = {
        p.path: [q.path for q in row] for p, row in zip(posts, related_posts(posts), strict=True)
    }
    (kept,) = corpus.glob(".broadsheet-cache/*/related.json")
    rankings = foreseen_rankings(posts, open_rankings(kept))
    found = {p.path for p in foreseen(posts, {str(moved.path)}, 1, rankings, ordered=True)}
    shows = {p for p in after if before[p] != after[p] or moved.path in before[p]}
    around = {p.path for p in foreseen(posts, {str(moved.path)}, 1, ordered=True)}
    assert shows <= found  # (all that the build will render)
    assert found <= shows | around  # (and no more)
    assert len(found) < len(posts) / 2


def _counting_forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The processes Prerender forks, counted (their pids)."""
    forked: list[int] = []
    real = prerender_module.fork

    def counted(*args: object, **kwargs: object) -> int:
        pid = real(*args, **kwargs)  # type: ignore[arg-type]
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(prerender_module, "fork", counted)
    return forked


@pytest.mark.parametrize(
    ("newest", "old", "new", "forks"),
    [
        (False, "\n\n", "\n\nNew words.\n\n", False),  # a handful of bodies
        (False, "title: ", "title: New ", True),  # related lists may change
        (True, "\n\n", "\n\nNew words.\n\n", True),  # the feeds show its body, and theirs
    ],
    ids=["body of an article in no feed", "title", "body of the newest article"],
)
def test_the_bodies_are_rendered_beforehand_only_when_others_than_the_edited_are_needed(
    corpus: Path,
    monkeypatch: pytest.MonkeyPatch,
    newest: bool,
    old: str,
    new: str,
    forks: bool,
) -> None:
    """A forked process costs the build more than rendering the handful of bodies a
    body edit of an article in no feed needs (its own, its neighbours', those of the
    articles that list it as related): it is started only for more, and then the build
    renders none itself."""
    from broadsheet.publish import context
    from broadsheet.publish.pipeline import build
    from tests.publish.test_incremental import edit

    settings = corpus / "pyproject.toml"  # (feeds of two: most posts are in none)
    settings.write_text(
        settings.read_text().replace("per_page = 10", "per_page = 10\nfeed_size = 2")
    )
    build(load_config(corpus), jobs=2)
    ordered = sorted(_posts(corpus), key=sort_key)
    edited = ordered[0] if newest else _section(ordered, ordered[0].section_slug)[-1]
    by_build: list[str] = []
    real = context.render_markdown

    def counted(body: str, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        by_build.append(body)
        return real(body, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(context, "render_markdown", counted)
    forked = _counting_forks(monkeypatch)
    edit(edited.path, old, new)
    build(load_config(corpus), jobs=2)
    assert bool(forked) == forks
    if forks:
        assert by_build == []
    else:
        assert any("New words." in body for body in by_build)
        assert len(by_build) <= 3 + RELATED_COUNT, len(by_build)
    page = corpus / "site" / edited.url_path / "index.html"
    assert "New" in page.read_text()


def test_a_post_may_be_fed_unless_as_many_shown_posts_of_its_section_are_newer(
    corpus: Path,
) -> None:
    posts = _posts(corpus)
    section = _section(posts, "asia")
    assert len({p.date for p in section}) == len(section) >= 4  # (no ties in the corpus)
    now = max(p.date for p in posts if p.date is not None)
    for size in (1, 2, 3):
        fed = [prerender_module.may_be_fed(p, posts, size, now, False) for p in section]
        assert fed == [n < size for n in range(len(section))]
    # The newer ones scheduled (dated after now), or drafts: they are not shown.
    third = section[2].date
    assert third is not None
    assert prerender_module.may_be_fed(section[2], posts, 2, third, False)
    assert not prerender_module.may_be_fed(section[2], posts, 2, third, True)
