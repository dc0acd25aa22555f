from pathlib import Path

import pytest

from broadsheet.errors import BroadsheetError
from broadsheet.render.templates import make_environment, render_template


def test_autoescaping_is_on(tmp_path: Path) -> None:
    (tmp_path / "t.html").write_text("<p>{{ title }}</p>")
    env = make_environment(tmp_path, {})
    assert (
        render_template(env, "t.html", {"title": "<b>&</b>"}) == "<p>&lt;b&gt;&amp;&lt;/b&gt;</p>"
    )


def test_an_undefined_name_fails_naming_the_template_and_line(tmp_path: Path) -> None:
    (tmp_path / "t.html").write_text("<p>ok</p>\n<p>{{ titel }}</p>\n")
    env = make_environment(tmp_path, {})
    with pytest.raises(BroadsheetError) as caught:
        render_template(env, "t.html", {"title": "x"})
    assert str(caught.value).endswith(
        "t.html:2: template error: UndefinedError: 'titel' is undefined"
    )


def test_a_syntax_error_names_the_template_and_line(tmp_path: Path) -> None:
    (tmp_path / "t.html").write_text("<p>ok</p>\n{% if %}\n")
    env = make_environment(tmp_path, {})
    with pytest.raises(BroadsheetError, match=r"t\.html:2: template error"):
        render_template(env, "t.html", {})
