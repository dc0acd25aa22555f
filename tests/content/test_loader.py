from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadsheet.content.loader import load_posts
from broadsheet.errors import BroadsheetErrors
from tests.conftest import write_post


def test_all_bad_posts_are_reported_together(project: Path) -> None:
    write_post(project, "asia/good.md", "---\ntitle: Good\n---\nBody\n")
    write_post(project, "asia/bad-date.md", "---\ntitle: T\ndate: soon\n---\nBody\n")
    write_post(project, "asia/no-title.md", "---\nauthor: X\n---\nBody\n")
    write_post(project, "loose.md", "---\ntitle: T\n---\nBody\n")
    with pytest.raises(BroadsheetErrors) as caught:
        load_posts(project / "content", ZoneInfo("UTC"))
    messages = sorted(str(e) for e in caught.value.errors)
    assert len(messages) == 3
    assert any("bad-date.md:3: date:" in m for m in messages)
    assert any("no-title.md:1: title: is required" in m for m in messages)
    assert any("loose.md: a post belongs in a section folder" in m for m in messages)
