"""[tool.broadsheet.images]: sensible defaults, and a clear error for a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from broadsheet.config import ImageSettings, load_config
from broadsheet.errors import BroadsheetError


def settings(root: Path, table: str) -> ImageSettings:
    (root / "pyproject.toml").write_text(f"[tool.broadsheet.images]\n{table}\n", encoding="utf-8")
    return load_config(root).images


def test_defaults(tmp_path: Path) -> None:
    found = load_config(tmp_path).images
    assert found == ImageSettings()
    assert (
        found.formats == ("avif", "webp")
        and max(found.widths) >= 1200
        and 1 <= found.quality <= 100
    )


def test_values_are_taken_sorted_and_without_repeats(tmp_path: Path) -> None:
    found = settings(tmp_path, 'widths = [800, 400, 800]\nformats = ["webp", "avif"]\nquality = 60')
    assert (found.widths, found.formats, found.quality) == ((400, 800), ("avif", "webp"), 60)
    assert settings(tmp_path, "formats = []").formats == ()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("widths = []", "widths must be a list of whole numbers of pixels from 16 to 10000"),
        ("widths = [0]", "widths must be a list"),
        ("widths = [800.5]", "widths must be a list"),
        ("widths = 800", "widths must be a list"),
        ("widths = [true]", "widths must be a list"),
        ('formats = ["png"]', "formats must be a list of avif and webp"),
        ('formats = "avif"', "formats must be a list"),
        ("quality = 0", "quality must be a whole number from 1 to 100, not 0"),
        ("quality = 101", "quality must be a whole number from 1 to 100"),
        ('quality = "high"', "quality must be a whole number"),
        ("max_pixels = 0", "max_pixels must be a whole number from 1 to 178956970"),
        ("max_pixels = 500000000", "max_pixels must be a whole number"),
        ("qualty = 80", "unknown key 'qualty' (did you mean 'quality'?)"),
    ],
)
def test_bad_values_name_pyproject(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(BroadsheetError) as caught:
        settings(tmp_path, table)
    assert message in str(caught.value)
    assert caught.value.path == tmp_path / "pyproject.toml"


def test_images_must_be_a_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.broadsheet]\nimages = "yes"\n', encoding="utf-8"
    )
    with pytest.raises(BroadsheetError, match=r"\[tool.broadsheet.images\] must be a table"):
        load_config(tmp_path)
