import re

from hypothesis import given
from hypothesis import strategies as st

from broadsheet.slugs import MAX_SLUG_BYTES, MAX_SLUG_LENGTH, slugify


def test_headlines_become_readable_slugs() -> None:
    assert slugify("Japan’s security future: ‘Asian NATO’ proposal and SOFA revision") == (
        "japans-security-future-asian-nato-proposal-and-sofa-revision"
    )
    assert slugify("Does U.S. Afghanistan Policy Have a Future?") == (
        "does-us-afghanistan-policy-have-a-future"
    )
    assert slugify("MIDDLE EAST") == "middle-east"
    assert slugify("Café déjà vu") == "cafe-deja-vu"


def test_other_scripts_are_kept_and_empty_input_falls_back() -> None:
    assert slugify("中国 新闻") == "中国-新闻"
    assert slugify("!!!") == "article"
    assert slugify("", fallback="section") == "section"


@given(st.text())
def test_slugs_are_url_safe_stable_and_bounded(text: str) -> None:
    slug = slugify(text)
    assert slug
    assert len(slug) <= MAX_SLUG_LENGTH
    assert len(slug.encode("utf-8", "surrogatepass")) <= MAX_SLUG_BYTES  # a file name fits
    assert not slug.startswith("-") and not slug.endswith("-")
    assert "--" not in slug
    assert not re.search(r"[\s/\\?#%&<>\"'.]", slug)
    assert slug == slug.lower()
    assert slugify(slug) == slug


def test_a_headline_in_a_four_byte_script_gives_a_file_name_that_fits() -> None:
    slug = slugify(chr(0x20000) * 100)
    assert len(slug.encode("utf-8")) <= MAX_SLUG_BYTES and len(f"{slug}-1000.md") < 255
    words = slugify(" ".join([chr(0x20000) * 10] * 10))
    assert words.count("-") == 3 and len(words.encode("utf-8")) <= MAX_SLUG_BYTES
