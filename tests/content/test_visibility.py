import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from broadsheet.content.visibility import judging_moment, latest
from broadsheet.outputs.sitemaps import news_posts
from tests.outputs.helpers import post

# Zones with clocks set back and forward (by an hour; by half an hour on Lord Howe; a
# whole day skipped in Apia's 2011), and one without.
ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Apia", "UTC"]
# Seconds since 1970 from 2000 to 2030, and moments within two hours of a zone's change.
MOMENTS = st.integers(946_684_800, 1_893_456_000)


def _changes(zone: ZoneInfo) -> list[int]:
    """Instants (seconds) at which `zone`'s offset changes, 2010 to 2012."""
    found, start = [], int(datetime(2010, 1, 1, tzinfo=UTC).timestamp())
    previous = datetime.fromtimestamp(start, zone).utcoffset()
    for moment in range(start, start + 3 * 366 * 86_400, 900):
        offset = datetime.fromtimestamp(moment, zone).utcoffset()
        if offset != previous:
            found.append(moment)
            previous = offset
    return found


CHANGES = {name: _changes(ZoneInfo(name)) for name in ZONES}


@st.composite
def near_changes(draw: st.DrawFn, name: str) -> int:
    changes = CHANGES[name]
    if not changes or draw(st.booleans()):
        return draw(MOMENTS)
    return draw(st.sampled_from(changes)) + draw(st.integers(-7_200, 7_200))


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, int, int, bool]:
    name = draw(st.sampled_from(ZONES))
    return name, draw(near_changes(name)), draw(near_changes(name)), draw(st.booleans())


@settings(max_examples=3000, deadline=None)
@given(cases())
def test_posts_are_judged_against_the_moment_as_their_instants_are(
    case: tuple[str, int, int, bool],
) -> None:
    """A post is scheduled exactly when its instant is after the build's: whether the
    build's moment came in UTC (SOURCE_DATE_EPOCH) or in the site's zone, and when
    either falls in the hour a clock set back repeats (where wall times alone mislead)."""
    name, post_at, now_at, in_utc = case
    zone = ZoneInfo(name)
    post = datetime.fromtimestamp(post_at, zone)  # (as posts' dates are made)
    now = datetime.fromtimestamp(now_at, UTC if in_utc else zone)
    moment = judging_moment(now, zone)
    assert moment.timestamp() == now_at  # (not ==: never true across zones in a repeated hour)
    assert (post > moment) == (post_at > now_at)
    assert (post <= moment) == (post_at <= now_at)
    assert (moment - timedelta(0) < post) == (now_at < post_at)


def test_the_moment_is_in_the_zone_of_the_posts_but_in_a_repeated_hour() -> None:
    """In the site's zone (compared by wall times, at once) but for a moment in the hour
    New York's clocks repeat on 7 November 2010 (01:00 to 02:00 twice), in UTC."""
    zone = ZoneInfo("America/New_York")
    plain = judging_moment(datetime(2010, 7, 1, 12, tzinfo=UTC), zone)
    assert plain.tzinfo is zone
    repeated = judging_moment(datetime(2010, 11, 7, 5, 30, tzinfo=UTC), zone)  # 01:30 EDT
    assert repeated.tzinfo is UTC
    again = judging_moment(datetime(2010, 11, 7, 6, 30, tzinfo=UTC), zone)  # 01:30 EST
    assert again.tzinfo is UTC


@st.composite
def dates(draw: st.DrawFn) -> tuple[str, list[int]]:
    name = draw(st.sampled_from(ZONES))
    return name, draw(st.lists(near_changes(name), min_size=1, max_size=6))


@settings(max_examples=3000, deadline=None)
@given(dates())
def test_the_latest_date_is_the_latest_instant(case: tuple[str, list[int]]) -> None:
    """What a listing's, a feed's or the news sitemap's newest date is: the latest
    instant, also where two dates fall in the hour a clock set back repeats (one at
    01:50 before the change is earlier than one at 01:10 after it)."""
    name, instants = case
    zone = ZoneInfo(name)
    found = latest(datetime.fromtimestamp(moment, zone) for moment in instants)
    assert found is not None and found.timestamp() == max(instants)
    assert latest([]) is None


@st.composite
def news_cases(draw: st.DrawFn) -> tuple[str, list[int], int, bool]:
    """Posts near a zone's change, and a build's moment near it too, or two days after
    it (the window's start near the change, and one end each side of it)."""
    name = draw(st.sampled_from(ZONES))
    moments = draw(st.lists(near_changes(name), min_size=1, max_size=6))
    now_at = draw(near_changes(name)) + draw(st.sampled_from([0, 48 * 3600]))
    return name, moments, now_at, draw(st.booleans())


@settings(max_examples=1000, deadline=None)
@given(news_cases())
def test_the_news_sitemap_holds_the_posts_of_the_two_days_before_its_moment(
    case: tuple[str, list[int], int, bool],
) -> None:
    """The posts of the 48 hours up to the build's moment (their instants), given in
    UTC (SOURCE_DATE_EPOCH) or in the site's zone, near clocks set back or forward."""
    name, moments, now_at, in_utc = case
    zone = ZoneInfo(name)
    posts = tuple(
        dataclasses.replace(post(f"p{n}"), date=datetime.fromtimestamp(at, zone))
        for n, at in enumerate(moments)
    )
    now = datetime.fromtimestamp(now_at, UTC if in_utc else zone)
    start = now_at - 48 * 3600 if in_utc else (now - timedelta(days=2)).timestamp()
    wanted = {p.path for p, at in zip(posts, moments, strict=True) if start <= at <= now_at}
    assert {p.path for p in news_posts(posts, now, zone)} == wanted
    if in_utc:  # (as it was without the zone: every post compared by its instant)
        assert news_posts(posts, now, zone) == news_posts(posts, now)
