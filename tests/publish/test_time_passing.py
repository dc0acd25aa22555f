"""The site as time passes with no edit: a build then equals a cold build at that time.

A post dated in the future falls due: a plain build shows it; a build with drafts shown
drops its "Scheduled" badge, and its news sitemap moves to the newest article's two
days. The build's clock is set here (no SOURCE_DATE_EPOCH, which would be an option of
the cache and make every build after it new).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from pathlib import Path

import pytest

from broadsheet.config import load_config
from broadsheet.publish import pipeline
from broadsheet.publish.pipeline import build
from tests.conftest import write_post
from tests.sitecheck import tree_bytes

BEFORE = datetime(2026, 3, 5, 11, 0, tzinfo=UTC)  # the scheduled post is due at 12:00
AFTER = datetime(2026, 3, 5, 13, 0, tzinfo=UTC)


def _clock(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    """Make the build's present `moment`."""

    class Clock(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Clock:
            found = moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)
            return cls.fromtimestamp(found.timestamp(), tz)

    monkeypatch.setattr(pipeline, "datetime", Clock)


@pytest.fixture
def scheduled(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    for name, date in (("old", "2026-03-01 09:00"), ("soon", "2026-03-05 12:00")):
        text = f"---\ntitle: {name.title()}\ndate: {date}\n---\n\nText.\n"
        write_post(project, f"asia/{name}.md", text)
    return project


@pytest.mark.parametrize("drafts", [True, False], ids=["drafts shown", "plain"])
def test_a_build_after_a_post_falls_due_equals_a_cold_build(
    scheduled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, drafts: bool
) -> None:
    config = load_config(scheduled)
    site = scheduled / "site"
    _clock(monkeypatch, BEFORE)
    build(config, site, drafts=drafts)
    soon = site / "asia/soon/index.html"
    if drafts:
        assert "Scheduled" in soon.read_text(encoding="utf-8")
    else:
        assert not soon.exists()
    news = (site / "news-sitemap.xml").read_text(encoding="utf-8")
    assert "/asia/old/" in news and "/asia/soon/" not in news

    _clock(monkeypatch, AFTER)  # nothing edited
    again = build(config, site, drafts=drafts)
    build(config, tmp_path / "cold", drafts=drafts, use_cache=False)
    assert again.written > 0
    assert tree_bytes(site) == tree_bytes(tmp_path / "cold")
    assert "Scheduled" not in soon.read_text(encoding="utf-8")
    news = (site / "news-sitemap.xml").read_text(encoding="utf-8")
    assert "/asia/soon/" in news and "/asia/old/" not in news


def test_the_build_says_when_the_site_changes_with_no_edit(
    scheduled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What serve waits for: the due time, from a full build and from one that found
    nothing to do; none once nothing is dated in the future."""
    config = load_config(scheduled)
    _clock(monkeypatch, BEFORE)
    due = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    for _ in range(2):  # built, then nothing to do
        result = build(config, scheduled / "site", drafts=True)
        assert result.valid_until is not None
        assert datetime.fromisoformat(result.valid_until) == due
    assert build(config, scheduled / "site", drafts=True).written == 0
    _clock(monkeypatch, AFTER)
    assert build(config, scheduled / "site", drafts=True).valid_until is None


def test_a_build_whose_clock_is_set_never_changes_with_time(
    scheduled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SOURCE_DATE_EPOCH stops the build's clock: serve must not wait for a time."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(BEFORE.timestamp())))
    config = load_config(scheduled)
    for _ in range(2):  # built, then nothing to do
        assert build(config, scheduled / "site", drafts=True).valid_until is None


def test_the_first_post_due_in_a_repeated_hour_is_the_first_instant(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two posts scheduled in the hour New York's clocks repeat (2 November 2025, 01:00
    to 02:00 twice): 01:50 before the change (05:50 UTC) falls due before 01:10 after it
    (06:10 UTC), though its wall time is later. A build at 06:00 UTC shows it, as a
    cold build does (the site's next change was taken by wall times: found by review)."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    settings = project / "pyproject.toml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace(
            "per_page = 10", 'per_page = 10\ntimezone = "America/New_York"'
        ),
        encoding="utf-8",
    )
    for name, date in (
        ("old", "2025-10-01"),
        ("first", "2025-11-02T01:50:00-04:00"),
        ("second", "2025-11-02T01:10:00-05:00"),
    ):
        write_post(project, f"asia/{name}.md", f"---\ntitle: {name}\ndate: {date}\n---\n\nText.\n")
    config, site = load_config(project), project / "site"
    _clock(monkeypatch, datetime(2025, 11, 2, 5, 0, tzinfo=UTC))
    result = build(config, site)
    assert result.valid_until is not None
    assert datetime.fromisoformat(result.valid_until) == datetime(2025, 11, 2, 5, 50, tzinfo=UTC)
    _clock(monkeypatch, datetime(2025, 11, 2, 6, 0, tzinfo=UTC))
    build(config, site)
    build(config, tmp_path / "cold", use_cache=False)
    assert (site / "asia/first/index.html").is_file()
    assert not (site / "asia/second/index.html").exists()
    assert tree_bytes(site) == tree_bytes(tmp_path / "cold")
