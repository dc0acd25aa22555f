"""`check` judges what readers get: the rendered HTML, parsed as a browser parses it."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from broadsheet.author.markup import Article
from tests.conftest import REPO, run, write_post

HEAD = "---\ntitle: T\n---\n\nAn opening paragraph.\n\n"  # the body starts on line 5
FIRST = 7  # the line the text after HEAD starts on

# Known script vectors, from the well-known filter-evasion lists (OWASP's cheat sheet,
# PortSwigger's), each with the line (from its first) where the script is.
VECTORS: list[tuple[str, int]] = [
    ("<script>alert(1)</script>", 0),
    ("<SCRIPT SRC=//xss.example/xss.js></SCRIPT>", 0),
    ("<svg/onload=alert(1)>", 0),
    ('Text <img src=/favicon.svg\nonerror="alert(1)"> and more text.', 1),
    ('<a href="&#106;avascript:alert(1)">x</a>', 0),
    ("[x](java&#115;cript:alert(1))", 0),
    ("[x](java\tscript:alert(1))", 0),
    ('<a href="java&#9;script:alert(1)">x</a>', 0),
    ('<a href="java&#x0A;script:alert(1)">x</a>', 0),
    ('<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>', 0),
    (
        "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;"
        "&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
        0,
    ),
    (
        "<IMG SRC=&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114"
        "&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114>",
        0,
    ),
    ("<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C>", 0),
    ("<IMG SRC=\" &#14;  javascript:alert('XSS');\">", 0),
    ("<IMG SRC=\"jav&#x0D;ascript:alert('XSS');\">", 0),
    ("<BODY ONLOAD=alert('XSS')></BODY>", 0),  # (unclosed, Markdown takes the rest as HTML)
    ("<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>", 0),
    ('<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(\'XSS\');">', 0),
    (
        '<META HTTP-EQUIV="refresh" '
        'CONTENT="0;url=data:text/html;base64,PHNjcmlwdD5hbGVydCgnWFNTJyk8L3NjcmlwdD4K">',
        0,
    ),
    ('<OBJECT TYPE="text/x-scriptlet" DATA="https://xss.example/scriptlet.html"></OBJECT>', 0),
    ('<EMBED SRC="data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDov" type="image/svg+xml">', 0),
    ("<BASE HREF=\"javascript:alert('XSS');//\">", 0),
    ('<form action="javascript:alert(1)"><input type=submit></form>', 0),
    ('<form><button formaction="javascript:alert(1)">x</button></form>', 0),
    ('<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>', 0),
    ('<math><maction actiontype="x" xlink:href="javascript:alert(1)">X</maction></math>', 0),
    ('<svg><a><animate attributeName="href" values="javascript:1"/><text>x</text></a></svg>', 0),
    ('<svg><set attributeName="onmouseover" to="alert(1)"/></svg>', 0),
    ("<svg><script>alert(1)</script></svg>", 0),
    ("<video poster=javascript:alert(1)//></video>", 0),
    ('<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>', 0),
    ("<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">x</DIV>", 0),
    ("<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE>", 0),
    ('<noscript><p title="</noscript><img src=/favicon.svg onerror=alert(1)>"></noscript>', 0),
    ("<TABLE BACKGROUND=\"javascript:alert('XSS')\"><tr><td>x</td></tr></TABLE>", 0),
    ('<a href="  javascript:alert(1)">x</a>', 0),
    ('<a href="javascript&colon;alert(1)">x</a>', 0),
    ("[x](vbscript:msgbox(1))", 0),
    ("<details open ontoggle=alert(1)>x</details>", 0),
    ("<input autofocus onfocus=alert(1)>", 0),
    ('<img srcset="/favicon.svg 1x, javascript:alert(1) 2x">', 0),
    ('<object data="javascript:alert(1)"></object>', 0),
    ('<iframe src="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>', 0),
    ("See [the story][evil].\n\n[evil]: javascript:alert(1)", 2),
    ('<IMG """><SCRIPT>alert("XSS")</SCRIPT>">', 0),
    ('<<SCRIPT>alert("XSS");//\\<</SCRIPT>', 0),
    ('<LINK REL="stylesheet" HREF="javascript:alert(\'XSS\');">', 0),
    ('<a title="x"\n   href="javascript:alert(1)">y</a>', 1),
    ("![x](javascript:alert(1))", 0),
    ("Python-Markdown does not escape \\<script>alert(1)</script> with a backslash.", 0),
    ("<div\nonmouseover\n=\n'alert(1)'>x</div>", 1),
]

# Everything Python-Markdown renders here, with link-like and script-like text where it
# is only text. Links go to pages the site has (the post is content/asia/valid.md).
VALID = """\
[TOC]

## A heading

Footnotes[^1] and more footnotes[^note], a [link to a heading](#a-heading), to the
[section](/asia/) and its [feed](/asia/feed.xml "Asia's feed"), a [relative one](../),
[this page](./) with a [query](/asia/?q=1) and a [fragment](/asia/#top), a
[reference link][ref], a [short one][], a collapsed [ref][] and an
![image](/favicon.svg "the icon"). Outside: <https://example.org/a?b=1&c=2>,
<someone@example.org>, [mail](mailto:a@example.org), [tel](tel:+100),
[protocol-relative](//example.org/x) and [plain](https://example.org/(x)).

### Code and text that look like markup

Code spans: `[not a link](/nowhere/)`, `<script>alert(1)</script>`,
``<a href="javascript:alert(1)">`` and `onclick="x()"`. Escaped: \\[no link\\](/nowhere/)
and &lt;script>. Prose about javascript: the language, and onload= as a word. AT&T &amp; co.

```html
<script>alert(1)</script>
<a href="javascript:alert(1)" onclick="x()">[x](/nowhere/)</a>
```

    <b>indented code</b> (after a list, a part of it)
    [indented](/nowhere/)

~~~
[tilde](/nowhere/)
~~~

| a | table |
|---|---|
| [link](/asia/) | `[code](/nowhere/)` |

> A quote with [a link](/asia/) and *emphasis*, **strong**, ***both***.
>
> - a list in a quote

1. one
2. two
    - nested [link](/feed.xml)

Text {: #not-an-attribute-list } and a line break<two spaces>
then more. Some <span class="x" title="a &amp; b">raw HTML</span>, a comment
<!-- [hidden](/nowhere/) <script>x</script> -->, <abbr title="x">abbr</abbr>.

<div class="map">
<iframe src="https://www.openstreetmap.org/export/embed.html" title="A map"></iframe>
<img src="data:image/png;base64,iVBORw0KGgo=" alt="a dot">
<img src="data:image/svg+xml,%3Csvg%3E%3C/svg%3E" alt="an icon">
</div>

<details><summary>More</summary>Details.</details>

---

[ref]: /tags/ "A title"
[short one]: /authors/
[^1]: A footnote with a [link](/asia/).
[^note]: Another, *with emphasis*.
""".replace("<two spaces>", "  ")


def test_the_readme_article_example_checks_clean(seeded: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = re.search(
        r"For example, `(content/[\w/.-]+\.md)`:\n\n```markdown\n(.*?)\n```", readme, re.S
    )
    assert example, "the README's article example is gone"
    (seeded / example.group(1)).write_text(example.group(2) + "\n", encoding="utf-8")
    result = run(["check"])
    assert result.code == 0, result.out + result.err
    assert "rice-harvest" not in result.out
    assert "0 warning(s)" in result.out


def test_valid_markdown_gives_no_finding(seeded: Path) -> None:
    write_post(seeded, "asia/valid.md", "---\ntitle: Valid\ntags: [a]\nauthor: A\n---\n\n" + VALID)
    result = run(["check"])
    assert result.code == 0, result.out + result.err
    assert "valid.md" not in result.out and "0 warning(s)" in result.out


def test_every_script_vector_warns_naming_its_line(project: Path) -> None:
    for number, (vector, _) in enumerate(VECTORS):
        write_post(project, f"asia/v{number}.md", HEAD + vector + "\n\nA closing paragraph.\n")
    result = run(["check"])
    warned = result.out.splitlines()
    for number, (vector, offset) in enumerate(VECTORS):
        where = f"content/asia/v{number}.md:{FIRST + offset}: warning: "
        assert any(line.startswith(where) for line in warned), (vector, warned)
        mine = [line for line in warned if line.startswith(f"content/asia/v{number}.md:")]
        assert all(": warning: " in line for line in mine), mine  # a warning, not a broken link
    assert "it runs in readers' browsers" in result.out
    assert result.code == 0, result.out  # warnings alone: raw HTML is the author's choice


def test_text_that_markdown_escapes_runs_nothing_and_warns_nothing() -> None:
    for text in ("<IMG SRC=JaVaScRiPt:alert('XSS')>", '<a/href="javascript:alert(1)">x</a>'):
        assert Article(text, 1).warnings() == []


_SAFE_BLOCKS = [block for block in VALID.split("\n\n") if "[^" not in block and "[ref" not in block]


@settings(max_examples=60, deadline=None)
@given(
    before=st.lists(st.sampled_from(_SAFE_BLOCKS), max_size=4),
    after=st.lists(st.sampled_from(_SAFE_BLOCKS), max_size=4),
    vector=st.sampled_from(VECTORS),
)
def test_a_vector_among_valid_markdown_warns_on_its_own_line(
    before: list[str], after: list[str], vector: tuple[str, int]
) -> None:
    text, offset = vector
    if "[evil]" in text:
        text = text.replace("\n\n[evil]", "\n\n[evil]")  # a definition: stays last
    markdown = "\n\n".join([*before, text, *after]) + "\n"
    line = 10 + sum(block.count("\n") + 2 for block in before)
    warnings = Article(markdown, 10).warnings()
    assert warnings, markdown
    assert {found for found, _ in warnings} == {line + offset}, (markdown, warnings)
    assert Article("\n\n".join([*before, *after]) + "\n", 10).warnings() == []


def test_each_broken_link_is_named_by_its_own_line(project: Path) -> None:
    write_post(
        project,
        "asia/twice.md",
        "---\ntitle: Twice\n---\n\nCode: `[c](/gone/)` and <!-- [d](/gone/) -->.\n\n"
        "First [a](/gone/).\n\n"
        "```\n[e](/gone/)\n```\n\n"
        "Again [b](/gone/), and by [reference][r] and [again][r].\n\n[r]: /gone/\n",
    )
    result = run(["check"])
    assert result.code == 1
    lines = [line.split(": ", 1)[0] for line in result.out.splitlines() if "/gone/" in line]
    assert (
        lines
        == ["content/asia/twice.md:7"]
        + ["content/asia/twice.md:13"]
        + ["content/asia/twice.md:15"] * 2
    ), result.out


def test_under_a_sub_path_check_passes_what_works_and_names_what_does_not(project: Path) -> None:
    """`check` judges site paths as the build publishes them, under the base path:
    raw HTML's (links, images, forms, SVG images) as Markdown's. A link written with
    the base path in it is published with it twice, so it is named as broken."""
    settings = project / "pyproject.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(
        text.replace("https://example.test/", "https://example.github.io/archive/"),
        encoding="utf-8",
    )
    (project / "static/images").mkdir(parents=True, exist_ok=True)
    (project / "static/images/map.svg").write_text("<svg/>", encoding="utf-8")
    write_post(project, "america/here.md", "---\ntitle: Here\n---\n\nHere.\n")
    write_post(
        project,
        "asia/links.md",
        "---\ntitle: Links\n---\n\n"
        'See [Markdown](/america/here/) and <a href="/america/here/">raw HTML</a>.\n\n'
        '<img src="/images/map.svg" alt="A map">\n\n'
        'Gone: <a href="/america/gone/">raw</a>.\n\n'
        "Twice: [the base path](/archive/america/here/).\n\n"
        '<form action="/search/"><input type="image" src="/nowhere.png" alt="Go"></form>\n\n'
        '<svg width="10" height="10"><image href="/gone.png" width="10" height="10"/></svg>\n',
    )
    result = run(["check"])
    assert result.code == 1
    named = [line for line in result.out.splitlines() if "no such page" in line]
    missing = "no such page or file in the site"
    assert named == [
        f"content/asia/links.md:9: link to /america/gone/: {missing}",
        f"content/asia/links.md:11: link to /archive/america/here/: {missing}",
        f"content/asia/links.md:13: image to /nowhere.png: {missing}",
        f"content/asia/links.md:15: image to /gone.png: {missing}",
    ], result.out
