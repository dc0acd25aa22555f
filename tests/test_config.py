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
        ("per_page = 'ten'", "per_page must be a whole number, not 'ten'"),
        ("title = 5", "title must be text, not 5"),
        ("per_page = 0", "per_page must be at least 1"),
        ("base_url = '/archive/'", "base_url must be an absolute http(s) URL"),
        ("timezone = 'Mars/Olympus'", "is not a known time zone"),
        ("sections = ['asia']", "must map section slugs"),
        ("timezone = 'America'", "is not a known time zone"),  # a folder of zones
        ("base_url = 'https://example.com//archive/'", "must not have '//' in its path"),
        ("base_url = 'https://[::1/'", "base_url must be an absolute http(s) URL"),
        ("base_url = 'https://example.com:99999/'", "base_url must be an absolute http(s) URL"),
        ("base_url = ' https://example.com/ '", "must be printable ASCII, with no spaces"),
        ("base_url = 'https://exa mple.com/'", "must be printable ASCII, with no spaces"),
        ("base_url = 'https://bücher.example/'", "a host in another script is written as xn--"),
        ("base_url = 'https://example.com/%zz/'", "has a '%' that starts no escape"),
        ("base_url = 'https://u:pw@example.com/'", "must not hold a user name or password"),
        ("base_url = 'https://example.com/a/../b/'", "must not have '.' or '..' in its path"),
        ("language = 'english please'", "language must be a language tag such as 'en'"),
        ("description = '  '", "description must not be empty"),
        (
            "[tool.broadsheet.sections]\nasia = 'Asia'\ntitle = 'My Paper'",
            "title is a setting, not a section: move the line above [tool.broadsheet.sections]",
        ),
        ("[tool.broadsheet.sections]\ntags = 'Tags'", "'tags' cannot be a section"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(BroadsheetError) as caught:
        load_config(write(tmp_path, table))
    assert message in str(caught.value)
    line = table.count("\n") + 2  # the table's last line sets what is wrong
    assert str(caught.value).startswith(f"{tmp_path / 'pyproject.toml'}:{line}: ")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        # as [tool.broadsheet]'s own key, a dotted key, a quoted one, an inline table's
        ('[project]\nname = "x"\n\n[tool.broadsheet]\ntitle = ""\n', 5, "title must not"),
        ("[tool]\nbroadsheet.per_page = 0\n", 2, "per_page must be at least 1"),
        ('[tool.broadsheet]\n"base_url" = "x" # a comment\n', 2, "base_url must be an"),
        ('[tool.broadsheet]\ntitle = "T"\nsections = { asia = "Asia", 9 = "" }\n', 3, "9 needs"),
        ('[tool.broadsheet.sections]\nasia = "Asia"\n"Far East" = "F"\n', 3, "not a slug"),
        ("[tool.broadsheet.images]\nquality = 75\nwidth = [1]\n", 3, "unknown key 'width'"),
        ("[tool.broadsheet.images]\n\nquality = 0\n", 3, "quality must be a whole number"),
        # a line in a multi-line string is no setting; the one after it is
        ('[tool.broadsheet]\ndescription = """\ntitle = ""\n"""\ntitle = ""\n', 5, "title"),
        ('[tool.broadsheet]\ntimezone = "Mars/Olympus"\n', 2, "not a known time zone"),
        ('[tool.broadshet]\ntitle = "T"\n', 1, "did you mean [tool.broadsheet]"),
        ("[tool]\nbroadsheet = 5\n", 2, "[tool.broadsheet] must be a table"),
        ("tool = 5\n", 1, "tool must be a table"),
        ('[tool.broadsheet]\ntitle = "T"\nper_page = \n', 3, "not valid TOML: Invalid value"),
    ],
)
def test_a_bad_setting_is_named_at_its_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    with pytest.raises(BroadsheetError) as caught:
        load_config(tmp_path)
    assert (caught.value.path, caught.value.line) == (tmp_path / "pyproject.toml", line)
    assert message in caught.value.message


def test_a_bad_value_from_the_command_line_is_named_by_its_option_not_a_line(
    tmp_path: Path,
) -> None:
    write(tmp_path, 'title = "T"\nbase_url = "https://example.org/"')
    with pytest.raises(BroadsheetError) as caught:
        load_config(tmp_path, {"base_url": "ftp://example.org/"})
    assert str(caught.value).startswith("--base-url: base_url must be an absolute http(s) URL")


@pytest.mark.parametrize("name", ["[tool.broadshet]", "[broadsheet]", "[tool.Broadsheet]"])
def test_a_misspelt_settings_table_is_an_error_not_ignored(tmp_path: Path, name: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f'{name}\ntitle = "My Paper"\n')
    with pytest.raises(BroadsheetError) as caught:
        load_config(tmp_path)
    assert f"{name}: did you mean [tool.broadsheet]?" in str(caught.value)


def test_a_tool_that_is_no_table_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("tool = 5\n")
    with pytest.raises(BroadsheetError, match="tool must be a table"):
        load_config(tmp_path)


def test_a_bad_value_from_the_command_line_is_named_by_its_option(tmp_path: Path) -> None:
    with pytest.raises(BroadsheetError) as caught:
        load_config(write(tmp_path, 'title = "T"'), {"base_url": "example.com"})
    assert str(caught.value).startswith("--base-url: base_url must be an absolute")
    assert "pyproject.toml" not in str(caught.value)


def test_a_command_in_a_folder_of_the_project_works_on_the_project(tmp_path: Path) -> None:
    from broadsheet.config import find_root

    write(tmp_path, 'title = "T"')
    (tmp_path / "content/asia").mkdir(parents=True)
    assert find_root(tmp_path / "content/asia") == tmp_path
    elsewhere = tmp_path.parent / f"{tmp_path.name}-not-a-project"
    elsewhere.mkdir()
    assert find_root(elsewhere) == elsewhere


def test_settings_that_are_not_utf8_are_named_at_the_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b'[tool.broadsheet]\ntitle = "Caf\xe9"\n')
    with pytest.raises(BroadsheetError) as caught:
        load_config(tmp_path)
    assert str(caught.value).endswith("pyproject.toml:2: not UTF-8 text: save it as UTF-8")
