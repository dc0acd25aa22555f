"""The build reports the site's size and warns before GitHub Pages' limits are crossed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from broadsheet.publish import hosting
from broadsheet.publish.hosting import MB, SiteSize
from tests.conftest import Result


def test_a_site_well_within_the_limits_gets_no_warning() -> None:
    sizes = {f"{n}/index.html": 7 * MB for n in range(100)}
    assert SiteSize.of({**sizes, "video.mp4": 80 * MB}).warnings() == []


@pytest.mark.parametrize(
    ("total", "verb"), [(801 * MB, "is close to"), (1_000 * MB + 1, "is over")]
)
def test_a_site_near_or_over_a_gigabyte_is_warned_of(total: int, verb: str) -> None:
    sizes = {f"{n}.html": total // 20 for n in range(20)}
    sizes["0.html"] += total % 20
    (warning,) = SiteSize.of(sizes).warnings()
    assert f"{verb} GitHub Pages' limit of 1,000.0 MB" in warning and "README" in warning


@pytest.mark.parametrize(("size", "verb"), [(81 * MB, "is close to"), (101 * MB, "is over")])
def test_a_file_near_or_over_100_mb_is_named(size: int, verb: str) -> None:
    sizes = {"index.html": 1_000, "video/big.mp4": size, "video/bigger.mp4": size + 1}
    first, second = SiteSize.of(sizes).warnings()
    assert first.startswith("warning: video/bigger.mp4 is ") and verb in first
    assert second.startswith("warning: video/big.mp4 is ") and verb in second


def test_the_build_warns_with_the_site_built_and_every_build_after(
    corpus: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    big = corpus / "static/media/map.bin"
    big.parent.mkdir(parents=True)
    big.write_bytes(b"\0" * 900_000)
    monkeypatch.setattr(hosting, "FILE_LIMIT", 1_000_000)  # the limits, scaled down
    monkeypatch.setattr(hosting, "SITE_LIMIT", 10 * MB)
    for _ in range(2):  # cold, then nothing changed: the same warning
        result = cli("build")
        assert result.code == 0
        assert "warning: media/map.bin is 0.9 MB, which is close to" in result.err
        assert "warning: the site" not in result.err
    monkeypatch.setattr(hosting, "SITE_LIMIT", 1_000_000)
    result = cli("build")
    assert result.code == 0 and "which is over GitHub Pages' limit" in result.err
