"""Redirect pages for aliases: what they hold, where they are listed and not, collisions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from broadsheet.config import load_config
from broadsheet.publish.pipeline import build
from tests.conftest import Result, write_post
from tests.publish.test_incremental import bump, cold
from tests.sitecheck import tree_bytes

SUBPATH = '[tool.broadsheet]\ntitle = "Archive"\nbase_url = "https://ex.test/archive/"\n'


def article(title: str, *header: str) -> str:
    lines = "\n".join(header)
    return f"---\ntitle: {title}\ndate: 2025-02-09\n{lines}\n---\n\nThe text of {title}.\n"


@pytest.fixture
def moved(project: Path) -> Path:
    (project / "pyproject.toml").write_text(SUBPATH, encoding="utf-8")
    write_post(project, "asia/new.md", article("New home", "aliases: [/asia/old/, /2019/a.html]"))
    write_post(project, "asia/other.md", article("Other"))
    return project


def test_an_alias_is_a_tiny_page_that_leads_to_the_article(
    moved: Path, cli: Callable[..., Result]
) -> None:
    assert cli("build", "--quiet").code == 0
    html = (moved / "site/asia/old/index.html").read_text(encoding="utf-8")
    assert '<meta http-equiv="refresh" content="0; url=/archive/asia/new/">' in html
    assert '<link rel="canonical" href="https://ex.test/archive/asia/new/">' in html
    assert '<meta name="robots" content="noindex">' in html
    assert 'location.replace("/archive/asia/new/" + location.search + location.hash)' in html
    assert '<a href="/archive/asia/new/">New home</a>' in html
    assert len(html) < 1000
    assert (moved / "site/2019/a.html").read_text(encoding="utf-8") == html


def test_aliases_are_listed_for_hosts_and_left_out_of_sitemaps_feeds_and_search(
    moved: Path, cli: Callable[..., Result]
) -> None:
    assert cli("build", "--quiet").code == 0
    site = moved / "site"
    listed = json.loads((site / "redirects.json").read_text(encoding="utf-8"))
    assert listed == {
        "redirects": [
            {"from": "/archive/2019/a.html", "to": "/archive/asia/new/", "status": 301},
            {"from": "/archive/asia/old/", "to": "/archive/asia/new/", "status": 301},
        ]
    }
    assert (site / "_redirects").read_text(encoding="utf-8") == (
        "/archive/2019/a.html /archive/asia/new/ 301\n/archive/asia/old/ /archive/asia/new/ 301\n"
    )
    elsewhere = [
        p
        for p in site.rglob("*")
        if p.is_file()
        and p.name not in ("redirects.json", "_redirects")
        and p.parent.name not in ("old", "2019")
        and any(old in p.read_bytes() for old in (b"asia/old", b"2019/a.html"))
    ]
    assert elsewhere == []


def test_no_alias_no_redirects_but_the_lists_are_there(project: Path) -> None:
    write_post(project, "asia/a.md", article("A"))
    build(load_config(project), jobs=1)
    assert json.loads((project / "site/redirects.json").read_text()) == {"redirects": []}
    assert (project / "site/_redirects").read_text() == ""


@pytest.mark.parametrize(
    ("alias", "owner"),
    [
        ("/asia/other/", "content/asia/other.md writes asia/other/index.html"),
        ("/tags/", "the tags.html writes tags/index.html"),
        ("/asia/", "the section.html writes asia/index.html"),
        ("/404.html", "the 404.html writes 404.html"),
        ("/asia/new/", "this article's own URL"),
    ],
)
def test_an_alias_that_is_a_page_fails_naming_both(
    project: Path, cli: Callable[..., Result], alias: str, owner: str
) -> None:
    write_post(project, "asia/new.md", article("New", f"aliases: [{alias}]"))
    write_post(project, "asia/other.md", article("Other"))
    result = cli("build", "--quiet")
    assert result.code == 1 and "Traceback" not in result.err
    assert result.err.startswith(f"error: content/asia/new.md:4: aliases: {alias} ")
    assert owner in result.err
    assert not (project / "site").exists()


def test_two_articles_claiming_one_alias_fail_naming_both(
    project: Path, cli: Callable[..., Result]
) -> None:
    write_post(project, "asia/a.md", article("A", "aliases: [/old/]"))
    write_post(project, "asia/b.md", article("B", "tags: [x]", "aliases: [/old/]"))
    result = cli("build", "--quiet")
    assert result.code == 1
    assert result.err == (
        "error: content/asia/b.md:5: aliases: /old/ is claimed by content/asia/a.md too; "
        "an old URL can lead to one article only\n"
    )


def test_a_static_file_in_an_aliass_place_is_an_error(
    project: Path, cli: Callable[..., Result]
) -> None:
    write_post(project, "asia/a.md", article("A", "aliases: [/old.html]"))
    (project / "static/old.html").write_text("<p>old</p>", encoding="utf-8")
    result = cli("build", "--quiet")
    assert result.code == 1 and "static/old.html" in result.err and "old.html" in result.err
    checked = cli("check")
    assert checked.code == 1 and checked.out.startswith("static/old.html: would overwrite")


def test_a_drafts_aliases_are_not_published(project: Path) -> None:
    write_post(project, "asia/a.md", article("A", "draft: true", "aliases: [/old/]"))
    build(load_config(project), jobs=1)
    assert not (project / "site/old").exists()
    build(load_config(project), drafts=True, jobs=1, output=project / "drafts")
    assert (project / "drafts/old/index.html").is_file()


EDITS = [
    ("add an alias", "aliases: [/asia/old/]", "aliases: [/asia/old/, /asia/older/]"),
    ("retitle the target", "title: New home", "title: A new home"),
    ("drop an alias", "aliases: [/asia/old/, /asia/older/]", "aliases: [/asia/older/]"),
    ("move an alias", "aliases: [/asia/older/]", "aliases: [/b/c.html]"),
]


def test_incremental_builds_equal_cold_ones_as_aliases_change(project: Path) -> None:
    post = write_post(project, "asia/new.md", article("New home", "aliases: [/asia/old/]"))
    write_post(project, "asia/other.md", article("Other"))
    build(load_config(project), jobs=1)
    for name, old, new in EDITS:
        text = post.read_text(encoding="utf-8")
        assert old in text, name
        post.write_text(text.replace(old, new), encoding="utf-8")
        bump(post)
        build(load_config(project), jobs=1)
        assert tree_bytes(project / "site") == cold(project), name


def test_check_names_alias_collisions_too(project: Path, cli: Callable[..., Result]) -> None:
    write_post(project, "asia/a.md", article("A", "aliases: [/old/]"))
    write_post(project, "asia/b.md", article("B", "aliases: [/asia/a/, /old/]"))
    result = cli("check")
    assert result.code == 1
    assert result.out.splitlines() == [
        "content/asia/b.md:4: aliases: /asia/a/ is already a page of the site: "
        "content/asia/a.md writes asia/a/index.html",
        "content/asia/b.md:4: aliases: /old/ is claimed by content/asia/a.md too; "
        "an old URL can lead to one article only",
    ]


@pytest.mark.parametrize(
    ("alias", "owner"),
    [
        ("/robots.txt/", "the robots.txt writes robots.txt"),
        ("/404.html/", "the 404.html writes 404.html"),
        ("/asia/other/index.html/", "content/asia/other.md writes asia/other/index.html"),
        ("/_redirects/", "the list of redirects writes _redirects"),
        ("/redirects.json/", "the list of redirects writes redirects.json"),
    ],
)
def test_an_alias_in_a_files_place_or_over_a_folder_fails_naming_both(
    project: Path, cli: Callable[..., Result], alias: str, owner: str
) -> None:
    """A folder cannot be where a file is: such an alias is an error at its line, not a
    failed write in the build's own folder."""
    write_post(project, "asia/new.md", article("New", f"aliases: [{alias}]"))
    write_post(project, "asia/other.md", article("Other"))
    result = cli("build", "--quiet")
    assert result.code == 1 and "Traceback" not in result.err
    assert result.err.startswith(f"error: content/asia/new.md:4: aliases: {alias} ")
    assert owner in result.err and ".building" not in result.err
    checked = cli("check")
    assert checked.code == 1 and f"content/asia/new.md:4: aliases: {alias} " in checked.out


def test_two_aliases_a_file_and_a_folder_of_one_name_fail(
    project: Path, cli: Callable[..., Result]
) -> None:
    write_post(project, "asia/a.md", article("A", "aliases: [/old.html]"))
    write_post(project, "asia/b.md", article("B", "aliases: [/old.html/]"))
    result = cli("build", "--quiet")
    assert result.code == 1 and ".building" not in result.err
    assert result.err.startswith("error: content/asia/b.md:4: aliases: /old.html/ ")
    assert "content/asia/a.md" in result.err


def test_a_static_file_where_an_alias_needs_a_folder_is_an_error_naming_it(
    project: Path, cli: Callable[..., Result]
) -> None:
    write_post(project, "asia/a.md", article("A", "aliases: [/old.html/]"))
    (project / "static/old.html").write_text("<p>old</p>", encoding="utf-8")
    result = cli("build", "--quiet")
    assert result.code == 1 and ".building" not in result.err
    assert result.err.startswith("error: static/old.html: ")
    assert "old.html/index.html" in result.err
    checked = cli("check")
    assert checked.code == 1 and checked.out.startswith("static/old.html: ")


def test_the_lists_name_each_alias_as_written(project: Path) -> None:
    write_post(
        project, "asia/a.md", article("A", "aliases: [/2019/myindex.html, /2020/index.html]")
    )
    build(load_config(project), jobs=1)
    assert (project / "site/_redirects").read_text(encoding="utf-8") == (
        "/2019/myindex.html /asia/a/ 301\n/2020/index.html /asia/a/ 301\n"
    )


def test_the_lists_hold_each_alias_as_a_url_a_host_can_match(project: Path) -> None:
    """Aliases are kept decoded (the redirect page's file name); the lists encode them
    again, so that a `%`, `?` or `#` in an old URL is not read as an escape, a query or a
    fragment, and a space does not end the `_redirects` line."""
    aliases = "aliases: [/100%25/, /a%3Fb/, /x%23y/, /café/, /a b/]"
    write_post(project, "asia/a.md", article("A", aliases))
    build(load_config(project), jobs=1)
    site = project / "site"
    for folder in ("100%", "a?b", "x#y", "café", "a b"):
        assert (site / folder / "index.html").is_file(), folder
    assert (site / "_redirects").read_text(encoding="utf-8").splitlines() == [
        f"{old} /asia/a/ 301"
        for old in ("/100%25/", "/a%20b/", "/a%3Fb/", "/caf%C3%A9/", "/x%23y/")
    ]
    listed = json.loads((site / "redirects.json").read_text(encoding="utf-8"))["redirects"]
    assert [item["from"] for item in listed] == [
        "/100%25/",
        "/a%20b/",
        "/a%3Fb/",
        "/caf%C3%A9/",
        "/x%23y/",
    ]


@pytest.mark.parametrize("aliases", [False, True])
def test_planning_names_no_article_unless_an_alias_collides(
    project: Path, monkeypatch: pytest.MonkeyPatch, aliases: bool
) -> None:
    """Who writes a file is worked out for an error only: an edit's plan does not pay for
    the display path of every article (a tenth of a second at 10,000)."""
    header = ["aliases: [/asia/old/]"] if aliases else []
    write_post(project, "asia/new.md", article("New home", *header))
    for number in range(5):
        write_post(project, f"asia/other-{number}.md", article(f"Other {number}"))
    import broadsheet.outputs.redirects as redirects

    named: list[object] = []
    shown = redirects.display_path
    monkeypatch.setattr(redirects, "display_path", lambda p: named.append(p) or shown(p))
    build(load_config(project), jobs=1, use_cache=False)
    assert len(named) == (1 if aliases else 0)  # the alias's own post, for its record
    assert (project / "site/asia/old/index.html").exists() == aliases
