"""Front matter, fuzzed: a clear path:line error or a page, never a crash, hang or blow-up."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from broadsheet.content.frontmatter import FIELDS, parse_post
from broadsheet.content.post import Post
from broadsheet.errors import BroadsheetError

PATH = Path("content/asia/fuzz.md")
UTC = ZoneInfo("UTC")

VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=40)
    | st.dates()
    | st.datetimes(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError("front matter parsing hung")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def parse_or_error(header: str) -> Post | BroadsheetError:
    with time_limit(5):
        try:
            return parse_post(PATH, f"---\n{header}---\n\nBody.\n", "asia", UTC)
        except BroadsheetError as exc:
            text = str(exc)
            assert text.startswith("content/asia/fuzz.md:"), text
            assert len(text) < 5000, "an error message must stay short"
            return exc


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*list(FIELDS), "titel", "extra"]), VALUES, max_size=6))
def test_any_values_for_any_keys_give_a_post_or_a_clear_error(meta: dict[str, object]) -> None:
    header = yaml.safe_dump(meta, allow_unicode=True, default_flow_style=False)
    parse_or_error(header)


@pytest.mark.parametrize(
    "header",
    [
        # "Billion laughs": nine levels of aliases, 10^9 strings if expanded.
        "a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol','lol']\n"
        + "".join(
            f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=False)
        )
        + "title: *i\ntags: *i\n",
        "title: !!python/object/apply:os.system ['echo hacked']\n",
        "title: !custom thing\n",
        "title: " + "x" * 5_000_000 + "\n",
        "title: T\ntags: [" + "[" * 5000 + "]" * 5000 + "]\n",
        "title: ~\n",
        "title: T\ndate: 99999-01-01\n",
        "title: T\ndate: 2024-13-45T99:99\n",
        "title: T\ndraft: 'yes'\n",
        "title: T\n" + "\t: tab\n",
        "- a list\n- not a mapping\n",
    ],
    ids=[
        "billion-laughs",
        "python-tag",
        "unknown-tag",
        "huge",
        "deep",
        "null",
        "year",
        "bad-time",
        "draft-text",
        "tab",
        "list",
    ],
)
def test_hostile_front_matter_is_a_clear_error(header: str) -> None:
    result = parse_or_error(header)
    assert isinstance(result, BroadsheetError)
