"""What the host allows: the site's size against GitHub Pages' limits, warned of early."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass

MB = 1_000_000
# GitHub Pages: a published site of at most 1 GB; git warns of files over 50 MB and
# refuses those over 100 MB. A warning comes once a site or file is past WARN_SHARE of
# a limit, while there is still room to act.
SITE_LIMIT = 1_000 * MB
FILE_LIMIT = 100 * MB
WARN_SHARE = 0.8


KEPT = 20  # the largest files a SiteSize keeps, to name them


@dataclass(frozen=True)
class SiteSize:
    """How large the built site is, and its files large enough to name."""

    total: int  # bytes, every file of the site
    # its largest files over file_warned() (path in the site, bytes), largest first
    largest: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, sizes: dict[str, int]) -> SiteSize:
        return cls.summed(sum(sizes.values()), sizes.items())

    @classmethod
    def summed(cls, total: int, sizes: Iterable[tuple[str, int]]) -> SiteSize:
        """The size of a site of `total` bytes with the files whose `sizes` are given
        (only those over file_warned() are looked at: the site's other files may be
        left out)."""
        least = file_warned()
        near = [(name, size) for name, size in sizes if size > least]
        ranked = heapq.nlargest(KEPT, near, key=lambda item: (item[1], item[0]))
        return cls(total, tuple(ranked))

    def warnings(self) -> list[str]:
        """What to tell the user before GitHub Pages refuses the site."""
        found = []
        if self.total > SITE_LIMIT * WARN_SHARE:
            verb = "is over" if self.total > SITE_LIMIT else "is close to"
            found.append(
                f"warning: the site is {megabytes(self.total)}, which {verb} GitHub Pages' "
                f"limit of {megabytes(SITE_LIMIT)} a site; see the README for hosts that "
                "take larger sites"
            )
        for path, size in self.largest:
            if size > FILE_LIMIT * WARN_SHARE:
                verb = "is over" if size > FILE_LIMIT else "is close to"
                found.append(
                    f"warning: {path} is {megabytes(size)}, which {verb} GitHub's limit of "
                    f"{megabytes(FILE_LIMIT)} a file"
                )
        return found


def file_warned() -> float:
    """The size over which a file is named in a warning."""
    return FILE_LIMIT * WARN_SHARE


def megabytes(size: int) -> str:
    return f"{size / MB:,.1f} MB"
