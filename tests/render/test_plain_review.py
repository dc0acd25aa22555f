"""Adversarial review of the plain-prose fast path: its output must be what Broadsheet's
own full Markdown path makes of the same text (links under a base path, heading ids, toc)."""

from unittest import mock

from hypothesis import example, given, settings
from hypothesis import strategies as st

from broadsheet.render import markdown
from broadsheet.render.markdown import TOC_MIN_HEADINGS, render_markdown


def _full(text: str, base_path: str) -> markdown.RenderedBody:
    with mock.patch.object(markdown, "plain_html", lambda *_: None):
        return render_markdown(text, base_path)


# Characters str.split() takes for whitespace though they are not " ": the toc extension
# collapses them (and runs of spaces) in a heading's name before making its id.
_ODD_SPACE = st.sampled_from(["\u2028", "\u2029", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "  "])


@settings(max_examples=60, deadline=None)
@given(
    words=st.lists(st.sampled_from(["Trade", "talks", "’s", "2", "é"]), min_size=2, max_size=4),
    space=_ODD_SPACE,
    base=st.sampled_from(["/", "/archive/"]),
)
@example(words=["a", "b"], space="\u2028", base="/")
def test_headings_with_odd_whitespace_match_the_full_path(
    words: list[str], space: str, base: str
) -> None:
    heading = space.join(words)
    text = "\n\n".join(
        f"## {heading} {n}\n\nBody [link](/asia/x/)." for n in range(TOC_MIN_HEADINGS)
    )
    assert render_markdown(text, base) == _full(text, base)


@settings(max_examples=30, deadline=None)
@given(
    odd=st.sampled_from(["&", '"', "<", ">", "&amp;", "'"]),
    href=st.sampled_from(["/asia/talks/", "/x.md", "/a/b.jpg"]),
)
@example(odd="&", href="/asia/talks/")
def test_site_links_under_a_base_path_with_html_characters_match_the_full_path(
    odd: str, href: str
) -> None:
    # A site served from https://example.org/news&views/ has this base path.
    base = f"/news{odd}views/"
    text = f"See [the talks]({href}) and [the UN](https://www.un.org/)."
    assert render_markdown(text, base) == _full(text, base)


# Hostile pieces: odd unicode and spaces, odd URLs, headings that slugify to nothing or
# alike, link text with quotes, "!" before "[".
_HOSTILE = st.sampled_from(
    [
        "Trade",
        " ",
        "\n",
        "\n\n",
        "\n\n## ",
        "\n\n# ",
        "\n\n### ",
        "\u00a0",
        "\u200b",
        "\u0301",
        "\u202e",
        "𝔘",
        "\x0c",
        "\x0b",
        "\u2028",
        "\x85",
        "\x1e",
        "—",
        '"',
        "'",
        "!",
        "?",
        "1.",
        "[a](/x/)",
        "[b c](/d.md)",
        "[x](//host/y)",
        "[m](mailto:a@b.org)",
        "[j](javascript:void0)",
        "[f](#frag)",
        "[q](?q=1)",
        "[p](%20x)",
        '["q"](/z)',
        "[^1](/x)",
        "[TOC](/t)",
        "[a](https://e.org/a_b_c)",
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    text=st.lists(_HOSTILE, min_size=1, max_size=14).map("".join),
    base=st.sampled_from(["/", "/archive/"]),
)
@example(text="\n\n## Trade\u2028talks\n\n[a](/x/)", base="/")
def test_hostile_text_renders_as_the_full_path_renders_it(text: str, base: str) -> None:
    assert render_markdown(text, base) == _full(text, base)
    with mock.patch.object(markdown, "plain_html", lambda *_: None):
        expected = markdown.excerpt(text)
    assert markdown.excerpt(text) == expected
