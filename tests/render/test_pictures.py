"""Markdown images as readers get them: pictures with sizes, figures with captions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from broadsheet.render.markdown import markdown_images, render_markdown
from broadsheet.render.pictures import ARTICLE_SIZES, Shown

PHOTO = Shown(
    "/archive/media/aa-800.jpg",
    800,
    600,
    "/archive/media/aa-480.jpg 480w, /archive/media/aa-800.jpg 800w",
    (
        ("image/avif", "/archive/media/bb-480.avif 480w, /archive/media/bb-800.avif 800w"),
        ("image/webp", "/archive/media/cc-480.webp 480w, /archive/media/cc-800.webp 800w"),
    ),
)
GIF = Shown("/archive/media/dd-40.gif", 40, 30)


def _html(text: str, pictures: dict[str, Shown] | None = None) -> LexborHTMLParser:
    return LexborHTMLParser(render_markdown(text, "/archive/", pictures).html)


def test_an_image_alone_in_its_paragraph_is_a_figure_captioned_by_its_title() -> None:
    tree = _html(
        'Text.\n\n![Boats](boats.jpg "Boats waited out the storm.")\n', {"boats.jpg": PHOTO}
    )
    figure = tree.css_first("figure")
    assert figure is not None
    assert figure.css_first("figcaption").text() == "Boats waited out the storm."
    sources = figure.css("picture > source")
    assert [s.attributes["type"] for s in sources] == ["image/avif", "image/webp"]
    assert all(s.attributes["sizes"] == ARTICLE_SIZES for s in sources)
    assert sources[0].attributes["srcset"] == PHOTO.sources[0][1]
    img = figure.css_first("picture > img")
    assert img.attributes == {
        "alt": "Boats",
        "decoding": "async",
        "height": "600",
        "loading": "lazy",
        "sizes": ARTICLE_SIZES,
        "src": PHOTO.src,
        "srcset": PHOTO.srcset,
        "width": "800",
    }  # the title became the caption: not kept as a tooltip too


def test_an_image_within_text_stays_inline_with_its_title() -> None:
    tree = _html('Before ![Boats](boats.jpg "Tip") after.\n', {"boats.jpg": PHOTO})
    assert tree.css_first("figure") is None
    paragraph = tree.css_first("p")
    assert paragraph.css_first("picture > img").attributes["title"] == "Tip"
    assert "Before" in paragraph.text() and "after." in paragraph.text()


def test_a_gif_or_svg_is_an_img_with_its_dimensions_and_no_sources() -> None:
    tree = _html("![Spinner](spin.gif)\n", {"spin.gif": GIF})
    assert tree.css_first("picture") is None
    img = tree.css_first("figure > img")
    assert (img.attributes["width"], img.attributes["height"]) == ("40", "30")
    assert img.attributes["src"] == GIF.src and img.attributes["loading"] == "lazy"


def test_an_image_the_build_did_not_publish_is_left_as_written_but_lazy() -> None:
    tree = _html("![A map](https://maps.example/x.png)\n\n![Site](/images/x.png)\n")
    imgs = tree.css("img")
    assert imgs[0].attributes["src"] == "https://maps.example/x.png"
    assert imgs[1].attributes["src"] == "/archive/images/x.png"  # under the base path
    assert all(i.attributes["loading"] == "lazy" for i in imgs)


def test_images_are_found_as_markdown_reads_them_not_in_code() -> None:
    text = (
        "![One](a.jpg)\n\n```\n![Code](no.jpg)\n```\n\n    ![Indented](no2.jpg)\n\n"
        '`![span](no3.jpg)` and ![Two][ref]\n\n[ref]: b%20c.jpg "T"\n'
    )
    found = markdown_images(text)
    assert [(i.src, i.alt, i.title) for i in found] == [
        ("a.jpg", "One", None),
        ("b%20c.jpg", "Two", "T"),
    ]


ALT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)


@settings(max_examples=60, deadline=None)
@given(alt=ALT, title=st.none() | ALT, before=st.sampled_from(["", "Some text "]))
def test_every_published_image_keeps_its_alt_and_gets_width_and_height(
    alt: str, title: str | None, before: str
) -> None:
    escaped = alt.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    quoted = "" if title is None else ' "' + title.replace('"', "&quot;") + '"'
    text = f"{before}![{escaped}](boats.jpg{quoted})\n"
    found = markdown_images(text)
    tree = _html(text, {found[0].src: PHOTO} if found else {})
    for img in tree.css("img"):
        assert img.attributes.get("width") == "800" and img.attributes.get("height") == "600"
        assert img.attributes.get("decoding") == "async"
        assert "alt" in img.attributes


def test_an_article_that_opens_with_a_photo_is_described_by_its_first_words() -> None:
    from broadsheet.render.markdown import excerpt

    text = '![Boats](boats.jpg "Boats waited.")\n\nThe fleet stayed in port.\n'
    assert excerpt(text) == "The fleet stayed in port."
