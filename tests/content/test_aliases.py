"""`aliases` in front matter: old site paths, checked, with path:line errors."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadsheet.content.aliases import alias_file, parse_alias
from broadsheet.content.frontmatter import parse_post
from broadsheet.errors import BroadsheetError, BroadsheetErrors


@pytest.mark.parametrize(
    ("written", "path"),
    [
        ("/asia/old-slug/", "asia/old-slug/"),
        ("/asia/old-slug", "asia/old-slug/"),
        ("/2019/05/story.html", "2019/05/story.html"),
        ("/news/Story.HTM", "news/Story.HTM"),
        ("/caf%C3%A9/", "café/"),
        ("/a b/", "a b/"),
        ("/100%25/", "100%/"),
        ("/a%3Fb/", "a?b/"),
    ],
)
def test_an_alias_is_a_site_path(written: str, path: str) -> None:
    assert parse_alias(written) == path


@pytest.mark.parametrize(
    ("written", "why"),
    [
        ("https://example.com/asia/old/", "not a site path"),
        ("//example.com/asia/old/", "not a site path"),
        ("asia/old/", "must start with '/'"),
        ("/asia/old/?page=2", "query or fragment"),
        ("/asia/old/#top", "query or fragment"),
        ("/../etc/passwd", "outside the site"),
        ("/asia/../../x/", "outside the site"),
        ("/asia//old/", "outside the site"),
        ("/asia/%2e%2e/x/", "outside the site"),
        ("/", "front page"),
        ("/.git/config", "hidden"),
        ("/asia/old.php", "would not serve as a page"),
        ("/asia/\x01old/", "control character"),
        ("/asia\\old/", "backslash"),
        ("/" + "a" * 1001, "limit"),
        ("/100%/", "write a % sign as %25"),
        ("/a%zz/", "write a % sign as %25"),
        ("/asia%2Fold/", "encoded slash"),
    ],
)
def test_what_is_not_an_alias_says_why(written: str, why: str) -> None:
    with pytest.raises(ValueError, match=why.replace("?", r"\?").replace("(", r"\(")):
        parse_alias(written)


def test_the_file_that_answers_an_alias() -> None:
    assert alias_file("asia/old/") == "asia/old/index.html"
    assert alias_file("2019/story.html") == "2019/story.html"


def _post(header: str) -> object:
    text = f"---\ntitle: T\n{header}\n---\n\nBody.\n"
    return parse_post(Path("content/asia/t.md"), text, "asia", ZoneInfo("UTC"))


def test_front_matter_aliases_become_site_paths() -> None:
    post = _post("aliases: [/asia/old/, /asia/older, /asia/old/]")
    assert post.aliases == ("asia/old/", "asia/older/")  # type: ignore[attr-defined]
    assert _post("aliases: /asia/old/").aliases == ("asia/old/",)  # type: ignore[attr-defined]
    assert _post("").aliases == ()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("aliases: [https://x.test/a/]", "not a site path"),
        ("aliases: [/a/?q=1]", "query or fragment"),
        ("aliases: [/../a/]", "outside the site"),
        ("aliases: 3", "must be a list of old paths"),
        ("aliases: [[/a/]]", "must be a list of old paths"),
        ("aliases: {a: b}", "must be a list of old paths"),
    ],
)
def test_a_bad_alias_is_an_error_at_its_line(header: str, message: str) -> None:
    with pytest.raises(BroadsheetErrors) as caught:
        _post(f"date: 2025-01-01\n{header}")
    (error,) = caught.value.errors
    assert error.line == 4 and error.path == Path("content/asia/t.md")
    assert error.message.startswith("aliases: ") and message in error.message


def test_a_second_aliases_line_is_an_error_not_a_silent_loss() -> None:
    """The build's advice for a vanished URL is to add an `aliases:` line: in a post that
    has one, YAML would silently keep only the last, dropping the old aliases."""
    with pytest.raises(BroadsheetError) as caught:
        _post("aliases: [/asia/old/]\naliases: [/asia/b/]")
    error = caught.value
    assert error.line == 4 and error.path == Path("content/asia/t.md")
    assert error.message == (
        "aliases: given twice (lines 3 and 4), and YAML keeps only the last: "
        "make them one list, such as aliases: [/old/one/, /old/two/]"
    )
