import markdown
from hypothesis import given
from hypothesis import strategies as st

from broadsheet.ingest.escape import escape_text, unescape_text
from tests.sitecheck import scan

# The markup-bearing characters, weighted so that hypothesis tries them often.
HOSTILE = st.text(
    alphabet=st.sampled_from(list("*_`[]()<>&#!-+=~:|\\.1 "))
    | st.characters(blacklist_categories=("Cc", "Cs")),
    min_size=1,
)


def render(text: str) -> str:
    return markdown.markdown(
        escape_text(text), extensions=["fenced_code", "tables", "footnotes", "toc", "sane_lists"]
    )


def visible(rendered: str) -> str:
    return "".join(scan(rendered).text).strip()


def test_known_traps_render_as_text() -> None:
    for text in [
        "<script>alert(1)</script>",
        "# not a heading",
        "1. not a list",
        "- not a list",
        "> not a quote",
        "**not bold** and _not italic_",
        "[not a link](http://example.com)",
        "<http://example.com>",
        "&amp; stays as typed",
        "~~~",
        "`not code`",
        "[^1]: not a footnote",
    ]:
        rendered = render(text)
        assert scan(rendered).tags == ["p"], rendered
        assert visible(rendered) == text


@given(HOSTILE.map(lambda s: " ".join(s.split())).filter(bool))
def test_any_line_renders_as_exactly_itself_and_no_markup(text: str) -> None:
    rendered = render(text)
    assert set(scan(rendered).tags) <= {"p"}, rendered
    assert " ".join(visible(rendered).split()) == text


@given(st.text())
def test_unescape_inverts_escape(text: str) -> None:
    assert unescape_text(escape_text(text)) == text
