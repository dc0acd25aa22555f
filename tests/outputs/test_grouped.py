"""The posts' reading order, listings and related articles, kept for the next build:
read back only for posts of the same paths and front matter, and equal to those made."""

from __future__ import annotations

import dataclasses
import sys
from array import array
from base64 import b64decode, b64encode
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadsheet.config import SiteConfig, load_config
from broadsheet.content.loader import load_posts
from broadsheet.content.post import Post
from broadsheet.outputs import grouped as grouped_module
from broadsheet.outputs.grouped import Groups, grouped
from broadsheet.sealed import read_sealed, write_sealed
from tests.outputs.helpers import post

SECTIONS = ["asia", "america", "europe"]


def _config(**sections: str) -> SiteConfig:
    return load_config(Path("/nonexistent"), {"sections": sections} if sections else {})


def _described(groups: Groups) -> tuple[Any, ...]:
    """What the groups say, by the posts' paths (a post kept is another object)."""
    ordered, listed, related = groups
    paths = [str(p.path) for p in ordered]
    kinds = [
        (item.kind, item.slug, item.name, item.url_path, [str(p.path) for p in item.posts])
        for kind in (*listed[:5], (listed.undated,))
        for item in kind
    ]
    return paths, kinds, [[paths[n] for n in row] for row in related]


def _posts() -> list[Post]:
    return [
        post("a", date=datetime(2024, 11, 5), author="Jane Roe", tags=("Trade", "energy")),
        post("b", date=datetime(2024, 11, 1), author="jane roe", tags=("trade",)),
        post("c", date=datetime(2023, 2, 1), author="Ali Khan", section="america"),
        post("d", source="raw/a.txt:7", tags=("energy",)),
        post("e", date=datetime(2024, 11, 5), title="A"),
        post("f", date=datetime(2022, 1, 1), section="europe", tags=("Trade",)),
    ]


def _refuse_to_make(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("made again")

    for name in ("reading_order", "every_listing", "related_indices"):
        monkeypatch.setattr(grouped_module, name, refused)


def test_the_groups_of_posts_edited_in_their_bodies_are_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, store = _config(america="The Americas"), tmp_path / "groups.json"
    posts = _posts()
    made = grouped(posts, config, store)
    assert _described(made) == _described(grouped(posts, config))
    edited = [
        dataclasses.replace(p, digest=f"new {n}", body_text="Other.") for n, p in enumerate(posts)
    ]
    _refuse_to_make(monkeypatch)
    kept = grouped(edited, config, store)
    assert _described(kept) == _described(made)
    # the posts of this build, not the last one's
    ids = {id(p) for p in edited}
    assert {id(p) for p in kept[0]} == ids
    assert {id(p) for listing in kept[1].tags for p in listing.posts} <= ids


@pytest.mark.parametrize(
    "change",
    [
        lambda p: dataclasses.replace(p, title="0 first") if p.slug == "e" else p,
        lambda p: dataclasses.replace(p, tags=("new",)) if p.slug == "f" else p,
        lambda p: dataclasses.replace(p, author="Ali Khan") if p.slug == "a" else p,
        lambda p: (
            dataclasses.replace(p, date=datetime(2030, 1, 1, tzinfo=ZoneInfo("UTC")))
            if p.slug == "d"
            else p
        ),
    ],
    ids=["title", "tags", "author", "date"],
)
def test_groups_are_made_again_when_front_matter_changes(tmp_path: Path, change: Any) -> None:
    config, store = _config(), tmp_path / "groups.json"
    grouped(_posts(), config, store)
    changed = [change(p) for p in _posts()]
    assert _described(grouped(changed, config, store)) == _described(grouped(changed, config))
    assert _described(grouped(changed, config, store)) != _described(grouped(_posts(), config))


def test_groups_are_made_again_when_the_sections_settings_change(tmp_path: Path) -> None:
    store = tmp_path / "groups.json"
    grouped(_posts(), _config(asia="Asia", america="The Americas"), store)
    config = _config(europe="Old World", america="Americas")
    found = grouped(_posts(), config, store)
    assert _described(found) == _described(grouped(_posts(), config))
    assert [s.name for s in found[1].sections] == ["Old World", "Americas", "Asia"]


def test_groups_are_made_again_in_another_time_zone(tmp_path: Path) -> None:
    """Dates without an offset are the site's zone's: the same files order otherwise."""
    content = tmp_path / "content" / "asia"
    content.mkdir(parents=True)
    (content / "noon.md").write_text("---\ntitle: Noon\ndate: 2024-01-01 12:00\n---\nText.\n")
    (content / "ten.md").write_text(
        "---\ntitle: Ten\ndate: 2024-01-01T10:00:00+00:00\n---\nText.\n"
    )
    store = tmp_path / "groups.json"
    orders = []
    for zone in ("UTC", "Asia/Karachi"):
        config = load_config(tmp_path, {"timezone": zone})
        posts = load_posts(tmp_path / "content", ZoneInfo(zone))
        found = grouped(posts, config, store)
        assert _described(found) == _described(grouped(posts, config))
        orders.append([p.slug for p in found[0]])
    assert orders == [["noon", "ten"], ["ten", "noon"]]


def _kept(store: Path) -> dict[str, Any]:
    payload = read_sealed(store)
    assert payload is not None
    data = orjson.loads(payload)
    assert isinstance(data, dict)
    return data


def _u(text: str) -> list[int]:
    """The numbers a kept file packs into `text` (unsigned, 4 bytes each)."""
    return list(array("I", b64decode(text)))


def _p(numbers: list[int]) -> str:
    return b64encode(array("I", numbers).tobytes()).decode("ascii")


def _places(d: dict[str, Any], change: Any) -> dict[str, Any]:
    """`d` with every listing's places changed by `change`."""
    return {**d, "listings": [[*row[:4], change(row[4])] for row in d["listings"]]}


DAMAGES = {
    "not an object": lambda d: [d],
    "another key": lambda d: {**d, "key": "0" * 32},
    "order short": lambda d: {**d, "order": _p(_u(d["order"])[:-1])},
    "order twice one post": lambda d: {**d, "order": _p([_u(d["order"])[0]] * POSTS)},
    "order out of range": lambda d: {**d, "order": _p([2**32 - 1, *_u(d["order"])[1:]])},
    "order not packed": lambda d: {**d, "order": _u(d["order"])},
    "order not base64": lambda d: {**d, "order": "!" + d["order"][1:]},
    "order of three bytes": lambda d: {**d, "order": b64encode(b"abc").decode()},
    "counts wrong": lambda d: {**d, "counts": [n + 1 for n in d["counts"]]},
    # (the slices of the listings then add up: all of them sections)
    "counts negative": lambda d: {**d, "counts": [-1, sum(d["counts"]) + 1, 0, 0, 0]},
    "counts four": lambda d: {**d, "counts": d["counts"][:4]},
    "counts four, the same total": lambda d: {
        **d,
        "counts": [*d["counts"][:3], d["counts"][3] + d["counts"][4]],
    },
    "counts six": lambda d: {**d, "counts": [*d["counts"], 0]},
    "counts of text": lambda d: {**d, "counts": [str(n) for n in d["counts"]]},
    "listing short": lambda d: {**d, "listings": [row[:4] for row in d["listings"]]},
    "listing place out": lambda d: _places(d, lambda text: _p([*_u(text), POSTS])),
    "listing places a list": lambda d: _places(d, _u),
    "a section's name missing": lambda d: {
        **d,
        "listings": [[*d["listings"][0][:2], None, *d["listings"][0][3:]], *d["listings"][1:]],
    },
    "related short": lambda d: {**d, "related": _p(_u(d["related"])[:-1])},
    "related out": lambda d: {**d, "related": _p([POSTS] * len(_u(d["related"])))},
    "related sizes over three": lambda d: {
        **d,
        "related_counts": _p([4, *_u(d["related_counts"])[1:]]),
    },
    "related sizes short": lambda d: {
        **d,
        "related_counts": _p(_u(d["related_counts"])[:-1]),
        "related": _p(_u(d["related"])[: -_u(d["related_counts"])[-1] or None]),
    },
    "no related": lambda d: {k: v for k, v in d.items() if k != "related"},
}
POSTS = len(_posts())


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_malformed_groups_are_made_again(tmp_path: Path, damage: Any) -> None:
    config, store = _config(), tmp_path / "groups.json"
    posts = _posts()
    grouped(posts, config, store)
    write_sealed(store, orjson.dumps(damage(_kept(store))))
    assert _described(grouped(posts, config, store)) == _described(grouped(posts, config))
    assert _kept(store) == _kept_fresh(tmp_path, posts, config)


def _kept_fresh(tmp_path: Path, posts: list[Post], config: SiteConfig) -> dict[str, Any]:
    fresh = tmp_path / "fresh.json"
    grouped(posts, config, fresh)
    return _kept(fresh)


def test_a_damaged_file_of_groups_is_made_again(tmp_path: Path) -> None:
    config, store = _config(), tmp_path / "groups.json"
    grouped(_posts(), config, store)
    data = bytearray(store.read_bytes())
    data[-3] ^= 1
    store.write_bytes(bytes(data))
    assert _described(grouped(_posts(), config, store)) == _described(grouped(_posts(), config))


# Posts drawn from a few of each field, so that orders tie and listings share members.
POST = st.builds(
    lambda slug, section, day, author, tags, title: post(
        slug,
        section=section,
        date=datetime(2024, 1, day) if day else None,
        author=author,
        tags=tags,
        title=title,
        source=None if day else f"raw/{slug}.txt:{len(slug)}",
    ),
    slug=st.sampled_from(["a", "b", "c", "d", "e", "f", "g"]),
    section=st.sampled_from(SECTIONS),
    day=st.sampled_from([0, 1, 2, 2]),
    author=st.sampled_from([None, "Jane Roe", "jane roe", "Ali Khan"]),
    tags=st.lists(st.sampled_from(["Trade", "trade", "energy", "war"]), max_size=2).map(tuple),
    title=st.sampled_from(["A", "B", "Same"]),
)
SITES = st.lists(POST, max_size=8, unique_by=lambda p: str(p.path))
SETTINGS = st.sampled_from([{}, {"america": "The Americas"}, {"europe": "Europe", "asia": "Asia"}])


@given(first=SITES, then=SITES, before=SETTINGS, after=SETTINGS)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_groups_read_back_are_always_those_made(
    tmp_path_factory: pytest.TempPathFactory,
    first: list[Post],
    then: list[Post],
    before: dict[str, str],
    after: dict[str, str],
) -> None:
    """After the groups of any posts are kept, those of any others (or the same, with
    other settings) are the ones made for them."""
    store = tmp_path_factory.mktemp("groups") / "groups.json"
    grouped(first, _config(**before), store)
    config = _config(**after)
    assert _described(grouped(then, config, store)) == _described(grouped(then, config))
    assert _described(grouped(then, config, store)) == _described(grouped(then, config))


def test_the_same_posts_found_in_another_order_are_grouped_as_made(tmp_path: Path) -> None:
    """The kept order names posts by where they were found: posts found in another
    order are the ones it names only if they are found there too."""
    config, store = _config(), tmp_path / "groups.json"
    grouped(_posts(), config, store)
    found = list(reversed(_posts()))
    assert _described(grouped(found, config, store)) == _described(grouped(found, config))


def test_groups_kept_on_a_machine_of_the_other_byte_order_are_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache restored on another kind of machine: its packed numbers would read as
    others."""
    config, store = _config(), tmp_path / "groups.json"
    grouped(_posts(), config, store)
    monkeypatch.setattr(
        grouped_module.sys, "byteorder", "big" if sys.byteorder == "little" else "little"
    )
    _refuse_to_make(monkeypatch)
    with pytest.raises(AssertionError, match="made again"):
        grouped(_posts(), config, store)
