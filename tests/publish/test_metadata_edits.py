"""After any sequence of front matter edits (titles, summaries, dates, tags, authors,
bodies), an incremental build equals a cold build, byte for byte: a title or summary
edit signs again only the pages that show the post (see Signer.sign_all), the others all."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.corpus import write_corpus
from tests.conftest import lay_out
from tests.publish.test_incremental import bump, cold, warm
from tests.sitecheck import tree_bytes

WORDS = ("Harbour", "Talks", "Budget", "Election", "Harbour talks", "Court")


def _front(path: Path, change: Callable[[str], str]) -> None:
    head, _, rest = path.read_text().partition("\n---\n")
    path.write_text(change(head) + "\n---\n" + rest)
    bump(path)


def _set(key: str, value: str) -> Callable[[str], str]:
    def change(head: str) -> str:
        pattern = re.compile(rf"^{key}: .*$", re.MULTILINE)
        line = f"{key}: {value}"
        return pattern.sub(line, head) if pattern.search(head) else f"{head}\n{line}"

    return change


EDITS = st.one_of(
    st.sampled_from(WORDS).map(lambda w: ("title", _set("title", f"{w} {len(w)}"))),
    st.sampled_from(WORDS).map(lambda w: ("summary", _set("summary", w))),
    st.sampled_from(("2016-01-02", "2018-05-06 10:00", "2021-07-08")).map(
        lambda d: ("date", _set("date", d))
    ),
    st.sampled_from(("[courts]", "[trade, courts]", "[energy]")).map(
        lambda t: ("tags", _set("tags", t))
    ),
    st.sampled_from(("Ann Lee", "Grace Quinn")).map(lambda a: ("author", _set("author", a))),
    st.just(("body", lambda head: head)),
)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = lay_out(tmp_path_factory.mktemp("metadata") / "project")
    write_corpus(root / "content", 16)
    return root


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.tuples(st.integers(0, 15), EDITS), min_size=1, max_size=3))
def test_after_front_matter_edits_an_incremental_build_equals_a_cold_one(
    small: Path, tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[int, object]]
) -> None:
    project = tmp_path_factory.mktemp("edits") / "project"
    shutil.copytree(small, project)
    posts = sorted((project / "content").rglob("*.md"))
    warm(project)
    for which, (_, change) in edits:  # type: ignore[misc]
        path = posts[which % len(posts)]
        _front(path, change)
        path.write_text(path.read_text() + f"\nA line for edit {which}.\n")  # and its body
        bump(path)
        warm(project)
        assert tree_bytes(project / "site") == cold(project)


# A site's own templates that show the posts a listing holds (the navigation, or the
# topics page, with each one's latest headline), where Broadsheet's show only counts.
LISTED_POSTS = {
    "templates/base.html": (
        "</main>",
        "</main><p>{% for s in sections %}{{ s.posts[0].title }} {% endfor %}</p>",
    ),
    "templates/index.html": (  # (a path through the posts, named as a string)
        "{% block main %}",
        '{% block main %}<p>{{ sections|map(attribute="posts.0.title")|join(" | ") }}</p>',
    ),
    "templates/section.html": (  # (printed whole: only its count shows)
        "{% block main %}",
        "{% block main %}<!-- {{ sections[0] }} -->",
    ),
    "templates/tags.html": (
        "{% block main %}",
        "{% block main %}{% for t in listings %}<p>{{ (t.posts|first).title }}</p>{% endfor %}",
    ),
}


@pytest.mark.parametrize("template", list(LISTED_POSTS))
def test_a_template_showing_a_listings_posts_is_rendered_again_after_a_headline_edit(
    project: Path, template: str
) -> None:
    """A listing is signed by its count alone; a template that shows its posts has its
    pages signed with every post, so a new headline reaches them (a review found the
    topics page kept the old one)."""
    write_corpus(project / "content", 12)
    path = project / template
    old, new = LISTED_POSTS[template]
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    warm(project)
    newest = max(
        (project / "content").rglob("*.md"),
        key=lambda p: re.search(r"^date: (.*)$", p.read_text(), re.MULTILINE)[1],  # type: ignore[index]
    )
    _front(newest, _set("title", "A headline nobody had seen"))
    warm(project)
    site = tree_bytes(project / "site")
    assert any(b"A headline nobody had seen" in data for data in site.values())
    assert site == cold(project)


def test_template_keys_stored_before_they_said_what_a_template_shows_are_not_taken(
    project: Path,
) -> None:
    """A signed state stored before template keys said whether a template shows a
    listing's posts (without `keys`) is not taken: the pages are all signed again, so a
    site's own such template follows a headline edit from the first build on (a review
    found its pages stale after an upgrade). Then a headline edit, as usual."""
    from broadsheet.config import load_config
    from broadsheet.publish import cache as cache_module

    write_corpus(project / "content", 12)
    base = project / "templates/base.html"
    old, new = LISTED_POSTS["templates/base.html"]
    warm(project)  # built with Broadsheet's own templates, then the site's own
    base.write_text(base.read_text().replace(old, new, 1))
    warm(project)
    where = cache_module.cache_path(load_config(project), (project / "site").resolve())
    kept = cache_module.load_cache(where)
    assert kept is not None and kept.signed is not None
    unmarked = {name: key.removesuffix("+posts") for name, key in kept.signed.templates.items()}
    data = {**cache_module._signed_data(kept.signed), "templates": unmarked}  # type: ignore[dict-item]
    del data["keys"]
    kept.signed = cache_module._signed(data)
    assert kept.signed is None  # (as an older Broadsheet left it: not taken)
    newest = max(
        (project / "content").rglob("*.md"),
        key=lambda p: re.search(r"^date: (.*)$", p.read_text(), re.MULTILINE)[1],  # type: ignore[index]
    )
    _front(newest, _set("title", "A headline nobody had seen"))
    warm(project)
    assert tree_bytes(project / "site") == cold(project)


def test_broadsheets_own_templates_show_only_how_many_posts_a_listing_holds() -> None:
    """So their pages keep the fast path: a headline edit signs again only the pages
    that show the post itself."""
    from broadsheet.publish.signatures import SHOWS_LISTED, SHOWS_SIZES, _references

    shown = {
        path.name: _references(path.read_text(encoding="utf-8"))[2]
        for path in sorted((Path(__file__).parents[2] / "templates").iterdir())
    }
    assert SHOWS_LISTED not in shown.values()
    # and those of an article, its navigation and byline show no count: a new article
    # changes no page of its section's other articles but its neighbours'
    counting = {name for name, use in shown.items() if use == SHOWS_SIZES}
    assert counting.isdisjoint({"article.html", "base.html", "_macros.html", "_card.html"})
    assert "index.html" in counting  # (each section's count)


def test_a_template_included_by_a_name_worked_out_as_it_renders_is_followed(
    project: Path,
) -> None:
    """`{% include part ~ ".html" %}` names no template before it renders: the page is
    signed with every template there is, so an edit of the one it includes, or of a
    headline that one shows, reaches it (a review found both stale)."""
    write_corpus(project / "content", 12)
    base = project / "templates/base.html"
    dynamic = '</main>{% set part = "_latest" %}{% include part ~ ".html" %}'
    base.write_text(base.read_text().replace("</main>", dynamic, 1))
    latest = project / "templates/_latest.html"
    latest.write_text("<p>{{ sections[0].posts[0].title }}</p>")
    warm(project)
    latest.write_text("<p>Latest: {{ sections[0].posts[0].title }}</p>")
    bump(latest)
    warm(project)
    assert tree_bytes(project / "site") == cold(project)
    shutil.rmtree(project / "cold")
    newest = sorted((project / "content" / "africa").glob("*.md"))[0]
    _front(newest, _set("title", "A headline nobody had seen"))
    warm(project)
    assert tree_bytes(project / "site") == cold(project)


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [  # an article showing its section's count; every page showing each section's
        ("article.html", "</article>", "<p>{{ section.posts|length }}</p></article>"),
        (
            "base.html",
            "</footer>",
            '{% from "_lists.html" import name_list %}{{ name_list(sections, "") }}</footer>',
        ),
    ],
)
def test_a_new_article_reaches_every_page_that_counts_its_sections_posts(
    project: Path, name: str, old: str, new: str
) -> None:
    """A page that shows how many articles a section holds is built again when one is
    added, though the default's are not (see `_listed_use` and `_sections_named`)."""
    write_corpus(project / "content", 12)
    template = project / "templates" / name
    template.write_text(template.read_text().replace(old, new))
    warm(project)
    (project / "content/africa/arrival.md").write_text(
        "---\ntitle: An arrival\ndate: 2025-06-01\n---\n\nHarbour talks resumed.\n"
    )
    warm(project)
    assert tree_bytes(project / "site") == cold(project)


def test_template_keys_stored_before_they_said_what_a_template_counts_are_not_taken(
    project: Path,
) -> None:
    """Keys made before they said whether a template shows how many posts a listing
    holds (keys 2) would take every count-showing template for one that shows none: a
    new article would leave its section's count stale there. They are not taken."""
    from broadsheet.config import load_config
    from broadsheet.publish import cache as cache_module

    write_corpus(project / "content", 12)
    warm(project)
    where = cache_module.cache_path(load_config(project), (project / "site").resolve())
    kept = cache_module.load_cache(where)
    assert kept is not None and kept.signed is not None
    data = cache_module._signed_data(kept.signed)
    assert cache_module._signed(data) == kept.signed
    assert cache_module._signed({**data, "keys": 2}) is None
