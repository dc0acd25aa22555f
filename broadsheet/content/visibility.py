"""Drafts and scheduled posts: left out of a build, shown (with a badge) by serve."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

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
