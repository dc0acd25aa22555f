"""A plan of only the pages an edit can change (see plan_site's `last`): after any
edits to articles' headlines, summaries, bodies or what places them, signing it gives
every page the signature signing the whole plan gives, and it holds every page whose
signature changed, as the whole plan has it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.corpus import write_corpus
from broadsheet.config import load_config
from broadsheet.content.loader import load_posts
from broadsheet.content.post import Post, place_of
from broadsheet.errors import BroadsheetErrors
from broadsheet.outputs.site import Site, WholePlan, page_paths, plan_site
from broadsheet.publish.pipeline import build
from broadsheet.publish.signatures import Signer, Since
from broadsheet.render.templates import make_environment
from tests.conftest import lay_out
from tests.publish.test_incremental import cold, edit, warm
from tests.sitecheck import tree_bytes

POSTS = 40
NOW = datetime.fromisoformat("2026-01-01T00:00:00+00:00")


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, ...]:
    """A site of 40 articles, planned whole and signed: the last build's plan."""
    return _plan_last(tmp_path_factory.mktemp("partial") / "project")


@pytest.fixture(scope="module")
def planned_quietly(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, ...]:
    """The same, planned five days after its newest article: with no news sitemap."""
    return _plan_last(tmp_path_factory.mktemp("partial") / "project", later=5)


def _plan_last(project: Path, later: int = 0) -> tuple[Any, ...]:
    root = lay_out(project)
    write_corpus(root / "content", POSTS)
    config = load_config(root)
    posts = load_posts(config.path(config.content_dir), config.zone)
    env = make_environment(config.path(config.templates_dir), {})
    if later:
        config = _later(config, posts, later)
    site = plan_site(posts, config, now=NOW)
    signer = Signer(site, env)
    previous = {page.path: signer.sign(page) for page in site.pages}
    before = signer.state(site)
    since = Since(before, WholePlan(tuple(previous), tuple(before.templates)))
    return config, posts, env, previous, before, since


def _edited(post: Post, what: str) -> Post:
    """`post` edited as its file would be: its place's digest made again (see place_of)."""
    edited = _changed(post, what)
    return dataclasses.replace(edited, place_digest=place_of(edited))


def _changed(post: Post, what: str) -> Post:
    if what == "headline":
        return dataclasses.replace(post, title=f"{post.title} again")
    if what == "summary":
        return dataclasses.replace(post, summary="Another summary.")
    if what == "body":
        return dataclasses.replace(post, digest=f"{post.digest}0")
    if what == "alias":  # (what places it: the whole plan)
        return dataclasses.replace(post, aliases=(f"{post.section_slug}/gone-{post.slug}/",))
    return dataclasses.replace(post, title="A", date=None)  # (its place in the order)


EDITS = st.lists(
    st.tuples(
        st.integers(0, POSTS - 1),
        st.sampled_from(["headline", "summary", "body", "body", "alias", "moved"]),
    ),
    max_size=5,
)


def _later(config: Any, posts: list[Post], days: int) -> Any:
    """`config` with SOURCE_DATE_EPOCH `days` after the newest article."""
    newest = max(post.date for post in posts if post.date is not None)
    return dataclasses.replace(config, now=newest + timedelta(days=days))


def _check(planned: tuple[Any, ...], edits: list[tuple[int, str]], later: int | None = 0) -> Site:
    """Plan whole and by the last plan after `edits`, `later` days after the newest
    article (the news sitemap's window moves on: SOURCE_DATE_EPOCH), or not (0), or
    with no SOURCE_DATE_EPOCH (None: the window ends at the newest article)."""
    config, posts, env, previous, before, since = planned
    if later is None:
        config = dataclasses.replace(config, now=None)
    elif later:
        config = _later(config, posts, later)
    posts = list(posts)
    for which, what in edits:
        posts[which] = _edited(posts[which], what)
    whole = plan_site(posts, config, now=NOW)
    some = plan_site(posts, config, now=NOW, last=since)
    signed = Signer(whole, env).sign_all(whole, previous, before)
    # The same signatures, for the same pages in the same order (the next build's plan
    # of some pages goes by that order; a page left out is removed from the site).
    assert list(Signer(some, env).sign_all(some, previous, before).items()) == list(signed.items())
    assert list(page_paths(some)) == [page.path for page in whole.pages]
    held = {page.path: page for page in some.pages}
    for page in whole.pages:
        if previous.get(page.path) != signed[page.path]:
            assert held.get(page.path) == page, page.path
    assert Signer(some, env).state(some) == Signer(whole, env).state(whole)
    return some


@given(edits=EDITS, later=st.sampled_from([0, 0, 1, 5]))
@settings(max_examples=80, deadline=None)
def test_a_plan_of_some_pages_signs_as_the_whole_plan_does(
    planned: tuple[Any, ...], edits: list[tuple[int, str]], later: int
) -> None:
    _check(planned, edits, later)


@pytest.mark.parametrize("later", [1, 5])
def test_a_news_sitemap_that_the_time_alone_changes_plans_only_the_pages_an_edit_shows(
    planned: tuple[Any, ...], later: int
) -> None:
    """A deploy a day or more on: the news sitemap changes, or goes when the last two
    days brought no article, and only it and robots.txt with it, not the whole site."""
    some = _check(planned, [(3, "body")], later)
    assert some.whole is not None
    assert 0 < len(some.pages) < len(some.whole.paths) / 4
    assert {"news-sitemap.xml", "robots.txt"} & {page.path for page in some.pages}
    assert ("news-sitemap.xml" in some.whole.paths) == (later == 1)


@pytest.mark.parametrize("later", [None, 1])
def test_a_news_sitemap_that_comes_back_plans_only_the_pages_an_edit_shows(
    planned_quietly: tuple[Any, ...], later: int | None
) -> None:
    """A site that posts rarely: the last deploy found no article of its two days, this
    one does (the time set back, or an article dated the day before)."""
    some = _check(planned_quietly, [(3, "body")], later)
    assert some.whole is not None
    assert "news-sitemap.xml" in {page.path for page in some.pages}
    assert "news-sitemap.xml" in some.whole.paths
    assert "news-sitemap.xml" in Signer(some, planned_quietly[2]).state(some).templates


@pytest.mark.parametrize("what", ["headline", "summary", "body"])
def test_an_edit_that_does_not_move_an_article_plans_only_the_pages_that_show_it(
    planned: tuple[Any, ...], what: str
) -> None:
    some = _check(planned, [(7, what)])
    assert some.whole is not None
    assert 0 < len(some.pages) < len(some.whole.paths) / 4


@pytest.mark.parametrize("what", ["alias", "moved"])
def test_an_edit_that_moves_an_article_plans_every_page(
    planned: tuple[Any, ...], what: str
) -> None:
    assert _check(planned, [(7, what)]).whole is None


def test_an_edit_to_the_newest_article_plans_the_news_sitemap_again(
    planned: tuple[Any, ...],
) -> None:
    posts = planned[1]
    newest = max(range(len(posts)), key=lambda n: posts[n].date or NOW.replace(year=1))
    some = _check(planned, [(newest, "body")])
    assert some.whole is not None
    assert "news-sitemap.xml" in {page.path for page in some.pages}


@pytest.mark.parametrize(
    "damage", ["a page edited by hand", "a build under way", "the search state damaged"]
)
def test_a_plan_made_by_a_cache_found_untrusted_after_all_is_made_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    """The plan goes by the last build's cache before the output check has said whether
    it holds: when it does not (or the last build did not finish, or the search state
    does not verify once the render reads it), the site is built whole, from a whole
    plan, and equals a cold build."""
    from broadsheet.search.store import DamagedTerms, TermStore

    project = lay_out(tmp_path / "project")
    write_corpus(project / "content", 16)
    warm(project)
    post = sorted((project / "content").rglob("*.md"))[3]
    edit(post, "\n\n", "\n\nA new paragraph.\n\n")
    raised: list[str] = []
    if damage == "a page edited by hand":
        page = project / "site/index.html"
        page.write_text(page.read_text().replace("</main>", "<p>by hand</p></main>"))
    elif damage == "a build under way":
        for state in (project / ".broadsheet-cache").glob("state-*"):
            (state / "build-under-way").write_text("")  # as a stopped build leaves it
    else:

        def damaged(self: TermStore, url_path: str) -> object:
            raised.append(url_path)
            raise DamagedTerms(url_path)

        monkeypatch.setattr(TermStore, "read", damaged)  # (the edited article's, first)
    warm(project)
    monkeypatch.undo()
    assert len(raised) == (damage == "the search state damaged")  # (then built cold)
    assert tree_bytes(project / "site") == cold(project)


def test_an_alias_where_the_news_sitemap_comes_back_is_refused_as_a_cold_build_refuses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An alias that makes a folder news-sitemap.xml/ builds while no article is recent
    enough for a news sitemap; when the time brings one back, the build refuses it at
    the post's line, as a cold build does (not with the site's file it cannot write)."""
    root = lay_out(tmp_path / "project")
    articles = write_corpus(root / "content", 12)
    monkeypatch.chdir(root)
    newest = max(datetime.fromisoformat(a.text.split("date: ")[1][:16]) for a in articles)
    newest = newest.replace(tzinfo=UTC)
    post = sorted((root / "content/asia").glob("*.md"))[0]
    post.write_text(post.read_text().replace("---\n", "---\naliases: [/news-sitemap.xml/]\n", 1))

    def at(moment: datetime, **options: object) -> None:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(moment.timestamp())))
        build(load_config(root), jobs=1, **options)  # type: ignore[arg-type]

    at(newest + timedelta(days=10))  # no news sitemap: the alias's folder is free
    edit(sorted((root / "content/europe").glob("*.md"))[0], "\n\n", "\n\nMore.\n\n")
    soon = newest + timedelta(hours=12)  # the news sitemap comes back
    with pytest.raises(BroadsheetErrors) as cold_build:
        at(soon, output=tmp_path / "cold", use_cache=False)
    assert "aliases: /news-sitemap.xml/ would need a folder" in str(cold_build.value)
    with pytest.raises(BroadsheetErrors) as warm_build:
        at(soon)
    assert str(warm_build.value) == str(cold_build.value)
