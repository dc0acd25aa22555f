"""The search index under site/search/, written from each article's counted terms.

    search/meta.json          how many articles and term files, the total length, the
                              sections, authors, topics and years (as ranges of ids),
                              and which vocabulary files exist
    search/terms/<n>.json     {term: [id, count, gap, count, gap, count ...]} for the
                              terms whose CRC-32 is n modulo the number of term files
                              (`shard_count`)
    search/words/<xx>.json    {stem: articles} for the stems that start with xx (see
                              terms.bucket_of): what a word being typed may become
    search/lengths/<n>.json   per LENGTH_CHUNK articles: each one's length in words, as
                              a code (`length_code`): all a query needs beside its
                              term files to rank its results (BM25)
    search/facets/<n>.json    per FACET_CHUNK articles: [section, author, [topics]],
                              numbers into meta's lists: loaded once the first results
                              are on screen, for the filters' counts (or before, when
                              a filter is chosen)
    search/docs/<id>.json     one article as a result shows it: [url, title, section,
                              date, author, text]; only the results on screen are loaded

Articles are numbered oldest first (undated ones before all), then by URL, so the ids
are a pure function of the articles, "newest first" is the ids backwards, and a year is
a range of ids. A cold build and any sequence of incremental ones agree byte for byte.
Each article's title and text are read back from its docs file where they are needed
(see broadsheet.search.store), and its terms' counts worked out from them again. A cold
build merges the counts in two passes (see `_merge_all`), and memory stays bounded: the
first as the pages render (each slice of articles sorted into runs as it is counted:
see SliceWriter), or, for an index written whole after an incremental render, by
reading each article's docs file once and counting it again. After
an edit that keeps the set and order of the articles, or that adds articles after all
the others (a new article, as a rule: see `_kept`), only the term files that hold a
term whose count changed are rewritten, the vocabulary files of the stems an article
gained or lost, its docs file, its lengths file if its length's code changed, and
meta.json (and the facets file of a new article).

A length is kept to within 1/32 (`length_code`, as Lucene keeps a field's length in
one byte): BM25 weighs it against the average, where that makes no difference a
reader would see, and a query that matches most of a 100,000-article archive loads
97 KB of lengths gzipped, where the exact figures took 183 KB (and with the facets,
as before, 590 KB) before its first result could be drawn.
"""

from __future__ import annotations

import hashlib
import marshal
import operator
import os
import re
import zlib
from array import array
from bisect import bisect_left
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import accumulate, chain, repeat
from pathlib import Path
from typing import Any, NamedTuple, overload

import orjson

from broadsheet.errors import BroadsheetError, CacheUnwritable
from broadsheet.publish.stage import Stage
from broadsheet.sealed import clear, make_folder
from broadsheet.search import terms as terms_module
from broadsheet.search.store import SEARCH_DIR, order_hash, write_docs, write_in_place
from broadsheet.search.store import DamagedTerms as DamagedTerms  # (for the build)
from broadsheet.search.store import TermStore as TermStore  # (for the build, too)
from broadsheet.search.terms import TITLE_BOOST, bucket_of, count_text, folded_words
from broadsheet.workers import worker_pool

FORMAT = 3  # 3: the lengths apart from the facets, as codes
FACET_CHUNK = 2_000
LENGTH_CHUNK = 20_000
# A cold merge holds the postings of one group of term files: at 5,000 articles a group,
# a merge process (forked from the build at 100 MB, 10,000 articles) grew 16 MB.
ARTICLES_PER_GROUP = 2_500
ARTICLES_PER_SLICE = 48  # and, first, of one slice of articles: a render task, as CHUNK
SHARDS = 64  # every shard_count is a multiple of it; at most SHARDS groups
ARTICLES_PER_SHARD = 8


class Doc(NamedTuple):
    """One article as a search result shows it and its filters see it. (A named tuple:
    every build makes one for each article, and a frozen dataclass's __init__, a call
    of object.__setattr__ a field, took four times as long: 8 ms at 10,000 articles.
    No dict each, as a dataclass without slots had: 13 MB at 100,000 articles.)"""

    url_path: str
    title: str
    section: str  # slug
    date: str  # as the site shows it, or ""
    year: int | None
    author: str
    topics: tuple[str, ...]
    # Its moment, as the time since 1970 (exact, as a float's seconds are not; a fifth
    # of the time an ISO date in UTC took to make), timedelta.min undated: sorts the
    # articles oldest first, undated before all (see `id_order`).
    order: timedelta

    @property
    def shown(self) -> tuple[str, ...]:
        """What its docs file shows beside the URL and the text (see store.write_docs)."""
        return (self.title, self.section, self.date, self.author)


def id_order(docs: Iterable[Doc]) -> list[Doc]:
    return sorted(docs, key=operator.attrgetter("order", "url_path"))


class LazyDocs(Sequence[Doc]):
    """The site's articles in id order (see `id_order`), by their URLs, each one's Doc
    made only when first asked for (by `make`, given its id). An edit that moves no
    article asks only for those it re-indexes: making every article's took 30 ms of an
    edit at 10,000 articles."""

    def __init__(self, urls: list[str], make: Callable[[int], Doc]):
        self.urls = urls
        self._make = make
        self._made: dict[int, Doc] = {}

    def __len__(self) -> int:
        return len(self.urls)

    @overload
    def __getitem__(self, index: int) -> Doc: ...

    @overload
    def __getitem__(self, index: slice) -> list[Doc]: ...

    def __getitem__(self, index: int | slice) -> Doc | list[Doc]:
        if isinstance(index, slice):
            return [self[number] for number in range(*index.indices(len(self.urls)))]
        if not -len(self.urls) <= index < len(self.urls):
            raise IndexError(index)
        number = index % len(self.urls)
        doc = self._made.get(number)
        if doc is None:
            doc = self._made[number] = self._make(number)
        return doc

    def every(self) -> list[Doc]:
        """All of them, in id order: those not made yet made now, and not kept here
        too (a second holder of each at 100,000 articles)."""
        made, make = self._made, self._make
        return [made[n] if n in made else make(n) for n in range(len(self.urls))]


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
    """term -> its CRC-32, for the terms met lately; emptied when it holds CRCS_KEPT."""

    def __missing__(self, term: str) -> int:
        if len(self) >= CRCS_KEPT:
            self.clear()
        crc = self[term] = _crc(term)
        return crc


def _crc(term: str) -> int:
    """A term's CRC-32 (of its UTF-8), which picks its term file: see shard_of."""
    return zlib.crc32(term.encode("utf-8"))


_CRCS = _Crcs()


CRCS_KEPT = 1 << 18


def write_index(
    out: Stage,
    docs: Sequence[Doc],
    sections: list[tuple[str, str]],
    store: TermStore,
    changed: dict[str, dict[str, int]] | None,
    jobs: int = 1,
    cold: ColdMerge | None = None,
    same_places: bool = False,
) -> None:
    """Write search/ for `docs` (in id order, see `id_order`; a list, or LazyDocs).
    `changed` maps the articles re-indexed since the index in `out` was written to
    their changed terms, with their new counts (see TermStore.replace);
    None means start over: from the slices the render scattered into `cold` as it
    counted them, and from the store for the rest.

    `same_places` says that every article has the URL, section, date, author and
    topics it had when the index in `out` was written, in the same order (the build's
    plan judged the site so against the last build's): then, when the index is
    updated, its facets, authors, topics and years are those meta.json holds, and only
    the articles re-indexed are made into Docs."""
    urls = doc_urls(docs)
    order = order_hash(urls)
    old = _written_meta(out) if changed is not None else None
    codes: list[int] | None = None
    vocabulary: list[str] = []
    if old is not None and changed is not None and (kept := _kept(old, urls, order, changed)):
        try:
            codes = _old_codes(out, kept, old) + [0] * (len(docs) - kept)
            ids = {url: number for number, url in enumerate(urls) if url in changed}
            vocabulary = _update(out, docs, ids, store, changed, old, codes)
        except _Unreadable:  # an index file damaged in the site: written whole again
            codes = None
    if codes is not None and same_places and kept == len(urls):
        assert old is not None
        if _kept_facets(out, old, sections, order, codes, vocabulary):
            return
    every = docs.every() if isinstance(docs, LazyDocs) else _listed(docs)
    whole = codes is None
    if codes is None:
        lengths, vocabulary = _merge_all(out, every, store, jobs, cold)
        codes = [length_code(n) for n in lengths]
    _write_meta(out, every, sections, codes, order, vocabulary)
    if whole or old is None or old.get("order") != order:  # (what the next build reads)
        store.keep_order(urls)


def doc_urls(docs: Sequence[Doc]) -> list[str]:
    """The URLs of `docs` (a list, or LazyDocs, which has them already), in id order."""
    return docs.urls if isinstance(docs, LazyDocs) else [doc.url_path for doc in docs]


def _listed(docs: Sequence[Doc]) -> list[Doc]:
    return docs if isinstance(docs, list) else list(docs)


def _kept(
    old: dict[str, Any], urls: list[str], order: str, changed: dict[str, dict[str, int]]
) -> int:
    """How many of the written index's articles keep their ids (the first ones): all of
    them when the articles are the same, in the same order; when new ones come after
    them all (the newest article of an archive, as a rule), those the index had, if the
    new ones were all re-indexed and the term files stay as many. 0 when the index must
    be written whole."""
    if old.get("order") == order:
        return len(urls)
    kept = old.get("docs")
    if type(kept) is not int or not 0 < kept < len(urls):
        return 0
    if shard_count(kept) != shard_count(len(urls)) or order_hash(urls[:kept]) != old["order"]:
        return 0
    return kept if all(url in changed for url in urls[kept:]) else 0


def length_code(length: int) -> int:
    """A length in words as the index keeps it: exact below 32; above, its highest five
    bits and their place (a float with a 5-bit mantissa), so within 1/32 of it."""
    if length < 32:
        return length
    shift = length.bit_length() - 5
    return 16 * shift + (length >> shift)


def code_length(code: int) -> int:
    """The length a code stands for (the middle of the lengths that have it); what
    search.js works out from the code too."""
    if code < 32:
        return code
    shift = (code >> 4) - 1
    return ((code - 16 * shift) << shift) + (1 << (shift - 1))


class _Unreadable(Exception):
    """An index file of the site that an update would read is damaged or missing."""


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


def _old_codes(out: Stage, docs: int, meta: dict[str, Any]) -> list[int]:
    """The length codes in the site's lengths files, for `docs` articles, if they are
    those its `meta` was written with (a file damaged into other numbers is no list
    of the wrong shape, as a damaged term file is)."""
    codes: list[int] = []
    for number in range(-(-docs // LENGTH_CHUNK)):
        relative = f"lengths/{number}.json"
        try:
            some = _load(out, relative)
        except (OSError, ValueError, BroadsheetError) as exc:
            raise _Unreadable(relative) from exc
        wanted = min(LENGTH_CHUNK, docs - number * LENGTH_CHUNK)
        if not isinstance(some, list) or len(some) != wanted:
            raise _Unreadable(relative)
        if not all(type(code) is int and code >= 0 for code in some):
            raise _Unreadable(relative)
        codes += some
    if meta.get("lengths_digest") != _codes_digest(codes):
        raise _Unreadable("lengths")
    return codes


def _codes_digest(codes: list[int]) -> str:
    return hashlib.blake2b(orjson.dumps(codes), digest_size=12).hexdigest()


def _write_meta(
    out: Stage,
    docs: Sequence[Doc],
    sections: list[tuple[str, str]],
    codes: list[int],
    order: str,
    vocabulary: list[str],
) -> None:
    """Write meta.json, the facets and the lengths files (each only if its bytes
    changed), from the articles' length `codes`."""
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
    facets = _Facets(sections, authors, topics, years)
    _dump(out, "meta.json", _meta(order, len(docs), codes, facets, vocabulary))

    # Each set of topics numbered once: few differ (692 at 10,000 articles), and each
    # article's sorted in turn took 4 ms of a deploy's 9 for the facets.
    numbered: dict[tuple[str, ...], list[int]] = {}

    def topics_of(doc: Doc) -> list[int]:
        found = numbered.get(doc.topics)
        if found is None:
            found = numbered[doc.topics] = sorted({topic_numbers[t] for t in doc.topics})
        return found

    def facets_of(start: int, end: int) -> list[list[Any]]:
        return [
            [section_numbers.get(d.section, -1), author_numbers.get(d.author, -1), topics_of(d)]
            for d in docs[start:end]
        ]

    # (the facets a chunk at a time: all at once, they were 20 MB of an edit's peak at
    # 100,000 articles)
    _dump_chunks(out, "facets", facets_of, len(docs), FACET_CHUNK)
    _dump_lengths(out, codes)


class _Facets(NamedTuple):
    """What meta.json names the facets files' numbers by, and the years' ranges of ids."""

    sections: list[tuple[str, str]]
    authors: list[str]
    topics: list[str]
    years: list[list[int]]


def _meta(
    order: str, docs: int, codes: list[int], facets: _Facets, vocabulary: list[str]
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "order": order,
        "docs": docs,
        "shards": shard_count(docs),
        "chunk": FACET_CHUNK,
        "lengths_chunk": LENGTH_CHUNK,
        # (what the browser averages; each code's length worked out once)
        "length": sum(code_length(code) * n for code, n in Counter(codes).items()),
        "lengths_digest": _codes_digest(codes),  # (what an update checks its files by)
        "sections": [list(s) for s in facets.sections],
        "authors": facets.authors,
        "topics": facets.topics,
        "years": facets.years,
        "words": vocabulary,
    }


def _kept_facets(
    out: Stage,
    old: dict[str, Any],
    sections: list[tuple[str, str]],
    order: str,
    codes: list[int],
    vocabulary: list[str],
) -> bool:
    """For an update in which every article keeps its place (see write_index): write
    meta.json with the authors, topics and years `old` (the site's meta) holds, and
    the lengths files, leaving the facets files as they are. False, writing nothing,
    if `old` does not hold them, or holds other sections."""
    authors, topics, years = old.get("authors"), old.get("topics"), old.get("years")
    if old.get("sections") != [list(s) for s in sections]:
        return False
    if not (type(authors) is list and type(topics) is list and type(years) is list):
        return False
    facets = _Facets(sections, authors, topics, years)
    _dump(out, "meta.json", _meta(order, len(codes), codes, facets, vocabulary))
    _dump_lengths(out, codes)
    return True


def _dump_lengths(out: Stage, codes: list[int]) -> None:
    _dump_chunks(out, "lengths", lambda start, end: codes[start:end], len(codes), LENGTH_CHUNK)


def _dump_chunks(
    out: Stage, folder: str, entries: Callable[[int, int], list[Any]], total: int, size: int
) -> None:
    """Write the `total` entries (`entries(start, end)` gives those from start to end)
    into folder/0.json, 1.json ..., `size` to a file; remove the folder's other files."""
    wanted = set()
    for start in range(0, total, size):
        name = f"{start // size}.json"
        wanted.add(name)
        _dump(out, f"{folder}/{name}", entries(start, min(start + size, total)))
    if not out.new:  # (see _merge_into)
        _remove_others(out, folder, wanted)


def _remove_others(out: Stage, folder: str, wanted: set[str]) -> None:
    """Remove the files of search/`folder` that are not `wanted`."""
    for stale in out.names(f"{SEARCH_DIR}/{folder}", ".json") - wanted:
        out.remove(f"{SEARCH_DIR}/{folder}/{stale}")


def _dump(out: Stage, relative: str, data: object) -> None:
    # orjson writes what json.dumps(ensure_ascii=False, separators=(",", ":")) does, as
    # UTF-8, several times faster.
    out.write_bytes(f"{SEARCH_DIR}/{relative}", orjson.dumps(data))


@dataclass
class ColdMerge:
    """A cold merge of the index, under way: its articles, its folder of runs, and the
    slices already scattered there (see `_merge_all`), with their lengths. A cold
    build's render scatters each slice as it counts its articles (see SliceWriter), so
    that the merge does not read every article back from the store and count it again."""

    out: Stage
    docs: list[Doc]
    store: TermStore
    runs: Path
    scattered: dict[int, list[int]] = field(default_factory=dict)  # slice -> its lengths
    # This process's terms, numbered once for all the slices it counts (see postings).
    _terms: tuple[int, TermNumbers] | None = field(default=None, repr=False, compare=False)

    def postings(self) -> _ArrayPostings | _PackedPostings:
        """A slice's postings, empty. Compiled, they number their terms in one table
        for every slice that this process counts. A slice of 48 articles of the
        benchmark's corpus learned its words afresh, 6,000 of the 17,000 its worker
        meets, and was counted a quarter slower (59 against 47 µs an article, in one
        process). The table lives as long as the merge."""
        if _Postings is _ArrayPostings:
            return _ArrayPostings()
        if self._terms is None or self._terms[0] != os.getpid():  # (a forked worker's own)
            self._terms = (os.getpid(), TermNumbers())
        return _PackedPostings(self._terms[1])

    @property
    def groups(self) -> int:
        return min(SHARDS, max(1, -(-len(self.docs) // ARTICLES_PER_GROUP)))

    @property
    def slices(self) -> int:
        return -(-len(self.docs) // ARTICLES_PER_SLICE)

    def numbers(self, part: int) -> range:
        """The ids of slice `part`'s articles."""
        start = part * ARTICLES_PER_SLICE
        return range(start, min(len(self.docs), start + ARTICLES_PER_SLICE))


@contextmanager
def cold_merge(out: Stage, docs: list[Doc], store: TermStore) -> Iterator[ColdMerge]:
    """A cold merge of `docs`' index into `out`, for the block: its runs are removed
    when it ends."""
    with _runs_folder(store) as runs:
        yield ColdMerge(out, docs, store, runs)


class SliceWriter:
    """One slice's articles, added in id order as they are counted (or read back from
    the store): their docs files are written, their postings sorted into one run per
    group of term files when the slice is done (`close`), the runs in one file."""

    def __init__(self, merge: ColdMerge, part: int):
        self.merge, self.part = merge, part
        self.numbers = {merge.docs[n].url_path: n for n in merge.numbers(part)}
        self.table = merge.postings()
        self.lengths: list[int] = []

    def doc(self, url_path: str) -> Doc:
        """One of the slice's articles, as the merge has it."""
        return self.merge.docs[self.numbers[url_path]]

    def count(self, url_path: str, title: str, text: str) -> int:
        """Count an article (its title and its body's text) into the slice, and write
        its docs file; its length. In the compiled slice no dict or int object is made
        for a term (see count_into)."""
        number = self._next(url_path)
        length = self.table.count(title, text, number)
        self._record(number, length, text)
        return length

    def _next(self, url_path: str) -> int:
        number = self.numbers[url_path]
        if number != self.part * ARTICLES_PER_SLICE + len(self.lengths):
            raise ValueError(f"{url_path}: not the slice's next article")
        return number

    def _record(self, number: int, length: int, text: str) -> None:
        """Note an article's length, and write its docs file."""
        self.lengths.append(length)
        doc = self.merge.docs[number]
        write_docs(self.merge.out, number, doc.url_path, doc.shown, text)

    def close(self) -> list[int]:
        """Write the slice's runs; its lengths."""
        if len(self.lengths) != len(self.numbers):
            raise ValueError(f"slice {self.part}: {len(self.lengths)} of {len(self.numbers)} added")
        runs = self.table.runs(self.merge.groups)
        self.table = self.merge.postings()
        sizes = array("Q", map(len, runs)).tobytes()  # (the file: each run's size, then each)
        _write_run(self.merge.runs / str(self.part), b"".join([sizes, *runs]))
        return self.lengths


# A cold merge: what the forked workers of `_merge_all` inherit.
_merge_job: ColdMerge | None = None


def _merge_all(
    out: Stage, docs: list[Doc], store: TermStore, jobs: int, cold: ColdMerge | None
) -> tuple[list[int], list[str]]:
    """Write every docs, term and vocabulary file, in two passes; return the lengths,
    and the vocabulary files' buckets, sorted (meta.json's `words`).
    First each slice of ARTICLES_PER_SLICE articles (in id order) has its articles'
    docs files written and their postings sorted into one run per group of term
    files, in one file: as the render counted them (`cold`), or read from the store,
    once each.
    Then each group gathers its runs, slice by slice: as the slices follow the ids,
    each term's postings come in order, and are only put end to end. A task holds the
    postings of one slice, or those of one group (ARTICLES_PER_GROUP articles' worth),
    packed in 8 bytes each (see `_ArrayPostings`)."""
    if cold is not None and cold.out is out and cold.docs == docs and cold.store is store:
        return _merge_into(cold, jobs)
    with cold_merge(out, docs, store) as fresh:
        return _merge_into(fresh, jobs)


def _merge_into(merge: ColdMerge, jobs: int) -> tuple[list[int], list[str]]:
    global _merge_job
    out, docs = merge.out, merge.docs
    missing = [part for part in range(merge.slices) if part not in merge.scattered]
    _merge_job = merge
    try:
        if jobs > 1 and (len(missing) > 1 or merge.groups > 1):
            with worker_pool(jobs, "merging the search index") as pool:
                some_lengths = pool.map(_scatter, missing)
                parts = pool.map(_gather, range(merge.groups))
        else:
            some_lengths = [_scatter(part) for part in missing]
            parts = [_gather(group) for group in range(merge.groups)]
    finally:
        _merge_job = None
    lengths_of = {**merge.scattered, **dict(zip(missing, some_lengths, strict=True))}
    words: dict[str, dict[str, int]] = {}
    for some_words in parts:
        for bucket, table in some_words.items():
            words.setdefault(bucket, {}).update(table)
    for bucket, table in words.items():
        _dump(out, f"words/{bucket}.json", dict(sorted(table.items())))
    if not out.new:  # (a new stage holds only this build's files: listing the docs
        # folder's 10,000 names to find none took 6 ms of a cold build)
        _remove_others(out, "words", {f"{bucket}.json" for bucket in words})
        _remove_others(out, "terms", {f"{n}.json" for n in range(shard_count(len(docs)))})
        _remove_others(out, "docs", {f"{n}.json" for n in range(len(docs))})
    lengths = [length for part in range(merge.slices) for length in lengths_of[part]]
    return lengths, sorted(words)


@contextmanager
def _runs_folder(store: TermStore) -> Iterator[Path]:
    """A folder for one merge's run files, beside the store, removed when it ends; one
    left by a build that was killed is removed by the next merge."""
    parent = store.folder
    folder = parent / f"search-runs-{os.getpid()}"
    try:
        make_folder(parent)
        for name in os.listdir(parent):
            found = _RUNS.fullmatch(name)
            if found and not _running(int(found[1])):
                clear(parent / name)
        clear(folder)
        make_folder(folder, links=False)
    except OSError as exc:
        message = f"cannot write the search state: {exc.strerror or exc}"
        raise CacheUnwritable(message, folder) from exc
    try:
        yield folder
    finally:
        with suppress(OSError):  # (left for the next merge to remove)
            clear(folder)


_RUNS = re.compile(r"search-runs-([0-9]{1,10})")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # (another user's process)
        return True
    return True


def _scatter(part: int) -> list[int]:
    """Read one slice's articles from the store and count them again (see
    Stored.counts); write their docs files and their runs; their lengths."""
    assert _merge_job is not None
    writer = SliceWriter(_merge_job, part)
    for number in _merge_job.numbers(part):
        url_path = _merge_job.docs[number].url_path
        stored = _merge_job.store.read(url_path)
        writer.count(url_path, stored.title, stored.text)
    return writer.close()


class _ArrayPostings(dict[str, "array[int]"]):
    """A slice's postings as they are added, in Python: term -> [id, count, id, count
    ...] as unsigned 32-bit numbers (array "I"): 8 bytes a posting where a list of ints
    takes 44 (each id its own int object). A count that does not fit would need an
    article of over 4 GB. Its runs are marshalled dicts, {term: postings}."""

    def __missing__(self, term: str) -> array[int]:
        postings = self[term] = array("I")
        return postings

    def add(self, number: int, counts: dict[str, int]) -> None:
        """Add article `number`'s counts (numbers must come in ascending order): this
        runs once for each posting of the index, millions of times. The loops over the
        terms run in C (map, drained by a deque)."""
        found = list(map(self.__getitem__, counts))
        # Each term is met once an article: its id, then its count, end to end.
        deque(map(array.append, found, repeat(number)), 0)
        deque(map(array.append, found, counts.values()), 0)

    def count(self, title: str, text: str, number: int) -> int:
        """Count an article and add it; its length (see SliceWriter.count)."""
        return _count_by_dict(self, title, text, number)

    def runs(self, groups: int) -> list[bytes]:
        """One run for each group of term files: {term: its postings packed}, for the
        terms whose CRC-32 % SHARDS % groups is the group, in the order first met."""
        runs_of: list[dict[str, bytes]] = [{} for _ in range(groups)]
        for term, postings in self.items():
            # (the CRC not kept, as shard_of keeps it: a render worker would hold one
            # for each term it met, megabytes, to look each up once a slice)
            runs_of[_crc(term) % SHARDS % groups][term] = postings.tobytes()
        return [marshal.dumps(run) for run in runs_of]

    @staticmethod
    def gather(
        runs: Iterable[bytes], total: int, shards: list[int], write: Callable[[int, bytes], None]
    ) -> dict[str, int]:
        """Put a group's `runs` end to end, slice by slice; write(shard, its JSON) for
        each of its `shards` (of `total`); each term's count of articles."""
        table: dict[str, bytearray] = {}
        for data in runs:
            run: dict[str, bytes] = marshal.loads(data)
            for term, postings in run.items():
                found = table.get(term)
                if found is None:
                    table[term] = bytearray(postings)
                else:
                    found += postings
            del run
        by_shard: dict[int, dict[str, bytearray]] = {n: {} for n in shards}
        for term, packed in table.items():
            by_shard[_CRCS[term] % total][term] = packed
        del table
        articles: dict[str, int] = {}
        for shard, some in by_shard.items():
            write(shard, _shard_data({t: array("I", flat).tolist() for t, flat in some.items()}))
            for term, packed in some.items():
                articles[term] = len(packed) // 8
            some.clear()
        return articles


class _PackedPostings:
    """What _ArrayPostings keeps, compiled (broadsheet/search/_native.c): each
    posting a (term number, id, count) triple at the end of one buffer, one buffer
    growing an article at a time (a bytearray for each term was reallocated at nearly
    every posting while it was small). Its runs are records of each term's UTF-8 and
    postings (see slice_runs), and a group's are put together and written by a
    Gathering, with no Python object for a term but its entry in the vocabulary."""

    def __init__(self, terms: TermNumbers | None = None) -> None:
        # term -> its number, in the order first met (here, or in the slices before
        # that shared `terms`: see ColdMerge.postings)
        self.terms = terms if terms is not None else TermNumbers()
        self.triples = bytearray()

    def add(self, number: int, counts: dict[str, int]) -> None:
        slice_add(self.terms, self.triples, number, counts)

    def count(self, title: str, text: str, number: int) -> int:
        """Count an article and add it, in one compiled pass where the stem table is
        compiled too (count_into); else, or where its word table gave up, as the dict."""
        stems = terms_module._STEMS
        if isinstance(stems, StemTable):
            words, title_words = folded_words(text), folded_words(title)
            got = count_into(
                words, stems, title_words, self.terms, self.triples, number, TITLE_BOOST
            )
            if got is not None:
                return got
        return _count_by_dict(self, title, text, number)

    def runs(self, groups: int) -> list[bytes]:
        return slice_runs(self.terms, self.triples, groups, SHARDS)

    @staticmethod
    def gather(
        runs: Iterable[bytes], total: int, shards: list[int], write: Callable[[int, bytes], None]
    ) -> dict[str, int]:
        gathering = Gathering()
        for data in runs:
            gathering.add(data)
        return gathering.write(total, shards, write)


def _count_by_dict(
    postings: _ArrayPostings | _PackedPostings, title: str, text: str, number: int
) -> int:
    """An article counted to a dict (count_text) and added to `postings`: its length."""
    counted = count_text(title, text)
    postings.add(number, counted.counts)
    return counted.length


try:  # (built by `pip install` where a C compiler is found)
    from broadsheet.search._native import (
        Gathering,
        StemTable,
        TermNumbers,
        count_into,
        slice_add,
        slice_runs,
    )

    _Postings: type[_ArrayPostings | _PackedPostings] = _PackedPostings
except ImportError:
    _Postings = _ArrayPostings


def _write_run(path: Path, data: bytes) -> None:
    try:
        write_in_place(path, data)
    except OSError as exc:
        raise CacheUnwritable(f"cannot write the search state: {exc.strerror}", path) from exc


def _read_run(path: Path, group: int, groups: int) -> bytes:
    """Group `group`'s run from a slice's run file (see SliceWriter.close)."""
    with path.open("rb") as file:
        sizes = array("Q")
        sizes.frombytes(file.read(sizes.itemsize * groups))
        file.seek(sizes.itemsize * groups + sum(sizes[:group]))
        return file.read(sizes[group])


def _gather(group: int) -> dict[str, dict[str, int]]:
    """Put one group's runs end to end and write its term files; its vocabulary."""
    assert _merge_job is not None
    out, docs, groups, runs = _merge_job.out, _merge_job.docs, _merge_job.groups, _merge_job.runs

    def pieces() -> Iterator[bytes]:
        for part in range(_merge_job.slices):
            path = runs / str(part)
            try:
                yield _read_run(path, group, groups)
            except OSError as exc:
                message = f"cannot read the search state: {exc.strerror}"
                raise BroadsheetError(message, path) from exc

    def write(shard: int, data: bytes) -> None:
        out.write_bytes(f"{SEARCH_DIR}/terms/{shard}.json", data)

    total = shard_count(len(docs))
    shards = [n for n in range(total) if n % SHARDS % groups == group]
    words: dict[str, dict[str, int]] = {}
    for term, articles in _Postings.gather(pieces(), total, shards, write).items():
        words.setdefault(bucket_of(term), {})[term] = articles
    return words


def _shard_data(table: dict[str, list[int]]) -> bytes:
    """A term file's JSON, its terms sorted: each id but a term's first is written as
    the gap from the one before. (What the compiled Gathering writes, too.)"""
    return orjson.dumps(
        {term: _gapped(flat[0::2], flat[1::2]) for term, flat in sorted(table.items())}
    )


def _gapped(ids: Sequence[int], counts: Sequence[int]) -> list[int]:
    """A term's ids (ascending) and counts as a term file holds them, [id, count, gap,
    count ...]: each id but the first as the gap from the one before."""
    entry = [0] * (2 * len(ids))
    entry[0::2] = map(operator.sub, ids, chain((0,), ids))  # (in C: once a posting)
    entry[1::2] = counts
    return entry


def _read_shard(out: Stage, shard: int) -> dict[str, list[int]]:
    """A term file of the site as written, {term: [id, count, gap, count ...]}: each
    term's postings are read (see `_updated`) only where a count of it changes, and
    the others written back as they were."""
    relative = f"terms/{shard}.json"
    try:
        data = out.read_bytes(f"{SEARCH_DIR}/{relative}")
        if data is None:  # every term file is written, if only as {}
            raise ValueError("missing")
        table = orjson.loads(data)
        if type(table) is not dict:
            raise ValueError("not a term file")
        if not all(type(gaps) is list and len(gaps) % 2 == 0 for gaps in table.values()):
            raise ValueError("not a term file")
        return table
    except (ValueError, BroadsheetError) as exc:
        raise _Unreadable(relative) from exc


def _updated(shard: int, gaps: list[int], updates: list[tuple[int, int]]) -> list[int]:
    """A term's entry in a term file (`gaps`: [id, count, gap, count ...]) with each
    (id, count) of `updates` made (a count of 0: the id goes), as the file holds it.
    Its ids and counts are read into two arrays, 8 bytes a posting: a term of most
    articles ("the") has 100,000 at 100,000 articles, which a dict of them took 19 MB
    to update."""
    try:
        if min(gaps[2::2], default=1) <= 0:  # (each id past the one before)
            raise ValueError("ids out of order")
        ids = array("I", accumulate(gaps[0::2]))
        counts = array("I", gaps[1::2])
    except (TypeError, ValueError, OverflowError) as exc:
        raise _Unreadable(f"terms/{shard}.json") from exc
    for number, count in updates:
        at = bisect_left(ids, number)
        if at < len(ids) and ids[at] == number:
            if count:
                counts[at] = count
            else:
                del ids[at], counts[at]
        elif count:
            ids.insert(at, number)
            counts.insert(at, count)
    return _gapped(ids, counts)


def _update(
    out: Stage,
    docs: Sequence[Doc],
    ids: dict[str, int],
    store: TermStore,
    changed: dict[str, dict[str, int]],
    old_meta: dict[str, Any],
    codes: list[int],
) -> list[str]:
    """Rewrite only the term files that hold a changed term of a re-indexed article,
    and the vocabulary files whose stems an article gained or lost; set each re-indexed
    article's length's code in `codes` (its docs file was written as it rendered: see
    TermStore.replace). Returns the vocabulary files."""
    total = shard_count(len(docs))
    # Each re-indexed article's length's code set; its changed terms' counts (0: gone)
    # kept by term file.
    by_shard: dict[int, dict[str, list[tuple[int, int]]]] = {}
    for url, terms in changed.items():
        number = ids[url]
        codes[number] = length_code(store.lengths[url])
        for term, count in terms.items():
            updates = by_shard.setdefault(shard_of(term) % total, {}).setdefault(term, [])
            updates.append((number, count))
    df_change: dict[str, int] = {}
    for shard, updated in sorted(by_shard.items()):
        table = _read_shard(out, shard)
        for term, updates in updated.items():
            gaps = table.pop(term, [])
            entry = _updated(shard, gaps, updates)
            if entry:
                table[term] = entry
            if len(entry) != len(gaps):
                df_change[term] = len(entry) // 2
            del gaps, entry
        written = orjson.dumps(dict(sorted(table.items())))  # (terms sorted, as when whole)
        out.write_bytes(f"{SEARCH_DIR}/terms/{shard}.json", written)
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
    return sorted(vocabulary)
