import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadsheet.author.new import new_post
from broadsheet.config import load_config
from broadsheet.content.loader import read_post
from broadsheet.errors import BroadsheetError
from broadsheet.slugs import RESERVED_SECTIONS
from tests.conftest import run


def test_new_writes_a_draft_dated_now_and_prints_its_path(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml")
        .read_text()
        .replace("[tool.broadsheet]\n", '[tool.broadsheet]\ntimezone = "Asia/Kabul"\n')
    )
    result = run(
        [
            "new",
            "Rice harvest: a record",
            "--section",
            "asia",
            "--author",
            "Jane Roe",
            "--tags",
            "agriculture, trade",
        ]
    )
    assert result.code == 0, result.err
    assert result.out.strip() == "content/asia/rice-harvest-a-record.md"
    post = read_post(project / result.out.strip(), project / "content", ZoneInfo("Asia/Kabul"))
    assert post.title == "Rice harvest: a record" and post.draft
    assert post.author == "Jane Roe" and post.tags == ("agriculture", "trade")
    assert post.date is not None and post.has_time
    now = datetime.now(ZoneInfo("Asia/Kabul"))
    assert abs((now - post.date).total_seconds()) < 120
    assert "## A subheading" in post.body


def test_new_refuses_to_overwrite(project: Path) -> None:
    assert run(["new", "Same", "--section", "asia"]).code == 0
    path = project / "content/asia/same.md"
    path.write_text(path.read_text() + "\nMy words.\n")
    again = run(["new", "Same", "--section", "asia"])
    assert again.code == 1 and "already exists" in again.err
    assert "My words." in path.read_text()


def test_an_unknown_section_lists_the_known_ones(project: Path) -> None:
    (project / "content/europe").mkdir()
    result = run(["new", "Hello", "--section", "oceania"])
    assert result.code == 1
    assert "unknown section 'oceania'; known sections: asia, america, europe" in result.err
    config = load_config(project)
    with pytest.raises(BroadsheetError):
        new_post(config, "   ", "asia")


def test_drafts_and_scheduled_posts_are_left_out_unless_asked(project: Path) -> None:
    run(["new", "Work in progress", "--section", "asia"])
    (project / "content/asia/later.md").write_text(
        "---\ntitle: Coming soon\ndate: 2999-01-01\n---\n\nNot yet.\n"
    )
    (project / "content/asia/now.md").write_text("---\ntitle: Out now\n---\n\nPublished.\n")
    assert run(["build"]).code == 0
    site = project / "site"
    assert not (site / "asia/work-in-progress").exists()
    assert not (site / "asia/later").exists()
    assert (site / "asia/now/index.html").is_file()
    assert "Coming soon" not in (site / "feed.xml").read_text()
    assert run(["build", "--drafts"]).code == 0
    assert 'class="badge badge-draft"' in (site / "asia/work-in-progress/index.html").read_text()
    assert ">Scheduled<" in (site / "asia/index.html").read_text()


def test_new_starts_the_first_section_of_a_fresh_site(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.broadsheet]\ntitle = "Fresh"\n')
    result = run(["new", "Hello world", "--section", "news"])
    assert result.code == 0, result.err
    assert result.out.strip() == "content/news/hello-world.md"
    assert "started the section 'news' (content/news/)" in result.err
    assert run(["check"]).code == 0
    assert run(["build", "--drafts", "--quiet"]).code == 0
    assert (project / "site/news/hello-world/index.html").is_file()


def test_an_unknown_section_says_how_to_start_it_or_what_was_meant(project: Path) -> None:
    typo = run(["new", "Hello", "--section", "aisa"])
    assert typo.code == 1 and "did you mean 'asia'?" in typo.err
    unknown = run(["new", "Hello", "--section", "news"])
    assert unknown.code == 1
    assert "To start the section 'news', run this again with --new-section" in unknown.err
    assert not (project / "content/news").exists() and "Traceback" not in unknown.err


def test_new_section_adds_the_folder_and_its_settings_line(project: Path) -> None:
    settings = (project / "pyproject.toml").read_text()
    result = run(["new", "Hello", "--section", "news", "--new-section"])
    assert result.code == 0, result.err
    assert "started the section 'news' (content/news/, listed in pyproject.toml)" in result.err
    assert (project / "pyproject.toml").read_text() == settings + 'news = "News"\n'
    assert [s.slug for s in load_config(project).sections] == ["asia", "america", "news"]
    assert run(["check"]).code == 0  # the new section is known: no "not in sections" error
    again = run(["new", "Other", "--section", "news", "--new-section"])
    assert again.code == 0 and "started" not in again.err
    assert (project / "pyproject.toml").read_text().count("news =") == 1


def test_new_section_leaves_settings_it_cannot_edit_safely(project: Path) -> None:
    inline = '[tool.broadsheet]\ntitle = "T"\nsections = { asia = "Asia" }\n'
    (project / "pyproject.toml").write_text(inline)
    result = run(["new", "Hello", "--section", "news", "--new-section"])
    assert result.code == 1 and "Traceback" not in result.err
    assert 'add news = "News" under [tool.broadsheet.sections] yourself' in result.err
    assert (project / "pyproject.toml").read_text() == inline
    assert not (project / "content/news").exists()


@pytest.mark.parametrize(
    ("section", "why"),
    [
        *[(name, f"its URL /{name}/ belongs to") for name in sorted(RESERVED_SECTIONS)],
        ("Asia", "must be a slug (lower-case words joined by hyphens); did you mean 'asia'?"),
        ("news desk", "did you mean 'news-desk'?"),
        ("../x", "did you mean 'x'?"),
        ("-", "must be a slug"),
        ("TAGS", "must be a slug"),
    ],
)
def test_new_refuses_a_section_that_cannot_be_one_and_writes_nothing(
    project: Path, section: str, why: str
) -> None:
    before = (project / "pyproject.toml").read_bytes()
    content = sorted(str(p) for p in (project / "content").rglob("*"))
    result = run(["new", "Hello", "--section", section, "--new-section"])
    assert result.code == 1
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert f"'{section}' cannot be a section" in result.err and why in result.err
    assert "Traceback" not in result.err
    assert (project / "pyproject.toml").read_bytes() == before
    assert sorted(str(p) for p in (project / "content").rglob("*")) == content
    assert run(["check"]).code == 0


def test_new_bundle_starts_a_folder_for_the_article_and_its_photos(project: Path) -> None:
    result = run(["new", "Floods in the delta", "--section", "asia", "--bundle"])
    assert result.code == 0, result.err
    assert result.out.strip() == "content/asia/floods-in-the-delta/index.md"
    assert "content/asia/floods-in-the-delta/" in result.err  # where the photos go
    post = read_post(project / result.out.strip(), project / "content", ZoneInfo("UTC"))
    assert post.bundle and post.url_path == "asia/floods-in-the-delta/" and post.draft
    assert "image_alt" in post.body  # it says how to add a photo
    assert "image" not in run(["check"]).out  # its example is not an image to find
    assert run(["build", "--drafts"]).code == 0


@pytest.mark.parametrize("first", [[], ["--bundle"]])
def test_new_refuses_an_article_that_exists_in_either_form(project: Path, first: list[str]) -> None:
    assert run(["new", "Floods", "--section", "asia", *first]).code == 0
    other = [] if first else ["--bundle"]
    result = run(["new", "Floods", "--section", "asia", *other])
    assert result.code == 1 and "already exists" in result.err
    assert len(list((project / "content/asia").rglob("*.md"))) == 1


def test_a_file_in_the_way_is_a_one_line_error_and_nothing_is_written(project: Path) -> None:
    (project / "content/asia").mkdir(parents=True)
    (project / "content/asia/notes").write_text("a note, not a folder\n")
    bundle = run(["new", "Notes", "--section", "asia", "--bundle"])
    assert bundle.code == 1 and "Traceback" not in bundle.err
    assert bundle.err.strip() == (
        "error: content/asia/notes: cannot make the folder: a file is in the way"
    )
    settings = (project / "pyproject.toml").read_bytes()
    (project / "content/news").write_text("not a section folder\n")
    section = run(["new", "Hello", "--section", "news", "--new-section"])
    assert section.code == 1 and "Traceback" not in section.err
    assert "content/news: cannot make the folder: a file is in the way" in section.err
    assert (project / "pyproject.toml").read_bytes() == settings  # no section listed
    assert sorted(p.name for p in (project / "content").rglob("*.md")) == []


def test_a_blank_author_is_left_out_not_written_as_an_empty_one(project: Path) -> None:
    result = run(["new", "Hello", "--section", "asia", "--author", "   "])
    assert result.code == 0, result.err
    assert "author" not in (project / result.out.strip()).read_text()
    # Its sample link works though the section has no published article yet.
    assert run(["check"]).code == 0


def test_new_refuses_a_url_another_post_answers_by_its_slug_or_an_alias(project: Path) -> None:
    (project / "content/asia").mkdir(parents=True)
    (project / "content/asia/moved.md").write_text(
        "---\ntitle: Moved\naliases: [/asia/talks-resume/]\n---\n\nText.\n"
    )
    (project / "content/asia/named.md").write_text("---\ntitle: N\nslug: harvest\n---\n\nT.\n")
    for title, holder in (("Talks resume", "moved.md"), ("Harvest", "named.md")):
        result = run(["new", title, "--section", "asia"])
        assert result.code == 1 and "Traceback" not in result.err
        assert f"is already the URL or an alias of content/asia/{holder}" in result.err
    assert sorted(p.name for p in (project / "content/asia").iterdir()) == ["moved.md", "named.md"]


_LIMITED = """
import resource, runpy, signal, sys
limit = int(sys.argv[1])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
sys.argv = ["broadsheet", *sys.argv[2:]]
runpy.run_module("broadsheet", run_name="__main__")
"""


def _new_with_room_for(project: Path, size: int, *args: str) -> subprocess.CompletedProcess[str]:
    """`broadsheet new ARGS` where no file can grow past `size` bytes (a full disk)."""
    command = [sys.executable, "-c", _LIMITED, str(size), "new", *args]
    return subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=60)


def test_a_full_disk_never_cuts_the_settings_short(project: Path) -> None:
    """The section's line is added whole or not at all: a settings file cut short at
    the disk's end would fail every later command as bad TOML."""
    settings = project / "pyproject.toml"
    padding = "# " + "padding " * 500 + "\n"
    settings.write_text(settings.read_text() + f'\n[tool.codespell]\n{padding}skip = "site"\n')
    before = settings.read_bytes()
    result = _new_with_room_for(project, len(before), "Hello", "--section", "news", "--new-section")
    assert result.returncode == 1
    assert "pyproject.toml: cannot write" in result.stderr and "Traceback" not in result.stderr
    assert settings.read_bytes() == before
    assert not (project / "content/news").exists()
    assert run(["build"]).code == 0


def test_a_post_that_cannot_be_written_leaves_nothing(project: Path) -> None:
    """No empty post (which would fail the next build and block the next `new`), no
    folder made for it, and no section started for it."""
    settings = project / "pyproject.toml"
    before = settings.read_bytes()
    for args in (["--section", "asia"], ["--section", "news", "--new-section"]):
        result = _new_with_room_for(project, 60, "Hello world", *args)
        assert result.returncode == 1
        assert "cannot write" in result.stderr and "Traceback" not in result.stderr
        assert settings.read_bytes() == before
        assert not list((project / "content").rglob("*.md"))
        assert not (project / "content/news").exists()
    assert run(["new", "Hello world", "--section", "asia"]).code == 0
