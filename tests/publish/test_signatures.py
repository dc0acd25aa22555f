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
