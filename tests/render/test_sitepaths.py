"""Site paths in an article's raw HTML go under the base path, as its Markdown links do;
nothing else in the HTML changes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from broadsheet.render.markdown import render_markdown
from broadsheet.render.sitepaths import LINKING, SRCSET, URL_ATTRIBUTES, candidates, raw_html_under

BASE = "/archive/"

ARTICLE = """\
See [the Markdown link](/america/) and <a href="/america/">the raw one</a>, <a
href='//example.com/x/'>another host</a>, <a href=/asia/ title="a/b">unquoted</a>.

<figure class="map">
<img src="/images/map.svg" alt="A map">
<!-- <a href="/in-a-comment/"> -->
<picture><source srcset="/a.png 1x, b.png 2x,/c.png 3x"><img src="photo.jpg" alt=""></picture>
<video poster="/still.png" src="/clip.mp4"></video>
<p title='<a href="/in-a-value/">'>text</p>
<script>document.write('<a href="/in-a-script/">')</script>
</figure>

```
<a href="/in-code/">code</a>
```
"""


def test_raw_html_site_paths_go_under_the_base_path_as_markdown_links_do() -> None:
    html = render_markdown(ARTICLE, BASE).html
    assert '<a href="/archive/america/">the Markdown link</a>' in html
    assert '<a href="/archive/america/">the raw one</a>' in html
    assert "href='//example.com/x/'" in html and 'href=/archive/asia/ title="a/b"' in html
    assert '<img src="/archive/images/map.svg" alt="A map">' in html
    assert 'srcset="/archive/a.png 1x, b.png 2x,/archive/c.png 3x"' in html
    assert 'src="photo.jpg"' in html
    assert '<video poster="/archive/still.png" src="/archive/clip.mp4">' in html
    for text in ("/in-a-comment/", "/in-a-value/", "/in-a-script/", "/in-code/"):
        assert text in html and f"/archive{text}" not in html  # text, not a link


def test_at_the_root_the_raw_html_is_left_as_written() -> None:
    html = render_markdown(ARTICLE, "/").html
    assert '<a href="/america/">the raw one</a>' in html and "/archive/" not in html
    assert 'srcset="/a.png 1x, b.png 2x,/c.png 3x"' in html
    assert raw_html_under('<a href="/x/">', "/") == '<a href="/x/">'


def test_what_the_review_found() -> None:
    """HTML Python's parser reads otherwise than a browser, a srcset whose candidate has
    no descriptor, a slash written as a character reference, a base path that cannot
    stand in an unquoted value: each as a browser reads it."""
    cases = {
        '<div><![note]> <a href="/a/">A</a></div>': '<div><![note]> <a href="/archive/a/">',
        '<div><![ if !IE ]><a href="/a/">A</a></div>': '<![ if !IE ]><a href="/archive/a/">',
        '<img srcset="/a.png, /b.png 2x">': 'srcset="/archive/a.png, /archive/b.png 2x"',
        "<textarea><iframe src='/t/'></iframe></textarea>": "<iframe src='/t/'>",
        "<title><a href='/t/'></title>": "<a href='/t/'>",
        '<form action="/search/"><input type=image src=/go.png>': 'action="/archive/search/"',
        '<object data="/map.svg"></object>': 'data="/archive/map.svg"',
        '<svg><image xlink:href="/i.png"/></svg>': 'xlink:href="/archive/i.png"',
        '<svg><script>x</script><a href="/a/">A</a></svg>': '<a href="/archive/a/">',
        '<!--> <a href="/a/">A</a> -->': '<!--> <a href="/archive/a/">',
        '<a href=" /a/">': '<a href=" /archive/a/">',  # (a browser drops the space)
        '<a href="/\n/host/">': '<a href="/\n/host/">',  # (and the newline: another host)
        '<a href="&#0000000000000000000000000000000047;a/">': '<a href="/archive/a/">',
        '<script></script/><a href="/a/">': '<a href="/archive/a/">',
        '<textarea></textarea\n x><a href="/a/">': '<a href="/archive/a/">',
        '<script></ script><a href="/a/">': '<a href="/a/">',  # (still the script)
        '<plaintext><a href="/a/">': '<a href="/a/">',
        '<svg><font><style><a href="/a/">': '<a href="/archive/a/">',
        '<svg><mi><style><a href="/a/">': '<a href="/archive/a/">',
        '<svg><foreignObject><div></svg></div></foreignObject><style><a href="/a/">': "/archive/",
        '<svg><br/><style><a href="/a/">': '<a href="/a/">',  # (HTML again: style is text)
        '<svg><![CDATA[</svg><a href="/a/">]]>': '<a href="/a/">',
        '<!-- open to the end <a href="/a/">': '<a href="/a/">',
        '<a href="&#47;a/">A</a> <a href="&#x2F;&#x2F;h/">': '<a href="/archive/a/">A</a> <a hr',
    }
    for markup, expected in cases.items():
        assert expected in raw_html_under(markup, BASE), markup
    assert raw_html_under("<a href=/x/ title=t>", "/my archive/") == (
        '<a href="/my archive/x/" title=t>'
    )
    many = "".join(f'<a href="/{n}/">{n}</a>' for n in range(3000))
    assert raw_html_under(many, BASE) == many.replace('href="/', f'href="{BASE}')


def test_srcset_candidates_as_the_html_standard_parses_them() -> None:
    srcset = "a.png, /b.png 2x,data:image/png;base64,AA== 3x, c(1,2).png 1x, d.png (x,y) 4x,e.png"
    urls = [url for _, url in candidates(srcset)]
    assert urls == ["a.png", "/b.png", "data:image/png;base64,AA==", "c(1,2).png", "d.png", "e.png"]
    assert all(srcset[at:].startswith(url) for at, url in candidates(srcset))


HTML_TAGS = ["a", "img", "source", "video", "iframe", "p", "div", "span", "link", "textarea"]
TAGS = st.sampled_from([*HTML_TAGS, "title", "form", "input", "object", "script", "svg", "use"])
LINK_NAMES = ["href", "HREF", "src", "poster", "srcset", "action", "data", "formaction"]
NAMES = st.sampled_from([*LINK_NAMES, "xlink:href", "title", "data-x", "alt"])
VALUES = st.sampled_from(
    [
        "/x/",
        "//host/",
        "y.png",
        "/a.png 1x, /b.png 2x",
        "/a.png, /b.png 2x",
        "a.png,/b.png",
        "",
        "/",
        "a/b",
        "#top",
        "/q?a=1&amp;b",
        "&#47;x/",
    ]
)
QUOTES = st.sampled_from(['"', "'", ""])


@st.composite
def raw_html(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        tag = draw(TAGS)
        attributes = ""
        for _ in range(draw(st.integers(0, 3))):
            name, value, quote = draw(NAMES), draw(VALUES), draw(QUOTES)
            if not quote and (not value or " " in value):
                quote = '"'
            attributes += (
                f"{draw(st.sampled_from([' ', chr(10), '  ']))}{name}={quote}{value}{quote}"
            )
        between = draw(
            st.sampled_from(["t", "", "<!-- c -->", "<!-->", "<![if x]>", "</textarea>"])
        )
        parts.append(f"<{tag}{attributes}>{between}")
    return "".join(parts)


def _attributes(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Each element of the document a browser makes of `html`, and its attributes."""
    root = LexborHTMLParser(html).root
    assert root is not None
    return [(node.tag or "", list(node.attributes.items())) for node in root.traverse()]


@settings(max_examples=300, deadline=None)
@given(raw_html())
def test_a_browser_sees_only_the_linking_site_paths_moved(markup: str) -> None:
    """Parsed as a browser parses them, the two are the same document but for the
    href, src, poster and srcset of linking elements that held a site path."""
    before, after = _attributes(markup), _attributes(raw_html_under(markup, BASE))
    assert [tag for tag, _ in before] == [tag for tag, _ in after]
    for (tag, old), (_, new) in zip(before, after, strict=True):
        assert [name for name, _ in old] == [name for name, _ in new]
        for (name, was), (_, now) in zip(old, new, strict=True):
            if tag not in LINKING or was is None:
                assert now == was
            elif name in URL_ATTRIBUTES:
                moved = was.startswith("/") and not was.startswith("//")
                assert now == (BASE + was[1:] if moved else was)
            elif name == SRCSET:
                urls = [url for _, url in candidates(was)]
                expected = [
                    BASE + u[1:] if u.startswith("/") and not u.startswith("//") else u
                    for u in urls
                ]
                assert [url for _, url in candidates(now or "")] == expected
            else:
                assert now == was
