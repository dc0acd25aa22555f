"""The parsed posts of the last build, kept as plain JSON so that the next build reads
only the files that changed. Never pickled, never trusted as read.

The posts are spread over SHARDS files by a hash of their path, so that saving one
edited post rewrites one small file rather than the whole archive's. Their files'
stamps are kept apart, in one file (STAMPS) for all of them: a fresh clone gives every
file new times but leaves its posts as they were (see broadsheet.content.loader), and
then only that file is written again, not every post (0.13 s at 10,000).

Each file is sealed (broadsheet.sealed: a hash of its bytes heads it); one that does
not verify, or holds anything malformed, is ignored whole, and its posts are parsed
again. A post is used only with its stamp, and a stamp must stand for the bytes that
post was parsed from. So the stamps' file also names each file of posts by its
digest, and a file of posts is read only if it is the one named there: the files of
posts are written first, then the stamps' file (as a Git commit names its trees). A
build stopped between the two leaves its new posts unread, and their files are parsed
again, rather than a post beside the stamp of other bytes (which an edit undone
within the clock's tick would match again).
"""

from __future__ import annotations

import contextlib
import os
import zlib
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from itertools import product
from operator import itemgetter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from broadsheet.config import zone_stamp
from broadsheet.content.loader import PostCache
from broadsheet.content.post import Post
from broadsheet.sealed import clear, read_sealed, write_sealed, write_sealed_parts
from broadsheet.stamps import Stamp, well_formed

try:  # (compiled where it could be built: see broadsheet/content/_posts.c)
    from broadsheet.content import _posts as _native
except ImportError:
    _native = None  # type: ignore[assignment]
if _native is not None and set(_native.FIELDS) != set(Post.__slots__):
    _native = None  # type: ignore[assignment]  # (a Post it does not know: not used)

FORMAT = 10  # 4: dates in whole seconds, no control characters; 5: aliases; 6: bundles,
# images; 7: one tag per slug (cached posts may hold `Trade` and `trade`); 8: place digests;
# 9: the files' digests by XXH3; 10: the stamps in a file of their own
SHARDS = 16
STAMPS = "stamps.json"  # every post file's stamp, by its name below content/
# One post is one JSON list, in this order (lists parse and write twice as fast as objects).
_TEXT = (
    "title",
    "section",
    "section_slug",
    "slug",
    "digest",
    "excerpt",
    "header_digest",
    "place_digest",
)
_OPTIONAL = ("author", "summary", "source")
_IMAGE = ("image", "image_alt", "image_caption", "image_credit")  # last: added in format 5
_NONE = type(None)
# The types an entry may hold, place by place, as _encode writes them: checked in one go.
_SHAPES = frozenset(
    (
        *[str] * len(_TEXT),
        *optional,
        date,
        updated,
        bool,
        list,
        bool,
        int,
        int,
        list,
        list,
        list,
        *image,
    )
    for optional in product((str, _NONE), repeat=len(_OPTIONAL))
    for image in product((str, _NONE), repeat=len(_IMAGE))
    for date in (float, _NONE)
    for updated in (float, _NONE)
)


def _moment(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _encode(post: Post) -> list[Any]:
    return [
        *(getattr(post, name) for name in _TEXT + _OPTIONAL),
        _moment(post.date),
        _moment(post.updated),
        post.has_time,
        list(post.tags),
        post.draft,
        post.body_line,
        post.words,
        list(post.aliases),
        list(post.images),
        list(post.unlabelled),
        *(getattr(post, name) for name in _IMAGE),
    ]


def _decode(
    path: Path,
    item: list[Any],
    zone: ZoneInfo,
    bundle: bool = False,
    texts: dict[str, str] | None = None,
) -> Post:
    """The post an entry holds: its section, author and tag names the strings `texts`
    holds, if given (one copy of each for all the posts that have it: each entry parsed
    has its own, 30 MB at 100,000 posts)."""
    if type(item) is not list or tuple(map(type, item)) not in _SHAPES:
        raise ValueError("entry")
    title, section, section_slug, slug, digest, excerpt, header_digest = item[:7]
    place_digest = item[7]
    author, summary, source, date, updated, has_time, tags, draft, body_line, words = item[8:18]
    aliases, images, unlabelled = item[18:21]
    image, image_alt, image_caption, image_credit = item[21:]
    if not all(type(t) is str for t in (*tags, *aliases)):
        raise ValueError("tags")
    if not all(type(src) is str for src in [*images, *unlabelled]):
        raise ValueError("images")
    if texts is not None:
        shared = texts.setdefault
        section, section_slug = shared(section, section), shared(section_slug, section_slug)
        author = shared(author, author) if author is not None else None
        tags = [shared(tag, tag) for tag in tags]
    return Post(
        path=path,
        title=title,
        section=section,
        section_slug=section_slug,
        slug=slug,
        date=None if date is None else datetime.fromtimestamp(date, zone),
        has_time=has_time,
        updated=None if updated is None else datetime.fromtimestamp(updated, zone),
        author=author,
        tags=tuple(tags),
        summary=summary,
        source=source,
        draft=draft,
        body_line=body_line,
        digest=digest,
        excerpt=excerpt,
        words=words,
        header_digest=header_digest,
        place_digest=place_digest,
        aliases=tuple(aliases),
        bundle=bundle,
        image=image,
        image_alt=image_alt,
        image_caption=image_caption,
        image_credit=image_credit,
        images=tuple(images),
        unlabelled=tuple(unlabelled),
    )


def shard_of(name: str, shards: int = SHARDS) -> int:
    """Which file keeps the post at `name` (its path relative to the content folder),
    of `shards` files."""
    return zlib.crc32(name.encode("utf-8")) % shards


def _joined(folder: Path, name: str) -> Path:
    return folder / name


# folder / name, for a plain file name: pathlib's own way to make a child path (iterdir's),
# which does not parse the name again, when it has one (a quarter of the time: 20 ms at
# 10,000 posts), called as it is (a function of ours around it took 4 ms more).
_child: Callable[[Path, str], Path] = getattr(type(Path()), "_make_child_relpath", _joined)


def read_post_cache(
    folder: Path,
    content_dir: Path,
    zone: ZoneInfo,
    kept: dict[int, str] | None = None,
    members: dict[int, list[str]] | None = None,
) -> PostCache:
    """The cached posts in `folder`: those of every file that is whole and well formed,
    the one the stamps' file names, and kept for this time zone (the others' posts are
    parsed again). The digests of the files used are put in `kept`, if given, for
    `write_post_cache`, and the keys of the posts read from each in `members`."""
    prefix = f"{content_dir}{os.sep}"
    posts: PostCache = {}
    folders: dict[str, Path] = {}  # a path made from its folder's parses only its name
    texts: dict[str, str] = {}  # (see _decode)
    stamps, digests = _read_stamps(folder)
    for shard, digest in enumerate(digests):
        if digest is None:  # (a file of posts that could not be written)
            continue
        try:
            payload = read_sealed(folder / f"{shard}.json", digest)
            if payload is None:
                continue
            data = orjson.loads(payload)
            if data.get("format") != FORMAT or data.get("zone") != zone_stamp(zone.key):
                continue
            found = decode_shard(
                data["posts"],
                shard,
                SHARDS,
                stamps,
                prefix,
                content_dir,
                folders,
                _child,
                zone,
                texts,
                Post,
                datetime.fromtimestamp,
            )
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError, OSError):
            continue  # (a moment out of range: OverflowError, or OSError on some systems)
        posts.update(found)
        if kept is not None:
            kept[shard] = digest
        if members is not None:
            members[shard] = list(found)
    return posts  # (in no order: load_posts keeps the cache in its files' order)


def decode_shard_python(
    entries: dict[str, Any],
    shard: int,
    shards: int,
    stamps: dict[str, Stamp],
    prefix: str,
    content_dir: Path,
    folders: dict[str, Path],
    child: Callable[[Path, str], Path],
    zone: ZoneInfo,
    texts: dict[str, str],
    post_type: type[Post],
    fromtimestamp: Callable[[float, ZoneInfo], datetime],
) -> PostCache:
    """The posts of one file of posts (its `entries`, the file number `shard` of
    `shards`): {prefix + name: (stamp, post)} for each entry whose stamp in `stamps` is
    well formed; ValueError for an entry in the wrong file, not named *.md, a bundle's
    file not named index.md, or (of those with a stamp) an entry of the wrong shape.
    `folders` caches content_dir / section, `child(parent, file)` makes a post's path
    and `texts` shares strings (see _decode). The Python twin of the compiled
    decode_shard (broadsheet/content/_posts.c), which a build of 10,000 articles
    needs a third of the time for."""
    assert post_type is Post and fromtimestamp == datetime.fromtimestamp  # (as it is given)
    found: PostCache = {}
    for name, item in entries.items():
        section, _, file = name.rpartition("/")
        if shard_of(name, shards) != shard or not file.endswith(".md"):
            raise ValueError("misplaced")
        parent = folders.get(section)
        if parent is None:
            parent = folders[section] = content_dir / section
        bundle = section.count("/") == 1  # asia/<slug>/index.md
        if bundle and file != "index.md":
            raise ValueError("misplaced")
        stamp = stamps.get(name)
        if stamp is not None and well_formed(stamp):
            found[prefix + name] = (stamp, _decode(child(parent, file), item, zone, bundle, texts))
    return found


decode_shard = _native.decode_shard if _native is not None else decode_shard_python


def write_post_cache(
    folder: Path,
    content_dir: Path,
    zone: ZoneInfo,
    cache: PostCache,
    changed: Iterable[str] | None = None,
    kept: Mapping[int, str] | None = None,
    members: Mapping[int, list[str]] | None = None,
) -> None:
    """Save `cache`: the posts of the files that hold a `changed` path (given as a key
    of the cache: a post parsed again, added or gone), or all of them; then every
    post's stamp, and the digests of the files of posts: those just written, and for
    the others, those `read_post_cache` used (`kept`). A file's posts are those
    `read_post_cache` read from it (`members`) and the `changed` ones it holds, when
    given: every other post of the cache is among them, and the cache's 10,000 paths
    are not each hashed to find a file's (6 ms of an edit)."""
    start = len(str(content_dir)) + 1
    entries = sorted(cache.items())
    names = [source[start:] for source, _ in entries]
    if os.sep != "/":
        names = [name.replace(os.sep, "/") for name in names]
    kept_stamps = map(itemgetter(0), map(itemgetter(1), entries))  # (maps: 10,000 posts)
    stamps: dict[str, Stamp] = dict(zip(names, kept_stamps, strict=True))
    files = (
        {source: shard_of(source[start:].replace(os.sep, "/")) for source in changed}
        if changed is not None
        else None
    )  # (the file each changed post is kept in)
    wanted = set(range(SHARDS)) if files is None else set(files.values())
    shards: dict[int, dict[str, list[Any]]] = {shard: {} for shard in wanted}
    if files is not None and members is not None:
        for shard in wanted:
            held = {*members.get(shard, ()), *(s for s, n in files.items() if n == shard)}
            posts = shards[shard]
            for source in sorted(source for source in held if source in cache):
                name = source[start:].replace(os.sep, "/")
                posts[name] = _encode(cache[source][1])
    else:
        for name, (_, (_, post)) in zip(names, entries, strict=True):
            found = shards.get(shard_of(name))
            if found is not None:
                found[name] = _encode(post)
    digests: list[str | None] = [(kept or {}).get(shard) for shard in range(SHARDS)]
    for shard, posts in sorted(shards.items()):
        data = {"format": FORMAT, "zone": zone_stamp(zone.key), "posts": posts}
        try:
            digests[shard] = write_sealed_parts(folder / f"{shard}.json", [orjson.dumps(data)])
        except OSError:  # only a cache: the next build parses these posts again
            digests[shard] = None
            with contextlib.suppress(OSError):
                clear(folder / f"{shard}.json")
    head = {"format": FORMAT, "shards": digests, "stamps": stamps}
    try:  # (after the posts: see above)
        write_sealed(folder / STAMPS, orjson.dumps(head))
    except OSError:  # every post is parsed again
        with contextlib.suppress(OSError):
            clear(folder / STAMPS)


def _read_stamps(folder: Path) -> tuple[dict[str, Stamp], list[str | None]]:
    """The post files' stamps as the last build kept them, and the digest of each file
    of posts they stand beside (({}, []) if they do not verify)."""
    try:
        payload = read_sealed(folder / STAMPS)
        data = orjson.loads(payload) if payload is not None else None
        if type(data) is not dict or data.get("format") != FORMAT:
            return {}, []
        stamps, digests = data["stamps"], data["shards"]
        if type(stamps) is not dict or type(digests) is not list or len(digests) != SHARDS:
            return {}, []
        return stamps, [d if type(d) is str and d else None for d in digests]
    except (ValueError, KeyError):
        return {}, []
