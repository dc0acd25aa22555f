"""The search index under site/search/, written from each article's terms.

    search/meta.json          how many articles, the sections, each article's section,
                              and which term files exist
    search/docs/<n>.json      what a result shows, 500 articles a file, in id order
    search/terms/<xx>.json    {term: [id, weight, id, weight, ...]} for the terms that
                              start with xx (see terms.bucket_of)

An article's id is its place among the articles sorted by URL, so the index is a pure
function of the articles: a cold build and any sequence of incremental ones agree byte
for byte. Each rendered article's terms are kept in the build's state folder (one small
sealed file each, see `TermStore`); a cold build merges those files, bucket group by bucket
group, so memory stays bounded. After an edit that keeps the set of articles, only the
term files that hold a changed term are rewritten.
"""

from __future__ import annotations

import hashlib
import os
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from broadsheet.errors import BroadsheetError
from broadsheet.files import write_bytes_if_changed
from broadsheet.publish.stage import Stage
from broadsheet.sealed import clear, make_folder, read_file, seal, unseal
from broadsheet.search.terms import bucket_of
from broadsheet.workers import worker_pool

SEARCH_DIR = "search"
FORMAT = 1
DOCS_PER_FILE = 500
ARTICLES_PER_GROUP = 5_000  # a cold merge holds the postings of one group of buckets


@dataclass(frozen=True)
class Doc:
    """One article as a search result shows it."""

    url_path: str
    title: str
    section: str  # slug
    date: str  # as the site shows it, or ""
    excerpt: str


SHARDS = 64  # lines in an article's term file: a cold merge parses only its groups' lines


class _Shards(dict[str, int]):
    """term -> which line of a term file holds it (all the terms of a bucket share one),
    kept for the terms looked up lately (a vocabulary repeats itself from article to
    article); emptied when it holds SHARDS_KEPT, so it stays small."""

    def __missing__(self, term: str) -> int:
        if len(self) >= SHARDS_KEPT:
            self.clear()
        shard = self[term] = zlib.crc32(bucket_of(term).encode()) % SHARDS
        return shard


SHARDS_KEPT = 1 << 17
_SHARDS = _Shards()


class DamagedTerms(Exception):
    """A term file that does not verify: the build starts again cold (see assemble)."""


class TermStore:
    """Each indexed article's terms and weights, one file per article: SHARDS lines of
    "term weight term weight ...", a term on the line `_SHARDS` gives it. Each file is
    sealed (broadsheet.sealed): one that does not verify raises DamagedTerms."""

    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, url_path: str) -> Path:
        return self.folder / _name(url_path)

    def has_all(self, url_paths: Iterable[str]) -> bool:
        try:
            present = set(os.listdir(self.folder))
        except OSError:
            return False
        return all(_name(u) in present for u in url_paths)

    def read(self, url_path: str, shards: Iterable[int] = range(SHARDS)) -> dict[str, int]:
        """An article's weights (for the terms on the given lines only, if asked)."""
        path = self.path(url_path)
        data = read_file(path)
        if data is None:  # missing; or a folder in its place, unreadable: rebuilt like damage
            if not os.path.lexists(path):
                return {}
            raise DamagedTerms(str(path))
        payload = unseal(data)
        weights: dict[str, int] = {}
        try:
            if payload is None:
                raise ValueError("does not verify")
            lines = payload.decode("utf-8").split("\n")
            for shard in shards:
                parts = lines[shard].split(" ")
                for at in range(0, len(parts) - 1, 2):
                    weights[parts[at]] = int(parts[at + 1])
        except (IndexError, ValueError) as exc:  # (UnicodeDecodeError is a ValueError)
            raise DamagedTerms(str(path)) from exc
        return weights

    def replace(self, url_path: str, weights: dict[str, int]) -> list[str]:
        """Store an article's new weights; return the terms whose weight changed."""
        old = self.read(url_path)
        ordered = sorted(weights)
        if old:
            changed = sorted(t for t in old.keys() | weights.keys() if old.get(t) != weights.get(t))
        else:  # a new article: each of its terms changed
            changed = ordered
        if changed:
            write_bytes_if_changed(self.path(url_path), _sealed(ordered, weights))
        return changed

    def put(self, url_path: str, weights: dict[str, int]) -> None:
        """Store an article's weights in a cold build, which compares them with nothing.

        The file is written in place rather than through a temporary file renamed over
        it (half the time): a build that stops part-way leaves the state marked as
        unfinished (assemble.DIRTY), and the next build is cold and puts every file again,
        so a half-written one is never trusted. Whatever is in its place (a folder, a
        link, a file it may not write) is removed first."""
        path = self.path(url_path)
        data = _sealed(sorted(weights), weights)
        try:
            try:
                _write_in_place(path, data)
            except FileNotFoundError:
                make_folder(path.parent)
                _write_in_place(path, data)
            except OSError:
                clear(path)
                _write_in_place(path, data)
        except OSError as exc:
            raise BroadsheetError(f"cannot write the search state: {exc.strerror}", path) from exc

    def forget_others(self, url_paths: Iterable[str]) -> None:
        """Drop the files of articles that are gone (only files named as this store
        names them: never anything else, even in a folder linked in its place)."""
        keep = {_name(u) for u in url_paths}
        for name in os.listdir(self.folder) if self.folder.is_dir() else ():
            if name not in keep and _NAMED.fullmatch(name):
                clear(self.folder / name)

    def reset(self) -> None:
        """Drop every article's file (after damage: a cold build puts them all again)."""
        clear(self.folder)
        make_folder(self.folder)


def _write_in_place(path: Path, data: bytes) -> None:
    """Write `data` to the file `path`, never through a link (nor to a pipe)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _sealed(ordered: list[str], weights: dict[str, int]) -> bytes:
    return seal(_text(ordered, weights).encode("utf-8"))


def _text(ordered: list[str], weights: dict[str, int]) -> str:
    """A term file: the terms (in `ordered` order) on their SHARDS lines."""
    lines: list[list[str]] = [[] for _ in range(SHARDS)]
    shards, values = map(_SHARDS.__getitem__, ordered), map(weights.__getitem__, ordered)
    for term, shard, weight in zip(ordered, shards, values, strict=True):
        lines[shard].append(f"{term} {weight}")  # (400 terms an article)
    return "".join(" ".join(x) + "\n" for x in lines)


_NAMED = re.compile("[0-9a-f]{24}")  # what _name gives


def _name(url_path: str) -> str:
    return hashlib.blake2b(url_path.encode(), digest_size=12).hexdigest()


def write_index(
    out: Stage,
    docs: list[Doc],
    sections: list[tuple[str, str]],
    store: TermStore,
    changed: dict[str, list[str]] | None,
    jobs: int = 1,
) -> None:
    """Write search/ for `docs` (sorted by URL). `changed` maps the articles re-indexed
    since the index in `out` was written to their changed terms; None means start over."""
    urls = [doc.url_path for doc in docs]
    ids = {url: number for number, url in enumerate(urls)}
    written = _written_docs(out) if changed is not None else None
    if written is None or [entry[0] for chunk in written for entry in chunk] != urls:
        _merge_all(out, urls, store, jobs)
    elif changed:
        _update(out, ids, store, changed)
    _write_docs(out, docs, sections, written or [])


def _load(out: Stage, relative: str) -> Any:
    data = out.read_bytes(f"{SEARCH_DIR}/{relative}")
    if data is None:
        raise FileNotFoundError(relative)
    return orjson.loads(data)


def _written_docs(out: Stage) -> list[list[list[Any]]] | None:
    """The docs files of the index already written, in order (None if unreadable)."""
    try:
        meta = _load(out, "meta.json")
        return [_load(out, f"docs/{n}.json") for n in range(-(-meta["docs"] // DOCS_PER_FILE))]
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def _write_docs(
    out: Stage,
    docs: list[Doc],
    sections: list[tuple[str, str]],
    written: list[list[list[Any]]],
) -> None:
    """Write meta.json and the docs files; a docs file that equals the one `written`
    before (as JSON read back) is left as it is: after an edit, most are."""
    numbers = {slug: n for n, (slug, _) in enumerate(sections)}
    names = sorted(n.removesuffix(".json") for n in out.names(f"{SEARCH_DIR}/terms", ".json"))
    meta = {
        "format": FORMAT,
        "docs": len(docs),
        "per_file": DOCS_PER_FILE,
        "sections": [list(s) for s in sections],
        "section_of": [numbers.get(d.section, -1) for d in docs],
        "buckets": names,
    }
    _dump(out, "meta.json", meta)
    wanted = set()
    for start in range(0, len(docs), DOCS_PER_FILE):
        number = start // DOCS_PER_FILE
        name = f"{number}.json"
        wanted.add(name)
        chunk = [
            [d.url_path, d.title, numbers.get(d.section, -1), d.date, d.excerpt]
            for d in docs[start : start + DOCS_PER_FILE]
        ]
        if number >= len(written) or written[number] != chunk:
            _dump(out, f"docs/{name}", chunk)
    for stale in out.names(f"{SEARCH_DIR}/docs", ".json") - wanted:
        out.remove(f"{SEARCH_DIR}/docs/{stale}")


def _dump(out: Stage, relative: str, data: object) -> None:
    # orjson writes what json.dumps(ensure_ascii=False, separators=(",", ":")) does, as
    # UTF-8, several times faster: an edit rewrites the term files of all its words.
    out.write_bytes(f"{SEARCH_DIR}/{relative}", orjson.dumps(data))


# A cold merge: each task reads every article's terms and keeps one group of buckets.
_merge_job: tuple[Stage, list[str], TermStore, int] | None = None


def _merge_all(out: Stage, urls: list[str], store: TermStore, jobs: int) -> None:
    """Each of the groups (of term-file lines) is merged by one task, which reads every
    article's file but parses only its own lines and holds only their postings."""
    global _merge_job
    groups = min(SHARDS, max(1, -(-len(urls) // ARTICLES_PER_GROUP)))
    _merge_job = (out, urls, store, groups)
    try:
        if jobs > 1 and groups > 1:
            with worker_pool(min(jobs, groups), "merging the search index") as pool:
                written = [n for part in pool.map(_merge_group, range(groups)) for n in part]
        else:
            written = [n for g in range(groups) for n in _merge_group(g)]
    finally:
        _merge_job = None
    for stale in out.names(f"{SEARCH_DIR}/terms", ".json") - set(written):
        out.remove(f"{SEARCH_DIR}/terms/{stale}")


def _merge_group(group: int) -> list[str]:
    assert _merge_job is not None
    out, urls, store, groups = _merge_job
    shards = range(group, SHARDS, groups)
    buckets: dict[str, dict[str, list[int]]] = {}
    for number, url in enumerate(urls):
        for term, weight in store.read(url, shards).items():
            table = buckets.setdefault(bucket_of(term), {})
            table.setdefault(term, []).extend((number, weight))
    for bucket, postings in buckets.items():
        _write_bucket(out, bucket, postings)
    return [f"{bucket}.json" for bucket in buckets]


def _write_bucket(out: Stage, bucket: str, postings: dict[str, list[int]]) -> None:
    if not postings:
        out.remove(f"{SEARCH_DIR}/terms/{bucket}.json")
        return
    _dump(out, f"terms/{bucket}.json", dict(sorted(postings.items())))


def _update(
    out: Stage, ids: dict[str, int], store: TermStore, changed: dict[str, list[str]]
) -> None:
    """Rewrite only the term files that hold a changed term of a re-indexed article."""
    sets = {url: set(terms) for url, terms in changed.items()}
    by_bucket: dict[str, set[str]] = {}
    for terms in sets.values():
        for term in terms:
            by_bucket.setdefault(bucket_of(term), set()).add(term)
    weights = {url: store.read(url) for url in changed}
    for bucket, terms in sorted(by_bucket.items()):
        relative = f"terms/{bucket}.json"
        try:
            data = out.read_bytes(f"{SEARCH_DIR}/{relative}")
            postings: dict[str, list[int]] = orjson.loads(data) if data is not None else {}
        except ValueError as exc:
            where = out.root / SEARCH_DIR / relative
            raise BroadsheetError(f"cannot read the search index: {exc}", where) from exc
        for term in terms:
            pairs = dict(
                zip(postings.get(term, [])[::2], postings.get(term, [])[1::2], strict=True)
            )
            for url, new in weights.items():
                if term in sets[url]:
                    pairs.pop(ids[url], None)
                    if term in new:
                        pairs[ids[url]] = new[term]
            flat = [n for pair in sorted(pairs.items()) for n in pair]
            if flat:
                postings[term] = flat
            else:
                postings.pop(term, None)
        _write_bucket(out, bucket, postings)
