"""The part of a build that reads posts and renders pages: only imported when needed."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable, KeysView, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import compress
from operator import attrgetter, ge
from pathlib import Path

from jinja2 import Environment

from broadsheet.config import SiteConfig
from broadsheet.content.bundles import Folders
from broadsheet.content.loader import PostCache, load_posts
from broadsheet.content.post import Post
from broadsheet.content.store import read_post_cache, write_post_cache
from broadsheet.content.visibility import visible
from broadsheet.errors import CacheUnwritable
from broadsheet.outputs.published import Record, judge_urls, judged_inputs, record_digest
from broadsheet.outputs.site import Site, WholePlan, page_paths, plan_site
from broadsheet.paths import source_files
from broadsheet.publish import timing
from broadsheet.publish.cache import BuildCache, Hashes, SignedState, Stamps
from broadsheet.publish.context import use_site
from broadsheet.publish.media import Media, copy_attachments, gather, split_signatures
from broadsheet.publish.output_dir import staged_output
from broadsheet.publish.prerender import Prerender
from broadsheet.publish.render import (
    Progress,
    RenderReport,
    entry_order,
    render_pages,
    search_doc,
)
from broadsheet.publish.signatures import Since
from broadsheet.publish.stage import Stage, WrittenNotes
from broadsheet.publish.statics import copy_static
from broadsheet.render.templates import make_environment
from broadsheet.sealed import clear, make_folder, read_sealed
from broadsheet.search.index import (
    ColdMerge,
    DamagedTerms,
    Doc,
    LazyDocs,
    TermStore,
    cold_merge,
    doc_urls,
    write_index,
)
from broadsheet.workers import long_lived

DIRTY = "build-under-way"
RELATED = "related.json"  # the ranking of related articles, in the build's state
GROUPS = "groups.json"  # the posts' order, listings and related articles (see grouped)
# What the last finished build judged the published-URL record against (see
# published.judged_inputs), and the record's digest as it left it: a build that finds
# both as they were gets the same judgement, and need not read or write the record
# (60 ms at 10,000 articles, against 17 ms for the digest).
JUDGED = "published-judged"


@dataclass
class Outcome:
    """What assembling the site did: its pages' signatures and counts, and what changed."""

    articles: int
    written: int
    unchanged: int
    signatures: dict[str, str] = field(default_factory=dict)
    pages: int = 0  # how many of `signatures` are pages' (the others: bundles' files)
    valid_until: str | None = None
    # What an incremental build changed in the site (None: the site was replaced whole).
    changes: tuple[list[str], list[str]] | None = None
    signed: SignedState | None = None  # what `signatures` were taken from
    record: Record | None = None  # the published-URL record to write, in "record" mode
    images_encoded: int = 0  # images decoded and encoded (the others came from the cache)
    noted: WrittenNotes | None = None  # what the stage's writers noted of their files
    # Each post file's digest, by its name below the project: the hash of the bytes the
    # build read (of their text as normalised, if they needed it: see post.decoded).
    digests: dict[str, str] = field(default_factory=dict)
    # What the record was judged against, and its digest as judged (see JUDGED): as
    # it is to be written, if `record` is to be.
    judged: str = ""
    seen: str = ""


def assemble(
    config: SiteConfig,
    output: Path,
    trusted: Callable[[], BuildCache | None],
    drafts: bool,
    now: datetime,
    progress: Progress | None,
    jobs: int | None,
    state: Path | None = None,
    stamps: Stamps | None = None,
    urls: str = "verify",
    last: BuildCache | None = None,
    changed: set[str] | None = None,
) -> Outcome:
    """Posts -> plan -> pages rendered into a stage (only the changed ones, when the
    cache can say what changed) -> search index -> committed into the site.

    `trusted()` gives the last build's cache if it still fits the output: it may still
    be finding out while the posts are read and planned, so it is asked only then. The
    plan goes by that cache as read (`last`), if it can (see plan_site), and is made
    whole after all if the cache is not trusted. `changed`: the sources that changed
    since that cache, as its `adopt` found them (None: not asked, and so not known).
    """
    jobs = jobs or os.cpu_count() or 1
    images = state.parent / "images" if state is not None else None  # the image cache
    # (long_lived: the posts and the plan, see there; prerender: see start() below)
    with long_lived() as keep, Prerender() as prerender:
        with timing.stage("read posts"):
            same = last.same if last is not None else None
            posts, edited, digests, bodies_only = _load_posts(config, state, jobs, stamps, same)
            if same:  # (let go: 12 MB at 100,000 articles)
                same.clear()
        if jobs > 1 and state is not None:  # a few posts edited: their bodies, meanwhile
            prerender.start(posts, edited, config, now, drafts, state / RELATED, bodies_only)
        keep()
        with timing.stage("plan"):
            media, shown = gather_media(config, visible(posts, now, drafts), stamps)
            related = state / RELATED if state is not None else None
            groups = state / GROUPS if state is not None else None

            def plan(since: Since | None = None) -> Site:
                return load_site(
                    config,
                    drafts=drafts,
                    now=now,
                    posts=shown,
                    related_store=related,
                    jobs=jobs,
                    last=since,
                    groups_store=groups,
                )

            compared = _comparable(config, last, changed) if state is not None else None
            site = plan(_since(last, compared))
            content = config.path(config.content_dir)
            judged = judged_inputs(posts, page_paths(site), now, urls)
            seen = record_digest(content)
            record = None
            if state is None or read_sealed(state / JUDGED) != f"{judged} {seen}".encode():
                answering = set(page_paths(site))  # (not kept: 8 MB at 100,000)
                record = judge_urls(content, posts, answering, now, urls)
                del answering
        keep()
        compiled = state / "templates" if state is not None else None
        env = make_environment(config.path(config.templates_dir), {}, compiled)
        with ExitStack() as stack:
            stack.callback(let_go, env)
            if state is None:  # no build cache: the search terms live as long as the build
                state = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="broadsheet-")))
            terms = TermStore(state)
            with timing.stage("check output"):
                cache = trusted()
            dirty = state / DIRTY
            if dirty.exists():
                cache = None  # the index may not match the last site: index everything again
            terms.expect(_indexed_last(cache))
            if site.whole is not None and cache is not last:  # (planned by a cache not trusted)
                with timing.stage("plan again"):
                    site = plan()
            use_site(env, site, prerender.bodies(), media)
            _mark(dirty)

            def publish(cache: BuildCache | None, before: SignedState | None) -> Published:
                return _publish(
                    config,
                    output,
                    site,
                    env,
                    cache,
                    before,
                    state,
                    terms,
                    progress,
                    jobs,
                    media,
                    images,
                )

            try:
                before = compared if cache is last else None  # (trusted(): `last` or none)
                stage, report = publish(cache, before)
            except DamagedTerms:  # the search state does not verify: start again, cold
                try:
                    terms.reset()
                except OSError as exc:
                    message = f"cannot rebuild the search state: {exc.strerror}"
                    raise CacheUnwritable(message, terms.folder) from exc
                if site.whole is not None:  # (a cold build renders every page)
                    with timing.stage("plan again"):
                        site = plan()
                    use_site(env, site, prerender.bodies(), media)
                stage, report = publish(None, None)
            with suppress(OSError):  # the site is in place; the next build indexes it anew
                clear(dirty)
    return Outcome(
        articles=len(site.posts),
        written=report.written,  # pages: what the summary counts (static files aside)
        unchanged=report.unchanged,
        signatures=report.signatures,
        pages=report.pages,
        valid_until=_next_due(posts, now, drafts),
        changes=(stage.moved, sorted(stage.removed)) if stage.moved is not None else None,
        signed=report.state,
        record=record,
        images_encoded=media.encoded,
        noted=stage.written,
        # (all, when it read them all: made now, not held through the render)
        digests=_digests(_root_of(config), ((str(p.path), p) for p in posts))
        if digests is None
        else digests,
        judged=judged,
        seen=seen,
    )


def _root_of(config: SiteConfig) -> str:
    return f"{config.root}{os.sep}"


def _digests(root: str, posts: Iterable[tuple[str, Post]]) -> dict[str, str]:
    """Each post's file (given as a string, with the post; named relative to the
    project `root`, for those in it) -> its digest: the hash of the bytes it was parsed
    from (see pipeline's "hash sources")."""
    return {
        name[len(root) :]: post.digest
        for name, post in posts
        if post.digest and name.startswith(root)
    }


Published = tuple[Stage, RenderReport]


def _publish(
    config: SiteConfig,
    output: Path,
    site: Site,
    env: Environment,
    cache: BuildCache | None,
    before: SignedState | None,
    state: Path,
    terms: TermStore,
    progress: Progress | None,
    jobs: int,
    media: Media,
    images: Path | None,
) -> Published:
    """Render into a stage (only what changed since the `cache`, if there is one, and
    its signatures' state, `before`, if they can be compared: see _comparable), write
    the search index, and commit the stage into the site. Returns the stage and the
    rendering's report."""
    kept = cache.pages if cache is not None else {}
    previous, attached = split_signatures(kept, cache.page_count if cache is not None else None)
    with staged_output(output, reuse=cache is not None) as stage:
        statics = config.path(config.static_dir)
        pages = set(page_paths(site))
        published = copy_static(statics, stage, pages, state)
        _drop_stale_statics(cache, config, stage)
        with timing.stage("images"):
            media.publish(stage, images, jobs)
            files = copy_attachments(site, media.folders, stage, attached, pages, published)
        with ExitStack() as merging:  # a cold build's index: scattered as pages render
            docs: Sequence[Doc]
            if previous:  # (an incremental build's: when it moves no article, made as needed)
                docs, cold = lazy_docs(site) if _placed(site) else search_docs(site), None
            else:
                docs = every = search_docs(site)
                cold = merging.enter_context(cold_merge(stage, every, terms))
            terms.begin(stage, doc_urls(docs), same_places=bool(previous) and _placed(site))
            with timing.stage("render"):
                report = render_pages(
                    site, env, stage, previous, progress, jobs, terms, before, cold
                )
            report.signatures.update(files)
            with timing.stage("search index"):
                index_site(stage, site, terms, report, docs, jobs, cold=cold)
    return stage, report


def _indexed_last(cache: BuildCache | None) -> KeysView[str] | None:
    """Every article whose search terms the last build kept (those it showed), if the
    cache says; None if it cannot."""
    if cache is None or cache.signed is None:
        return None
    return cache.signed.digests.keys()


def _mark(dirty: Path) -> None:
    """Leave a mark in the build state that a build is under way, removed when it ends."""
    try:
        make_folder(dirty.parent)
        clear(dirty)
        dirty.write_text("a build is under way, or did not finish\n", encoding="utf-8")
    except OSError as exc:
        message = f"cannot write the build cache: {exc.strerror}"
        raise CacheUnwritable(message, dirty.parent) from exc


def index_site(
    stage: Stage,
    site: Site,
    terms: TermStore,
    report: RenderReport,
    docs: Sequence[Doc],
    jobs: int = 1,
    whole: bool = False,
    cold: ColdMerge | None = None,
) -> None:
    """Write the search index: updated from the articles `report` re-indexed when it
    comes from an incremental render, merged whole otherwise (or when asked: `whole`),
    from the slices the render scattered into `cold` and from `terms` for the rest.
    `docs` are the site's articles as search_docs (or lazy_docs) gives them.

    A site planned from the last build's plan (only the pages an edit shows: see
    plan_site) has every article in the place it had then: the same path, URL, section,
    date, author and tags, in the same order (signatures.Since judged the posts' places
    the same), and the index in `stage` is that build's. Its update keeps the facets."""
    changed = report.reindexed if report.incremental and not whole else None
    sections = [(section.slug, section.name) for section in site.sections]
    terms.note(report.indexed)  # (the docs files its workers wrote)
    if cold is not None:
        cold.scattered.update(report.scattered)
    write_index(stage, docs, sections, terms, changed, jobs, cold, same_places=_placed(site))


def _placed(site: Site) -> bool:
    """Whether `site` was planned from the last build's plan, every article in the place
    it had then (see index_site)."""
    return site.whole is not None and site.whole.judged is not None


def search_docs(site: Site) -> list[Doc]:
    """Every article as a search result shows it and its filters see it, in id order
    (see id_order)."""
    return list(map(search_doc, in_id_order(site.posts)))


def lazy_docs(site: Site) -> LazyDocs:
    """search_docs(site), each article's Doc made only when asked for."""
    posts = in_id_order(site.posts)
    return LazyDocs([post.url_path for post in posts], lambda number: search_doc(posts[number]))


def in_id_order(posts: tuple[Post, ...]) -> list[Post]:
    """`posts`, given in reading order (newest first, undated last: see reading_order),
    in the order id_order gives their search entries: undated first, by URL, then oldest
    first, by URL among those of one moment.

    The reading order puts the dated posts newest first by their timestamps, which are
    exact for the moments between the years 1700 and 2200 (a float's 53 bits hold 2**33
    seconds in microseconds): for those, the dated posts are the reading order
    backwards, each run of posts of one moment sorted again by URL. Any others are
    sorted (an entry's moment made for each post, and sorting by it, took 7 ms of an
    edit at 10,000 articles)."""
    dates = list(map(attrgetter("date"), posts))
    dated = dates.index(None) if None in dates else len(dates)
    if dates.count(None) != len(dates) - dated or (
        dated and not (dates[dated - 1].year >= 1700 and dates[0].year <= 2200)
    ):
        return sorted(posts, key=_id_key)  # (not a reading order, or moments far off)
    older = posts[dated - 1 :: -1] if dated else ()
    found = [*sorted(posts[dated:], key=attrgetter("url_path")), *older]
    # Runs of posts whose dates are not each before the next (as datetimes of one zone
    # compare: by their wall times, which two moments of an hour a clock repeats share,
    # so a run may hold two moments; sorting it by moment and URL orders it either way).
    first = len(found) - dated
    backwards = dates[dated - 1 :: -1] if dated else []
    ties = list(compress(range(first, len(found) - 1), map(ge, backwards, backwards[1:])))
    at = 0
    while at < len(ties):
        end = at
        while end + 1 < len(ties) and ties[end + 1] == ties[end] + 1:
            end += 1
        run = slice(ties[at], ties[end] + 2)
        found[run] = sorted(found[run], key=_id_key)
        at = end + 1
    return found


def _id_key(post: Post) -> tuple[timedelta, str]:
    return entry_order(post.date), post.url_path


def gather_media(
    config: SiteConfig, posts: list[Post], stamps: Stamps | None
) -> tuple[Media, list[Post]]:
    """What the shown `posts` show (see broadsheet.publish.media), from the sources'
    walk (`stamps`, named relative to the project) or a new one."""
    content, static = config.path(config.content_dir), config.path(config.static_dir)
    root = _root_of(config)
    if stamps is not None and all(str(f).startswith(root) for f in (content, static)):
        folders = Folders.from_stamps(config.root, content, static, stamps)
    else:  # a folder outside the project (serve --content): its stamps are not keyed so
        folders = Folders(
            content, static, frozenset([*source_files(content), *source_files(static)])
        )
    return gather(config, posts, folders)


def load_site(
    config: SiteConfig,
    *,
    drafts: bool,
    now: datetime | None = None,
    posts: list[Post] | None = None,
    related_store: Path | None = None,
    jobs: int = 1,
    last: Since | None = None,
    groups_store: Path | None = None,
) -> Site:
    """Read the posts (unless given), drop drafts and scheduled ones unless asked, plan
    (by the `last` build's plan, if it can, and the groups kept in `groups_store`: see
    plan_site)."""
    now = now or config.now or datetime.now(config.zone)
    if posts is None:
        posts = load_posts(config.path(config.content_dir), config.zone)
    shown = visible(posts, now, drafts)
    return plan_site(
        shown,
        config,
        now=now,
        related_store=related_store,
        jobs=jobs,
        last=last,
        groups_store=groups_store,
    )


def _since(cache: BuildCache | None, before: SignedState | None) -> Since | None:
    """The last build's plan as its cache (read, not yet trusted) gives it, if its
    signatures' state can be compared (`before`: see _comparable)."""
    if cache is None or before is None:
        return None
    previous, _ = split_signatures(cache.pages, cache.page_count)
    return Since(before, WholePlan(tuple(previous), tuple(before.templates)))


def _load_posts(
    config: SiteConfig,
    state: Path | None,
    jobs: int,
    stamps: Stamps | None,
    same: Hashes | None = None,
) -> tuple[list[Post], set[str], dict[str, str] | None, list[Post] | None]:
    """The posts, parsing only the files that changed since the stored ones; the
    paths (as strings) of those that changed, were added or are gone; the digests
    (see `_digests`) of the posts read again or kept with a new stamp, or None when
    every post was (then the build takes them all from the posts, at its end); and
    the posts that changed, if only their bodies did (each of a file that was there
    before, with the same front matter), else None.

    Only those: the others' files have the stamps the last build hashed them at, and
    their hashes are its. (All of them, named as the post cache names them, held from
    here through the render: 15 MB at 100,000 articles; made from the posts' paths at
    the end, a path made into a string took 15 ms of an edit at 10,000.)"""
    content = config.path(config.content_dir)
    root = _root_of(config)
    if state is None:
        posts = load_posts(content, config.zone, jobs=jobs)
        return posts, {str(post.path) for post in posts}, None, None
    known = None
    if stamps is not None and str(content).startswith(root):  # just stamped: no new walk
        known = {root + name: stamp for name, stamp in stamps.items()}
    # The files whose stamps changed, found by their hashes to hold the bytes the last
    # build recorded (see BuildCache.adopt), with those hashes (keyed by the strings
    # `known` holds: no second copy of each path, 10 MB at 100,000 articles).
    hashed: dict[str, str] = {}
    if same and known is not None:
        start = len(root)
        hashed = {path: same[path[start:]] for path in known if path[start:] in same}
    folder = state / "posts"
    kept: dict[int, str] = {}  # the files of posts read, and their posts: see write_post_cache
    members: dict[int, list[str]] = {}
    cache = read_post_cache(folder, content, config.zone, kept, members)
    before = dict(cache)  # holds the entries, so that `is` below compares them safely
    posts = load_posts(content, config.zone, cache, jobs, known, hashed)
    # Entries to save: new, parsed again, or kept with a new stamp (a racy file, verified).
    renewed = {key for key, entry in cache.items() if before.get(key) is not entry}
    renewed |= before.keys() - cache.keys()
    changed = {key for key in renewed if key not in cache or key not in before}
    changed |= {
        key for key in renewed & before.keys() & cache.keys() if before[key][1] is not cache[key][1]
    }
    whole = len(before) == 0  # no usable cache: every post was read
    if renewed:
        write_post_cache(
            folder, content, config.zone, cache, None if whole else changed, kept, members
        )
        if whole:  # the single file the posts were kept in before they were spread out
            with contextlib.suppress(OSError):
                (state / "posts.json").unlink(missing_ok=True)
    if whole:
        return posts, changed, None, None
    # (not those found by their hashes: the build cache has those)
    read = ((name, cache[name][1]) for name in renewed if name in cache and name not in hashed)
    return posts, changed, _digests(root, read), _bodies_only(changed, before, cache)


def _bodies_only(changed: set[str], before: PostCache, after: PostCache) -> list[Post] | None:
    """The posts of the files `changed` (from the post cache as it was `before` to as it
    is `after`), if only their bodies changed; else None."""
    found = []
    for name in changed:
        old, new = before.get(name), after.get(name)
        if old is None or new is None or not new[1].header_digest:
            return None
        if old[1].header_digest != new[1].header_digest:
            return None
        found.append(new[1])
    return found


def _comparable(
    config: SiteConfig, cache: BuildCache | None, changed: set[str] | None
) -> SignedState | None:
    """The state of the cache's signatures when every source that `changed` since is a
    post or a static file: then no template or setting has, and it can be compared."""
    if cache is None or cache.signed is None or changed is None:
        return None
    try:
        prefixes = tuple(
            config.path(folder).relative_to(config.root).as_posix() + "/"
            for folder in (config.content_dir, config.static_dir)
        )
    except ValueError:  # a folder outside the project: its stamps are not keyed so
        return None
    return cache.signed if all(name.startswith(prefixes) for name in changed) else None


def _next_due(posts: list[Post], now: datetime, drafts: bool) -> str | None:
    """When the first post dated in the future falls due: the output changes then
    without an edit. A scheduled post appears; or, with drafts shown, it loses its
    "Scheduled" badge, and it (a draft too) may become the newest article, which
    moves the news sitemap's window."""
    due = [p.date for p in posts if p.date is not None and p.date > now and (drafts or not p.draft)]
    # (the first instant: the dates share the site's zone, and two of one zone compare
    # by their wall times, which mislead in the hour a clock set back repeats)
    return min(due, key=datetime.timestamp).isoformat() if due else None


def _drop_stale_statics(cache: BuildCache | None, config: SiteConfig, stage: Stage) -> None:
    """Remove copies of static files that were deleted since the last build (or are
    folders now)."""
    if cache is None:
        return
    static = config.path(config.static_dir)
    prefix = static.relative_to(config.root).as_posix() + "/"
    for source in cache.inputs:
        if source.startswith(prefix) and not (static / source[len(prefix) :]).is_file():
            stage.remove(source[len(prefix) :])


def let_go(env: Environment) -> None:
    """Let the site go with the build's environment, whose helpers hold it (in its
    globals and filters, and in each template's globals). The environment and its
    templates hold each other: a cycle, which the garbage collector does not look at
    once a worker's fork has frozen it (see long_lived). So the site, its posts and
    its pages would otherwise stay until the build ends, while the output is stamped
    and the cache saved, which at 100,000 articles hold as much again."""
    for template in env.cache.values() if env.cache is not None else ():
        template.globals.clear()  # (a copy of the environment's: see make_environment)
    env.globals.clear()
    env.filters.clear()
    env.cache = None
