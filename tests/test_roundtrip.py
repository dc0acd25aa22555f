"""Import then build: every paragraph survives verbatim and nothing becomes markup."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadsheet.config import load_config
from broadsheet.ingest.importer import import_files
from broadsheet.ingest.rawtext import CONTINUE, MOST_READ, PUBLISHED, parse_date
from broadsheet.publish.pipeline import build
from broadsheet.slugs import slugify
from tests.conftest import PYPROJECT, REPO
from tests.sitecheck import article_pages, page_text, scan

CHROME = {PUBLISHED, "on", CONTINUE, MOST_READ, "Connect with us"}
# Markup that Markdown or HTML would act on, mixed with arbitrary Unicode (RTL, emoji,
# zero-width and control characters included), so that hostile input is common.
HOSTILE = st.sampled_from(
    [
        "*",
        "**bold**",
        "_it_",
        "`code`",
        "<b>",
        "<script>alert(1)</script>",
        "[a](http://x.y)",
        "<http://x.y>",
        "# ",
        "1. ",
        "- ",
        "> ",
        "&amp;",
        "&lt;",
        "<!-- c -->",
        "~~~",
        "```",
        "[^1]",
        "| a |",
        "\\",
        "![i](x.png)",
        "\u202e",
        "\u200b",
        "👍",
        "عربى",
        "\x02",
        "\x7f",
    ]
)
ANY = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
    min_size=1,
    max_size=20,
)
TEXT = st.lists(HOSTILE | ANY, min_size=1, max_size=6).flatmap(
    lambda parts: st.sampled_from(["", " "]).map(lambda sep: sep.join(parts))
)


# What no web page or feed can hold, which the importer and the build remove: C0 and C1
# controls, surrogates and Unicode's noncharacters (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF).
_NONCHARACTERS = "".join(
    chr(plane + end) for plane in range(0, 0x110000, 0x10000) for end in (0xFFFE, 0xFFFF)
)
_UNSHOWABLE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef{_NONCHARACTERS}]")


def fold(text: str) -> str:
    return " ".join(_UNSHOWABLE.sub("", text).split())


def usable(text: str) -> bool:
    folded = fold(text)
    return bool(folded) and folded not in CHROME and parse_date(folded) is None


LABEL = st.from_regex(r"[A-Z]{2,10}( [A-Z]{2,8})?", fullmatch=True)
ARTICLE = st.tuples(
    LABEL, TEXT.filter(usable), st.lists(TEXT.filter(usable), min_size=1, max_size=6)
)


def raw_file(articles: list[tuple[str, str, list[str]]]) -> str:
    blocks = ["Connect with us"]
    for label, title, paragraphs in articles:
        blocks += [label, title, PUBLISHED, "on", *paragraphs, CONTINUE]
    blocks += [MOST_READ, "Turkey"]
    return "\n\n".join(blocks) + "\n"


@pytest.fixture(scope="module")
def workspace() -> Path:
    root = Path(tempfile.mkdtemp(prefix="broadsheet-roundtrip-"))
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copytree(REPO / "static", root / "static")
    yield root
    shutil.rmtree(root)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Distinct headlines: two articles under one headline whose paragraphs open the same way
# are one story to the importer (a teaser and its full text; tests/ingest/test_identity.py).
@given(st.lists(ARTICLE, min_size=1, max_size=4, unique_by=lambda article: fold(article[1])))
def test_every_paragraph_comes_out_verbatim_as_text(
    workspace: Path, articles: list[tuple[str, str, list[str]]]
) -> None:
    content = workspace / "content"
    shutil.rmtree(content, ignore_errors=True)
    content.mkdir()
    raw = workspace / "raw.txt"
    raw.write_text(raw_file(articles), encoding="utf-8")
    import_files([raw], content)
    config = load_config(workspace)
    build(config, output=workspace / "site")
    pages = article_pages(workspace / "site")
    all_text = {path: page_text(html) for path, html in pages.items()}
    for label, title, paragraphs in articles:
        section = slugify(label, fallback="section")
        candidates = [t for path, t in all_text.items() if path.startswith(section + "/")]
        assert any(
            fold(title) in text and all(fold(p) in text for p in paragraphs) for text in candidates
        ), (
            title,
            paragraphs,
        )
    for html in pages.values():
        body = html.split('<div class="article-body">', 1)[1].split("</div>\n</article>", 1)[0]
        assert set(scan(body).tags) <= {"p", "h2"}, body
