import hashlib
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from broadsheet.render import markdown
from broadsheet.render.markdown import (
    _converter,
    _prepare,
    excerpt,
    extensions_for,
    pygments_css,
    render_markdown,
)

LONG = "\n\n".join(f"## Part {n}\n\nText {n}." for n in range(1, 4))


def test_fenced_code_is_highlighted_by_pygments() -> None:
    body = render_markdown("```python\ndef f():\n    return 1\n```\n")
    assert '<div class="highlight">' in body.html
    assert '<span class="k">def</span>' in body.html
    assert ".highlight .k" in pygments_css()


def test_the_stylesheet_kept_in_the_cache_is_reused_only_while_whole_and_current(
    tmp_path: Path,
) -> None:
    kept = tmp_path / "pygments.css"
    css = pygments_css(kept)
    assert css == pygments_css()
    header, _, stored = kept.read_text().partition("\n")
    assert stored == css
    key = header.rsplit(" ", 2)[0]  # "/* pygments 2.x: friendly, monokai"
    digest = hashlib.blake2b(b".kept { }\n", digest_size=16).hexdigest()
    # Kept by this Pygments, with its hash: read, not worked out again.
    kept.write_text(f"{key} {digest} */\n.kept {{ }}\n")
    assert pygments_css(kept) == ".kept { }\n"
    # Kept by another version of Pygments: worked out again.
    kept.write_text(f"{key.replace('pygments ', 'pygments 0.', 1)} {digest} */\n.kept {{ }}\n")
    assert pygments_css(kept) == css
    # Not matching its hash: worked out again, and written whole.
    kept.write_text(f"{header}\n.planted {{ }}\n")
    assert pygments_css(kept) == css
    assert kept.read_text() == f"{header}\n{css}"


def test_tables_and_footnotes_render() -> None:
    body = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n\nSee[^1].\n\n[^1]: A note.\n")
    assert "<table>" in body.html
    assert 'class="footnote"' in body.html


def test_long_articles_get_a_table_of_contents_and_short_ones_do_not() -> None:
    assert 'href="#part-3"' in render_markdown(LONG).toc_html
    assert render_markdown("## Only one\n\nText.").toc_html == ""


@pytest.mark.parametrize("emphasis", ["", "*"], ids=["plain prose", "through Markdown"])
def test_a_table_of_contents_from_three_subheadings(emphasis: str) -> None:
    """The README's rule, on both ways an article is rendered (plain prose directly)."""
    for count in range(1, 6):
        text = "".join(f"## Part {n}\n\n{emphasis}Text{emphasis} {n}.\n\n" for n in range(count))
        toc = render_markdown(text).toc_html
        assert (toc != "") == (count >= 3), (count, toc)
        assert toc.count("<a ") == (count if count >= 3 else 0)


def test_the_converter_is_reused_without_leaking_state() -> None:
    render_markdown("Note[^1].\n\n[^1]: First.\n")
    assert "First." not in render_markdown("Plain.\n").html


def test_excerpt_is_plain_text_of_the_first_paragraph() -> None:
    assert excerpt("## Heading\n\nSome **bold** \\*text\\* &amp; more.\n") == (
        "Some bold *text* & more."
    )
    assert excerpt("word " * 100).endswith("…")


def test_choosing_extensions_per_article_changes_no_output() -> None:
    import markdown

    from benchmarks.corpus import generate
    from broadsheet.render.markdown import _converter

    every = ("toc", "fenced_code", "codehilite", "tables", "footnotes", "sane_lists")
    samples = [a.text.split("---\n", 2)[2] for a in generate(30)] + [
        "Text with a | pipe but no table.",
        "    indented code\n\nafter",
        "1. one\n2. two\n\n* star",
        "Note[^n].\n\n[^n]: The note.",
        "~~~\ncode\n~~~",
        "[TOC]\n\n## One\n\n## Two\n\n## Three",
    ]
    for text in samples:
        full = _converter("/", every)
        full.reset()
        assert render_markdown(text).html == full.convert(text), text
    assert isinstance(markdown.__version__, str)


_PIECES = st.sampled_from(
    [
        "word",
        "Trade",
        " ",
        " ",
        "\n",
        "\n\n",
        "  \n",
        "*",
        "**",
        "_",
        "`",
        "``",
        "\\",
        "[",
        "]",
        "(",
        ")",
        "![",
        "[^1]",
        "[^1]: note",
        "[TOC]",
        "[TOC",
        "<",
        ">",
        "&",
        "&amp;",
        "<b>",
        "</b>",
        "<https://example.org>",
        "<a@b.org>",
        "# ",
        "> ",
        "- ",
        "1. ",
        "|",
        "---",
        "~~~",
        "```",
        "    ",
        "[x]: /asia/",
        "/asia/",
        "[the talks](/asia/talks/)",
        "é",
        "’",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_leaving_out_inline_patterns_a_text_cannot_use_changes_nothing(text: str) -> None:
    everything = _converter("/archive/", extensions_for(text), quick=False)
    everything.reset()
    assert render_markdown(text, "/archive/").html == everything.convert(text)


_EVERY = ("toc", "fenced_code", "codehilite", "tables", "footnotes", "sane_lists")
# Markdown's block syntax, and what its patterns must tell apart from it.
_BLOCK_PIECES = st.sampled_from(
    [
        "\n",
        "\n\n",
        "\n  \n",
        "\n   ",
        " ",
        "   ",
        "\t",
        "\r\n",
        "\x02",
        "\x03",
        "=",
        "===",
        "-",
        "---",
        "- - -",
        "*",
        "* * *",
        "___",
        "_",
        "#",
        "## ",
        ">",
        "> ",
        "[",
        "]",
        "]:",
        "[a]: /asia/",
        "[a]",
        "![",
        "!",
        "`",
        "``",
        "\\",
        "\\`",
        "<b>",
        "<div>",
        "</div>",
        "&",
        "&amp;",
        "|",
        "1. ",
        "word",
        "Trade",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_BLOCK_PIECES, max_size=40).map("".join))
@example("--\n\n - -\n   * * *\n    ___")
@example("Title\n===\n\nSub\n- - -\n")
@example("Text\n   ---\nmore\n   * * *")  # rules on a paragraph's later lines
@example("a\\\\`code` ![x] [y] [z]: /asia/\n\n> q")
@example("\x02\t")  # a tab at the start of a line once Markdown drops the \x02
@example(">      =")  # indented code inside a quote
@example("<div></div>[   <div>")  # raw HTML put on a line of its own after two spaces
def test_an_article_renders_as_stock_markdown_with_every_extension(text: str) -> None:
    """The extensions chosen per article, the inline patterns left out and the quick
    tests in front of Markdown's patterns change nothing."""
    stock = _converter("/archive/", _EVERY, quick=False)
    stock.reset()
    _prepare(stock, text, None)  # (images get the same treatment, decoded lazily)
    assert render_markdown(text, "/archive/").html == stock.convert(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_an_excerpt_reads_as_with_stock_markdown(text: str) -> None:
    """Without the unused inline patterns, and with the quick tests, as with neither."""
    import markdown as stock

    quick = excerpt(text)
    plain = stock.Markdown(output_format="html")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(markdown, "_plain_converter", lambda unused=(): plain)
        patch.setattr(markdown, "plain_html", lambda text, base_path: None)
        assert excerpt(text) == quick


@pytest.mark.parametrize("language", ["python", "javascript", "bash", "no-such-language", ""])
def test_code_is_highlighted_as_by_pygments_own_html_formatter(language: str) -> None:
    import markdown as python_markdown

    text = f"Intro.\n\n```{language}\ndef f(x):\n    return x * 2  # <double>\n```\n"
    by_name = python_markdown.Markdown(
        extensions=["fenced_code", "codehilite"],
        extension_configs={"codehilite": {"css_class": "highlight", "guess_lang": False}},
        output_format="html",
    )
    ours = render_markdown(text).html
    assert 'class="highlight"' in ours
    assert render_markdown(text).html == ours  # the shared style tables are reused intact
    assert ours == by_name.convert(text)


_PROSE = st.lists(
    st.sampled_from(
        [
            "Trade",
            "talks",
            "2024",
            "é",
            "北京",
            " ",
            " ",
            "\n",
            "  \n",
            "    ",
            "-",
            "1.",
            "2)",
            ".",
            ",",
            ";",
            ":",
            "'",
            '"',
            "?",
            "(",
            ")",
            "%",
            "$",
            "/",
            "’",
            "“",
            "—",
            "–",
            "=",
            "#",
            "*",
            "_",
            "&",
            "<",
            "[",
        ]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=600, deadline=None)
@given(_PROSE)
@example("1. Trade talks")  # a list
@example("Trade\n-")  # a heading
@example("Trade\n  - talks")
def test_a_plain_paragraph_excerpt_is_what_markdown_makes_of_it(text: str) -> None:
    import html as html_module
    import re as re_module

    block = text.strip()
    if not block or block.startswith(markdown._NOT_PROSE) or "\n\n" in block:
        return  # not a paragraph's text on its own
    converter = markdown._plain_converter()
    converter.reset()
    made = html_module.unescape(re_module.sub(r"<[^>]+>", "", converter.convert(block)))
    expected = " ".join(made.split())
    assert excerpt(text, limit=10_000) == expected


def test_each_extension_is_the_one_markdown_loads_by_its_name() -> None:
    """Made from its own module (no search of the installed packages' entry points), each
    extension is the class Python-Markdown loads for its name, configured alike."""
    from markdown.util import get_installed_extensions

    configs = {"toc": {"toc_depth": "2-3", "marker": ""}, "footnotes": {"UNIQUE_IDS": False}}
    by_name = {point.name: point for point in get_installed_extensions()}  # (Markdown's own)
    for name in _EVERY:
        made = markdown._extension(name, configs)
        loaded = by_name[name].load()(**configs.get(name, {}))
        assert type(made) is type(loaded), name
        assert made.getConfigs() == loaded.getConfigs(), name


def test_an_article_without_code_is_rendered_without_pygments_or_a_package_search() -> None:
    """Rendering prose loads neither Pygments' formatters nor the installed packages'
    metadata (an edit's build rendered its article 50 ms later for them); code does
    load Pygments, and is highlighted."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from broadsheet.render.markdown import render_markdown\n"
        "render_markdown('Prose, a [link](/asia/), a table:\\n\\n| a |\\n|---|\\n| 1 |\\n')\n"
        "print(sorted({'pygments.formatters', 'importlib.metadata'} & set(sys.modules)))\n"
        "html = render_markdown('```python\\nx = 1\\n```\\n').html\n"
        "print('pygments.formatters' in sys.modules, 'class=\"highlight\"' in html)\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert found == ["[]", "True True"]
