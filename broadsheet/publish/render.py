"""Render the planned pages into a folder, skipping those whose signature is unchanged,
in several processes when there is enough to do."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import jinja2

from broadsheet.content.post import Post
from broadsheet.outputs.page import Page
from broadsheet.outputs.site import Site
from broadsheet.publish import timing
from broadsheet.publish.cache import SignedState
from broadsheet.publish.context import Cards, format_date, page_context
from broadsheet.publish.signatures import Signer
from broadsheet.publish.stage import Stage
from broadsheet.render.markdown import RenderedBody
from broadsheet.render.templates import render_template
from broadsheet.search.index import ColdMerge, Doc, SliceWriter, TermStore
from broadsheet.search.terms import count, text_of
from broadsheet.workers import worker_pool

Progress = Callable[[int, int], None]  # (pages done, pages in all)
PARALLEL_MINIMUM = 400  # below this, starting workers costs more than it saves
T = TypeVar("T")

CHUNK = 48
HELD_TEXT = 1 << 20  # characters of rendered pages held before they are written


@dataclass
class RenderReport:
    """What rendering did: each page's signature, what it wrote, and what it re-indexed."""

    signatures: dict[str, str] = field(default_factory=dict)  # output path -> signature
    pages: int = 0  # how many of `signatures` are pages' (a build adds its bundles' files)
    written: int = 0
    unchanged: int = 0
    rendered: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # article -> its changed terms, with their new counts (see TermStore.replace)
    reindexed: dict[str, dict[str, int]] = field(default_factory=dict)
    # article -> its length, for each whose docs file it wrote (see TermStore.lengths)
    indexed: dict[str, int] = field(default_factory=dict)
    incremental: bool = False  # against previous signatures: `reindexed` is complete
    state: SignedState | None = None  # what `signatures` were taken from
    scattered: dict[int, list[int]] = field(default_factory=dict)  # see ColdMerge

    def merge(self, other: RenderReport) -> None:
        self.signatures.update(other.signatures)
        self.written += other.written
        self.unchanged += other.unchanged
        self.rendered += other.rendered
        self.reindexed.update(other.reindexed)
        self.indexed.update(other.indexed)
        self.scattered.update(other.scattered)


def render_pages(
    site: Site,
    env: jinja2.Environment,
    out: Stage,
    previous: dict[str, str] | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
    terms: TermStore | None = None,
    before: SignedState | None = None,
    cold: ColdMerge | None = None,
) -> RenderReport:
    """Render every page whose signature differs from `previous`; drop pages now gone.
    With a `terms` store, each rendered article's search terms are kept there; and in
    a cold render, with a `cold` merge of the index under way, scattered into it too,
    a slice of articles (in the index's order) to a task (see `_tasks`).

    With `previous` signatures (an incremental build), every page is signed here first
    (or, given the state they were taken from, only those that can have changed), and
    only the pages that changed are rendered: in this process when they are few.
    """
    signer = Signer(site, env)
    signatures: dict[str, str] | None = None
    indices: Sequence[int] = range(len(site.pages))
    if previous:
        with timing.stage("sign"):
            signatures = signer.sign_all(site, previous, before)
        indices = [
            index
            for index, page in enumerate(site.pages)
            if previous.get(page.path) != signatures[page.path]
        ]
    if signatures is not None or terms is None:
        cold = None
    tasks = _tasks(site, indices, cold)
    if jobs > 1 and len(indices) >= PARALLEL_MINIMUM:
        report = _render_in_processes(
            site, env, signer, out, tasks, signatures, progress, jobs, terms, cold
        )
    else:
        report = RenderReport()
        for task in tasks:
            report.merge(_render_task(site, env, signer, out, task, signatures, terms, cold))
            if progress is not None:
                progress(len(report.rendered), len(indices))
    if signatures is not None:
        report.unchanged += len(signatures) - len(indices)
        report.signatures = signatures
        report.incremental = True
    for gone in sorted(set(previous or {}) - set(report.signatures)):
        out.remove(gone)
        report.removed.append(gone)
    report.pages = len(report.signatures)
    report.state = signer.state(site)
    return report


def _render_some(
    site: Site,
    env: jinja2.Environment,
    signer: Signer,
    out: Stage,
    pages: Sequence[Page],
    signed: dict[str, str] | None,
    terms: TermStore | None,
    writer: SliceWriter | None = None,
) -> RenderReport:
    """Render `pages`; sign them too, unless `signed` already holds their signatures;
    count their articles' terms (into the slice `writer`, if any), and write their docs
    files (through `terms`, or the `writer`).

    Step by step over all of them (every body, then every template, every write, every
    article's search terms) rather than page by page: each step's code and data stay in
    the CPU's caches, and a chunk of 48 pages renders a quarter faster (measured). Pages
    are held until they add up to HELD_TEXT, so that a chunk of feeds and sitemaps
    (megabytes each) is not held whole.
    """
    report = RenderReport()
    if signed is None:
        report.signatures = {page.path: signer.sign(page) for page in pages}
    render_body: Callable[[Post], RenderedBody] = env.globals["render_body"]  # type: ignore[assignment]
    bodies: list[RenderedBody | None] = [
        render_body(page.post) if page.post is not None else None for page in pages
    ]
    featured = env.globals.get("featured")
    rendered: list[tuple[Page, str]] = []
    held = 0
    for page, body in zip(pages, bodies, strict=True):
        context = page_context(site, page, body, featured)  # type: ignore[arg-type]
        text = render_template(env, page.template, context, "/" + page.url_path)
        rendered.append((page, text))
        held += len(text)
        if held > HELD_TEXT:  # the feeds and sitemaps are big: written as they come
            _write(out, rendered, report)
            rendered, held = [], 0
    _write(out, rendered, report)
    if terms is None:
        return report
    for page, body in zip(pages, bodies, strict=True):
        if page.post is not None and body is not None:
            if signed is None and writer is not None:  # a cold build's slice
                text = text_of(body.html)
                shown = writer.doc(page.url_path).shown  # (its merge has every Doc already)
                # (counted with the title it shows, as the index counts it again: Stored)
                writer.count(page.url_path, shown[0], text)
            elif signed is None:  # a cold build: the index is merged whole
                counted = count(page.post.title, body.html)
                terms.put(page.url_path, counted, search_doc(page.post).shown)
                report.indexed[page.url_path] = counted.length
            else:  # incremental: the index is updated from the articles that changed
                counted = count(page.post.title, body.html)
                changed = terms.replace(page.url_path, counted, search_doc(page.post).shown)
                if changed is not None:
                    report.reindexed[page.url_path] = changed
                    report.indexed[page.url_path] = counted.length
    return report


def search_doc(post: Post) -> Doc:
    """An article as a search result shows it and its filters see it. (Made from a
    tuple: every build makes one for each article, and the named tuple's own __new__, a
    function in Python, took twice as long: 10 ms at 10,000 articles.)"""
    date = post.date
    return _doc(
        (
            post.url_path,
            post.title,
            post.section_slug,
            format_date(date) if date is not None else "",
            date.year if date is not None else None,
            post.author or "",
            post.tags,
            entry_order(date),
        )
    )


_doc = Doc._make


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNDATED = timedelta.min  # a search entry's `order` without a date: before every date


def entry_order(moment: datetime | None) -> timedelta:
    """A search entry's `order` (see Doc): its moment (aware) as the time since 1970."""
    return moment - _EPOCH if moment is not None else _UNDATED


def _write(out: Stage, rendered: list[tuple[Page, str]], report: RenderReport) -> None:
    for page, text in rendered:
        report.rendered.append(page.path)
        if out.write_text(page.path, text):
            report.written += 1
        else:
            report.unchanged += 1


# A task: the pages of a slice of articles (slice number, their indices), or a chunk of
# other pages (None, their indices).
Task = tuple[int | None, Sequence[int]]


def _tasks(site: Site, indices: Sequence[int], cold: ColdMerge | None) -> list[Task]:
    """The render's tasks, CHUNK pages at a time: first the site-wide files planned
    after the articles (feeds, sitemaps), then the other pages that are no articles
    (listings), then the articles; with a `cold` merge of the index, the articles of
    each slice of the index (in its order) as one. A cold render, the only one with
    a merge, renders every page.
    A process's heap only grows, and this order puts its largest needs where it is
    small: the feeds and sitemaps take megabytes each while they render (18 MB at
    10,000 articles); the listings keep each article's card (15 MB), let go before the
    articles (see `_forget_cards`), whose rendering and counting then reuse that room.
    (Measured at 10,000 articles, the largest process's peak: 116.8 MB in this order,
    123.7 MB in the plan's with the cards kept.) That room is in pieces of 64 KB to
    1 MB, between what the listings keep: a block larger than the pieces grows the
    heap. So the index's counting keeps no table it could do without (a worker's words
    are kept once, in its slices: see slice_word_new in broadsheet/search/_native.c),
    and a slice's runs take room for its own terms only (see slice_runs). (Traced in
    cold builds at 10,000 articles: the workers' heaps grew by up to 2.7 MB while they
    counted; in six builds since, not at all.)"""
    slices: list[Task] = []
    if cold is not None:
        page_of = {page.url_path: n for n, page in enumerate(site.pages) if page.post is not None}
        for part in range(cold.slices):
            urls = [cold.docs[number].url_path for number in cold.numbers(part)]
            found = [page_of.get(url) for url in urls]
            if all(n is not None for n in found):
                slices.append((part, [n for n in found if n is not None]))
    taken = {n for _, some in slices for n in some}
    pages = site.pages
    articles = [n for n in indices if pages[n].post is not None and n not in taken]
    others = [n for n in indices if pages[n].post is None]
    last = max((*taken, *articles), default=-1)
    others = [n for n in others if n > last] + [n for n in others if n < last]
    chunks = [*_chunks(others), *_chunks(articles)]
    return [*((None, chunk) for chunk in chunks), *slices]


def _render_task(
    site: Site,
    env: jinja2.Environment,
    signer: Signer,
    out: Stage,
    task: Task,
    signed: dict[str, str] | None,
    terms: TermStore | None,
    cold: ColdMerge | None,
) -> RenderReport:
    part, indices = task
    pages = [site.pages[i] for i in indices]
    _forget_cards(env, signer, pages)
    if part is None or cold is None:
        return _render_some(site, env, signer, out, pages, signed, terms)
    writer = SliceWriter(cold, part)
    report = RenderReport()
    for chunk in _chunks(pages):  # (a chunk at a time, as other pages)
        report.merge(_render_some(site, env, signer, out, chunk, signed, terms, writer))
    report.scattered[part] = writer.close()
    return report


def _forget_cards(env: jinja2.Environment, signer: Signer, pages: list[Page]) -> None:
    """Let the listing cards kept so far go if `pages` are articles that show none: no
    later task shows a listing then (see `_tasks`)."""
    cards = env.globals.get("card")
    if not isinstance(cards, Cards) or not cards._count():
        return
    if any(page.post is None for page in pages):
        return
    if any(signer.shows_cards(t) for t in {page.template for page in pages}):
        return
    cards.forget()


# What forked workers inherit: set just before the pool starts, read-only after.
_shared: (
    tuple[
        Site,
        jinja2.Environment,
        Signer,
        Stage,
        dict[str, str] | None,
        TermStore | None,
        ColdMerge | None,
    ]
    | None
) = None


def _render_in_processes(
    site: Site,
    env: jinja2.Environment,
    signer: Signer,
    out: Stage,
    tasks: list[Task],
    signed: dict[str, str] | None,
    progress: Progress | None,
    jobs: int,
    terms: TermStore | None,
    cold: ColdMerge | None,
) -> RenderReport:
    """Fork `jobs` workers that share the planned site copy-on-write; each writes its pages."""
    global _shared
    _shared = (site, env, signer, out, signed, terms, cold)
    total = sum(len(indices) for _, indices in tasks)
    report = RenderReport()
    try:
        with worker_pool(jobs, "rendering pages") as pool:
            for part in pool.imap_unordered(_render_in_worker, tasks):
                report.merge(part)
                if progress is not None:
                    progress(len(report.rendered), total)
    finally:
        _shared = None
    report.rendered.sort()
    report.reindexed = dict(sorted(report.reindexed.items()))
    report.signatures = dict(sorted(report.signatures.items()))
    return report


def _chunks(items: Sequence[T]) -> list[Sequence[T]]:
    """The pages to render, CHUNK at a time: a task for a worker, or a step of one process."""
    return [items[start : start + CHUNK] for start in range(0, len(items), CHUNK)]


def _render_in_worker(task: Task) -> RenderReport:
    assert _shared is not None
    site, env, signer, out, signed, terms, cold = _shared
    return _render_task(site, env, signer, out, task, signed, terms, cold)
