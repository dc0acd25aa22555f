"""Every line of a raw file reaches a post or is counted as skipped chrome: chrome words
inside articles, several pages in one file, and standard input lose nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from broadsheet.ingest.escape import unescape_text
from broadsheet.ingest.importer import import_files
from broadsheet.ingest.pages import parse_raw
from broadsheet.ingest.rawtext import CONNECT, CONTINUE, MOST_READ, ON, PUBLISHED, decode
from tests.conftest import SEEDS, run

CHROME = (MOST_READ, CONTINUE, PUBLISHED, ON, CONNECT, "ASIA", "MIDDLE EAST")
SOURCE = Path("raw/x.txt")


def body_paragraphs(post: str) -> list[str]:
    body = post.split("\n---\n", 1)[1]
    blocks = [b for b in body.split("\n\n") if b.strip()]
    return [unescape_text(b.strip()[3:] if b.startswith("## ") else b.strip()) for b in blocks]


def test_a_most_read_paragraph_inside_an_article_ends_nothing(project: Path) -> None:
    raw = project / "raw.txt"
    raw.write_text(
        "\n\n".join(
            [
                *(CONNECT, "ASIA", "First", PUBLISHED, ON, "One.", MOST_READ, "Two.", "Three."),
                *("ASIA", "Second", PUBLISHED, ON, "Four.", CONTINUE, MOST_READ, "Turkey"),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    result = run(["import", str(raw)])
    assert result.code == 0
    assert "2 articles, 2 written" in result.out
    first = (project / "content/asia/first.md").read_text(encoding="utf-8")
    assert body_paragraphs(first) == ["One.", MOST_READ, "Two.", "Three."]
    assert "Four." in (project / "content/asia/second.md").read_text(encoding="utf-8")
    assert "33 = 9 in posts + 8 chrome skipped + 16 blank + 0 outside" in result.out


def test_two_scraped_pages_in_one_file_import_all_their_articles(project: Path) -> None:
    both = project / "both.txt"
    both.write_bytes(b"".join(p.read_bytes() for p in SEEDS))
    result = run(["import", str(both)])
    assert result.code == 0
    assert "8 articles, 7 written" in result.out and "1 duplicate skipped" in result.out
    assert len(list((project / "content").rglob("*.md"))) == 7


@pytest.mark.parametrize("name", ["-", "/dev/stdin"])
def test_standard_input_is_read_once(project: Path, name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "broadsheet", "import", name],
        input=SEEDS[0].read_bytes(),
        cwd=project,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert b"4 articles, 4 written" in result.stdout
    assert len(list((project / "content").rglob("*.md"))) == 4


WORDS = st.text(alphabet="abcdefgh XYZ.,*_<>&#1", min_size=1, max_size=24).map(str.strip)
TEXT = WORDS.filter(lambda t: bool(t) and t not in CHROME and not t.isupper())
PARAGRAPH = st.one_of(TEXT, TEXT, st.sampled_from(CHROME))
ARTICLE = st.tuples(
    st.sampled_from(["ASIA", "MIDDLE EAST", "AMERICA"]),
    TEXT,
    st.lists(PARAGRAPH, min_size=0, max_size=6),
    st.booleans(),  # a teaser, ending "Continue Reading"
)
PAGE = st.tuples(st.lists(ARTICLE, min_size=1, max_size=3), st.lists(TEXT, max_size=3))
GAPS = st.sampled_from(["\n", "\n\n", "\n \n", "\n\n\n"])


def page_lines(pages: list[tuple[list[tuple[str, str, list[str], bool]], list[str]]]) -> list[str]:
    lines = []
    for articles, widget in pages:
        lines.append(CONNECT)
        for label, title, paragraphs, teaser in articles:
            lines += [label, title, PUBLISHED, ON, *paragraphs] + ([CONTINUE] if teaser else [])
        lines += [MOST_READ, *widget]
    return lines


def ambiguous(paragraphs: list[str]) -> bool:
    """What the format itself cannot tell apart: an article's start pattern inside its
    text, or a "MOST READ" paragraph followed at the article's end by "Connect with us"
    (which is exactly how a page's widget and the next page's start look)."""
    for i in range(len(paragraphs) - 2):
        if paragraphs[i + 1 : i + 3] == [PUBLISHED, ON] or paragraphs[i : i + 2] == [PUBLISHED, ON]:
            return True
    return MOST_READ in paragraphs and paragraphs[-1:] == [CONNECT]


@pytest.fixture(scope="module")
def content() -> Iterator[Path]:
    """A content folder, in a folder of its own that also holds the raw file imported
    into it, removed with it (the raw file was written beside the temporary folder,
    and left in the system's temporary folder by every run)."""
    root = Path(tempfile.mkdtemp(prefix="broadsheet-pages-"))
    (root / "content").mkdir()
    yield root / "content"
    shutil.rmtree(root)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(PAGE, min_size=1, max_size=3), st.data())
def test_every_line_reaches_a_post_or_is_counted_as_chrome(
    content: Path,
    pages: list[tuple[list[tuple[str, str, list[str], bool]], list[str]]],
    data: st.DataObject,
) -> None:
    for articles, _ in pages:
        for _, _, paragraphs, _ in articles:
            assume(not ambiguous(paragraphs))
    lines = page_lines(pages)
    text = "".join(line + data.draw(GAPS) for line in lines)
    parsed = parse_raw(SOURCE, text)
    counts = parsed.counts
    assert counts.lines == text.count("\n")
    assert counts.lines == counts.posted + counts.chrome + counts.blank + counts.outside
    assert counts.outside == 0
    generated = [a for articles, _ in pages for a in articles]
    assert [a.title for a in parsed.articles] == [a[1] for a in generated]
    for article, (label, _, paragraphs, _) in zip(parsed.articles, generated, strict=True):
        assert article.label == label
        kept = [p for p in article.paragraphs if p not in CHROME]
        assert kept == [p for p in paragraphs if p not in CHROME]  # verbatim, in order
    # and through the importer, into posts on disk
    shutil.rmtree(content)
    raw = content.parent / "raw.txt"
    raw.write_text(text, encoding="utf-8")
    [report] = import_files([raw], content)
    assert report.counts.lines == counts.lines
    found = [body_paragraphs(p.read_text(encoding="utf-8")) for p in sorted(content.rglob("*.md"))]
    for _, _, paragraphs, _ in generated:
        wanted = [p for p in paragraphs if p not in CHROME]
        assert any(all(p in post for p in wanted) for post in found), wanted


def test_seed_lines_add_up() -> None:
    for seed in SEEDS:
        text = decode(seed, seed.read_bytes())
        counts = parse_raw(seed, text + "\n").counts
        assert counts.lines == len(text.split("\n"))
        assert counts.outside == 0 and counts.posted > 0
