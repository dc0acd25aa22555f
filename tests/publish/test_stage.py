"""A stage writes each file once and says whether it changed anything, private or not."""

from __future__ import annotations

from pathlib import Path

import pytest

from broadsheet.publish.stage import Stage


@pytest.mark.parametrize("private", [True, False], ids=["private", "live"])
def test_a_stage_writes_new_files_and_reports_what_changed(tmp_path: Path, private: bool) -> None:
    stage = Stage(tmp_path / "stage", private=private)
    assert stage.write_text("asia/a-story/index.html", "one")  # folders made as needed
    assert not stage.write_text("asia/a-story/index.html", "one")  # the same bytes
    assert stage.write_text("asia/a-story/index.html", "two")
    assert (tmp_path / "stage/asia/a-story/index.html").read_text() == "two"
    assert stage.staged() == ["asia/a-story/index.html"]
    assert not list((tmp_path / "stage").rglob("*.tmp"))


def test_an_overlay_writes_only_what_differs_from_the_live_site(tmp_path: Path) -> None:
    live = tmp_path / "site"
    (live / "asia").mkdir(parents=True)
    (live / "asia/index.html").write_text("same")
    stage = Stage(tmp_path / "stage", base=live, private=True)
    assert not stage.write_text("asia/index.html", "same")
    assert stage.write_text("asia/index.html", "new")
    assert stage.staged() == ["asia/index.html"]
