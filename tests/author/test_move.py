"""`broadsheet mv`: move an article or a section; the old URL keeps answering."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from broadsheet.config import load_config
from broadsheet.locks import content_lock
from broadsheet.outputs.published import RECORD_NAME
from tests.conftest import SEEDS, Result, write_post

Cli = Callable[..., Result]

POST = """\
---
title: Talks resume
section: ASIA
date: 2025-02-09
tags: [trade]   # a comment kept
---

Body text.
"""


def test_mv_renames_a_post_and_keeps_its_old_url_as_an_alias(project: Path, cli: Cli) -> None:
    old = write_post(project, "asia/talks.md", POST)
    assert cli("build", "--quiet").code == 0
    result = cli("mv", "content/asia/talks.md", "--slug", "talks-resume")
    assert result.code == 0, result.err
    assert result.out == (
        "moved content/asia/talks.md -> content/asia/talks-resume.md; "
        "/asia/talks/ now redirects to /asia/talks-resume/\n"
    )
    assert not old.exists()
    new = project / "content/asia/talks-resume.md"
    assert new.read_text() == POST.replace("---\n\nBody", "aliases: [/asia/talks/]\n---\n\nBody")
    assert cli("build", "--quiet").code == 0
    assert "/asia/talks-resume/" in (project / "site/asia/talks/index.html").read_text()
    record = (project / "content" / RECORD_NAME).read_text()
    assert "/asia/talks/ asia/talks-resume.md\n" in record


def test_mv_to_another_section_edits_the_section_line(project: Path, cli: Cli) -> None:
    write_post(project, "asia/talks.md", POST)
    write_post(project, "america/x.md", POST.replace("ASIA", "AMERICA"))
    assert cli("mv", "content/asia/talks.md", "--section", "america").code == 0
    text = (project / "content/america/talks.md").read_text()
    assert text == POST.replace("section: ASIA", "section: AMERICA").replace(
        "---\n\nBody", "aliases: [/asia/talks/]\n---\n\nBody"
    )
    assert cli("build", "--quiet").code == 0


def test_mv_keeps_every_other_byte_crlf_bom_comments_and_block_lists(
    project: Path, cli: Cli
) -> None:
    text = (
        "\ufeff---\r\ntitle: 'Quoted: title'\r\naliases:\r\n  - /older/  # from 2019\r\n"
        "  - /asia/new-name/\r\n# a comment\r\ndate: 2025-02-09\r\n---\r\n\r\nBody\r\n"
    )
    post = project / "content/asia/talks.md"
    post.parent.mkdir(parents=True)
    post.write_bytes(text.encode("utf-8"))
    assert cli("mv", "content/asia/talks.md", "--slug", "new-name").code == 0
    after = (project / "content/asia/new-name.md").read_bytes().decode("utf-8")
    assert after == text.replace(
        "aliases:\r\n  - /older/  # from 2019\r\n  - /asia/new-name/\r\n",
        "aliases: [/older/, /asia/talks/]\r\n",
    )


def test_mv_back_drops_the_alias_that_became_its_url(project: Path, cli: Cli) -> None:
    write_post(project, "asia/talks.md", POST)
    assert cli("mv", "content/asia/talks.md", "--slug", "b").code == 0
    assert cli("mv", "content/asia/b.md", "--slug", "talks").code == 0
    text = (project / "content/asia/talks.md").read_text()
    assert "aliases: [/asia/b/]\n" in text and "/asia/talks/" not in text
    assert cli("build", "--quiet").code == 0


def test_a_slug_line_moves_with_the_slug(project: Path, cli: Cli) -> None:
    write_post(project, "asia/file.md", POST.replace("tags:", "slug: talks\ntags:"))
    assert cli("mv", "content/asia/file.md", "--slug", "2024").code == 0
    text = (project / "content/asia/2024.md").read_text()
    assert "slug: '2024'\n" in text or 'slug: "2024"\n' in text
    assert cli("build", "--quiet").code == 0
    assert (project / "site/asia/2024/index.html").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--slug", "other"], "content/asia/other.md: is in the way"),
        (["--slug", "taken"], "/asia/taken/ is already content/asia/other.md's URL or alias"),
        (["--slug", "Not A Slug"], "'Not A Slug' is not a slug (try 'not-a-slug')"),
        (["--section", "asai"], "unknown section 'asai' (did you mean 'asia'?)"),
        (["--section", "tags"], "its URL /tags/ belongs to the topic pages"),
        (["--slug", "talks"], "already at /asia/talks/: nothing to move"),
        ([], "say where to"),
    ],
)
def test_mv_refuses_and_writes_nothing(
    project: Path, cli: Cli, args: list[str], message: str
) -> None:
    write_post(project, "asia/talks.md", POST)
    write_post(project, "asia/other.md", POST.replace("tags:", "aliases: [/asia/taken/]\ntags:"))
    before = {p: p.read_bytes() for p in (project / "content").rglob("*") if p.is_file()}
    result = cli("mv", "content/asia/talks.md", *args)
    assert result.code == 1 and "Traceback" not in result.err
    assert message in result.err
    after = {p: p.read_bytes() for p in (project / "content").rglob("*") if p.is_file()}
    assert after == before


def test_mv_to_a_new_section_does_what_the_error_says(project: Path, cli: Cli) -> None:
    write_post(project, "asia/talks.md", POST)
    refused = cli("mv", "content/asia/talks.md", "--section", "europe")
    assert refused.code == 1 and "run this again with --new-section" in refused.err
    assert not (project / "content/europe").exists()
    result = cli("mv", "content/asia/talks.md", "--section", "europe", "--new-section")
    assert result.code == 0, result.err
    assert "aliases: [/asia/talks/]" in (project / "content/europe/talks.md").read_text()
    assert cli("build", "--quiet").code == 0
    assert (project / "site/europe/talks/index.html").is_file()


def test_a_new_section_is_started_only_if_the_move_can_go_ahead(project: Path, cli: Cli) -> None:
    write_post(project, "asia/talks.md", POST)
    before = (project / "pyproject.toml").read_bytes()
    args = ("--section", "europe", "--new-section", "--slug", "No Slug")
    result = cli("mv", "content/asia/talks.md", *args)
    assert result.code == 1 and "is not a slug" in result.err
    assert not (project / "content/europe").exists()
    assert (project / "pyproject.toml").read_bytes() == before
    result = cli("mv", "content/asia/talks.md", "--section", "europe", "--new-section")
    assert result.code == 0 and (project / "content/europe/talks.md").is_file()


def test_mv_of_what_is_not_a_post(project: Path, cli: Cli) -> None:
    write_post(project, "asia/talks.md", POST)
    assert "no such post" in cli("mv", "content/asia/nope.md", "--slug", "x").err
    assert "not a post in the content folder" in cli("mv", "README.md", "--slug", "x").err
    assert "a section has no slug" in cli("mv", "content/asia", "--slug", "x").err


def test_renaming_a_section_moves_all_its_articles_and_its_setting(project: Path, cli: Cli) -> None:
    write_post(project, "asia/a.md", POST)
    write_post(project, "asia/b.md", POST.replace("Talks resume", "Other talks"))
    write_post(project, "america/c.md", POST.replace("ASIA", "AMERICA"))
    assert cli("build", "--quiet").code == 0
    result = cli("mv", "content/asia", "--section", "east-asia")
    assert result.code == 0, result.err
    assert "/asia/a/ now redirects to /east-asia/a/" in result.out
    assert "renamed asia to east-asia in [tool.broadsheet.sections]" in result.out
    assert not (project / "content/asia").exists()
    assert 'east-asia = "Asia"\namerica = "America"' in (project / "pyproject.toml").read_text()
    assert load_config(project).sections[0].slug == "east-asia"
    assert "section: EAST-ASIA" in (project / "content/east-asia/a.md").read_text()
    assert cli("build", "--quiet").code == 0
    for slug in ("a", "b"):
        assert f"/east-asia/{slug}/" in (project / f"site/asia/{slug}/index.html").read_text()


def test_merging_a_section_into_another_drops_its_setting(project: Path, cli: Cli) -> None:
    write_post(project, "asia/a.md", POST)
    write_post(project, "america/c.md", POST.replace("ASIA", "AMERICA"))
    result = cli("mv", "content/asia", "--section", "america")
    assert result.code == 0 and "removed asia from [tool.broadsheet.sections]" in result.out
    assert [s.slug for s in load_config(project).sections] == ["america"]
    assert cli("build", "--quiet").code == 0


def test_mv_moves_a_bundle_folder_whole(project: Path, cli: Cli) -> None:
    folder = project / "content/asia/talks"
    write_post(project, "asia/talks/index.md", POST)  # its slug: the folder's name
    (folder / "figures.csv").write_text("year,tonnes\n2024,12\n")
    assert cli("build", "--quiet").code == 0
    assert (project / "site/asia/talks/figures.csv").is_file()
    result = cli("mv", "content/asia/talks", "--slug", "talks-resume", "--section", "america")
    assert result.code == 0, result.err
    assert "/asia/talks/ now redirects to /america/talks-resume/" in result.out
    moved = project / "content/america/talks-resume"
    assert not folder.exists() and (moved / "figures.csv").is_file()
    text = (moved / "index.md").read_text()
    assert "aliases: [/asia/talks/]\n" in text and "section: AMERICA\n" in text
    built = cli("build", "--quiet")
    assert built.code == 0, built.err
    assert (project / "site/america/talks-resume/figures.csv").is_file()
    assert "/america/talks-resume/" in (project / "site/asia/talks/index.html").read_text()
    assert cli("mv", "content/america/talks-resume/index.md", "--slug", "t").code == 0
    assert (project / "content/america/t/index.md").is_file()
    assert cli("build", "--quiet").code == 0
    for old in ("asia/talks", "america/talks-resume"):
        assert "/america/t/" in (project / f"site/{old}/index.html").read_text()


def test_the_import_index_follows_a_moved_post(seeded: Path, cli: Cli) -> None:
    index = seeded / "content/.broadsheet-imports.json"
    post = sorted((seeded / "content/asia").glob("*.md"))[0]
    relative = post.relative_to(seeded).as_posix()
    assert cli("mv", relative, "--slug", "moved-here").code == 0
    assert f'"asia/{post.name}"' not in index.read_text()
    assert '"asia/moved-here.md"' in index.read_text()
    result = cli("import", *map(str, SEEDS))
    assert result.code == 0, result.err
    assert not post.exists()  # not written again at its old place
    assert cli("build", "--quiet").code == 0


def test_a_forced_import_keeps_the_aliases_mv_recorded(seeded: Path, cli: Cli) -> None:
    post = sorted((seeded / "content/asia").glob("*.md"))[0]
    assert cli("build", "--quiet").code == 0
    relative = post.relative_to(seeded).as_posix()
    assert cli("mv", relative, "--slug", "moved-here").code == 0
    moved = seeded / "content/asia/moved-here.md"
    alias = f"/asia/{post.stem}/"
    result = cli("import", "--force", *map(str, SEEDS))
    assert result.code == 0, result.err
    assert alias in moved.read_text()  # rewritten from the raw text, its old URL kept
    assert cli("build", "--quiet").code == 0
    assert "/asia/moved-here/" in (seeded / f"site{alias}index.html").read_text()
    again = cli("import", *map(str, SEEDS))  # what the import wrote counts as its own
    assert again.code == 0 and "edited since" not in again.out + again.err


def test_mv_waits_for_the_content_lock(project: Path, cli: Cli) -> None:
    write_post(project, "asia/talks.md", POST)
    waiting = threading.Event()
    results: list[Result] = []
    from broadsheet.author.move import move

    def run() -> None:
        lines = move(
            load_config(project),
            Path("content/asia/talks.md"),
            slug="b",
            wait=lambda message: waiting.set(),
        )
        results.append(Result(0, "\n".join(lines), ""))

    with content_lock(project / "content", shared=True):  # a build reading the posts
        worker = threading.Thread(target=run)
        worker.start()
        assert waiting.wait(60), "mv never said it was waiting"
        assert (project / "content/asia/talks.md").exists()
    worker.join(60)
    assert results and (project / "content/asia/b.md").exists()


def test_renaming_only_the_file_adds_no_alias(project: Path, cli: Cli) -> None:
    # Found by the property test: the URL stays, so its "old URL" is its own.
    write_post(project, "asia/file.md", POST.replace("tags:", "slug: talks\ntags:"))
    result = cli("mv", "content/asia/file.md", "--slug", "talks")
    assert result.code == 0 and "redirects" not in result.out
    assert "aliases" not in (project / "content/asia/talks.md").read_text()
    assert cli("build", "--quiet").code == 0


def test_mv_in_an_unreadable_folder_is_an_error_naming_it(project: Path) -> None:
    from tests.reliability.test_sources import _denied, as_user

    write_post(project, "asia/talks.md", POST)
    folder = project / "content/asia"
    try:
        _denied(project, folder)
        result = as_user(project, "mv", "content/asia/talks.md", "--slug", "b")
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert "content/asia" in result.stderr and "Permission denied" in result.stderr
    finally:
        folder.chmod(0o755)
    assert (folder / "talks.md").read_text() == POST


def _photo(path: Path, colour: str = "red") -> bytes:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 48), colour).save(path)
    return path.read_bytes()


def test_a_flat_posts_photos_go_with_it_and_shared_ones_are_copied(project: Path, cli: Cli) -> None:
    """A photo beside story.md (as the README shows) moves with the post to another
    section; one that a post left behind also shows is copied, not taken from it."""
    own = _photo(project / "content/asia/photo.jpg")
    shared = _photo(project / "content/asia/img/map.jpg", "blue")
    shows = "\n\n![A red box](photo.jpg)\n\n![A map](img/map.jpg)\n"
    write_post(project, "asia/story.md", POST.replace("Body text.\n", "Body text." + shows))
    other = POST.replace("Talks resume", "Other").replace("Body text.\n", "![Map](img/map.jpg)\n")
    write_post(project, "asia/other.md", other)
    assert cli("check").code == 0
    result = cli("mv", "content/asia/story.md", "--section", "america")
    assert result.code == 0, result.err
    assert "moved content/asia/photo.jpg -> content/america/photo.jpg" in result.out
    assert "copied content/asia/img/map.jpg -> content/america/img/map.jpg" in result.out
    assert (project / "content/america/photo.jpg").read_bytes() == own
    assert not (project / "content/asia/photo.jpg").exists()
    assert (project / "content/america/img/map.jpg").read_bytes() == shared
    assert (project / "content/asia/img/map.jpg").read_bytes() == shared
    checked = cli("check")
    assert checked.code == 0, checked.out
    # A section renamed whole takes its photos, and its old folder goes.
    assert cli("mv", "content/asia", "--section", "east-asia").code == 0
    assert not (project / "content/asia").exists()
    assert (project / "content/east-asia/img/map.jpg").read_bytes() == shared
    assert cli("build", "--quiet").code == 0


def test_a_photo_in_the_way_stops_the_move_before_anything_is_written(
    project: Path, cli: Cli
) -> None:
    _photo(project / "content/asia/photo.jpg")
    _photo(project / "content/america/photo.jpg", "green")  # another photo, same name
    write_post(project, "asia/story.md", POST.replace("Body text.", "![A box](photo.jpg)"))
    write_post(project, "america/x.md", POST.replace("ASIA", "AMERICA"))
    before = sorted(str(p) for p in (project / "content").rglob("*"))
    result = cli("mv", "content/asia/story.md", "--section", "america")
    assert result.code == 1
    assert "content/america/photo.jpg: is in the way of content/asia/photo.jpg" in result.err
    assert sorted(str(p) for p in (project / "content").rglob("*")) == before


def test_ctrl_c_during_a_section_rename_waits_for_the_whole_move(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A section of thousands of articles takes a while to move: Ctrl-C (or SIGTERM)
    then waits until every article, the record and the settings are written, says so,
    and leaves no temporary file behind."""
    import os
    import signal

    from broadsheet.author import move

    for n in range(5):
        write_post(project, f"asia/a{n}.md", POST.replace("Talks resume", f"Talks {n}"))
    real, calls = move._move_unit, []

    def interrupted(plan: move.Plan) -> None:
        calls.append(plan)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # held until the move is written
        real(plan)

    monkeypatch.setattr(move, "_move_unit", interrupted)
    done = threading.Event()  # another thread alive: the signal may be handed to it
    threading.Thread(target=done.wait, daemon=True).start()
    try:
        result = cli("mv", "content/asia", "--section", "east-asia")
    finally:
        done.set()
    assert result.code == 130
    assert "interrupted once the move was written, whole" in result.err
    assert result.out.count("moved content/asia/") == 5
    assert not (project / "content/asia").exists()
    assert sorted(p.name for p in (project / "content/east-asia").iterdir()) == [
        f"a{n}.md" for n in range(5)
    ]
    assert load_config(project).sections[0].slug == "east-asia"
    assert not list((project / "content").rglob(".mv-*"))


@pytest.mark.parametrize("way", ["folder", "file above", "link"])
def test_anything_in_a_photos_way_stops_the_move_and_loses_nothing(
    project: Path, cli: Cli, way: str
) -> None:
    """A folder named as the photo, a file where its subfolder must be, or a link: an
    error naming it, before anything is written (the photo is never lost)."""
    photo = _photo(project / "content/asia/photo.jpg")
    _photo(project / "content/asia/img/map.jpg", "blue")
    shows = "![A red box](photo.jpg)\n\n![A map](img/map.jpg)"
    write_post(project, "asia/story.md", POST.replace("Body text.", shows))
    write_post(project, "america/x.md", POST.replace("ASIA", "AMERICA"))
    blocking = {
        "folder": project / "content/america/photo.jpg",
        "file above": project / "content/america/img",
        "link": project / "content/america/photo.jpg",
    }[way]
    if way == "folder":
        blocking.mkdir()
    elif way == "file above":
        blocking.write_text("notes\n")
    else:
        blocking.symlink_to(project / "content/asia/photo.jpg")
    before = sorted(str(p) for p in (project / "content").rglob("*"))
    result = cli("mv", "content/asia/story.md", "--section", "america")
    assert result.code == 1 and "Traceback" not in result.err
    shown = blocking.relative_to(project).as_posix()
    assert f"{shown}: is in the way of content/asia/" in result.err
    assert sorted(str(p) for p in (project / "content").rglob("*")) == before
    assert (project / "content/asia/photo.jpg").read_bytes() == photo


def test_a_post_saved_while_its_section_moves_keeps_the_save(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An editor saves a post after `mv` read it: the save is never overwritten. What
    moved before it stays moved, with the record following it; the error says so, and
    the same mv again moves the rest, the save with it."""
    from broadsheet.author import move

    for name in ("a", "b", "c"):
        write_post(project, f"asia/{name}.md", POST.replace("Talks resume", f"Talks {name}"))
    assert cli("build", "--quiet").code == 0
    real = move._move_unit

    def saved_meanwhile(plan: move.Plan) -> None:
        if plan.unit.file.name == "b.md":
            with plan.unit.file.open("a", encoding="utf-8") as handle:
                handle.write("A sentence the author just saved.\n")
        real(plan)

    monkeypatch.setattr(move, "_move_unit", saved_meanwhile)
    result = cli("mv", "content/asia", "--section", "america")
    assert result.code == 1
    assert "content/asia/b.md: changed while it was being moved" in result.err
    assert "1 of 3 posts were moved before it" in result.err
    assert "A sentence the author just saved." in (project / "content/asia/b.md").read_text()
    monkeypatch.setattr(move, "_move_unit", real)
    again = cli("mv", "content/asia", "--section", "america")
    assert again.code == 0, again.err
    moved = (project / "content/america/b.md").read_text(encoding="utf-8")
    assert "A sentence the author just saved." in moved
    assert sorted(p.name for p in (project / "content/america").glob("*.md")) == [
        "a.md",
        "b.md",
        "c.md",
    ]
    assert cli("build", "--quiet").code == 0  # every old URL answers: the record followed
    assert (project / "site/asia/b/index.html").is_file()  # (its redirect)
