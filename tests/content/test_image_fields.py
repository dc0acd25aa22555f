"""The featured image's front matter: image, image_alt, image_caption, image_credit."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadsheet.content.frontmatter import parse_post
from broadsheet.errors import BroadsheetErrors

UTC = ZoneInfo("UTC")


def _parse(header: str, body: str = "Text.\n") -> object:
    return parse_post(
        Path("content/asia/boats/index.md"),
        f"---\ntitle: T\n{header}---\n\n{body}",
        "asia",
        UTC,
        bundle=True,
    )


def _errors(header: str) -> list[str]:
    with pytest.raises(BroadsheetErrors) as caught:
        _parse(header)
    return [str(error) for error in caught.value.errors]


def test_the_featured_image_and_its_words_are_read() -> None:
    post = _parse(
        "image: harbour.jpg\nimage_alt: Boats moored in a grey harbour\n"
        "image_caption: The harbour at dawn.\nimage_credit: Jane Roe\n",
        "![A](a.jpg)\n\n![B](https://example.org/b.png)\n\n![](c.jpg)\n",
    )
    assert post.image == "harbour.jpg"  # type: ignore[attr-defined]
    assert post.image_alt == "Boats moored in a grey harbour"  # type: ignore[attr-defined]
    assert post.image_caption == "The harbour at dawn."  # type: ignore[attr-defined]
    assert post.image_credit == "Jane Roe"  # type: ignore[attr-defined]
    assert post.images == ("a.jpg", "c.jpg")  # type: ignore[attr-defined]  # local ones
    assert post.unlabelled == ("c.jpg",)  # type: ignore[attr-defined]
    assert post.slug == "boats"  # type: ignore[attr-defined]  # the bundle's folder


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "image: https://example.org/x.jpg\nimage_alt: X\n",
            "index.md:3: image: 'https://example.org/x.jpg' is not a file",
        ),
        ("image: x.jpg\nimage_alt: ''\n", "index.md:4: image_alt: is empty: describe the picture"),
        ("image: x.jpg\nimage_alt: [a, b]\n", "index.md:4: image_alt: must be text"),
        ("image_caption: A caption\n", "index.md:3: image_caption: is given without image"),
        ("image_credit: Jane\n", "index.md:3: image_credit: is given without image"),
        ("image_alt: Words\n", "index.md:3: image_alt: is given without image"),
        ("imag: x.jpg\n", "index.md:3: imag: unknown key (did you mean 'image'?)"),
    ],
)
def test_a_bad_image_field_is_an_error_at_its_line(header: str, expected: str) -> None:
    assert any(expected in message for message in _errors(header)), _errors(header)
