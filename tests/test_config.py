from pathlib import Path

import pytest

from broadsheet.config import load_config
from broadsheet.errors import BroadsheetError


def write(root: Path, table: str) -> Path:
    (root / "pyproject.toml").write_text(f"[tool.broadsheet]\n{table}\n", encoding="utf-8")
    return root


def test_defaults_apply_without_settings(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.per_page == 10
    assert config.base_path == "/"
    assert config.timezone == "UTC"


def test_sections_keep_their_order_and_names(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, '[tool.broadsheet.sections]\nasia = "Asia"\nmiddle-east = "Middle East"')
    )
    assert [s.slug for s in config.sections] == ["asia", "middle-east"]
    assert config.section_name("middle-east") == "Middle East"
    assert config.section_name("europe", "EUROPE") == "Europe"


def test_base_path_comes_from_the_base_url(tmp_path: Path) -> None:
    config = load_config(tmp_path, {"base_url": "https://example.github.io/archive"})
    assert config.base_path == "/archive/"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("titel = 'x'", "unknown key 'titel' (did you mean 'title'?)"),
        ("per_page = 'ten'", "per_page must be a int"),
        ("per_page = 0", "per_page must be at least 1"),
        ("base_url = '/archive/'", "base_url must be an absolute http(s) URL"),
        ("timezone = 'Mars/Olympus'", "is not a known time zone"),
        ("sections = ['asia']", "must map section slugs"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(BroadsheetError) as caught:
        load_config(write(tmp_path, table))
    assert message in str(caught.value)
    assert "pyproject.toml" in str(caught.value)
