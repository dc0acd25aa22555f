"""Drafts and scheduled posts: left out of a build, shown (with a badge) by serve; and
the posts' dates (all in the site's zone) compared as the instants they are."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo

from broadsheet.content.post import Post


def status(post: Post, now: datetime) -> str:
    """ "draft", "scheduled" (dated in the future), or "" for a published post."""
    if post.draft:
        return "draft"
    if post.date is not None and post.date > now:
        return "scheduled"
    return ""


def visible(posts: Iterable[Post], now: datetime, include_drafts: bool) -> list[Post]:
    return [p for p in posts if include_drafts or not status(p, now)]


def judging_moment(now: datetime, zone: tzinfo) -> datetime:
    """`now`, as the posts' dates (all in `zone`: see frontmatter) are best compared
    with it: in `zone` too, unless it falls in the hour a clock set back repeats.

    Python compares two datetimes of one tzinfo by their wall times alone, with no
    offset worked out: twenty times as fast as two of different zones (a build's
    SOURCE_DATE_EPOCH is in UTC), and `status` compares every post's date with it
    several times a build (15 ms of a deploy at 10,000 articles). Wall times order as
    their instants do but where they repeat: a post's date is never in a gap (each is
    made from its instant), and one in the repeated hour is ordered rightly against any
    moment outside it. A `now` inside it is compared by instants, in UTC."""
    local = now.astimezone(zone)
    return now.astimezone(UTC) if _repeated(local) else local


def latest(moments: Iterable[datetime]) -> datetime | None:
    """The latest of `moments` (posts' dates: one zone), or None if there are none.
    Taken by wall times, as two datetimes of one zone compare, unless the latest wall
    time falls in the hour a clock set back repeats: a date in it may be an hour later
    than another's with a later wall time, so there they are taken by their instants.
    (Outside that hour the latest wall time is the latest instant: see judging_moment.)"""
    found = list(moments)
    if not found:
        return None
    newest = max(found)
    return max(found, key=datetime.timestamp) if _repeated(newest) else newest


def _repeated(moment: datetime) -> bool:
    """Whether the wall time of `moment` is in an hour its zone's clock repeats (set
    back): there it stands for two instants, told apart by `fold` alone."""
    return moment.replace(fold=1 - moment.fold).utcoffset() != moment.utcoffset()
