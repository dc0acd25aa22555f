"""Dates at the edges: every date is accepted everywhere, or refused up front as path:line.

A post's date must lie in the years 1000 to 9998 in the site's time zone. Inside those
bounds every date computation (time zone conversion, the cache's timestamps, archive
months, feeds, sitemaps' "two days up to now", JSON-LD, sorting) works; outside them the
post is an error naming the file and the line of the date, in build, check and serve.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broadsheet.config import SiteConfig
from broadsheet.content.frontmatter import parse_post
from broadsheet.content.store import _decode, _encode
from broadsheet.errors import BroadsheetErrors
from broadsheet.outputs import listings
from broadsheet.outputs.feeds import UNDATED_UPDATED, entry_updated
from broadsheet.outputs.listings import sort_key
from broadsheet.outputs.sitemaps import news_posts
from broadsheet.publish.context import format_date, iso_date
from broadsheet.serve.devbuild import DevBuilder
from tests.conftest import run, write_post

ZONES = ["UTC", "Etc/GMT+12", "Etc/GMT-14", "Pacific/Kiritimati", "America/New_York"]
EDGE_YEARS = [1, 2, 999, 1000, 1001, 1969, 1970, 2025, 9997, 9998, 9999]
YEARS = range(1000, 9999)


@st.composite
def date_texts(draw: st.DrawFn) -> str:
    year = draw(st.sampled_from(EDGE_YEARS) | st.integers(1, 9999))
    month = draw(st.sampled_from([1, 12]) | st.integers(1, 12))
    day = draw(st.sampled_from([1, 28]) | st.integers(1, 28))
    text = f"{year:04d}-{month:02d}-{day:02d}"
    if draw(st.booleans()):
        hour, minute = draw(st.integers(0, 23)), draw(st.integers(0, 59))
        text += f"T{hour:02d}:{minute:02d}:{draw(st.integers(0, 59)):02d}"
        if draw(st.booleans()):
            text += f".{draw(st.integers(0, 999_999)):06d}"
        if draw(st.booleans()):
            minutes = draw(st.sampled_from([-1439, 1439, 0, -720, 840]) | st.integers(-1439, 1439))
            sign = "-" if minutes < 0 else "+"
            text += f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return text


def expected_in_range(text: str, zone: ZoneInfo) -> bool:
    """The oracle: the date's year, in the site's zone, is one of YEARS."""
    parsed = dt.datetime.fromisoformat(text)
    if parsed.year not in YEARS:
        return False
    aware = parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    return aware.astimezone(zone).year in YEARS


@pytest.mark.parametrize(
    "written", ["2021-03-14 02:30", "2021-03-14T02:30:00", "2021-11-07 01:30", "2021-03-14"]
)
def test_a_time_the_clocks_skip_or_repeat_is_shown_as_the_cache_gives_it_back(
    written: str,
) -> None:
    """In America/New_York, 02:30 on 14 March 2021 never happened (the clocks went from
    02:00 to 03:00) and 01:30 on 7 November happened twice. The date parsed is the one
    the build's cache keeps and gives back, so a cold build and the next one show the
    same moment (a review found 02:30-05:00 cold and 03:30-04:00 after an edit)."""
    zone = ZoneInfo("America/New_York")
    text = f"---\ntitle: Edge\ndate: {written}\n---\n\nBody.\n"
    post = parse_post(Path("content/asia/edge.md"), text, "asia", zone)
    again = _decode(Path("content/asia/edge.md"), _encode(post), zone)
    assert post.date is not None and again.date is not None
    assert iso_date(again.date) == iso_date(post.date)
    assert post.date.utcoffset() == post.date.astimezone(dt.UTC).astimezone(zone).utcoffset()


@settings(max_examples=400, deadline=None)
@given(date=date_texts(), updated=date_texts(), zone=st.sampled_from(ZONES))
def test_a_date_is_accepted_everywhere_or_refused_as_path_line(
    date: str, updated: str, zone: str
) -> None:
    site_zone = ZoneInfo(zone)
    text = f"---\ntitle: Edge\ndate: {date}\nupdated: {updated}\n---\n\nBody.\n"
    path = Path("content/asia/edge.md")
    good = {"date": expected_in_range(date, site_zone)}
    good["updated"] = expected_in_range(updated, site_zone)
    try:
        post = parse_post(path, text, "asia", site_zone)
    except BroadsheetErrors as exc:
        refused = {e.message.split(":")[0]: e for e in exc.errors}
        assert set(refused) == {key for key, ok in good.items() if not ok}
        for key, error in refused.items():
            assert error.path == path and error.line == (3 if key == "date" else 4)
            assert "is out of range" in error.message and "1000 to 9998" in error.message
        return
    assert all(good.values())
    assert post.date is not None and post.updated is not None
    for moment in (post.date, post.updated):
        assert moment.year in YEARS and moment.microsecond == 0
        assert moment.utcoffset() == moment.astimezone(site_zone).utcoffset()
        assert iso_date(moment)[:4].isdigit() and format_date(moment).endswith(str(moment.year))
    # The build's cache gives back exactly the post it was given.
    again = _decode(path, _encode(post), site_zone)
    assert (again.date, again.updated) == (post.date, post.updated)
    assert iso_date(again.date) == iso_date(post.date)  # type: ignore[arg-type]
    assert iso_date(again.updated) == iso_date(post.updated)  # type: ignore[arg-type]
    # Listings, feeds, the news sitemap and sorting all take it.
    posts = (post,)
    grouped = listings.every_listing(posts, SiteConfig(root=path.parent))
    assert grouped.years[0].slug == str(post.date.year)
    assert grouped.months[0].slug.startswith(f"{post.date.year}/")
    assert entry_updated(post) > UNDATED_UPDATED
    assert news_posts(posts, post.date) == posts
    assert news_posts(posts, post.updated) in ((), posts)
    sort_key(post)


@pytest.mark.parametrize(
    ("date", "zone"),
    [
        ("0001-01-01", "UTC"),
        ("9999-12-31T23:00:00-12:00", "UTC"),
        ("9998-12-31T23:00:00-12:00", "UTC"),  # 9999-01-01 in the site's zone
        ("1000-01-01T00:00:00+14:00", "UTC"),  # 999-12-31 in the site's zone
        ("0999-12-31", "Etc/GMT+12"),
    ],
)
def test_out_of_range_dates_in_build_check_and_serve(
    project: Path, date: str, zone: str, tmp_path: Path
) -> None:
    settings_file = project / "pyproject.toml"
    settings_file.write_text(
        settings_file.read_text().replace("per_page = 10", f'per_page = 10\ntimezone = "{zone}"')
    )
    write_post(project, "asia/fine.md", "---\ntitle: Fine\ndate: 2025-01-01\n---\n\nText.\n")
    post = write_post(project, "asia/edge.md", f"---\ntitle: Edge\ndate: {date}\n---\n\nText.\n")
    expected = f"content/asia/edge.md:3: date: '{date}' is out of range"
    built = run(["build"])
    assert built.code == 1 and expected in built.err, built
    checked = run(["check"])
    assert checked.code == 1 and expected in checked.out, checked
    dev = DevBuilder(project, tmp_path / "dev")
    try:
        result = dev.rebuild()
        assert not result.ok and expected in result.error
        post.write_text("---\ntitle: Edge\ndate: 2024-02-29\n---\n\nText.\n")
        assert dev.rebuild().ok  # the next save recovers
        assert (tmp_path / "dev/asia/edge/index.html").is_file()
    finally:
        dev.close()


def test_the_edge_dates_build_and_stay_identical_through_the_cache(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The earliest and latest dates, in the zones furthest from UTC, with "now" at the
    latest SOURCE_DATE_EPOCH: a cold build, then a cached one, give the same bytes."""
    from broadsheet.config import LATEST_EPOCH
    from tests.sitecheck import tree_bytes

    settings_file = project / "pyproject.toml"
    settings_file.write_text(
        settings_file.read_text().replace("per_page = 10", 'per_page = 10\ntimezone = "Etc/GMT+12"')
    )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(LATEST_EPOCH))
    dates = ["1000-01-01", "1000-01-02T00:00:00+11:00", "9998-12-30T23:59:59.999999-12:00"]
    for number, date in enumerate(dates):
        write_post(
            project,
            f"asia/edge-{number}.md",
            f"---\ntitle: Edge {number}\ndate: {date}\nupdated: {date}\n---\n\nText.\n",
        )
    write_post(project, "america/undated.md", "---\ntitle: Undated\n---\n\nText.\n")
    assert run(["build"]).code == 0
    cold = tree_bytes(project / "site")
    (project / "content/america/undated.md").write_text("---\ntitle: Undated 2\n---\n\nText.\n")
    assert run(["build"]).code == 0
    (project / "content/america/undated.md").write_text("---\ntitle: Undated\n---\n\nText.\n")
    assert run(["build"]).code == 0
    assert tree_bytes(project / "site") == cold
    for name in ("feed.xml", "sitemap.xml", "news-sitemap.xml", "asia/feed.xml"):
        ET.fromstring(cold[name])
    assert {"archive/1000/index.html", "archive/9998/12/index.html"} <= set(cold)
    feed = cold["feed.xml"].decode()
    assert "9998-12-30T23:59:59-12:00" in feed and "0999-12-31T00:00:00+00:00" in feed


@pytest.mark.parametrize(
    "value", ["253402300800", "²", "١٢", "-5", "1 2", "1e9", "9" * 5000, "0x10", "+5"]
)
def test_a_bad_source_date_epoch_is_a_clear_error(
    project: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    write_post(project, "asia/fine.md", "---\ntitle: Fine\ndate: 2025-01-01\n---\n\nText.\n")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    for command in (["build"], ["check"]):
        result = run(command)
        assert result.code == 1
        assert result.err.startswith("error: SOURCE_DATE_EPOCH "), result.err
        assert len(result.err) < 300


@pytest.mark.parametrize("value", ["0", " 1700000000 ", "253370764799"])
def test_good_source_date_epochs(
    project: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    write_post(project, "asia/fine.md", "---\ntitle: Fine\ndate: 2025-01-01\n---\n\nText.\n")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    assert run(["build"]).code == 0


@pytest.mark.parametrize("line", ["²", "١٢", "7", "x", ""])
def test_an_odd_source_line_number_orders_undated_posts(project: Path, line: str) -> None:
    """`source: raw/x.txt:²` (an undated post's place in its source) crashed the build."""
    write_post(project, "asia/a.md", f'---\ntitle: A\nsource: "raw/x.txt:{line}"\n---\n\nText.\n')
    write_post(project, "asia/b.md", '---\ntitle: B\nsource: "raw/x.txt:3"\n---\n\nText.\n')
    assert run(["build"]).code == 0


def test_a_skipped_local_time_shows_alike_in_a_cold_build_and_the_next(tmp_path: Path) -> None:
    """The whole build: a post dated in the hour the clocks skip, then another post
    edited; the site equals a cold build of the same files."""
    from tests.conftest import PYPROJECT, lay_out
    from tests.publish.test_incremental import cold, edit, warm
    from tests.sitecheck import tree_bytes

    settings = PYPROJECT.replace(
        "per_page = 10\n", 'per_page = 10\ntimezone = "America/New_York"\n'
    )
    project = lay_out(tmp_path / "project", settings)
    page = "---\ntitle: {0}\ndate: {1}\n---\n\nThe {0} story.\n"
    write_post(project, "asia/gap.md", page.format("Gap", "2021-03-14 02:30"))
    other = write_post(project, "asia/other.md", page.format("Other", "2021-03-10"))
    warm(project)
    edit(other, "\n\n", "\n\nA new sentence.\n\n")
    warm(project)
    site = tree_bytes(project / "site")
    assert site == cold(project)
    assert any(b"2021-03-14T03:30:00-04:00" in data for data in site.values())
