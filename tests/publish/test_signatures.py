"""Signatures: what decides whether a page is rendered again."""

from __future__ import annotations

from pathlib import Path

import pytest

from broadsheet.config import load_config
from broadsheet.content.loader import load_posts
from broadsheet.outputs.site import Site
from broadsheet.publish.assemble import load_site
from broadsheet.publish.context import use_site
from broadsheet.publish.signatures import Signer
from broadsheet.render.templates import make_environment
from tests.publish.test_incremental import edit


def signed(project: Path) -> tuple[Site, Signer]:
    config = load_config(project)
    posts = load_posts(config.path(config.content_dir), config.zone)
    site = load_site(config, drafts=False, posts=posts)
    env = make_environment(config.path(config.templates_dir), {})
    use_site(env, site)
    return site, Signer(site, env)


def test_after_a_body_edit_only_the_pages_that_show_the_post_are_signed_again(
    corpus: Path,
) -> None:
    site, signer = signed(corpus)
    before = signer.state(site)
    previous = {page.path: signer.sign(page) for page in site.pages}
    edited = sorted((corpus / "content/asia").glob("*.md"))[2]
    edit(edited, "\n\n", "\n\nNew words.\n\n")
    site, signer = signed(corpus)
    everything = {page.path: signer.sign(page) for page in site.pages}
    # A page that the edit cannot change keeps the signature it is given, unchecked.
    showing = {path for path in everything if everything[path] != previous[path]}
    untouched = next(p for p in site.pages if p.sources and p.path not in showing)
    marked = {**previous, untouched.path: "kept"}
    reused = signer.sign_all(site, marked, before)
    assert reused == {**everything, untouched.path: "kept"}
    post = next(p for p in site.posts if p.path == edited)
    assert f"{post.url_path}index.html" in showing
    assert "asia/index.html" in showing and "feed.xml" in showing
    assert len(showing) < len(site.pages) / 4


@pytest.mark.parametrize(
    ("old", "new"),
    [("title: ", "title: Retitled "), ("title: ", "summary: A new summary.\ntitle: ")],
)
def test_a_title_or_summary_edit_signs_again_only_the_pages_that_show_the_post(
    corpus: Path, old: str, new: str
) -> None:
    site, signer = signed(corpus)
    before = signer.state(site)
    previous = {page.path: signer.sign(page) for page in site.pages}
    edited = sorted((corpus / "content/asia").glob("*.md"))[2]
    edit(edited, old, new)
    site, signer = signed(corpus)
    everything = {page.path: signer.sign(page) for page in site.pages}
    showing = {path for path in everything if everything[path] != previous.get(path)}
    untouched = next(p for p in site.pages if p.sources and p.path not in showing)
    marked = {**previous, untouched.path: "kept"}
    assert signer.sign_all(site, marked, before) == {**everything, untouched.path: "kept"}
    post = next(p for p in site.posts if p.path == edited)
    assert f"{post.url_path}index.html" in showing and "asia/index.html" in showing
    assert len(showing) < len(site.pages) / 4


@pytest.mark.parametrize(
    ("old", "new"),
    [("date: 20", "date: 19"), ("author: ", "author: Moved "), ("tags: [", "tags: [moved, ")],
)
def test_an_edit_that_moves_a_post_signs_every_page_again(corpus: Path, old: str, new: str) -> None:
    site, signer = signed(corpus)
    before = signer.state(site)
    previous = {page.path: "stale" for page in site.pages}
    edit(sorted((corpus / "content/asia").glob("*.md"))[2], old, new)
    site, signer = signed(corpus)
    assert signer.state(site).shape != before.shape
    assert "stale" not in signer.sign_all(site, previous, before).values()


def _neighbours(site: Site) -> dict[str, tuple[object, ...]]:
    """Each article page's path -> what it shows of other posts: its neighbours and its
    related articles (by path), and its section's name."""
    found = {}
    for page in site.pages:
        if page.template == "article.html":
            context = page.context
            around = [context["previous"], context["next"], *context["related"]]
            shown = tuple(None if p is None else (p.path, p.digest) for p in around)
            found[page.path] = (page.post.digest if page.post else None, shown)
    return found


def test_a_new_article_signs_again_only_the_articles_that_show_it(corpus: Path) -> None:
    """Its section holds one more post, which no article page of Broadsheet's templates
    shows: only the pages of the articles next to it, or that now list it (or another)
    as related, change; and all listing pages that count its section's posts do."""
    site, signer = signed(corpus)
    before = signer.state(site)
    previous = {page.path: signer.sign(page) for page in site.pages}
    shown_before = _neighbours(site)
    (corpus / "content/asia/new-arrival.md").write_text(
        "---\ntitle: A new arrival\ndate: 2025-06-01\n---\n\nHarbour talks resumed.\n"
    )
    site, signer = signed(corpus)
    after = signer.sign_all(site, previous, before)
    shown_after = _neighbours(site)
    articles = [path for path in shown_before if path in shown_after]
    changed = {path for path in articles if after[path] != previous[path]}
    moved = {path for path in articles if shown_after[path] != shown_before[path]}
    assert changed == moved
    assert 0 < len(changed) < len(articles) / 4
    assert after["index.html"] != previous["index.html"]  # it counts each section's posts
    assert after["search/index.html"] == previous["search/index.html"]
    # The listings it is not in show their own counts only: the sections in every page's
    # navigation are named, not counted (see _sections_named).
    new = next(p for p in site.posts if p.path.name == "new-arrival.md")
    kept = [
        page.path
        for page in site.pages
        if page.template in ("section.html", "author.html", "tag.html", "archive.html")
        and new not in page.context["listing"].posts
    ]
    assert kept and all(after[path] == previous[path] for path in kept)


OWN_COUNT = [  # an article page showing how many posts its section holds
    "{{ section.posts|length }} in {{ section.name }}",
    "{% if section.posts|length > 5 %}many{% endif %}",
    "{{ section['posts']|length }}",
    "{{ (section|attr('posts'))|length }}",
    "{% set key = 'posts' %}{{ section[key]|length }}",
    "{{ section.posts[-1].title }}",
    # (found by a review: attributes named other than as "posts" in the tree)
    '{{ "{0.posts}".format(section)|length }}',
    "{% set n = 'po' ~ 'sts' %}{{ card._env.getattr(section, n)|length }}",
]
EVERY_COUNT = [  # ... or how many each section holds
    "{{ sections[0].posts|count }} {{ sections[-1].posts|count }}",
    "{% set key = 'posts' %}{{ sections|map(attribute=key)|map('length')|list }}",
    "{% set n = 'po' ~ 'sts' %}{{ sections|join('|', attribute=n)|length }}",
    "{% set n = 'po' ~ 'sts' %}{{ sections|map(**{'attribute': n})|map('length')|list }}",
    "{% set n = 'po' ~ 'sts' %}{{ sections|map(*['attr', n])|map('length')|list }}",
    # read in a loop, or in a macro they are given to
    "{% for item in sections %}{{ item.name }}: {{ item.posts|length }}{% endfor %}",
    '{% from "_lists.html" import name_list %}{{ name_list(sections, "") }}',
    "{% for item in sections %}{% if loop.previtem %}"
    "{{ loop.previtem.posts|length }}{% endif %}{% endfor %}",
    # an included template sees the loop's variable (_count.html: item.posts|length)
    '{% for item in sections %}{% include "_count.html" %}{% endfor %}',
]


@pytest.mark.parametrize("shown", OWN_COUNT + EVERY_COUNT)
def test_an_article_template_that_shows_a_count_is_signed_with_it(corpus: Path, shown: str) -> None:
    """A new article in ASIA: every ASIA article page shows a new count; and every
    article page, if they show each section's."""
    template = corpus / "templates/article.html"
    template.write_text(template.read_text().replace("</article>", f"<p>{shown}</p></article>"))
    (corpus / "templates/_count.html").write_text("{{ item.posts|length }}")
    site, signer = signed(corpus)
    before = signer.state(site)
    previous = {page.path: signer.sign(page) for page in site.pages}
    (corpus / "content/asia/new-arrival.md").write_text(
        "---\ntitle: A new arrival\ndate: 2025-06-01\n---\n\nHarbour talks resumed.\n"
    )
    site, signer = signed(corpus)
    after = signer.sign_all(site, previous, before)
    articles = [p.path for p in site.pages if p.template == "article.html"]
    reached = [path for path in articles if shown in EVERY_COUNT or path.startswith("asia/")]
    assert all(after[path] != previous.get(path) for path in reached)


def test_the_card_global_holds_nothing_a_template_can_read(corpus: Path) -> None:
    """Through it a template could reach the environment (any attribute, any template
    made as the page renders) or tell how many cards were made: all of it is private,
    which the signatures take as showing anything."""
    _, signer = signed(corpus)
    public = [name for name in dir(signer.env.globals["card"]) if not name.startswith("_")]
    assert public == ["forget"]


def test_a_template_that_maps_posts_through_the_card_filter_uses_the_card(
    corpus: Path,
) -> None:
    """`posts|map("card")` names the card filter as a string: its template is one the
    page uses, so an edit of it, or a count it shows, reaches the page (a review found
    such pages stale)."""
    template = corpus / "templates/tag.html"
    template.write_text(
        '{% extends "base.html" %}{% block main %}{{ posts|map("card")|join }}{% endblock %}'
    )
    _, signer = signed(corpus)
    assert "_card.html" in signer.closure("tag.html")
    assert signer.shows_cards("tag.html")


def test_a_template_key_says_whether_its_pages_show_cards(corpus: Path) -> None:
    """What lets a render let the cards go (see render._forget_cards) without parsing
    a template: the listings use them, an article's own template does not."""
    _, signer = signed(corpus)
    assert signer.shows_cards("section.html") and signer.shows_cards("index.html")
    assert not signer.shows_cards("article.html")
    (corpus / "templates/article.html").write_text(
        '{% extends "base.html" %}{% block main %}{{ card(post) }}{% endblock %}'
    )
    _, signer = signed(corpus)
    assert signer.shows_cards("article.html")
