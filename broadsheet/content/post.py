"""The Post record: one article, as its Markdown file describes it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

WORDS_PER_MINUTE = 230
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Post:
    path: Path
    title: str
    section: str  # the section's label as written, e.g. "ASIA"
    section_slug: str  # its folder, e.g. "asia"
    slug: str
    date: datetime | None  # aware, in the site's time zone; None when the source gave none
    has_time: bool
    updated: datetime | None
    author: str | None
    tags: tuple[str, ...]
    summary: str | None
    source: str | None
    draft: bool
    body: str  # Markdown
    body_line: int  # the file line the body starts on
    digest: str = ""  # a hash of the whole file: what changes when the post changes

    @property
    def url_path(self) -> str:
        return f"{self.section_slug}/{self.slug}/"

    @property
    def word_count(self) -> int:
        return len(_WORD.findall(self.body))

    @property
    def reading_minutes(self) -> int:
        return max(1, -(-self.word_count // WORDS_PER_MINUTE))
