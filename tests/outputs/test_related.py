from datetime import datetime

from broadsheet.outputs.related import related_posts
from tests.outputs.helpers import post


def test_shared_tags_outrank_a_shared_section_and_title_words_count() -> None:
    posts = (
        post("a", title="Pipeline deal signed", tags=("energy",), date=datetime(2024, 5, 1)),
        post("b", title="Harvest festival", date=datetime(2024, 4, 1)),
        post("c", title="Pipeline talks stall", section="europe", date=datetime(2024, 3, 1)),
        post(
            "d", title="Gas prices", tags=("energy",), section="europe", date=datetime(2024, 2, 1)
        ),
    )
    related = related_posts(posts)
    assert [p.slug for p in related[0]] == ["d", "c", "b"]


def test_related_articles_are_deterministic_and_never_the_article_itself() -> None:
    posts = tuple(
        post(f"p{n}", tags=(f"t{n % 3}",), title=f"Story number {n} about trade") for n in range(40)
    )
    first, second = related_posts(posts), related_posts(posts)
    assert first == second
    for own, others in zip(posts, first, strict=True):
        assert own not in others and len(others) == 3
