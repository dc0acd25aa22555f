from pathlib import Path

import jinja2
import jinja2.bccache
import pytest

from broadsheet.errors import BroadsheetError
from broadsheet.render.templates import make_environment, render_template
from broadsheet.sealed import write_sealed


def test_autoescaping_is_on(tmp_path: Path) -> None:
    (tmp_path / "t.html").write_text("<p>{{ title }}</p>")
    env = make_environment(tmp_path, {})
    assert (
        render_template(env, "t.html", {"title": "<b>&</b>"}) == "<p>&lt;b&gt;&amp;&lt;/b&gt;</p>"
    )


def test_helpers_reach_imported_macros_and_a_templates_own_globals_stay_its_own(
    tmp_path: Path,
) -> None:
    # Each template takes the environment's globals as they are when it loads (a dict,
    # not Jinja's ChainMap): a helper set after the environment was made, as the build's
    # are, is seen by a page and by the macros it imports; globals given to one template
    # reach neither the environment nor the others.
    (tmp_path / "_m.html").write_text(
        "{% macro link(p) %}<a href={{ p|u }}>{{ who }}</a>{% endmacro %}"
    )
    (tmp_path / "t.html").write_text('{% from "_m.html" import link %}{{ link("x") }} {{ who }}')
    env = make_environment(tmp_path, {"who": "first"})
    env.globals["who"] = "site"
    env.filters["u"] = lambda p: f"/archive/{p}"
    assert render_template(env, "t.html", {}) == "<a href=/archive/x>site</a> site"
    own = env.get_template("t.html", globals={"who": "own"})
    assert own.render() == "<a href=/archive/x>site</a> own"
    assert env.globals["who"] == "site"
    assert env.from_string("{{ who }}").render() == "site"


def test_an_undefined_name_fails_naming_the_template_and_line(tmp_path: Path) -> None:
    (tmp_path / "t.html").write_text("<p>ok</p>\n<p>{{ titel }}</p>\n")
    env = make_environment(tmp_path, {})
    with pytest.raises(BroadsheetError) as caught:
        render_template(env, "t.html", {"title": "x"})
    assert str(caught.value).endswith(
        "t.html:2: template error: UndefinedError: 'titel' is undefined"
    )


def test_a_missing_include_names_the_line_that_includes_it(tmp_path: Path) -> None:
    (tmp_path / "t.html").write_text("<p>ok</p>\n<p>ok</p>\n{% include '_gone.html' %}\n")
    env = make_environment(tmp_path, {})
    with pytest.raises(BroadsheetError) as caught:
        render_template(env, "t.html", {})
    assert str(caught.value).endswith("t.html:3: template '_gone.html' not found")


def test_a_syntax_error_names_the_template_and_line(tmp_path: Path) -> None:
    (tmp_path / "t.html").write_text("<p>ok</p>\n{% if %}\n")
    env = make_environment(tmp_path, {})
    with pytest.raises(BroadsheetError, match=r"t\.html:2: template error"):
        render_template(env, "t.html", {})


@pytest.mark.parametrize("name", ["base.html", "section.html", "article.html", "_card.html"])
def test_a_build_with_a_broken_template_names_it_and_keeps_the_last_site(
    seeded: Path, name: str
) -> None:
    """The build reads every template (to sign pages) before it renders one: a syntax
    error met there too is `path:line`, never a traceback, and the last site stays."""
    from tests.conftest import run
    from tests.sitecheck import tree_bytes

    assert run(["build"]).code == 0
    before = tree_bytes(seeded / "site")
    template = seeded / "templates" / name
    good = template.read_bytes()
    lines = good.count(b"\n")
    for broken, message in (
        (b"{% broken\n", "template error: "),
        (b"<p>\xe9t\xe9</p>\n", "not UTF-8 text: save the template as UTF-8"),  # Latin-1
    ):
        template.write_bytes(good + broken)
        built = run(["build"])
        assert built.code == 1
        assert f"templates/{name}:{lines + 1}: {message}" in built.err, built.err
        assert "Traceback" not in built.err
        assert tree_bytes(seeded / "site") == before


def _stale(env: jinja2.Environment, folder: Path, source: str, code_of: str) -> None:
    """Put in `env`'s compiled-template cache, as the code of "t.html" whose source is
    `source`, the code of another source (as Jinja's own checks would accept it)."""
    cache = env.bytecode_cache
    assert isinstance(cache, jinja2.FileSystemBytecodeCache)
    key = cache.get_cache_key("t.html", str(folder / "t.html"))
    bucket = jinja2.bccache.Bucket(env, key, cache.get_source_checksum(source))
    bucket.code = env.compile(code_of, "t.html", str(folder / "t.html"))
    write_sealed(Path(cache._get_cache_filename(bucket)), bucket.bytecode_to_string())


def test_compiled_templates_are_kept_and_used_only_by_the_same_jinja(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    templates, compiled = tmp_path / "templates", tmp_path / "compiled"
    templates.mkdir()
    (templates / "t.html").write_text("new {{ x }}")
    env = make_environment(templates, {}, compiled)
    assert render_template(env, "t.html", {"x": 1}) == "new 1"
    assert len(list(compiled.iterdir())) == 1  # kept for the next build
    _stale(env, templates, "new {{ x }}", "old {{ x }}")
    again = make_environment(templates, {}, compiled)
    assert render_template(again, "t.html", {"x": 1}) == "old 1"  # what was kept: used
    # Another Jinja may compile the same source otherwise: what this one kept is not run.
    monkeypatch.setattr(jinja2, "__version__", "0.0.0")
    upgraded = make_environment(templates, {}, compiled)
    assert render_template(upgraded, "t.html", {"x": 1}) == "new 1"


def test_check_finds_every_broken_template_before_a_page_is_rendered(seeded: Path) -> None:
    """`check` is the author's look before a build: a template that does not parse,
    is not UTF-8, names one that does not exist, or extends itself in a loop is an
    error at its `path:line`, even in a template no page uses yet."""
    from tests.conftest import run

    templates = seeded / "templates"
    assert run(["check"]).code == 0
    article = (templates / "article.html").read_text(encoding="utf-8")
    (templates / "article.html").write_text(article + "{% if %}\n", encoding="utf-8")
    (templates / "extra.html").write_text(
        "<p>a</p>\n{% include 'nope.html' %}{% include 'maybe.html' ignore missing %}\n"
        "{% from '_gone.html' import x %}{% include name %}\n",
        encoding="utf-8",
    )
    (templates / "latin.html").write_bytes(b"<p>ok</p>\n<p>\xe9t\xe9</p>\n")
    (templates / "one.html").write_text("{% extends 'two.html' %}\n", encoding="utf-8")
    (templates / "two.html").write_text("\n{% extends 'one.html' %}\n", encoding="utf-8")
    (templates / "self.html").write_text("{% extends 'self.html' %}\n", encoding="utf-8")
    result = run(["check"])
    assert result.code == 1
    lines = article.count("\n") + 1
    assert result.out.splitlines() == [
        f"templates/article.html:{lines}: template error: Expected an expression, got "
        "'end of statement block'",
        "templates/extra.html:2: template 'nope.html' not found",
        "templates/extra.html:3: template '_gone.html' not found",
        "templates/latin.html:2: not UTF-8 text: save the template as UTF-8",
        "templates/one.html:1: template error: templates extend each other in a loop: "
        "one.html -> two.html -> one.html",
        "templates/self.html:1: template error: templates extend each other in a loop: "
        "self.html -> self.html",
    ]


def test_a_template_mistake_that_shows_on_some_pages_names_the_page(seeded: Path) -> None:
    """A mistake that only some posts reach (here: one post's missing author, reached
    only on its page) names the page being rendered as well as the template's line; one
    that loops says so."""
    from tests.conftest import run, write_post

    write_post(seeded, "asia/nobody.md", "---\ntitle: Nobody\ndate: 2024-01-02\n---\n\nText.\n")
    templates = seeded / "templates"
    article = (templates / "article.html").read_text(encoding="utf-8")
    at = article.index("{% endblock %}")
    (templates / "article.html").write_text(
        article[:at]
        + '{% if post.title == "Nobody" %}{{ post.author.upper() }}{% endif %}'
        + article[at:],
        encoding="utf-8",
    )
    line = article[:at].count("\n") + 1
    result = run(["build"])
    assert result.code == 1
    assert (
        f"templates/article.html:{line}: template error: UndefinedError: 'None' has no "
        "attribute 'upper' (rendering /asia/nobody/)"
    ) in result.err, result.err
    (templates / "article.html").write_text(article, encoding="utf-8")
    (templates / "section.html").write_text("{% extends 'section.html' %}\n", encoding="utf-8")
    result = run(["build"])
    assert result.code == 1
    assert "templates/section.html:1: template error: templates extend, include or call each " in (
        result.err
    )
    assert "Traceback" not in result.err and "RecursionError" not in result.err
