"""The published-URL record: kept by build and check, and no recorded URL can vanish."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broadsheet.author.move import retire
from broadsheet.config import load_config
from broadsheet.errors import BroadsheetError
from broadsheet.outputs.published import (
    RECORD_NAME,
    Record,
    post_name,
    read_record,
    record_bytes,
    record_path,
)
from broadsheet.publish.pipeline import build
from tests.conftest import Result, lay_out, write_post
from tests.publish.test_incremental import bump

Cli = Callable[..., Result]


def article(title: str, *header: str) -> str:
    lines = "".join(f"{line}\n" for line in header)
    return f"---\ntitle: {title}\ndate: 2025-02-09\n{lines}---\n\nThe text of {title}.\n"


def entries(project: Path) -> list[str]:
    text = (project / "content" / RECORD_NAME).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if not line.startswith("#")]


def test_a_build_records_every_article_but_drafts(project: Path, cli: Cli) -> None:
    write_post(project, "asia/b.md", article("B"))
    write_post(project, "asia/a.md", article("A", "slug: first"))
    write_post(project, "asia/draft.md", article("Draft", "draft: true"))
    write_post(project, "america/later.md", article("Later").replace("2025-02-09", "9000-01-01"))
    assert cli("build", "--quiet").code == 0
    assert entries(project) == [
        "/america/later/ america/later.md",
        "/asia/b/ asia/b.md",
        "/asia/first/ asia/a.md",
    ]
    before = record_path(project / "content").read_bytes()
    assert cli("build", "--quiet").code == 0
    assert record_path(project / "content").read_bytes() == before


def test_a_deleted_article_fails_the_build_naming_its_url_and_post(project: Path, cli: Cli) -> None:
    write_post(project, "asia/a.md", article("A"))
    gone = write_post(project, "asia/b.md", article("B"))
    assert cli("build", "--quiet").code == 0
    site = (project / "site/index.html").read_bytes()
    gone.unlink()
    result = cli("build", "--quiet")
    assert result.code == 1 and "Traceback" not in result.err
    assert result.err == (
        "error: content/asia/b.md: /asia/b/ was published (last by content/asia/b.md) and would "
        "no longer answer: add /asia/b/ to the aliases in the front matter of the article that "
        'replaces it (the line "aliases: [/asia/b/]", or one more item of the list it has), or '
        'run "broadsheet gone /asia/b/" to retire the URL on purpose\n'
    )
    assert (project / "site/index.html").read_bytes() == site
    assert (project / "site/asia/b/index.html").is_file()  # the last site stays


def test_the_suggested_alias_line_makes_the_build_pass(project: Path, cli: Cli) -> None:
    post = write_post(project, "asia/a.md", article("A"))
    assert cli("build", "--quiet").code == 0
    post.write_text(article("A", "slug: renamed"), encoding="utf-8")
    bump(post)
    result = cli("build", "--quiet")
    assert result.code == 1
    assert "add /asia/a/ to the aliases in its front matter" in result.err
    post.write_text(article("A", "slug: renamed", "aliases: [/asia/a/]"), encoding="utf-8")
    bump(post)
    assert cli("build", "--quiet").code == 0
    assert "/asia/renamed/" in (project / "site/asia/a/index.html").read_text()


def test_gone_retires_a_url_on_purpose_and_a_new_article_revives_it(
    project: Path, cli: Cli
) -> None:
    write_post(project, "asia/a.md", article("A"))
    post = write_post(project, "asia/b.md", article("B"))
    assert cli("build", "--quiet").code == 0
    post.unlink()
    assert cli("build", "--quiet").code == 1
    result = cli("gone", "/asia/b/")
    assert result.code == 0 and "retired /asia/b/" in result.out
    assert "gone /asia/b/ asia/b.md" in entries(project)
    assert cli("build", "--quiet").code == 0
    assert not (project / "site/asia/b").exists()
    write_post(project, "asia/b.md", article("B again"))
    assert cli("build", "--quiet").code == 0
    assert "/asia/b/ asia/b.md" in entries(project)


def test_gone_refuses_what_the_record_does_not_hold(project: Path, cli: Cli) -> None:
    result = cli("gone", "/asia/never/", "https://x.test/a/")
    assert result.code == 1 and "Traceback" not in result.err
    assert f"content/{RECORD_NAME}: /asia/never/ is not a published URL in the record" in result.err
    assert "not a site path" in result.err


def test_gone_refuses_a_url_an_article_still_has(project: Path, cli: Cli) -> None:
    """Retired while its article is there, the URL was published again by the next build:
    `gone` said "readers get the 404 page" and undid itself."""
    write_post(project, "asia/a.md", article("A"))
    write_post(project, "asia/b.md", article("B", "aliases: [/asia/old-b/]"))
    assert cli("build", "--quiet").code == 0
    before = entries(project)
    result = cli("gone", "/asia/a/")
    assert result.code == 1 and "Traceback" not in result.err
    assert result.err == (
        "error: content/asia/a.md: /asia/a/ is still this article's URL: delete it, or move "
        'it with "broadsheet mv", then retire the URL\n'
    )
    assert entries(project) == before
    (project / "content/asia/a.md").unlink()
    assert cli("gone", "/asia/a/").code == 0
    result = cli("gone", "/asia/old-b/")
    assert result.code == 1 and result.err == (
        "error: content/asia/b.md: /asia/old-b/ is still one of this article's aliases: "
        "take it out, then retire the URL\n"
    )
    assert cli("build", "--quiet").code == 0 and "gone /asia/a/ asia/a.md" in entries(project)


def test_frozen_urls_never_write_the_record_and_want_every_article(project: Path, cli: Cli) -> None:
    write_post(project, "asia/a.md", article("A"))
    result = cli("build", "--quiet", "--frozen-urls")
    assert result.code == 1
    assert result.err.startswith("error: content/asia/a.md: /asia/a/ is not in the published-URL")
    assert not (project / "content" / RECORD_NAME).exists()
    assert cli("check").code == 0  # check records it, as build does
    assert cli("build", "--quiet", "--frozen-urls").code == 0


def test_a_build_with_nothing_to_do_still_sees_a_changed_record(project: Path, cli: Cli) -> None:
    write_post(project, "asia/a.md", article("A"))
    assert cli("build", "--quiet").code == 0
    # A pull brings the record of a branch that published /asia/z/, which this one lacks.
    record = project / "content" / RECORD_NAME
    record.write_text(record.read_text() + "/asia/z/ asia/z.md\n", encoding="utf-8")
    result = cli("build", "--quiet")
    assert result.code == 1 and "/asia/z/ was published" in result.err


def test_a_damaged_record_is_an_error_naming_its_line(project: Path, cli: Cli) -> None:
    write_post(project, "asia/a.md", article("A"))
    assert cli("build", "--quiet").code == 0
    record = project / "content" / RECORD_NAME
    text = record.read_text()
    record.write_text(text + "<<<<<<< HEAD\n", encoding="utf-8")
    result = cli("build", "--quiet")
    lines = len(text.splitlines()) + 1
    assert result.err.startswith(f"error: content/{RECORD_NAME}:{lines}: not a line of the")
    assert cli("check").code == 1


def test_check_names_a_vanished_url_too(project: Path, cli: Cli) -> None:
    write_post(project, "asia/a.md", article("A"))
    post = write_post(project, "asia/b.md", article("B"))
    assert cli("check").code == 0
    post.unlink()
    result = cli("check")
    assert result.code == 1 and "/asia/b/ was published" in result.out


def test_only_build_and_check_write_the_record(project: Path) -> None:
    from broadsheet.config import load_config
    from broadsheet.publish.pipeline import build

    write_post(project, "asia/a.md", article("A"))
    build(load_config(project), jobs=1)  # as serve and the tests build: verify only
    assert not (project / "content" / RECORD_NAME).exists()


def test_a_drafted_article_was_published_and_must_answer(project: Path, cli: Cli) -> None:
    post = write_post(project, "asia/a.md", article("A"))
    assert cli("build", "--quiet").code == 0
    post.write_text(article("A", "draft: true"), encoding="utf-8")
    bump(post)
    assert "/asia/a/ was published" in cli("build", "--quiet").err
    assert cli("build", "--quiet", "--drafts", "--output", "drafts").code == 0


def test_a_moved_article_dated_later_keeps_its_old_url_until_it_answers(
    project: Path, cli: Cli
) -> None:
    """A published article moved (its old URL now an alias), then rescheduled: the old
    URL answers again on its new date, as its own URL does; not an error that asks for
    the alias it already has."""
    write_post(project, "asia/a.md", article("A"))
    assert cli("build", "--quiet").code == 0
    write_post(project, "america/b.md", article("B"))  # (so that the section exists)
    moved_by = cli("mv", "content/asia/a.md", "--section", "america")
    assert moved_by.code == 0, moved_by.err
    assert cli("build", "--quiet").code == 0
    moved = project / "content/america/a.md"
    text = moved.read_text(encoding="utf-8").replace("2025-02-09", "9000-01-01")
    moved.write_text(text, encoding="utf-8")
    bump(moved)
    result = cli("build", "--quiet")
    assert result.code == 0, result.err
    assert not (project / "site/asia/a/index.html").exists()  # not yet: on its date


names = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1
)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z0-9-]{1,12}/[a-z0-9-]{1,12}/", fullmatch=True), names))
def test_the_record_reads_back_as_written(published: dict[str, str]) -> None:
    import tempfile

    record = Record(dict(published))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / RECORD_NAME
        path.write_bytes(record_bytes(record))
        back = read_record(Path(folder))
    assert back.published == published


def test_a_pipe_in_the_records_place_is_an_error_not_a_hang(project: Path, cli: Cli) -> None:
    import os

    write_post(project, "asia/a.md", article("A"))
    os.mkfifo(project / "content" / RECORD_NAME)
    result = cli("build", "--quiet")
    assert result.code == 1 and f"content/{RECORD_NAME}" in result.err
    assert "Traceback" not in result.err


def test_a_record_it_cannot_write_is_a_warning_the_site_is_built(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from broadsheet.errors import BroadsheetError
    from broadsheet.publish import pipeline

    def read_only(content: Path, record: Record) -> bool:
        raise BroadsheetError("cannot write: Read-only file system", content / RECORD_NAME)

    monkeypatch.setattr(pipeline, "write_record", read_only)
    write_post(project, "asia/a.md", article("A"))
    result = cli("build", "--quiet")
    assert result.code == 0 and (project / "site/asia/a/index.html").is_file()
    assert result.err == (
        f"warning: content/{RECORD_NAME}: cannot write: Read-only file system; "
        "the published-URL record was not updated\n"
    )


@pytest.mark.parametrize("command", ["build", "check"])
def test_a_record_the_system_refuses_is_a_warning_for_build_and_check(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """The operating system refuses the write (a read-only checkout): one line of
    warning, exit 0, the record as it was; for `check` too, whose content is fine."""
    from broadsheet.outputs import published

    def refused(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(published, "replace_whole", refused)
    write_post(project, "asia/a.md", article("A"))
    result = cli(command) if command == "check" else cli(command, "--quiet")
    assert result.code == 0, result.err
    why = "cannot write: Permission denied; the published-URL record was not updated"
    if command == "check":
        assert result.out == (
            f"content/{RECORD_NAME}: warning: {why}\nok: 1 posts checked, 1 warning(s)\n"
        )
    else:
        assert result.err == f"warning: content/{RECORD_NAME}: {why}\n"
    assert not (project / "content" / RECORD_NAME).exists()


def test_check_blames_a_post_it_cannot_read_not_the_record(project: Path, cli: Cli) -> None:
    post = write_post(project, "asia/a.md", article("A"))
    assert cli("build", "--quiet").code == 0
    post.write_text(article("A", "aliases: ['/a/?q=1']"), encoding="utf-8")
    bump(post)
    result = cli("check")
    assert result.code == 1 and "query or fragment" in result.out
    assert "would no longer answer" not in result.err + result.out


def test_check_judges_no_link_against_a_site_it_could_not_plan(project: Path, cli: Cli) -> None:
    write_post(project, "asia/a.md", article("A", "aliases: [/tags/]"))  # a page's place
    write_post(project, "asia/b.md", article("B").replace("The text", "[A](/asia/a/) The text"))
    result = cli("check")
    assert result.code == 1 and "/tags/" in result.out + result.err
    assert "no such page" not in result.out + result.err


_PART = st.sampled_from(["asia", "a.md", "..", ".", "", "content", "b c", "é.md"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PART, min_size=1, max_size=5), st.lists(_PART, min_size=1, max_size=4))
def test_a_post_is_named_as_pathlib_names_it_below_content(
    folder: list[str], file: list[str]
) -> None:
    """post_name works on strings (a build names every post), with pathlib's answer."""
    content_dir = Path("/srv/site", *folder)
    path = Path(str(content_dir) + "/" + "/".join(file))
    try:
        expected = Path(os.path.abspath(path)).relative_to(os.path.abspath(content_dir))
    except ValueError:
        with pytest.raises(ValueError):
            post_name(path, content_dir)
        return
    if expected == Path("."):  # the folder itself: no post's name
        return
    assert post_name(path, content_dir) == expected.as_posix()


# What a build judges the record by, changed step by step (see _Archive.apply).
_STEPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "body",
                "title",
                "slug",
                "alias",
                "unalias",
                "delete",
                "restore",
                "draft",
                "future",
                "move",
                "gone",
                "unrecord",
            ]
        ),
        st.integers(0, 2),
    ),
    min_size=1,
    max_size=5,
)


class _Archive:
    """Three articles in two projects alike: one built with its build cache kept, one
    with none. The same steps, taken in both."""

    def __init__(self, root: Path):
        self.roots = [lay_out(root / "kept"), lay_out(root / "none")]
        self.posts = [{"name": f"asia/{n}.md", "title": n.upper()} for n in "abc"]
        for number in range(len(self.posts)):
            self.write(number)

    def write(self, number: int) -> None:
        fields = self.posts[number]
        header = [f"{key}: {fields[key]}" for key in ("slug", "aliases", "draft") if key in fields]
        text = article(str(fields["title"]), *header) + str(fields.get("body", ""))
        if fields.get("future"):
            text = text.replace("2025-02-09", "9000-01-01")
        for root in self.roots:
            for old in (root / "content").rglob(Path(str(fields["name"])).name):
                old.unlink()
            if "deleted" not in fields:
                bump(write_post(root, str(fields["name"]), text))

    def apply(self, step: str, number: int) -> None:
        fields = self.posts[number]
        name = str(fields["name"])
        if step == "body":
            fields["body"] = f"{fields.get('body', '')}More.\n"
        elif step == "title":
            fields["title"] = f"{fields['title']}!"
        elif step == "slug":
            fields["slug"] = f"{Path(name).stem}-{len(str(fields.get('slug', '')))}"
        elif step == "alias":
            fields["aliases"] = f"[/asia/{Path(name).stem}/, /{name.removesuffix('.md')}/]"
        elif step == "unalias":
            fields.pop("aliases", None)
        elif step == "delete":
            fields["deleted"] = True
        elif step == "restore":
            fields.pop("deleted", None)
        elif step == "draft":
            fields["draft"] = "true"
        elif step == "future":
            fields["future"] = True
        elif step == "move":
            fields["name"] = f"america/{Path(name).name}"
        elif step in ("gone", "unrecord"):
            url = f"/asia/{Path(name).stem}/"
            for root in self.roots:
                if step == "gone":
                    with contextlib.suppress(BroadsheetError):
                        retire(load_config(root), [url])
                else:
                    path = record_path(root / "content")
                    if path.exists():
                        kept = [line for line in path.read_text().splitlines() if url not in line]
                        path.write_text("".join(f"{line}\n" for line in kept))
                        bump(path)
            return
        self.write(number)

    def builds(self) -> list[tuple[str, bytes]]:
        """What each project's build said (its errors), and its record after."""
        said = []
        for root, kept in zip(self.roots, (True, False), strict=True):
            try:
                build(load_config(root), output=root / "site", use_cache=kept, urls="record")
                outcome = "built"
            except BroadsheetError as exc:
                outcome = str(exc).replace(str(root), "<project>")
            path = record_path(root / "content")
            said.append((outcome, path.read_bytes() if path.exists() else b""))
        return said


@settings(max_examples=25, deadline=None)
@given(_STEPS)
def test_a_build_that_skips_judging_the_record_judges_it_as_a_build_without_a_cache(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, int]]
) -> None:
    """A build whose posts, planned pages and record are as a finished build left them
    does not read the record again (#20): it must say and record what a build without a
    cache does, after every kind of step that matters to the record."""
    archive = _Archive(tmp_path_factory.mktemp("judged"))
    kept, none = archive.builds()
    assert kept == none and kept[0] == "built"
    for step, number in steps:
        archive.apply(step, number)
        kept, none = archive.builds()
        assert kept == none, (step, number)


@pytest.mark.parametrize("edited", [True, False], ids=["after an edit", "nothing else changed"])
@pytest.mark.parametrize("thing", ["folder", "pipe", "broken link"])
def test_a_record_that_is_not_a_file_fails_a_build_that_finished_without_one(
    project: Path, thing: str, edited: bool
) -> None:
    """A build with no record leaves its digest as "none"; a folder, pipe or broken link
    in the record's place read as "none" too, so the next build skipped judging it, or
    did nothing, and passed. Without a cache the same build fails, naming the record."""
    post = write_post(project, "asia/a.md", article("A"))
    config = load_config(project)
    build(config, output=project / "site", urls="verify")  # (no record is written)
    record = record_path(project / "content")
    if thing == "folder":
        record.mkdir()
    elif thing == "pipe":
        os.mkfifo(record)
    else:
        record.symlink_to("nowhere")
    if edited:
        post.write_text(article("A") + "Changed.\n", encoding="utf-8")
        bump(post)
    with pytest.raises(BroadsheetError) as caught:
        build(config, output=project / "site", urls="verify")
    assert caught.value.path == record


@pytest.mark.parametrize("edited", [True, False], ids=["after an edit", "nothing else changed"])
def test_a_record_that_could_not_be_written_is_written_by_the_next_build(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch, edited: bool
) -> None:
    """The warning says the record was not updated, and the README that the next build
    tries again: the state must not say the record was judged and left as it is."""
    from broadsheet.publish import pipeline

    write_post(project, "asia/a.md", article("A"))
    assert cli("build", "--quiet").code == 0
    write = pipeline.write_record

    def read_only(content: Path, record: Record) -> str:
        raise BroadsheetError("cannot write: Read-only file system", content / RECORD_NAME)

    monkeypatch.setattr(pipeline, "write_record", read_only)
    write_post(project, "asia/b.md", article("B"))
    result = cli("build", "--quiet")
    assert result.code == 0 and "the published-URL record was not updated" in result.err
    assert "/asia/b/ asia/b.md" not in entries(project)
    monkeypatch.setattr(pipeline, "write_record", write)
    if edited:
        post = project / "content/asia/a.md"
        post.write_text(article("A") + "Changed.\n", encoding="utf-8")
        bump(post)
    result = cli("build", "--quiet")
    assert result.code == 0 and result.err == ""
    assert "/asia/b/ asia/b.md" in entries(project)


def test_a_record_with_nothing_new_is_not_held_nor_written_and_one_out_of_order_is_rewritten(
    project: Path, cli: Cli
) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from broadsheet.content.loader import load_posts
    from broadsheet.outputs.published import judge_urls

    write_post(project, "asia/a.md", article("A"))
    write_post(project, "asia/b.md", article("B"))
    assert cli("build", "--quiet").code == 0
    content = project / "content"
    posts = load_posts(content, ZoneInfo("UTC"))
    answering = {"asia/a/index.html", "asia/b/index.html"}
    now = datetime(2026, 1, 1, tzinfo=UTC)
    # Nothing to add, and the file as it would be written: nothing held for the build.
    assert judge_urls(content, posts, answering, now, "record") is None
    # A headline edit (the judged inputs change) rewrites nothing.
    before = record_path(content).read_bytes()
    write_post(project, "asia/a.md", article("A, retitled"))
    assert cli("build", "--quiet").code == 0
    assert record_path(content).read_bytes() == before
    # Lines out of order (a hand edit, a merge): the record to write, in order again.
    header, *lines = before.decode().splitlines(keepends=True)
    shuffled = "".join([header, *reversed([line for line in lines if line.startswith("/")])])
    record_path(content).write_text(shuffled, encoding="utf-8")
    found = judge_urls(content, posts, answering, now, "record")
    assert found is not None and record_bytes(found) == before
    write_post(project, "asia/b.md", article("B, retitled"))
    assert cli("build", "--quiet").code == 0
    assert record_path(content).read_bytes() == before
    record_path(content).write_bytes(before + b"# a note\n")  # (all that was, and more)
    found = judge_urls(content, posts, answering, now, "record")
    assert found is not None and record_bytes(found) == before
    # And a new article is added to it.
    write_post(project, "asia/c.md", article("C"))
    assert cli("build", "--quiet").code == 0
    assert "/asia/c/ asia/c.md" in entries(project)


@given(st.text(st.sampled_from("ab\n\r ")))
def test_the_record_is_read_a_line_at_a_time_as_split_would_cut_it(text: str) -> None:
    from broadsheet.outputs.published import _split_lines

    assert list(_split_lines(text)) == text.split("\n")


def test_vanished_urls_are_named_in_the_urls_order_and_a_scheduled_ones_answers(
    project: Path,
) -> None:
    from broadsheet.outputs.published import vanished

    record = Record()
    for url in ("asia/z/", "asia/b/", "europe/a/", "asia/due/"):
        record.publish(url, url.rstrip("/") + ".md")
    errors = vanished(record, {"asia/b/index.html"}, project / "content", {"asia/due/index.html"})
    assert [error.message.split(" ")[0] for error in errors] == ["/asia/z/", "/europe/a/"]


def test_a_headline_edit_is_not_judged_again_but_an_alias_is(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """judge_urls reads a post's path, URL, aliases, draft flag and date, never its
    title: a build after a headline edit reuses the judgement (#20: a twentieth of a
    second at 10,000 articles); one after an alias is added judges it again."""
    from broadsheet.publish import assemble

    post = write_post(project, "asia/a.md", article("A"))
    write_post(project, "asia/b.md", article("B"))
    config = load_config(project)
    build(config, output=project / "site", urls="record")
    judged: list[int] = []
    judge = assemble.judge_urls

    def counted(*args: object) -> Record | None:
        judged.append(1)
        return judge(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(assemble, "judge_urls", counted)
    post.write_text(article("A new headline"), encoding="utf-8")
    bump(post)
    build(config, output=project / "site", urls="record")
    assert judged == []
    assert "A new headline" in (project / "site/asia/a/index.html").read_text()
    post.write_text(article("A new headline", "aliases: [/asia/old-a/]"), encoding="utf-8")
    bump(post)
    build(config, output=project / "site", urls="record")
    assert judged == [1]
    assert (project / "site/asia/old-a/index.html").is_file()  # (its redirect)
