"""The post cache: posts come back exactly as they were kept, and a file of it that does
not verify or holds anything malformed is ignored whole (its posts are parsed again),
never half-trusted."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from broadsheet.content import store
from broadsheet.content.post import Post
from broadsheet.content.store import STAMPS, read_post_cache, shard_of, write_post_cache
from broadsheet.sealed import seal, unseal

ZONE = ZoneInfo("Europe/London")


def _post(content: Path, name: str, **fields: object) -> Post:
    values: dict[str, object] = {
        "path": content / name,
        "title": "A title",
        "section": "ASIA",
        "section_slug": name.split("/")[0],
        "slug": name.split("/")[1].removesuffix(".md"),
        "date": datetime(2024, 3, 1, 9, 30, tzinfo=ZONE),
        "has_time": True,
        "updated": None,
        "author": "Jane Roe",
        "tags": ("trade", "courts"),
        "summary": None,
        "source": "raw/asia.txt:12",
        "draft": False,
        "body_line": 9,
        "digest": "d1",
        "excerpt": "The first paragraph.",
        "words": 640,
        "header_digest": "h1",
    }
    values.update(fields)
    return Post(**values)  # type: ignore[arg-type]


def _kept(tmp_path: Path) -> tuple[Path, Path, dict[str, tuple[list[Any], Post]]]:
    content, folder = tmp_path / "content", tmp_path / "state"
    posts = [
        _post(content, "asia/one.md"),
        _post(
            content,
            "america/two.md",
            date=None,
            has_time=False,
            author=None,
            tags=(),
            source=None,
            summary="Kept short.",
            draft=True,
        ),
        _post(content, "asia/three.md", updated=datetime(2024, 5, 2, tzinfo=ZONE)),
    ]
    cache = {str(p.path): (_stamp(n), p) for n, p in enumerate(posts)}
    write_post_cache(folder, content, ZONE, cache)
    return content, folder, cache


def _stamp(n: int) -> list[Any]:
    stamp: list[Any] = [900 + n, 1_700_000_000_000_000 + n, 1_700_000_000_000_000 + n, 77 + n]
    return [*stamp, "0123abcd"] if n % 2 else stamp  # racy when kept: hashed


def _shards(folder: Path) -> list[tuple[Path, dict[str, Any]]]:
    """The cache's files that hold posts, and what they hold (unsealed)."""
    found = []
    for shard in sorted(folder.glob("*.json")):
        if shard.name == STAMPS:
            continue
        payload = unseal(shard.read_bytes())
        assert payload is not None
        data = json.loads(payload)
        if data["posts"]:
            found.append((shard, data))
    return found


def test_posts_come_back_as_they_were_kept(tmp_path: Path) -> None:
    content, folder, cache = _kept(tmp_path)
    assert read_post_cache(folder, content, ZONE) == dict(sorted(cache.items()))


def test_a_cache_for_another_time_zone_is_ignored(tmp_path: Path) -> None:
    content, folder, _ = _kept(tmp_path)
    assert read_post_cache(folder, content, ZoneInfo("Asia/Tokyo")) == {}


# Each place of an entry (see store._encode), and a value of a type it never holds there.
_WRONG = st.sampled_from(
    [
        (0, 2.5),
        (4, 7),
        (7, 3),  # the place digest
        (8, 3),
        (10, ["x"]),
        (11, "2024-03-01"),
        (12, 5),
        (13, 1),
        (14, "trade"),
        (14, ["trade", 3]),
        (15, 0),
        (16, "9"),
        (17, 640.0),
        (18, [1]),  # an alias, an image, an image without alt text that is no str
        (19, [None]),
        (20, [2]),
        (21, 1),
        (24, []),
    ]
)


def _others(kept: dict[str, tuple[list[Any], Post]], shard: Path) -> dict[str, Any]:
    """The kept posts but those of `shard`."""
    return {
        k: v for k, v in sorted(kept.items()) if shard_of(k.split("content/")[1]) != int(shard.stem)
    }


@settings(max_examples=40, deadline=None)
@given(_WRONG, st.integers(0, 2))
def test_one_malformed_value_makes_its_file_ignored(
    tmp_path_factory: pytest.TempPathFactory, wrong: tuple[int, object], which: int
) -> None:
    content, folder, kept = _kept(tmp_path_factory.mktemp("cache"))
    entries = [(shard, data, key) for shard, data in _shards(folder) for key in data["posts"]]
    shard, data, key = entries[which % len(entries)]
    place, value = wrong
    data["posts"][key][place] = value
    shard.write_bytes(seal(json.dumps(data).encode()))  # sealed anew: only the shape is wrong
    assert read_post_cache(folder, content, ZONE) == _others(kept, shard)


def test_an_entry_of_the_wrong_length_makes_its_file_ignored(tmp_path: Path) -> None:
    content, folder, kept = _kept(tmp_path)
    shard, data = _shards(folder)[0]
    next(iter(data["posts"].values())).append(1)
    shard.write_bytes(seal(json.dumps(data).encode()))
    assert read_post_cache(folder, content, ZONE) == _others(kept, shard)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 10**6), st.integers(1, 255), st.sampled_from(["flip", "cut", "empty", "json"])
)
def test_a_file_that_does_not_verify_is_ignored_whole(
    tmp_path_factory: pytest.TempPathFactory, at: int, mask: int, damage: str
) -> None:
    """One flipped byte anywhere, a cut, an empty file, or JSON of the right shape
    without its seal: that file's posts are parsed again, the others are kept."""
    content, folder, kept = _kept(tmp_path_factory.mktemp("cache"))
    shards = _shards(folder)
    shard, data = shards[at % len(shards)]
    raw = bytearray(shard.read_bytes())
    if damage == "flip":
        raw[at % len(raw)] ^= mask
    elif damage == "cut":
        del raw[at % len(raw) :]
    elif damage == "empty":
        raw.clear()
    else:
        raw[:] = json.dumps(data).encode()
    shard.write_bytes(bytes(raw))
    assert read_post_cache(folder, content, ZONE) == _others(kept, shard)


def _stamps(folder: Path) -> dict[str, Any]:
    payload = unseal((folder / STAMPS).read_bytes())
    assert payload is not None
    return json.loads(payload)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "wrong", [[1, 2, 3], [1, 2, 3, "4"], [1, 2, 3, 4, 5], "1", None, [1.5, 2, 3, 4]]
)
def test_a_malformed_stamp_leaves_its_post_to_be_parsed_again(tmp_path: Path, wrong: Any) -> None:
    content, folder, kept = _kept(tmp_path)
    data = _stamps(folder)
    data["stamps"]["asia/one.md"] = wrong
    (folder / STAMPS).write_bytes(seal(json.dumps(data).encode()))
    expected = {k: v for k, v in sorted(kept.items()) if not k.endswith("asia/one.md")}
    assert read_post_cache(folder, content, ZONE) == expected


@pytest.mark.parametrize("damage", ["missing", "flip", "format", "shape"])
def test_without_their_stamps_no_post_is_trusted(tmp_path: Path, damage: str) -> None:
    """A post is only used beside the stamp of the file it was parsed from."""
    content, folder, _ = _kept(tmp_path)
    path = folder / STAMPS
    if damage == "missing":
        path.unlink()
    elif damage == "flip":
        raw = bytearray(path.read_bytes())
        raw[-3] ^= 1
        path.write_bytes(bytes(raw))
    elif damage == "format":
        data = _stamps(folder)
        data["format"] = store.FORMAT - 1
        path.write_bytes(seal(json.dumps(data).encode()))
    else:
        path.write_bytes(seal(json.dumps({"format": store.FORMAT, "stamps": []}).encode()))
    assert read_post_cache(folder, content, ZONE) == {}


def test_new_stamps_alone_rewrite_no_post(tmp_path: Path) -> None:
    """A fresh clone: every file has new times, every post is as it was. Only the
    stamps' file is written again."""
    content, folder, kept = _kept(tmp_path)
    shards = {shard: shard.read_bytes() for shard, _ in _shards(folder)}
    for shard in shards:
        shard.write_bytes(shards[shard])  # (no change: a rewrite would change the inode)
    inodes = {shard: shard.stat().st_ino for shard in shards}
    moved = {k: ([s[0], s[1] + 5, *s[2:]], post) for k, (s, post) in kept.items()}
    read: dict[int, str] = {}
    assert read_post_cache(folder, content, ZONE, read) == dict(sorted(kept.items()))
    write_post_cache(folder, content, ZONE, moved, changed=[], kept=read)
    assert {shard: shard.stat().st_ino for shard in shards} == inodes
    assert {shard: shard.read_bytes() for shard in shards} == shards
    assert read_post_cache(folder, content, ZONE) == dict(sorted(moved.items()))


@pytest.mark.parametrize("clears", [True, False])
def test_a_post_that_cannot_be_written_is_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clears: bool
) -> None:
    """A post edited, its file of the cache not writable (nor, perhaps, removable): its
    new stamp must not stand beside the old post, which would then pass for the edited
    one. The posts of that file are parsed again; the others come back as kept."""
    content, folder, kept = _kept(tmp_path)
    name = str(content / "asia/one.md")
    stamp, old = kept[name]
    edited = dict(kept)
    new = [stamp[0] + 1, *stamp[1:]]
    edited[name] = (new, _post(content, "asia/one.md", title="Edited"))
    real = store.write_sealed_parts
    failing = f"{shard_of('asia/one.md')}.json"

    def refuse(path: Path, parts: list[bytes]) -> str:
        if path.name == failing:
            raise PermissionError(13, "Permission denied")
        return real(path, parts)

    read: dict[int, str] = {}
    read_post_cache(folder, content, ZONE, read)
    monkeypatch.setattr(store, "write_sealed_parts", refuse)
    if not clears:
        monkeypatch.setattr(store, "clear", lambda path: None)
    write_post_cache(folder, content, ZONE, edited, changed=[name], kept=read)
    found = read_post_cache(folder, content, ZONE)
    assert found.get(name) != (new, old) and name not in found
    others = {
        k: v for k, v in edited.items() if shard_of(k.split("content/")[1]) != int(failing[:-5])
    }
    assert found == dict(sorted(others.items()))


def test_posts_written_before_a_build_stopped_are_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped after a file of posts was written but before the stamps' file: that
    file's new posts are not read beside the old stamps (an edit undone within the
    clock's tick would match them again), and the other files' posts are."""
    content, folder, kept = _kept(tmp_path)
    name = str(content / "asia/one.md")
    stamp, _ = kept[name]
    edited = dict(kept)
    edited[name] = ([stamp[0] + 1, *stamp[1:]], _post(content, "asia/one.md", title="Edited"))
    real = store.write_sealed

    def stopped(path: Path, payload: bytes) -> None:
        if path.name == STAMPS:
            raise KeyboardInterrupt
        real(path, payload)

    read: dict[int, str] = {}
    read_post_cache(folder, content, ZONE, read)
    monkeypatch.setattr(store, "write_sealed", stopped)
    with pytest.raises(KeyboardInterrupt):
        write_post_cache(folder, content, ZONE, edited, changed=[name], kept=read)
    found = read_post_cache(folder, content, ZONE)
    assert name not in found
    shard = shard_of("asia/one.md")
    others = {k: v for k, v in kept.items() if shard_of(k.split("content/")[1]) != shard}
    assert found == dict(sorted(others.items()))


def test_a_file_of_posts_other_than_the_one_named_is_not_read(tmp_path: Path) -> None:
    """A file of posts whole and well formed, but not the one the stamps' file names
    (say, left by a build that stopped): its posts are parsed again."""
    content, folder, kept = _kept(tmp_path)
    shard, data = _shards(folder)[0]
    shard.write_bytes(seal(json.dumps(data, indent=1).encode()))  # other bytes, same posts
    assert read_post_cache(folder, content, ZONE) == _others(kept, shard)


def test_posts_read_back_share_their_section_author_and_tag_names(tmp_path: Path) -> None:
    # (Each entry parsed has its own copy of each name: 30 MB at 100,000 posts, held by
    # every process of the build. Read back, the posts that have a name share one.)
    content, folder, _ = _kept(tmp_path)
    one, three = (
        post
        for _, post in read_post_cache(folder, content, ZONE).values()
        if post.section_slug == "asia"
    )
    assert one is not three and one.path != three.path
    assert one.section is three.section and one.section_slug is three.section_slug
    assert one.author is three.author
    assert all(a is b for a, b in zip(one.tags, three.tags, strict=True))


# The compiled decode_shard (broadsheet/content/_posts.c) and its Python twin, given the
# same file of posts: the same posts, field by field, or the same kind of error.
_NAMES = st.sampled_from(
    [  # all in file 3 but the last two: a post, a bundle, its other file, a folder too
        # deep, one at the top, not Markdown, accented, named .MD
        "asia/one.md",
        "asia/p81.md",
        "europe/p2.md",
        "asia/b20/index.md",
        "asia/b7/x.md",
        "a/b49/c/index.md",
        "t80.md",
        "asia/n48.txt",
        "asia/é3.md",
        "asia/b24/index.MD",
        "asia/two.md",  # (file 12)
        "asia/\ud800-surrogate.md",  # (in none: it has no UTF-8)
    ]
)
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([2**70, 1e300, -1e300, 0.5, 1.7e9, float("nan")]),
    st.text(max_size=3),
    st.lists(st.text(max_size=2), max_size=2),
    st.lists(st.integers(0, 2), max_size=2),
)
_STAMPS = st.sampled_from([[1, 2, 3, 4], [1, 2, 3, 4, "h"], [1, 2, 3], [1, 2, 3, True], None])


def _shard_or_none(name: str) -> int | None:
    try:
        return shard_of(name)
    except UnicodeEncodeError:  # (a lone surrogate: the whole file is refused)
        return None


def _entry_of(post: Post) -> list[Any]:
    return store._encode(post)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            _NAMES,
            st.one_of(  # none, a value of the wrong type at a place, or anything
                st.just([]),
                _WRONG.map(lambda wrong: [wrong]),
                st.lists(st.tuples(st.integers(0, 25), _VALUES), min_size=1, max_size=2),
            ),
            st.one_of(st.none(), _STAMPS),
        ),
        max_size=8,
    ),
    st.booleans(),
)
@example(  # a post, a bundle, a folder too deep to be one: each read, none misplaced
    [
        ("asia/one.md", [], [1, 2, 3, 4]),
        ("asia/b20/index.md", [], [1, 2, 3, 4, "h"]),
        ("a/b49/c/index.md", [], [1, 2, 3, 4]),
        ("t80.md", [], [5, 6, 7, 8]),
    ],
    False,
)
@example([("asia/one.md", [(20, [2])], [1, 2, 3, 4])], False)  # an image that is no str
@example([("asia/one.md", [(11, 1e300)], [1, 2, 3, 4])], False)  # a date out of range
def test_the_compiled_decoder_reads_what_the_python_one_reads(
    entries: list[tuple[str, list[tuple[int, Any]], Any]], misplaced: bool
) -> None:
    native = pytest.importorskip("broadsheet.content._posts")
    content = Path("/project/content")
    given_entries: dict[str, Any] = {}
    stamps: dict[str, Any] = {}
    # The file they are read as from: the first one's (the names are in few files: each
    # other name in another is left out, unless one is to be found misplaced)
    shard = (_shard_or_none(entries[0][0]) if entries else 0) or 0
    for number, (name, changes, stamp) in enumerate(entries):
        if _shard_or_none(name) != shard and not (misplaced and number == len(entries) - 1):
            continue
        post = _post(  # (each field its own value: one put in another's place shows)
            content,
            "asia/x.md",
            title=f"T{number}",
            tags=("a", "b"),
            summary="S",
            updated=datetime(2024, 5, 2, tzinfo=ZONE),
            aliases=("old/",),
            image="i.jpg",
            image_alt="alt",
            image_caption="caption",
            image_credit="credit",
            images=("i.jpg", "j.png"),
            unlabelled=("j.png",),
            place_digest="p1",
        )
        entry = _entry_of(post)
        for place, value in changes:
            if place < len(entry):
                entry[place] = value
            else:
                entry.append(value)
        given_entries[name] = entry
        if stamp is not None:
            stamps[name] = stamp
    answers = []
    for decode in (native.decode_shard, store.decode_shard_python):
        folders: dict[str, Path] = {}
        texts: dict[str, str] = {}
        try:
            found = decode(
                given_entries,
                shard,
                store.SHARDS,
                stamps,
                f"{content}/",
                content,
                folders,
                store._child,
                ZONE,
                texts,
                Post,
                datetime.fromtimestamp,
            )
        except Exception as exc:  # (which kind: the caller catches some, not others)
            answers.append(("error", type(exc)))
            continue
        answers.append(
            (
                "posts",
                [
                    (key, stamp, [repr(getattr(post, name)) for name in Post.__slots__])
                    for key, (stamp, post) in found.items()
                ],
            )
        )
        for _, post in found.values():  # its strings shared through `texts`
            assert texts[post.section] is post.section
            assert all(texts[tag] is tag for tag in post.tags)
    assert answers[0] == answers[1]


def test_the_compiled_decoder_knows_every_field_of_a_post() -> None:
    # It makes each Post field by field: one it did not know would be left unset. The
    # store uses it only while its fields are Post's; this says when they part.
    native = pytest.importorskip("broadsheet.content._posts")
    assert set(native.FIELDS) == set(Post.__slots__)
    assert store.decode_shard is native.decode_shard


def test_the_compiled_decoder_survives_what_python_code_it_calls_may_do() -> None:
    # `child` and the time zone are Python code: the decoder holds what it reads
    # across them (a child that empties the stamps crashed it), and answers as its
    # twin does; a name that is no str is a TypeError, never a SystemError.
    native = pytest.importorskip("broadsheet.content._posts")
    content = Path("/project/content")
    names = ["asia/one.md", "asia/p81.md", "europe/p2.md"]
    answers = []
    for decode in (native.decode_shard, store.decode_shard_python):
        stamps: dict[str, Any] = {name: [1, 2, 3, 4] for name in names}
        entries = {name: _entry_of(_post(content, "asia/x.md")) for name in names}

        def child(parent: Path, file: str, stamps: dict[str, Any] = stamps) -> Path:
            stamps.clear()
            return parent / file

        moment = datetime.fromtimestamp
        found = decode(entries, 3, 16, stamps, "/p/", content, {}, child, ZONE, {}, Post, moment)
        answers.append({key: (stamp, post.url_path) for key, (stamp, post) in found.items()})
    assert answers[0] == answers[1] == {"/p/asia/one.md": ([1, 2, 3, 4], "asia/x/")}
    with pytest.raises(TypeError):
        moment = datetime.fromtimestamp
        native.decode_shard({5: []}, 3, 16, {}, "/p/", content, {}, child, ZONE, {}, Post, moment)


@settings(max_examples=60, deadline=None)
@given(
    names=st.sets(st.sampled_from([f"{s}/p{n}.md" for s in ("asia", "europe") for n in range(40)])),
    edits=st.lists(
        st.tuples(
            st.sampled_from(["edit", "add", "remove", "restamp"]),
            st.sampled_from([f"{s}/p{n}.md" for s in ("asia", "europe") for n in range(40)]),
        ),
        max_size=6,
    ),
    damaged=st.sets(st.integers(0, store.SHARDS - 1), max_size=3),
)
def test_a_file_of_posts_is_written_from_what_was_read_of_it_as_from_every_post(
    tmp_path_factory: pytest.TempPathFactory,
    names: set[str],
    edits: list[tuple[str, str]],
    damaged: set[int],
) -> None:
    # The build names the files' posts read (members) and the posts changed since: a
    # file written from them holds what one written from the whole cache does, to the
    # byte, whatever was edited, added, removed or stamped anew, and whichever files
    # could not be read (their posts parsed again: changed).
    tmp = tmp_path_factory.mktemp("store")
    content = tmp / "content"
    cache = {str(content / n): (_stamp(i), _post(content, n)) for i, n in enumerate(sorted(names))}
    write_post_cache(tmp / "a", content, ZONE, cache)
    for shard in damaged:
        (tmp / "a" / f"{shard}.json").write_bytes(b"damaged")
    kept: dict[int, str] = {}
    members: dict[int, list[str]] = {}
    read = read_post_cache(tmp / "a", content, ZONE, kept, members)
    after = dict(read)
    changed = {key for key in cache if key not in read}  # (parsed again)
    after.update({key: cache[key] for key in changed})
    for number, (kind, name) in enumerate(edits):
        key = str(content / name)
        if kind == "remove":
            after.pop(key, None)
            changed.add(key)
        elif kind == "restamp" and key in after:
            after[key] = (_stamp(number + 7), after[key][1])  # (the same post: not changed)
        elif kind in ("edit", "add"):
            after[key] = (_stamp(number), _post(content, name, title=f"Edit {number}"))
            changed.add(key)
    with_members, without = tmp / "with", tmp / "without"
    for folder in (with_members, without):
        folder.mkdir()
        for shard in kept:  # (the files read are where they were)
            source = (tmp / "a" / f"{shard}.json").read_bytes()
            (folder / f"{shard}.json").write_bytes(source)
    write_post_cache(with_members, content, ZONE, after, changed, kept, members)
    write_post_cache(without, content, ZONE, after, changed, kept)
    assert {p.name: p.read_bytes() for p in with_members.iterdir()} == {
        p.name: p.read_bytes() for p in without.iterdir()
    }
    assert read_post_cache(with_members, content, ZONE) == dict(sorted(after.items()))
