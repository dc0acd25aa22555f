"""`check` names each finding by the line it came from, however many a post has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broadsheet.author.markup import Article
from tests.conftest import run, write_post

VECTORS = Path(__file__).with_name("vectors.md")  # 50 script vectors, between blank lines
# Vectors that rightly make no warning, and why.
SILENT = {
    "<scr<script>ipt>": "no <script> element: the tag's name is 'scr<script'",
    "[y](javascript:": "after the unclosed <body>, the rest is raw HTML: Markdown is text",
    "[z](<javascript:": "raw HTML: text",
    "[w][jsref]": "raw HTML: text",
    "[jsref]: javascript": "raw HTML: text",
    "<template>": "a template's content is inert: browsers do not run it",
    "<frameset": "a <frameset> after the body has begun is dropped by the parser",
}


def _expected_lines(text: str) -> set[int]:
    """Each vector's line: the first of its lines with an attribute on it, else its first."""
    lines = text.split("\n")
    expected = set()
    blocks = re.finditer(r"(?:^.+\n)+", text, re.MULTILINE)
    for block in list(blocks)[1:]:  # after the front matter
        first = text.count("\n", 0, block.start()) + 1
        own = lines[first - 1 : first - 1 + block.group().count("\n")]
        if any(block.group().startswith(start) for start in SILENT):
            continue
        attributed = [n for n, line in enumerate(own) if "=" in line]
        expected.add(first + (attributed[0] if attributed else 0))
    return expected


def test_every_vector_is_warned_at_its_own_line(project: Path) -> None:
    text = VECTORS.read_text(encoding="utf-8")
    write_post(project, "asia/two.md", text)
    result = run(["check"])
    found = re.findall(r"two\.md:(\d+): (.*)", result.out)
    warned = {int(line) for line, what in found if what.startswith("warning: ")}
    expected = _expected_lines(text)
    assert len(expected) == 51 - len(SILENT)  # 51 blocks: [w][jsref] and its definition
    assert warned == expected, (sorted(warned - expected), sorted(expected - warned))
    out = result.out
    assert "two.md:6: warning: inline event handler (onload=) on <svg>" in out
    assert "two.md:12: warning: <iframe srcdoc>" in out
    assert "two.md:37: warning: inline event handler (onload=) on <body>" in out
    assert "two.md:15: warning: inline event handler (onclick=) on <a>" in out
    assert "two.md:99: warning: inline event handler (onerror=) on <img>" in out  # <noscript>
    images = sorted(int(n) for n, what in found if what.startswith("image to x:"))
    assert images == [33, 35, 99], result.out


def test_a_body_handler_is_named_at_its_line_not_the_first(project: Path) -> None:
    write_post(
        project,
        "asia/three.md",
        "---\ntitle: Three\n---\n\n<svg/onload=alert(1)>\n\n"
        '<a href="&#106;avascript:alert(1)">a</a>\n\n<body onload=alert(1)>\n',
    )
    lines = [line for line in run(["check"]).out.splitlines() if "three.md" in line]
    assert [line.split(": warning: ")[0] for line in lines] == [
        f"content/asia/three.md:{n}" for n in (5, 7, 9)
    ]
    assert "on <svg>" in lines[0] and "href= of <a>" in lines[1] and "on <body>" in lines[2]


def test_inert_markup_is_deliberately_not_warned() -> None:
    text = (
        "Text.\n\n<template><img src=x onerror=alert(1)></template>\n\n<frameset onload=alert(1)>\n"
    )
    assert Article(text, 1).warnings() == []
    assert Article("<p>x</p>\n\n" + text, 1).warnings() == []


# Blocks, each with the warnings (a part of their message) it makes, and its links: their
# URLs and the line each is on in the block (None: by reference, at the definition's line).
BLOCKS: list[tuple[str, list[str], list[tuple[str, int | None]]]] = [
    ("<svg/onload=alert(1)>", ["on <svg>"], []),
    ('<a href="&#106;avascript:alert(1)">a</a>', ["href= of <a>"], [("javascript:alert(1)", 0)]),
    ('<iframe srcdoc="<script>alert(1)</script>"></iframe>', ["<iframe srcdoc>"], []),
    ("Here [x](java&#115;cript:alert(1)) is.", ["href= of <a>"], [("javascript:alert(1)", 0)]),
    ("<img src=x onerror=alert(1)>", ["on <img>"], [("x", 0)]),
    ("A chart:\n\n![chart](/gone.png)", [], [("/gone.png", 2)]),
    ("See [gone](/gone/) and\n[more](/more/).", [], [("/gone/", 0), ("/more/", 1)]),
    ('Raw <a href="/gone/">again</a>.', [], [("/gone/", 0)]),
    ("By [reference][g], twice [again][g].", [], [("/by-ref/", None)] * 2),
    ("Plain *text*, with `<script>` in code.", [], []),
    ("Prose that names onload=alert(1), javascript:alert(1), /gone/ and /gone.png.", [], []),
    (
        '<iframe src="data:image/svg+xml,<svg onload=alert(1)>"></iframe>',
        ["src= of <iframe>"],
        [("data:image/svg+xml,<svg onload=alert(1)>", 0)],
    ),
    ("```\n<script>alert(1)</script>\n\n[c](/code/)\n```", [], []),
]
DEFINITION = "[g]: /by-ref/"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(BLOCKS), min_size=1, max_size=8))
def test_mixed_findings_are_each_named_by_their_own_line(
    chosen: list[tuple[str, list[str], list[tuple[str, int | None]]]],
) -> None:
    markdown = "\n\n".join([text for text, _, _ in chosen] + [DEFINITION]) + "\n"
    first = 20
    warned: list[tuple[int, str]] = []
    linked: list[tuple[int, str]] = []
    line = first
    for text, warnings, urls in chosen:
        lines = text.split("\n")
        for part in warnings:
            warned.append((line, part))
        for url, at in urls:
            if at is None:  # by reference: where its URL is written
                linked.append((first + markdown.count("\n") - 1, url))
            else:
                linked.append((line + at, url))
        line += len(lines) + 1
    article = Article(markdown, first)
    got = sorted(article.warnings())
    assert len(got) == len(warned), (markdown, got)
    for (line_got, message), (line_wanted, part) in zip(got, sorted(warned), strict=True):
        assert line_got == line_wanted and part in message, (markdown, got)
    links = article.links()
    assert sorted((article.link_line(i), link.url) for i, link in enumerate(links)) == sorted(
        linked
    ), markdown


@pytest.mark.parametrize(
    ("markdown", "warned", "linked"),
    [
        # A comment, or an attribute's value, over blank lines: its markup is not markup.
        ("<!--\n\n<script>x</script>\n\n-->\n\n<script>y</script>\n", [7], []),
        ('<div title="a\n\n<script>x</script>">\n\n<script>y</script>\n\n</div>\n', [5], []),
        # A list item's indented paragraph is the item's, not code.
        (
            "1. one\n\n    <img src=x onerror=1>\n\n2. two [l](/l/)\n\n<img src=x onerror=2>\n",
            [3, 7],
            [3, 5, 7],
        ),
        # After a paragraph, indented text is code.
        ("para\n\n    <img src=x onerror=1>\n\n<img src=x onerror=2>\n", [5], [5]),
        ("- a\n\n    more [l](/l1/)\n\n            code\n\n- b [l](/l1/)\n", [], [3, 7]),
    ],
)
def test_blocks_are_read_as_markdown_reads_them(
    markdown: str, warned: list[int], linked: list[int]
) -> None:
    article = Article(markdown, 1)
    assert [line for line, _ in article.warnings()] == warned
    assert sorted(article.link_line(i) for i in range(len(article.links()))) == linked
