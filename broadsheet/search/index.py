"""The search index under site/search/, written from each article's terms.

    search/meta.json          how many articles, the sections, each article's section,
                              and which term files exist
    search/docs/<n>.json      what a result shows, 500 articles a file, in id order
    search/terms/<xx>.json    {term: [id, weight, id, weight, ...]} for the terms that
                              start with xx (see terms.bucket_of)

An article's id is its place among the articles sorted by URL, so the index is a pure
function of the articles: a cold build and any sequence of incremental ones agree byte
for byte. Each rendered article's terms are kept in the build's state folder (one small
file each, see `TermStore`); a cold build merges those files, bucket group by bucket
group, so memory stays bounded. After an edit that keeps the set of articles, only the
term files that hold a changed term are rewritten.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from broadsheet.errors import BroadsheetError
from broadsheet.files import write_if_changed
from broadsheet.search.terms import bucket_of

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


class TermStore:
    """Each indexed article's terms and weights, one file per article: "term weight" lines."""

    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, url_path: str) -> Path:
        return self.folder / hashlib.blake2b(url_path.encode(), digest_size=12).hexdigest()

    def has_all(self, url_paths: Iterable[str]) -> bool:
        try:
            present = set(os.listdir(self.folder))
        except OSError:
            return False
        return all(self.path(u).name in present for u in url_paths)

    def read(self, url_path: str) -> dict[str, int]:
        try:
            text = self.path(url_path).read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise BroadsheetError(
                f"cannot read the search state: {exc}", self.path(url_path)
            ) from exc
        weights: dict[str, int] = {}
        for line in text.splitlines():
            term, _, weight = line.rpartition(" ")
            weights[term] = int(weight)
        return weights

    def replace(self, url_path: str, weights: dict[str, int]) -> list[str]:
        """Store an article's new weights; return the terms whose weight changed."""
        old = self.read(url_path)
        changed = sorted(t for t in old.keys() | weights.keys() if old.get(t) != weights.get(t))
        if changed:
            lines = "".join(f"{t} {w}\n" for t, w in sorted(weights.items()))
            self.folder.mkdir(parents=True, exist_ok=True)
            write_if_changed(self.path(url_path), lines)
        return changed

    def forget_others(self, url_paths: Iterable[str]) -> None:
        """Drop the files of articles that are gone."""
        keep = {self.path(u).name for u in url_paths}
        for name in os.listdir(self.folder) if self.folder.is_dir() else ():
            if name not in keep:
                (self.folder / name).unlink(missing_ok=True)


def write_index(
    out: Path,
    docs: list[Doc],
    sections: list[tuple[str, str]],
    store: TermStore,
    changed: dict[str, list[str]] | None,
    jobs: int = 1,
) -> None:
    """Write search/ for `docs` (sorted by URL). `changed` maps the articles re-indexed
    since the index in `out` was written to their changed terms; None means start over."""
    folder = out / SEARCH_DIR
    ids = {doc.url_path: number for number, doc in enumerate(docs)}
    if changed is None or _indexed_urls(folder) != [d.url_path for d in docs]:
        _merge_all(folder, [d.url_path for d in docs], store, jobs)
    elif changed:
        _update(folder, ids, store, changed)
    _write_docs(folder, docs, sections)


def _indexed_urls(folder: Path) -> list[str] | None:
    """The article URLs of the index already in `folder`, in id order (None if unreadable)."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        urls: list[str] = []
        for number in range(-(-meta["docs"] // DOCS_PER_FILE)):
            chunk = json.loads((folder / "docs" / f"{number}.json").read_text(encoding="utf-8"))
            urls += [entry[0] for entry in chunk]
        return urls
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def _write_docs(folder: Path, docs: list[Doc], sections: list[tuple[str, str]]) -> None:
    numbers = {slug: n for n, (slug, _) in enumerate(sections)}
    names = sorted(p.stem for p in (folder / "terms").glob("*.json"))
    meta = {
        "format": FORMAT,
        "docs": len(docs),
        "per_file": DOCS_PER_FILE,
        "sections": [list(s) for s in sections],
        "section_of": [numbers.get(d.section, -1) for d in docs],
        "buckets": names,
    }
    _dump(folder / "meta.json", meta)
    wanted = set()
    for start in range(0, len(docs), DOCS_PER_FILE):
        name = f"{start // DOCS_PER_FILE}.json"
        wanted.add(name)
        chunk = [
            [d.url_path, d.title, numbers.get(d.section, -1), d.date, d.excerpt]
            for d in docs[start : start + DOCS_PER_FILE]
        ]
        _dump(folder / "docs" / name, chunk)
    for stale in (folder / "docs").glob("*.json"):
        if stale.name not in wanted:
            stale.unlink()


def _dump(path: Path, data: object) -> None:
    write_if_changed(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")))


# A cold merge: each task reads every article's terms and keeps one group of buckets.
_merge_job: tuple[Path, list[str], TermStore, int] | None = None


def _merge_all(folder: Path, urls: list[str], store: TermStore, jobs: int) -> None:
    global _merge_job
    groups = max(1, -(-len(urls) // ARTICLES_PER_GROUP))
    (folder / "terms").mkdir(parents=True, exist_ok=True)
    _merge_job = (folder, urls, store, groups)
    try:
        if jobs > 1 and groups > 1:
            with multiprocessing.get_context("fork").Pool(min(jobs, groups)) as pool:
                written = [n for part in pool.map(_merge_group, range(groups)) for n in part]
        else:
            written = [n for g in range(groups) for n in _merge_group(g)]
    finally:
        _merge_job = None
    keep = set(written)
    for stale in (folder / "terms").glob("*.json"):
        if stale.name not in keep:
            stale.unlink()


def _group_of(bucket: str, groups: int) -> int:
    return zlib.crc32(bucket.encode()) % groups


def _merge_group(group: int) -> list[str]:
    assert _merge_job is not None
    folder, urls, store, groups = _merge_job
    buckets: dict[str, dict[str, list[int]]] = {}
    for number, url in enumerate(urls):
        for term, weight in store.read(url).items():
            bucket = bucket_of(term)
            if groups > 1 and _group_of(bucket, groups) != group:
                continue
            buckets.setdefault(bucket, {}).setdefault(term, []).extend((number, weight))
    for bucket, postings in buckets.items():
        _write_bucket(folder, bucket, postings)
    return [f"{bucket}.json" for bucket in buckets]


def _write_bucket(folder: Path, bucket: str, postings: dict[str, list[int]]) -> None:
    path = folder / "terms" / f"{bucket}.json"
    if not postings:
        path.unlink(missing_ok=True)
        return
    _dump(path, dict(sorted(postings.items())))


def _update(
    folder: Path, ids: dict[str, int], store: TermStore, changed: dict[str, list[str]]
) -> None:
    """Rewrite only the term files that hold a changed term of a re-indexed article."""
    sets = {url: set(terms) for url, terms in changed.items()}
    by_bucket: dict[str, set[str]] = {}
    for terms in sets.values():
        for term in terms:
            by_bucket.setdefault(bucket_of(term), set()).add(term)
    weights = {url: store.read(url) for url in changed}
    for bucket, terms in sorted(by_bucket.items()):
        path = folder / "terms" / f"{bucket}.json"
        try:
            postings: dict[str, list[int]] = (
                json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
            )
        except (OSError, ValueError) as exc:
            raise BroadsheetError(f"cannot read the search index: {exc}", path) from exc
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
        _write_bucket(folder, bucket, postings)
