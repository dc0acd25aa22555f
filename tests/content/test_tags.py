"""Front matter `tags`: a list of topics, or the same written as one line of text."""

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broadsheet.content.frontmatter import parse_post
from broadsheet.errors import BroadsheetError
from tests.conftest import run, write_post

PATH = Path("content/asia/foo.md")


def tags_of(line: str) -> tuple[str, ...]:
    return parse_post(PATH, f"---\ntitle: T\n{line}\n---\n\nBody.\n", "asia", ZoneInfo("UTC")).tags


def test_text_with_commas_is_split_into_topics() -> None:
    assert tags_of("tags: trade, energy") == ("trade", "energy")
    assert tags_of("tags: trade,energy, trade") == ("trade", "energy")
    assert tags_of("tags: climate change") == ("climate change",)
    assert tags_of("tags: [trade, energy]") == ("trade", "energy")
    assert tags_of('tags: ["trade, energy"]') == ("trade, energy",)  # quoted in a list: meant


def test_text_without_a_topic_is_an_error_showing_the_list_form() -> None:
    with pytest.raises(BroadsheetError) as caught:
        tags_of('tags: " , "')
    assert "content/asia/foo.md:3: tags: must be a list of topics such as [trade, energy]" in str(
        caught.value
    )


# Words that YAML reads as text (not a number, a boolean or null).
words = st.text(st.characters(categories=["L"]), min_size=1, max_size=8).filter(
    lambda w: w.lower() not in {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
)


@settings(max_examples=50, deadline=None)
@given(st.lists(words, min_size=1, max_size=5, unique=True), st.sampled_from([",", ", ", " ,"]))
def test_a_line_of_topics_means_the_same_as_the_list(topics: list[str], comma: str) -> None:
    assert tags_of(f"tags: {comma.join(topics)}") == tags_of(f"tags: [{', '.join(topics)}]")


def test_a_line_of_topics_makes_a_page_for_each(project: Path) -> None:
    write_post(project, "asia/a.md", "---\ntitle: A\ntags: trade, energy\n---\n\nText.\n")
    assert run(["build", "--quiet"]).code == 0
    tags = project / "site/tags"
    assert (tags / "trade/index.html").is_file() and (tags / "energy/index.html").is_file()
    assert not (tags / "trade-energy").exists()


def test_spellings_of_one_topic_are_one_tag(project: Path) -> None:
    # Their page is the same (/tags/trade/): the article was listed on it twice, and
    # showed two links to it.
    assert tags_of("tags: [Trade, trade, TRADE, energy]") == ("Trade", "energy")
    write_post(project, "asia/a.md", "---\ntitle: Once\ntags: [Trade, trade]\n---\n\nText.\n")
    assert run(["build", "--quiet"]).code == 0
    listing = (project / "site/tags/trade/index.html").read_text()
    assert listing.count(">Once</a>") == 1
    article = (project / "site/asia/a/index.html").read_text()
    assert article.count('href="/tags/trade/"') == 1
