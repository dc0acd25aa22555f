from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from broadsheet.content.post import Post
from broadsheet.outputs import related
from broadsheet.outputs.related import _best, related_posts
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


def test_a_stored_ranking_is_reused_only_while_its_inputs_hold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "related.json"
    goods = ("trade", "ports", "grain", "steel")
    posts = tuple(
        post(f"p{n}", tags=(f"t{n % 3}",), title=f"Story {n} about {goods[n % 4]}")
        for n in range(40)
    )
    fresh = related_posts(posts)
    retitled = (replace(posts[0], title="Story 0 about ports"), *posts[1:])
    expected = related_posts(retitled)
    assert expected != fresh
    assert related_posts(posts, store=store) == fresh
    rank_rows = related._rank

    def refuse(*args: object) -> None:
        raise AssertionError("ranked again")

    monkeypatch.setattr(related, "_related_indices", refuse)
    assert related_posts(posts, store=store) == fresh
    # A new author changes the front matter but no title, tag or section: still reused.
    authored = tuple(replace(p, author="Jane Roe") for p in posts)
    slugs = [[p.slug for p in row] for row in related_posts(authored, store=store)]
    assert slugs == [[p.slug for p in row] for row in fresh]
    # A new title does change the ranking's inputs: never the stale ranking, and never
    # all of it again either (only the rows a changed feature can reach).
    ranked: list[int] = []

    def counted(rows: Sequence[int]) -> list[tuple[int, ...]]:
        ranked.extend(rows)
        return rank_rows(rows)

    monkeypatch.setattr(related, "_rank", counted)
    assert related_posts(retitled, store=store) == expected
    assert 0 < len(ranked) < len(posts)


def test_ranking_in_several_processes_gives_the_same_lists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(related, "PARALLEL_MINIMUM", 1)
    posts = tuple(
        post(f"p{n}", tags=(f"t{n % 7}",), title=f"Story {n} about trade and {n % 5} ports")
        for n in range(120)
    )
    assert related_posts(posts, jobs=2) == related_posts(posts, jobs=1)


@given(
    st.dictionaries(
        st.integers(0, 60),
        st.sampled_from([0.1, 0.2, 0.3, 0.1 + 0.2, 1.0, 1.0 + 1e-12, 2.5, 3.0, 3.0 - 1e-10]),
    ),
    st.integers(1, 5),
)
@example({1: 0.30000000000000004, 2: 0.3, 0: 0.1}, 1)  # equal once rounded: index decides
def test_the_best_scores_are_those_of_a_full_sort_by_rounded_score_then_index(
    scores: dict[int, float], count: int
) -> None:
    full = sorted(scores.items(), key=lambda item: (-round(item[1], 9), item[0]))
    assert _best(scores, count) == tuple(i for i, _ in full[:count])


_WORDS = ("trade", "ports", "grain", "steel", "talks", "rains")
_POSTS = st.lists(
    st.tuples(
        st.sampled_from(("asia", "europe")),
        st.lists(st.sampled_from(("t1", "t2", "T1", "t3")), max_size=2, unique=True),
        st.lists(st.sampled_from(_WORDS), min_size=1, max_size=3),
    ),
    min_size=2,
    max_size=40,
)


def _posts(rows: list[tuple[str, list[str], list[str]]]) -> tuple[Post, ...]:
    made = (
        post(f"p{n}", section=section, tags=tuple(tags), title=" ".join(words))
        for n, (section, tags, words) in enumerate(rows)
    )  # (a header digest as the loader's: of its path and front matter)
    return tuple(replace(p, header_digest=repr((p.path, p.tags, p.title))) for p in made)


@settings(max_examples=60, deadline=None)
@given(_POSTS, st.data())
def test_a_ranking_updated_after_edits_equals_one_made_afresh(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[str, list[str], list[str]]],
    data: st.DataObject,
) -> None:
    """Whatever titles, tags and sections change (the posts staying as many), the
    ranking updated from the stored one is the ranking made from scratch."""
    store = tmp_path_factory.mktemp("related") / "related.json"
    related_posts(_posts(rows), store=store)
    edited = list(rows)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(rows) - 1))
        edited[at] = data.draw(_POSTS.map(lambda found: found[0]))
    posts = _posts(edited)
    assert related_posts(posts, store=store) == related_posts(posts)
    assert related_posts(posts, store=store) == related_posts(posts)  # kept as updated


def test_damaged_stored_features_mean_a_ranking_made_afresh(tmp_path: Path) -> None:
    store = tmp_path / "related.json"
    goods = ("trade", "ports", "grain")
    posts = tuple(post(f"p{n}", title=f"Story about {goods[n % 3]}") for n in range(20))
    related_posts(posts, store=store)
    kept = store.with_name("related-features.json")
    raw = bytearray(kept.read_bytes())
    raw[-5] ^= 0x01  # one flipped bit: the seal no longer verifies
    kept.write_bytes(bytes(raw))
    retitled = (replace(posts[0], title="Story about ports"), *posts[1:])
    assert related_posts(retitled, store=store) == related_posts(retitled)


def test_after_a_title_edit_only_that_posts_features_are_worked_out_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "related.json"
    rows = [("asia", ["t1"], [_WORDS[n % 4], "talks"]) for n in range(30)]
    related_posts(_posts(rows), store=store)
    rows[7] = ("asia", ["t1"], ["rains"])
    posts = _posts(rows)
    expected = related_posts(posts)
    worked: list[str] = []
    features = related._features

    def counted(post: Post) -> Iterable[str]:
        worked.append(post.slug)
        return features(post)

    monkeypatch.setattr(related, "_features", counted)
    assert related_posts(posts, store=store) == expected
    assert worked == ["p7"]


def test_kept_features_are_one_string_for_every_post_that_has_one(tmp_path: Path) -> None:
    """And features that cannot be kept so (a tag with a tab) are not kept at all: the
    ranking is made afresh from the posts, and is the same."""
    from broadsheet.sealed import read_sealed

    store = tmp_path / "related.json"
    posts = tuple(
        post(f"p{n}", tags=("t1",), title=f"Story about {_WORDS[n % 3]}") for n in range(9)
    )
    related_posts(posts, store=store)
    kept = store.with_name("related-features.json")
    key = related._load(read_sealed(store), len(posts))[1]  # type: ignore[index]
    loaded = related._load_features(read_sealed(kept), key, len(posts))
    assert loaded is not None
    features = loaded[0]
    assert features == tuple(tuple(related._features(p)) for p in posts)
    assert all(row[1] is features[0][1] == "tag:t1" for row in features)
    tabbed = tuple(replace(p, tags=("t1\tt2",), header_digest="tabbed") for p in posts)
    assert related_posts(tabbed, store=store) == related_posts(tabbed)
    key = related._load(read_sealed(store), len(posts))[1]  # type: ignore[index]
    assert related._load_features(read_sealed(kept), key, len(posts)) is None


def test_a_headline_edit_gathers_the_members_of_the_reranked_rows_features_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (every feature's members were 15 MB of a headline edit's peak at 100,000 articles)
    store = tmp_path / "related.json"
    rows = [("asia", ["t1"], ["trade", "talks"]) for _ in range(10)]
    rows += [("europe", ["t2"], ["grain", "steel"]) for _ in range(10)]
    related_posts(_posts(rows), store=store)
    rows[3] = ("asia", ["t1"], ["trade", "ports"])
    posts = _posts(rows)
    gathered: list[set[str]] = []
    members = related._members

    def spied(features: tuple[tuple[str, ...], ...], some: Sequence[int]) -> dict[str, list[int]]:
        found = members(features, some)
        gathered.append(set(found))
        return found

    monkeypatch.setattr(related, "_members", spied)
    assert related_posts(posts, store=store) == related_posts(_posts(rows))
    reranked, afresh = gathered
    assert reranked == {"section:asia", "tag:t1", "word:trade", "word:talks", "word:ports"}
    assert "tag:t2" in afresh and "word:grain" in afresh


def test_a_kept_ranking_holds_one_number_for_each_post(tmp_path: Path) -> None:
    from broadsheet.sealed import read_sealed

    store = tmp_path / "related.json"
    posts = tuple(post(f"p{n}", tags=("t1",), title=f"Story {n:04}") for n in range(400))
    related_posts(posts, store=store)
    loaded = related._load(read_sealed(store), len(posts))
    assert loaded is not None
    ranked = loaded[2]
    places: dict[int, int] = {}
    for row in ranked:
        for number in row:
            assert places.setdefault(number, id(number)) == id(number)
    assert max(places) > 256  # (not only the small ints Python keeps one of anyway)


@pytest.mark.parametrize("rows_at_a_time", [1, 2, 4_096])
def test_kept_features_are_written_a_few_rows_at_a_time_as_one_json_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows_at_a_time: int
) -> None:
    import orjson

    from broadsheet.sealed import read_sealed

    monkeypatch.setattr(related, "SAVED_ROWS", rows_at_a_time)
    store = tmp_path / "related.json"
    posts = _posts([("asia", ["t1"], [_WORDS[n % 5], "talks"]) for n in range(7)])
    related_posts(posts, store=store)
    payload = read_sealed(store.with_name("related-features.json"))
    assert payload is not None
    key = related._load(read_sealed(store), len(posts))[1]  # type: ignore[index]
    features = [tuple(related._features(p)) for p in posts]
    assert orjson.loads(payload) == {
        "key": key,
        "features": ["\t".join(row) for row in features],
        "headers": [p.header_digest for p in posts],
    }
    assert related._load_features(payload, key, len(posts)) == (
        tuple(features),
        [p.header_digest for p in posts],
    )
