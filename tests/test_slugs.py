import re

from hypothesis import given
from hypothesis import strategies as st

from broadsheet.slugs import MAX_SLUG_LENGTH, slugify


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
    assert not slug.startswith("-") and not slug.endswith("-")
    assert "--" not in slug
    assert not re.search(r"[\s/\\?#%&<>\"'.]", slug)
    assert slug == slug.lower()
    assert slugify(slug) == slug
