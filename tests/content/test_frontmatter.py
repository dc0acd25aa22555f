from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadsheet.content.frontmatter import parse_post
from broadsheet.errors import BroadsheetError, BroadsheetErrors

UTC = ZoneInfo("UTC")
PATH = Path("content/asia/foo.md")


def parse(header: str, body: str = "Body.\n", folder: str = "asia"):  # type: ignore[no-untyped-def]
    return parse_post(PATH, f"---\n{header}---\n\n{body}", folder, UTC)


def errors_of(header: str) -> list[str]:
    with pytest.raises(BroadsheetError) as caught:
        parse(header)
    exc = caught.value
    return [str(e) for e in exc.errors] if isinstance(exc, BroadsheetErrors) else [str(exc)]


def test_a_full_post_parses() -> None:
    post = parse(
        "title: Hello\nsection: ASIA\ndate: 2025-02-09\nauthor: Jane Roe\ntags: [a, b]\n"
        "summary: Short.\n"
    )
    assert post.title == "Hello" and post.section_slug == "asia" and post.slug == "foo"
    assert post.date == datetime(2025, 2, 9, tzinfo=UTC) and not post.has_time
    assert post.tags == ("a", "b")
    assert post.body == "Body.\n" and post.body_line == 10


def test_a_time_and_zone_are_kept() -> None:
    post = parse("title: T\ndate: 2025-02-09T10:30:00+02:00\n")
    assert post.has_time
    assert post.date == datetime(2025, 2, 9, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("title: [unclosed\n", "content/asia/foo.md:2: front matter is not valid YAML"),
        ("section: ASIA\n", "content/asia/foo.md:1: title: is required"),
        ("title: T\nsection: AMERICA\n", "content/asia/foo.md:3: section: 'AMERICA' contradicts"),
        ("title: T\ndate: yesterday\n", "content/asia/foo.md:3: date: 'yesterday' is not a date"),
        ("title: T\ndate: 2025-02-30\n", "content/asia/foo.md:3: date: '2025-02-30' is not a date"),
        (
            "title: T\nauthr: X\n",
            "content/asia/foo.md:3: authr: unknown key (did you mean 'author'?)",
        ),
        ("title: 42\n", "content/asia/foo.md:2: title: must be text"),
        ("title: T\nauthor: ''\n", "content/asia/foo.md:3: author: is empty: give it a value,"),
        ("title: ' '\n", "content/asia/foo.md:2: title: is empty: give it a value"),
        ("title: T\ndraft: maybe\n", "content/asia/foo.md:3: draft: must be true or false"),
        ("title: T\nslug: Not A Slug\n", "content/asia/foo.md:3: slug: 'Not A Slug' is not a slug"),
    ],
)
def test_errors_name_the_file_and_line(header: str, expected: str) -> None:
    assert any(e.startswith(expected) for e in errors_of(header)), errors_of(header)


def test_every_problem_in_a_post_is_reported() -> None:
    assert len(errors_of("title: T\ndate: nope\nauthr: X\nsection: EUROPE\n")) == 3


def test_a_post_without_front_matter_is_an_error() -> None:
    with pytest.raises(BroadsheetError, match=r"foo.md:1: a post must start with '---'"):
        parse_post(PATH, "Just text\n", "asia", UTC)
