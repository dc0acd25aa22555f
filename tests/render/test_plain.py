import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from broadsheet.render import markdown
from broadsheet.render.markdown import _converter, _count, _prepare, render_markdown
from broadsheet.render.plain import plain_html

_EVERY = ("toc", "fenced_code", "codehilite", "tables", "footnotes", "sane_lists")

# Prose, links and headings, as the fast path takes them.
_PROSE = st.sampled_from(
    [
        "Trade",
        "talks",
        " ",
        ", ",
        ". ",
        "\n",
        "\n\n",
        "\n\n\n",
        "\n\n## Trade talks\n\n",
        "\n\n### Trade talks\n\n",  # (alike: headings get numbered ids)
        "\n\n## Trade talks 2\n\n",
        "\n\n# Top\n\n",
        "\n\n#### Low\n\n",
        "\n\n## Ünïcode é’s\n\n",
        "[the talks](/asia/talks/)",
        "[UN](https://www.un.org/en/res_e/x*y.htm)",
        "[a b](//cdn.example.org/x)",
        "(",
        ")",
        "!",
        "#",
        "’s",
        '"quoted"',
        "$5.2bn",
        "£3m",
        "O'Brien",
        "100%",
        "1995. ",
    ]
)
# What must tell them apart from other Markdown: one of these, or none, goes in each text.
_OTHER = st.sampled_from(
    [
        "  ",
        "## ",
        "# ",
        "#",
        "\n#",
        "\n## A\nb",
        "![photo](/a.jpg)",
        '[a](/x "title")',
        "[a *b*](/x)",
        "[a]",
        "[a]: /asia/",
        "[^1]",
        "[",
        "]",
        "*",
        "_",
        "a_b",
        "`",
        "\\",
        "<b>",
        "&",
        "&amp;",
        "|",
        "~~~",
        "\n- ",
        "\n-",
        "\n+ ",
        "\n* ",
        "\n=",
        "\n===",
        "\n---",
        "\n> ",
        "\n1. ",
        "\n2) ",
        "\n1995.",
        "\n    ",
        "\t",
        "\u00a0",
        "\n\u00a0",
        "\u2003\n",
        "\x0c",
        "\r\n",
        "\x02",
        "[TOC]",
    ]
)


@st.composite
def _texts(draw: st.DrawFn) -> str:
    pieces = draw(st.lists(_PROSE, max_size=40))
    other = draw(st.none() | _OTHER)
    if other is not None:
        pieces.insert(draw(st.integers(0, len(pieces))), other)
    return "".join(pieces)


def _stock(text: str, base_path: str) -> markdown.RenderedBody:
    """What stock Python-Markdown, with every extension, makes of `text`."""
    converter = _converter(base_path, _EVERY, quick=False)
    converter.reset()
    _prepare(converter, text, None)
    html = converter.convert(text)
    headings = _count(converter.toc_tokens)
    toc = converter.toc if headings >= markdown.TOC_MIN_HEADINGS else ""
    return markdown.RenderedBody(html=html, toc_html=toc, headings=headings)


@settings(max_examples=700, deadline=None)
@given(_texts(), st.sampled_from(["/", "/archive/"]))
@example("## Trade\n\n## Trade\n\n### Trade_1\n\nText [a](/asia/a/).", "/archive/")
@example("Text\n\n\n\n## A\n\nMore\n\n## B\n\n## C\n\n# Top", "/")
@example("Text\n#\n", "/")
@example("Text\n1995. More", "/")
@example("[a](/x)[b](/y)\n\n[c](/z)", "/archive/")
@example("\u00a0Text", "/")
@example("Text\u2003\nmore", "/")
def test_plain_text_renders_as_stock_markdown(text: str, base_path: str) -> None:
    """Whatever the fast path takes, it renders byte for byte as stock Markdown does:
    the body, the headings' ids, the table of contents and the count of headings."""
    assert render_markdown(text, base_path) == _stock(text, base_path)


ARTICLE = """Officials in Nairobi said on Tuesday that the talks would resume, citing \
[the minister's letter](/africa/the-letter/) and a [World Bank report](https://data.worldbank.org/indicator/NY.GDP_MKTP.CD).

## What was agreed

"We are close," said Amina Wang, a senior official. Prices rose 7.5 per cent to $566.3bn.

## What comes next

More talks in Cairo’s old quarter; 1,369,951 people voted.

## What comes next
"""


def test_a_plain_article_is_rendered_without_python_markdown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Prose with links and subheadings, the commonest article, never goes through
    Markdown's pipeline (eight times slower on it), and comes out as Markdown's."""
    expected = _stock(ARTICLE, "/archive/")
    assert expected.headings == 3 and expected.toc_html

    def refuse(*args: object) -> str:
        raise AssertionError("Python-Markdown converted a plain article")

    monkeypatch.setattr("markdown.Markdown.convert", refuse)
    assert render_markdown(ARTICLE, "/archive/") == expected


@pytest.mark.parametrize(
    "text",
    [
        "Some *emphasis* here.",
        "A [link with_underscore](/x/).",
        "- a list",
        "Text\n- a list after it",
        "| a | b |\n|---|---|\n| 1 | 2 |",
        "```\ncode\n```",
        "    indented code",
        "Text with `code`.",
        "An ![image](/a.jpg).",
        "A [reference][ref].\n\n[ref]: /x/",
        "Footnote[^1].\n\n[^1]: Note.",
        "A line break  \nhere.",
        "<div>raw</div>",
        "Fish &amp; chips",
        "[TOC]\n\n## A",
        "## A [link](/x/) in a heading",
    ],
)
def test_anything_but_prose_and_plain_headings_goes_to_markdown(text: str) -> None:
    assert plain_html(text, "/") is None
    assert render_markdown(text, "/") == _stock(text, "/")


def test_an_excerpt_of_prose_with_links_is_taken_without_python_markdown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every post's excerpt is read when it is parsed: a first paragraph with links (most
    articles') is not converted by Markdown, and reads as Markdown would make it."""
    expected = markdown.excerpt(ARTICLE)
    assert expected.startswith("Officials in Nairobi") and "the minister's letter and" in expected

    def refuse(*args: object) -> str:
        raise AssertionError("Python-Markdown converted a plain paragraph")

    monkeypatch.setattr("markdown.Markdown.convert", refuse)
    assert markdown.excerpt(ARTICLE) == expected
