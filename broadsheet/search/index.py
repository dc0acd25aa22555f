"""The search index under site/search/, written from each article's counted terms.

    search/meta.json          how many articles and term files, the total length, the
                              sections, authors, topics and years (as ranges of ids),
                              and which vocabulary files exist
    search/terms/<n>.json     {term: [id, count, gap, count, gap, count ...]} for the
                              terms whose CRC-32 is n modulo the number of term files
                              (`shard_count`)
    search/words/<xx>.json    {stem: articles} for the stems that start with xx (see
                              terms.bucket_of): what a word being typed may become
    search/facets/<n>.json    per FACET_CHUNK articles: [section, author, [topics],
                              length], numbers into meta's lists
    search/docs/<id>.json     one article as a result shows it: [url, title, section,
                              date, author, text]; only the results on screen are loaded

Articles are numbered oldest first (undated ones before all), then by URL, so the ids
are a pure function of the articles, "newest first" is the ids backwards, and a year is
a range of ids. A cold build and any sequence of incremental ones agree byte for byte.
Each rendered article's counts, length and text are kept in the build's state folder
(one small sealed file each, see `TermStore`); a cold build merges those files, group
of term files by group, so memory stays bounded. After an edit that keeps the set and
order of the articles, only the term files that hold a term whose count changed are
rewritten, the vocabulary files of the stems the article gained or lost, its docs file,
its facets file, and meta.json.
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
from broadsheet.search.terms import Counted, bucket_of
from broadsheet.workers import worker_pool

SEARCH_DIR = "search"
FORMAT = 2
FACET_CHUNK = 2_000
ARTICLES_PER_GROUP = 5_000  # a cold merge holds the postings of one group of term files
SHARDS = 64  # lines in an article's term file; every shard_count is a multiple of it
ARTICLES_PER_SHARD = 8


@dataclass(frozen=True)
class Doc:
    """One article as a search result shows it and its filters see it."""

    url_path: str
    title: str
    section: str  # slug
    date: str  # as the site shows it, or ""
    year: int | None
    author: str
    topics: tuple[str, ...]
    order: str  # sorts the articles oldest first, undated before all (see `id_order`)


def id_order(docs: Iterable[Doc]) -> list[Doc]:
    return sorted(docs, key=lambda doc: (doc.order, doc.url_path))


def shard_count(articles: int) -> int:
    """How many term files: a power of two, about one per ARTICLES_PER_SHARD articles."""
    count = SHARDS
    while count * ARTICLES_PER_SHARD < articles:
        count *= 2
    return count


def shard_of(term: str) -> int:
    """The CRC-32 of a term's UTF-8 (the term file is this modulo shard_count)."""
    return _CRCS[term]


class _Crcs(dict[str, int]):
    """term -> its CRC-32, for the terms met lately; emptied when it holds LINES_KEPT."""

    def __missing__(self, term: str) -> int:
        if len(self) >= LINES_KEPT:
            self.clear()
        crc = self[term] = zlib.crc32(term.encode("utf-8"))
        return crc


_CRCS = _Crcs()


class _Lines(dict[str, int]):
    """term -> the line of an article's term file that holds it, for the terms met
    lately; emptied when it holds LINES_KEPT, so it stays small."""

    def __missing__(self, term: str) -> int:
        if len(self) >= LINES_KEPT:
            self.clear()
        line = self[term] = _CRCS[term] % SHARDS
        return line


LINES_KEPT = 1 << 18
_LINES = _Lines()


class DamagedTerms(Exception):
    """A term file that does not verify: the build starts again cold (see assemble)."""


@dataclass(frozen=True)
class Stored:
    counts: dict[str, int]
    length: int
    text: str


class TermStore:
    """Each indexed article's counts, length and text, one file per article: SHARDS
    lines of "term<TAB>count<TAB>term<TAB>count ...", a term on the line `_LINES` gives
    it, then its length, then its text. Each file is sealed (broadsheet.sealed): one
    that does not verify raises DamagedTerms."""

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

    def read(self, url_path: str, shards: Iterable[int] = range(SHARDS)) -> Stored:
        """An article's counts (for the terms on the given lines only, if asked)."""
        path = self.path(url_path)
        data = read_file(path)
        if data is None:  # missing; or a folder in its place, unreadable: rebuilt like damage
            if not os.path.lexists(path):
                return Stored({}, 0, "")
            raise DamagedTerms(str(path))
        payload = unseal(data)
        counts: dict[str, int] = {}
        try:
            if payload is None:
                raise ValueError("does not verify")
            lines = payload.decode("utf-8").split("\n")
            if len(lines) != SHARDS + 3:
                raise ValueError("not a term file")
            for shard in shards:
                parts = lines[shard].split("\t")
                for at in range(0, len(parts) - 1, 2):
                    counts[parts[at]] = int(parts[at + 1])
            return Stored(counts, int(lines[SHARDS]), lines[SHARDS + 1])
        except (IndexError, ValueError) as exc:  # (UnicodeDecodeError is a ValueError)
            raise DamagedTerms(str(path)) from exc

    def replace(self, url_path: str, counted: Counted) -> list[str]:
        """Store an article's new counts; return the terms whose count changed."""
        old = self.read(url_path)
        new = counted.counts
        if old.counts:
            changed = sorted(
                t for t in old.counts.keys() | new.keys() if old.counts.get(t) != new.get(t)
            )
        else:  # a new article: each of its terms changed
            changed = sorted(new)
        if changed or old.length != counted.length or old.text != counted.text:
            write_bytes_if_changed(self.path(url_path), _sealed(counted))
        return changed

    def put(self, url_path: str, counted: Counted) -> None:
        """Store an article's counts in a cold build, which compares them with nothing.

        The file is written in place rather than through a temporary file renamed over
        it (half the time): a build that stops part-way leaves the state marked as
        unfinished (assemble.DIRTY), and the next build is cold and puts every file again,
        so a half-written one is never trusted. Whatever is in its place (a folder, a
        link, a file it may not write) is removed first."""
        path = self.path(url_path)
        data = _sealed(counted)
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


def _sealed(counted: Counted) -> bytes:
    """A term file: the terms (sorted) on their SHARDS lines, the length, the text."""
    lines: list[list[str]] = [[] for _ in range(SHARDS)]
    counts = counted.counts
    for term in sorted(counts):
        lines[_LINES[term]].append(f"{term}\t{counts[term]}")  # (1,000 terms an article)
    text = counted.text.replace("\n", " ")
    body = "".join("\t".join(x) + "\n" for x in lines) + f"{counted.length}\n{text}\n"
    return seal(body.encode("utf-8"))


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
    """Write search/ for `docs` (in id order, see `id_order`). `changed` maps the
    articles re-indexed since the index in `out` was written to their changed terms;
    None means start over."""
    urls = [doc.url_path for doc in docs]
    order = _order_hash(urls)
    old = _written_meta(out) if changed is not None else None
    lengths: list[int] | None = None
    vocabulary: list[str] = []
    if old is not None and old.get("order") == order and changed is not None:
        try:
            lengths = _old_lengths(out, len(docs))
            ids = {url: number for number, url in enumerate(urls)}
            vocabulary = _update(out, docs, ids, store, changed, old, lengths)
        except _Unreadable:  # an index file damaged in the site: written whole again
            lengths = None
    if lengths is None:
        lengths = _merge_all(out, docs, store, jobs)
        names = out.names(f"{SEARCH_DIR}/words", ".json")
        vocabulary = sorted(n.removesuffix(".json") for n in names)
    _write_meta(out, docs, sections, lengths, order, vocabulary)


class _Unreadable(Exception):
    """An index file of the site that an update would read is damaged or missing."""


def _order_hash(urls: list[str]) -> str:
    return hashlib.blake2b("\n".join(urls).encode(), digest_size=12).hexdigest()


def _load(out: Stage, relative: str) -> Any:
    data = out.read_bytes(f"{SEARCH_DIR}/{relative}")
    if data is None:
        raise FileNotFoundError(relative)
    return orjson.loads(data)


def _written_meta(out: Stage) -> dict[str, Any] | None:
    try:
        meta = _load(out, "meta.json")
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        return None
    return meta


def _old_lengths(out: Stage, docs: int) -> list[int]:
    lengths: list[int] = []
    for number in range(-(-docs // FACET_CHUNK)):
        lengths.extend(entry[3] for entry in _facets_file(out, number))
    return lengths


def _facets_file(out: Stage, number: int) -> list[list[Any]]:
    try:
        entries = list(_load(out, f"facets/{number}.json"))
        if not all(isinstance(e, list) and len(e) == 4 and isinstance(e[3], int) for e in entries):
            raise ValueError("not a facets file")
        return entries
    except (OSError, ValueError, TypeError, BroadsheetError) as exc:
        raise _Unreadable(str(exc)) from exc


def _write_meta(
    out: Stage,
    docs: list[Doc],
    sections: list[tuple[str, str]],
    lengths: list[int],
    order: str,
    vocabulary: list[str],
) -> None:
    """Write meta.json and the facets files (each only if its bytes changed)."""
    section_numbers = {slug: n for n, (slug, _) in enumerate(sections)}
    authors = sorted({d.author for d in docs if d.author})
    topics = sorted({t for d in docs for t in d.topics})
    author_numbers = {name: n for n, name in enumerate(authors)}
    topic_numbers = {name: n for n, name in enumerate(topics)}
    years: list[list[int]] = []
    for number, doc in enumerate(docs):
        if doc.year is None:
            continue
        if years and years[-1][0] == doc.year:
            years[-1][2] = number
        else:
            years.append([doc.year, number, number])
    meta = {
        "format": FORMAT,
        "order": order,
        "docs": len(docs),
        "shards": shard_count(len(docs)),
        "chunk": FACET_CHUNK,
        "length": sum(lengths),
        "sections": [list(s) for s in sections],
        "authors": authors,
        "topics": topics,
        "years": years,
        "words": vocabulary,
    }
    _dump(out, "meta.json", meta)
    wanted = set()
    for start in range(0, len(docs), FACET_CHUNK):
        name = f"{start // FACET_CHUNK}.json"
        wanted.add(name)
        chunk = [
            [
                section_numbers.get(d.section, -1),
                author_numbers.get(d.author, -1),
                sorted(topic_numbers[t] for t in set(d.topics)),
                length,
            ]
            for d, length in zip(docs[start : start + FACET_CHUNK], lengths[start:], strict=False)
        ]
        _dump(out, f"facets/{name}", chunk)
    for stale in out.names(f"{SEARCH_DIR}/facets", ".json") - wanted:
        out.remove(f"{SEARCH_DIR}/facets/{stale}")


def _dump(out: Stage, relative: str, data: object) -> None:
    # orjson writes what json.dumps(ensure_ascii=False, separators=(",", ":")) does, as
    # UTF-8, several times faster.
    out.write_bytes(f"{SEARCH_DIR}/{relative}", orjson.dumps(data))


def _doc_entry(doc: Doc, text: str) -> list[Any]:
    return [doc.url_path, doc.title, doc.section, doc.date, doc.author, text]


# A cold merge: each task reads every article's terms and keeps one group of term files.
_merge_job: tuple[Stage, list[Doc], TermStore, int] | None = None


def _merge_all(out: Stage, docs: list[Doc], store: TermStore, jobs: int) -> list[int]:
    """Each of the groups (of term-file lines) is merged by one task, which reads every
    article's file but parses only its own lines and holds only their postings; it
    writes the docs files of the ids that fall to it too. Returns the lengths."""
    global _merge_job
    groups = min(SHARDS, max(1, -(-len(docs) // ARTICLES_PER_GROUP)))
    _merge_job = (out, docs, store, groups)
    try:
        if jobs > 1 and groups > 1:
            with worker_pool(min(jobs, groups), "merging the search index") as pool:
                parts = pool.map(_merge_group, range(groups))
        else:
            parts = [_merge_group(g) for g in range(groups)]
    finally:
        _merge_job = None
    lengths = [0] * len(docs)
    words: dict[str, dict[str, int]] = {}
    for group, (some_lengths, some_words) in enumerate(parts):
        lengths[group::groups] = some_lengths
        for bucket, table in some_words.items():
            words.setdefault(bucket, {}).update(table)
    for bucket, table in words.items():
        _dump(out, f"words/{bucket}.json", dict(sorted(table.items())))
    keep = {f"{bucket}.json" for bucket in words}
    for stale in out.names(f"{SEARCH_DIR}/words", ".json") - keep:
        out.remove(f"{SEARCH_DIR}/words/{stale}")
    total = shard_count(len(docs))
    for stale in out.names(f"{SEARCH_DIR}/terms", ".json") - {f"{n}.json" for n in range(total)}:
        out.remove(f"{SEARCH_DIR}/terms/{stale}")
    for stale in out.names(f"{SEARCH_DIR}/docs", ".json") - {f"{n}.json" for n in range(len(docs))}:
        out.remove(f"{SEARCH_DIR}/docs/{stale}")
    return lengths


def _merge_group(group: int) -> tuple[list[int], dict[str, dict[str, int]]]:
    assert _merge_job is not None
    out, docs, store, groups = _merge_job
    lines = range(group, SHARDS, groups)
    total = shard_count(len(docs))
    table: dict[str, list[int]] = {}
    lengths: list[int] = []
    for number, doc in enumerate(docs):
        stored = store.read(doc.url_path, lines)
        for term, count in stored.counts.items():
            found = table.get(term)
            if found is None:
                table[term] = [number, count]
            else:
                found += (number, count)
        if number % groups == group:
            lengths.append(stored.length)
            _dump(out, f"docs/{number}.json", _doc_entry(doc, stored.text))
    shards: dict[int, dict[str, list[int]]] = {n: {} for n in range(total) if n % SHARDS in lines}
    for term, postings in table.items():
        shards[_CRCS[term] % total][term] = postings
    del table
    words: dict[str, dict[str, int]] = {}
    for shard, some in shards.items():
        _write_shard(out, shard, some)
        for term, postings in some.items():
            words.setdefault(bucket_of(term), {})[term] = len(postings) // 2
    return lengths, words


def _write_shard(out: Stage, shard: int, table: dict[str, list[int]]) -> None:
    """Write a term file from {term: [id, count, id, count ...]} (ids ascending): each
    id but a term's first is written as the gap from the one before."""
    encoded = {}
    for term in sorted(table):
        flat = table[term]
        gaps = flat.copy()
        gaps[2::2] = [b - a for a, b in zip(flat[0::2], flat[2::2], strict=False)]
        encoded[term] = gaps
    _dump(out, f"terms/{shard}.json", encoded)


def _read_shard(out: Stage, shard: int) -> dict[str, dict[int, int]]:
    relative = f"terms/{shard}.json"
    try:
        data = out.read_bytes(f"{SEARCH_DIR}/{relative}")
        if data is None:  # every term file is written, if only as {}
            raise ValueError("missing")
        table = orjson.loads(data)
        decoded: dict[str, dict[int, int]] = {}
        for term, gaps in table.items():
            postings, at = {}, 0
            for number in range(0, len(gaps), 2):
                at += gaps[number] if number else gaps[0]
                postings[at] = gaps[number + 1]
            decoded[term] = postings
        return decoded
    except (ValueError, TypeError, AttributeError, IndexError, BroadsheetError) as exc:
        raise _Unreadable(relative) from exc


def _update(
    out: Stage,
    docs: list[Doc],
    ids: dict[str, int],
    store: TermStore,
    changed: dict[str, list[str]],
    old_meta: dict[str, Any],
    lengths: list[int],
) -> list[str]:
    """Rewrite only the term files that hold a changed term of a re-indexed article,
    and the vocabulary files whose stems an article gained or lost; rewrite each
    re-indexed article's docs file and set its length. Returns the vocabulary files."""
    total = shard_count(len(docs))
    stored = {url: store.read(url) for url in changed}
    by_shard: dict[int, set[str]] = {}
    for terms in changed.values():
        for term in terms:
            by_shard.setdefault(shard_of(term) % total, set()).add(term)
    df_change: dict[str, int] = {}
    for shard, shard_terms in sorted(by_shard.items()):
        table = _read_shard(out, shard)
        for term in shard_terms:
            postings = table.setdefault(term, {})
            before = len(postings)
            for url, new in stored.items():
                if term in changed[url]:
                    postings.pop(ids[url], None)
                    if term in new.counts:
                        postings[ids[url]] = new.counts[term]
            if not postings:
                del table[term]
            if len(postings) != before:
                df_change[term] = len(postings)
        _write_shard(
            out,
            shard,
            {t: [n for pair in sorted(p.items()) for n in pair] for t, p in table.items()},
        )
    vocabulary = set(old_meta.get("words", []))
    by_bucket: dict[str, dict[str, int]] = {}
    for term, df in df_change.items():
        by_bucket.setdefault(bucket_of(term), {})[term] = df
    for bucket, dfs in sorted(by_bucket.items()):
        relative = f"words/{bucket}.json"
        try:
            data = out.read_bytes(f"{SEARCH_DIR}/{relative}")
            if data is None and bucket in vocabulary:
                raise ValueError("missing")
            listed: dict[str, int] = orjson.loads(data) if data is not None else {}
            if not isinstance(listed, dict):
                raise ValueError("not a vocabulary file")
        except (ValueError, BroadsheetError) as exc:
            raise _Unreadable(relative) from exc
        for term, df in dfs.items():
            if df:
                listed[term] = df
            else:
                listed.pop(term, None)
        if listed:
            _dump(out, relative, dict(sorted(listed.items())))
            vocabulary.add(bucket)
        else:
            out.remove(f"{SEARCH_DIR}/{relative}")
            vocabulary.discard(bucket)
    for url, new in stored.items():
        number = ids[url]
        lengths[number] = new.length
        _dump(out, f"docs/{number}.json", _doc_entry(docs[number], new.text))
    return sorted(vocabulary)
