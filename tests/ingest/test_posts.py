import hashlib
from pathlib import Path

import pytest
import yaml

from broadsheet.ingest import posts
from broadsheet.ingest.pages import RawArticle
from broadsheet.ingest.posts import (
    find_author,
    is_subheading,
    is_unedited,
    markdown_body,
    post_text,
)


def article(*paragraphs: str, title: str = "A headline") -> RawArticle:
    return RawArticle.of(Path("raw/x.txt"), 3, "ASIA", title, *paragraphs)


def test_short_unpunctuated_lines_become_subheadings() -> None:
    paragraphs = (
        "Opening paragraph that is long enough.",
        "Part of broader U.S. strategy",
        "Another paragraph ends here.",
        "Future challenges",
        "Closing paragraph.",
    )
    flags = [is_subheading(p, i, len(paragraphs)) for i, p in enumerate(paragraphs)]
    assert flags == [False, True, False, True, False]


def test_sentences_captions_and_last_lines_are_not_headings() -> None:
    paragraphs = (
        "Intro.",
        "The agreement was signed in 1960 and remains unchanged.",
        "(R) Defense Minister and (L) Interior Minister.",
        "a lower-case fragment",
        "Trailing line",
    )
    assert not any(is_subheading(p, i, len(paragraphs)) for i, p in enumerate(paragraphs))


def test_byline_gives_the_author_and_stays_in_the_body() -> None:
    byline = "The author is Dr. Davood Moradian. He is the founder of AISS."
    assert find_author(("Text.", byline)) == "Dr. Davood Moradian"
    assert find_author(("The author is H.R. McMaster, a fellow.",)) == "H.R. McMaster"
    assert find_author(("The author is unknown to us.",)) is None
    text = post_text(article("Text.", byline), "asia", "a-headline", "raw/x.txt")
    assert "author: Dr. Davood Moradian" in text
    assert byline in text


def test_front_matter_has_title_section_slug_source_and_no_invented_date() -> None:
    text = post_text(article("Body."), "asia", "a-headline", "raw/x.txt")
    assert text.startswith("---\ntitle: A headline\nsection: ASIA\nslug: a-headline\n")
    assert "source: raw/x.txt:3\n" in text
    assert "date:" not in text


def test_an_edit_is_detected_by_the_import_hash() -> None:
    text = post_text(article("Body."), "asia", "a-headline", "raw/x.txt")
    assert is_unedited(text)
    assert not is_unedited(text.replace("Body.", "Body, edited."))


def test_a_hash_that_yaml_would_read_as_a_number_is_quoted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Found by the fuzzer: an all-digit hash was read back as an int, and the build
    # failed with "import_hash: must be text".
    sha256 = hashlib.sha256

    class Digits:
        def __init__(self, data: bytes = b"") -> None:
            self.inner = sha256(data)

        def update(self, data: bytes) -> None:
            self.inner.update(data)

        def hexdigest(self) -> str:
            return "9998681309787410" + self.inner.hexdigest()[16:]

    monkeypatch.setattr(posts.hashlib, "sha256", Digits)
    text = post_text(article("Body."), "asia", "a-headline", "raw/x.txt")
    assert "\nimport_hash: '9998681309787410'\n" in text
    assert yaml.safe_load(text.split("---\n")[1])["import_hash"] == "9998681309787410"
    assert is_unedited(text)  # (every hash here starts with those digits: no edit test)


def test_a_subheading_keeps_a_trailing_hash() -> None:
    # Found by the fuzzer: "## 0#" renders as "0", a heading's closing hashes eaten.
    import markdown

    body = markdown_body(("A first paragraph.", "Version 2#", "A second paragraph."))
    assert "<h2>Version 2#</h2>" in markdown.markdown(body)
