from datetime import date
from pathlib import Path

import pytest

from broadsheet.errors import BroadsheetError
from broadsheet.ingest.pages import parse_raw
from broadsheet.ingest.rawtext import decode
from tests.conftest import SEEDS

SOURCE = Path("raw/x.txt")


def raw(*blocks: str) -> str:
    return "\n\n".join(blocks) + "\n"


def test_seeds_yield_their_articles_without_chrome() -> None:
    found = [parse_raw(p, decode(p, p.read_bytes())) for p in SEEDS]
    titles = [a.title for f in found for a in f.articles]
    assert len(titles) == 8 and len(set(titles)) == 7
    for article in (a for f in found for a in f.articles):
        assert article.label in ("ASIA", "AMERICA")
        for chrome in ("Connect with us", "Published", "on", "Continue Reading", "MOST READ"):
            assert chrome not in article.paragraphs
        assert "Turkey" not in article.paragraphs  # the MOST READ widget


def test_any_capitalised_label_is_a_section_and_a_date_line_is_read() -> None:
    text = raw(
        "Connect with us",
        "MIDDLE EAST",
        "Headline one",
        "Published",
        "on",
        "February 9, 2025",
        "First paragraph.",
        "Continue Reading",
        "MOST READ",
        "Popular thing",
    )
    [article] = parse_raw(SOURCE, text).articles
    assert article.label == "MIDDLE EAST"
    assert article.date == date(2025, 2, 9)
    assert article.paragraphs == ("First paragraph.",)
    assert article.continued


def test_an_undated_article_stays_undated() -> None:
    [article] = parse_raw(SOURCE, raw("ASIA", "H", "Published", "on", "Body.")).articles
    assert article.date is None
    assert article.paragraphs == ("Body.",)


def test_text_outside_any_article_is_reported_not_dropped() -> None:
    parsed = parse_raw(SOURCE, raw("Stray line", "ASIA", "H", "Published", "on", "Body."))
    assert parsed.counts.outside == 1 and parsed.counts.outside_ranges == [[1, 1]]


def test_bom_and_crlf_are_fine() -> None:
    text = decode(
        SOURCE, "\ufeffASIA\r\n\r\nH\r\n\r\nPublished\r\n\r\non\r\n\r\nBody.\r\n".encode()
    )
    [article] = parse_raw(SOURCE, text).articles
    assert article.title == "H" and article.paragraphs == ("Body.",)


def test_a_file_that_is_not_utf8_is_an_error_naming_it() -> None:
    with pytest.raises(BroadsheetError) as caught:
        decode(SOURCE, "ASIA\n\ncaf\xe9\n".encode("latin-1"))
    assert str(caught.value).startswith("raw/x.txt:3: not UTF-8")


def test_no_articles_is_not_an_error() -> None:
    assert parse_raw(SOURCE, "Connect with us\n\nMOST READ\n").articles == ()
