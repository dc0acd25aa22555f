"""`build(config)`: the whole program in one place, stage by stage."""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from broadsheet.codeversion import MEMO, code_version
from broadsheet.config import SiteConfig, zone_stamp
from broadsheet.content.visibility import judging_moment
from broadsheet.errors import BroadsheetError, CacheUnwritable, display_path
from broadsheet.locks import content_lock
from broadsheet.outputs.published import Record, record_digest, write_record
from broadsheet.paths import resolve
from broadsheet.publish import timing
from broadsheet.publish.cache import (
    CACHE_DIR,
    BuildCache,
    Hashes,
    OutputCheck,
    Stamps,
    cache_path,
    folders_of,
    folders_path,
    hashes_of,
    load_cache,
    load_folders,
    restamp_folders,
    save_cache,
    save_folders,
    settle_recent,
    settled,
    share_stamps,
    source_stamps,
    stamp_folders,
    stamp_tree,
)
from broadsheet.publish.checkout import Checkout, checked_out_since
from broadsheet.publish.hosting import SiteSize, file_warned
from broadsheet.publish.output_dir import (
    build_lock,
    changed_from,
    check_output_dir,
    present,
    recover,
)
from broadsheet.publish.stage import Notes, noted_stamps
from broadsheet.sealed import clear, make_folder, read_sealed, write_sealed
from broadsheet.stamps import HASHED, racy_after
from broadsheet.stops import stopped_in
from broadsheet.workers import collector_paused

RECORD_SEEN = "published-record"  # the record's digest as the last build left it
CODE_MARK = "code"  # which Broadsheet wrote the state (broadsheet.codeversion)

if TYPE_CHECKING:
    from broadsheet.publish.render import Progress


@dataclass(frozen=True)
class BuildResult:
    """What a build did, for its summary: where, how many pages, and how long."""

    output: Path
    articles: int
    written: int
    unchanged: int
    seconds: float
    size: SiteSize | None = None  # what the site holds, once built
    images_encoded: int = 0  # images decoded and encoded (the others came from the cache)
    # When the site changes with no edit (a post dated in the future falls due), as an
    # ISO date and time; None if never. (serve builds again then.)
    valid_until: str | None = None

    @property
    def pages(self) -> int:
        return self.written + self.unchanged


def build(
    config: SiteConfig,
    output: Path | None = None,
    *,
    drafts: bool = False,
    progress: Progress | None = None,
    jobs: int | None = None,
    use_cache: bool = True,
    wait: Callable[[str], None] | None = None,
    note: Callable[[str], None] | None = None,
    cache_dir: Path | None = None,
    warn: Callable[[str], None] | None = None,
    urls: str = "verify",
) -> BuildResult:
    """content/ -> posts -> planned pages -> rendered files, swapped into site/ whole.

    With the build cache, a build whose sources have not changed does nothing, and one
    after an edit renders only the pages whose inputs changed. A build cache it cannot
    write is left alone: the build goes on without it, and says so through `note`
    (by default, a line on stderr). `cache_dir` keeps the cache somewhere other than
    the project's .broadsheet-cache/ (serve's own folder).
    Stopped by Ctrl-C or SIGTERM, it raises KeyboardInterrupt with a message that says
    where the site is. `urls` says what it does with the published-URL record
    (broadsheet.outputs.published): "verify" it, "record" the articles it publishes
    too, or "frozen": verify, and require every published article to be in it.
    """
    started = time.perf_counter()
    output = resolve(output or config.path(config.output_dir))
    check_output_dir(output, config)
    content = config.path(config.content_dir)
    with build_lock(output, wait) as lock, content_lock(content, shared=True, wait=wait):
        where = cache_path(config, output)
        if cache_dir is not None:
            where = cache_dir / where.name
        made = _cache_files(where, use_cache)
        try:
            try:
                recover(output, lock, warn)
            except OSError as exc:
                message = f"cannot clean up after a previous build: {exc.strerror or exc}"
                raise BroadsheetError(message, exc.filename or output) from exc

            say = note or _say

            def attempt(cached: bool) -> BuildResult:
                with collector_paused():  # (see long_lived: the cache's head is read first)
                    return _build(
                        config, output, drafts, progress, jobs, cached, started, say, where, urls
                    )

            try:
                return attempt(use_cache)
            except CacheUnwritable as exc:  # (a full cache disk: found only while writing)
                if not use_cache or lock.committed:
                    raise
                say(f"warning: {exc}; building without the build cache")
            recover(output, lock, warn)  # (what the first attempt left: nothing, or its stage)
            return attempt(False)
        except BaseException as exc:
            if not os.path.lexists(output):  # a failed first build leaves nothing it made
                _forget(made)
            if isinstance(exc, KeyboardInterrupt) or stopped_in(exc):  # (see stopped_in)
                raise KeyboardInterrupt(_stopped(lock.committed, output)) from None
            raise


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _stopped(committed: bool, output: Path) -> str:
    if committed:
        return "stopped: the new site is in place"
    if output.is_dir():
        return "interrupted; the previous site is untouched"
    return "interrupted; no site was written"


def _cache_files(where: Path, use_cache: bool) -> list[Path]:
    """The build cache's files at `where` (and its folder) that do not exist yet."""
    if not use_cache:
        return []
    files = [where.parent, where, _state_path(where), where.parent / "images"]  # (assemble's)
    return [path for path in files if not os.path.lexists(path)]


def _forget(made: list[Path]) -> None:
    for path in reversed(made):
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink():
                if path.name == CACHE_DIR:  # only ever holds what builds write
                    (path / ".gitignore").unlink(missing_ok=True)
                    (path / MEMO).unlink(missing_ok=True)
                    path.rmdir()
                else:
                    shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)


def _state_path(where: Path) -> Path:
    return where.with_name(where.stem.replace("build-", "state-"))


def _build(
    config: SiteConfig,
    output: Path,
    drafts: bool,
    progress: Progress | None,
    jobs: int | None,
    use_cache: bool,
    started: float,
    note: Callable[[str], None],
    where: Path,
    urls: str = "verify",
) -> BuildResult:
    """The build, with its cache at `where` (the build-*.json file; its state folder
    beside it)."""
    now = judging_moment(config.now or datetime.now(config.zone), config.zone)
    check = OutputCheck(output, {})  # (started below, once the cache is read)
    try:  # (until `with check` below: whatever is raised, no check process is left)
        with timing.stage("check cache"):  # the stamps' walk refuses unreadable files, bad links
            # Each build's hashes are its own: a racy file's (hashed for its stamp, as a
            # fresh clone's are) may be stale for a later build of the same process, serve's.
            HASHED.clear()
            racy = racy_after()  # files changed since are hashed (see broadsheet.stamps)
            cache = load_cache(where) if use_cache else None
            folders = folders_path(where)
            if cache is not None:  # (the files' hashes: read from its rest if a stamp changed)
                check = OutputCheck(output, cache.output, cache.rest, folders)
            # What the check finds holds from this moment (a folder changed since, by
            # anyone, is listed by the next check: see cache.stamp_folders).
            checked = _present(output)
            # An output file is racy by the output file system's clock too (it may lag the
            # machine's, and be in the tick a page was written in), and so is kept hashed.
            output_racy = min(racy, checked)
            check.present = checked
            if cache is not None:  # the output is stamped in another process meanwhile
                check.start()
            checkout, vouched = None, None
            if cache is not None and checked_out_since(config.root, where):
                # A fresh checkout: the sources Git's index vouches for are not read
                # again. Judged here, not in the check's process: on a restored site that
                # process walks every folder, and the build waited for it (a deploy took
                # 0.922 of the time with this work here, 10 pairs in turn).
                checkout = Checkout(config.root, where.parent)
                inputs = source_stamps(config, racy, checkout.hash_of)
                vouched = checkout.vouch(cache.inputs, inputs)
            else:
                inputs = source_stamps(config, racy)
            options = _options(config, drafts, output)
            options["urls"] = urls
            # The sources changed since the last build, judged once, here (those a clone
            # gave new stamps, found by their hashes, take them in the cache): whether
            # the build is current and how far the plan can go by the last one's both go
            # by it (each asking compared 10,000 stamps again).
            edited, current = None, False
            if cache is not None:
                edited = cache.adopt(inputs, config.root, vouched)
                current = cache.is_current(edited, options, now)
            # The published-URL record is no source of the site's, but judges it: a build
            # does nothing only if the record is as the last build left it.
            record = _state_path(where) / RECORD_SEEN
            kept = read_sealed(record) if current else None
            digest = record_digest(config.path(config.content_dir)) if current else ""
            current = kept is not None and kept.decode("utf-8", "replace") == digest
            if cache is not None and current and check.holds():
                walked: list[str] = []
                restamped = None
                if check.fresh is not None:  # a restored site: the stamps the check took
                    restamped, walked = check.fresh, sorted(folders_of(check.fresh))
                elif check.restamp:
                    restamped = stamp_tree(output, racy=output_racy, folders=walked)
                _settle(where, cache, inputs, racy, output_racy, restamped, config.root)
                if checkout is not None:  # (the sources it hashed: see below)
                    checkout.save(inputs)
                _settle_folders(output, folders, check, checked, walked or None)
                size = _size(restamped or cache.output)
                pages, until = cache.page_count, _moving(config, cache.valid_until)
                seconds = _since(started)
                return BuildResult(output, cache.articles, 0, pages, seconds, size, 0, until)
            if cache is not None:
                share_stamps(inputs, cache.inputs)
                # The cache's rest is read now, while little else is held. Read once the
                # posts are read and planned (when no source's stamp asked for it
                # sooner), its parsing came on top of them: 27 MB at 10,000 articles,
                # 100 MB at 100,000, when only the time had moved.
                cache.rest()
        # Only now the rendering machinery (Jinja, YAML, Markdown): a no-op build skips it.
        from broadsheet.publish.assemble import JUDGED, assemble
        from broadsheet.workers import long_lived

        state = _state_path(where) if use_cache else None
        if state is not None:
            _for_this_code(state, code_version(where.parent))
        if state is not None and not _writable(where, state, note):
            use_cache, state = False, None
    except BaseException:  # (a bad source: serve goes on, and keeps no zombie process)
        check.close()
        raise

    def trusted() -> BuildCache | None:
        """The cache, if the output still holds what it says (else trust nothing)."""
        if cache is None or not check.holds() or not cache.rest().whole:
            return None
        if check.fresh is not None:  # it held by the files' hashes: these are their stamps
            cache.output = check.fresh  # (its own, brought up to date in place)
        return cache

    with check, long_lived() as keep:  # the cache just read, and (in assemble) posts and plan
        keep()
        outcome = assemble(
            config, output, trusted, drafts, now, progress, jobs, state, inputs, urls, cache,
            edited,
        )  # fmt: skip
        if outcome.changes is None or (check.restamp and check.fresh is None):
            # The posts and the plan are let go before the whole output is stamped and
            # the cache saved, which hold a note of every output file: at 100,000
            # articles as much again. The pages this process rendered hold them still,
            # in cycles (a page's context): the collector walks what is young, which is
            # little (what was kept is frozen; assemble() broke the environment's
            # cycles). After an edit, stamping the output is no such cost, nor after a
            # deploy whose check took the restored site's stamps (see below).
            with timing.stage("let the plan go"):
                gc.collect()
        seen: str | None = outcome.seen  # (the record's digest as judged, as written)
        if outcome.record is not None:
            seen = _write_record(config, outcome.record, note)
        if use_cache:
            with timing.stage("stamp output"):
                last, written = trusted(), outcome.noted
                outcome.noted = None  # (held no longer than needed: 30,000 notes at 10,000)
                noted = written.noted() if written is not None else None
                del written
                whole = last is None or outcome.changes is None  # (a new tree: see below)
                from_notes = whole and noted is not None
                met: list[str] = []  # (the output's folders, if it was walked whole)
                # A site that held by its files' hashes alone (restored from a CI cache)
                # has its stamps taken again, unless the check took them.
                retaken = check.restamp and check.fresh is not None
                restamp = check.restamp and not retaken
                # (the stamps the check took were judged racy by output_racy, or later)
                taken_by = output_racy if retaken and check.all_fresh else None
                stamps, hashes = _stamp_output(
                    output, last, outcome.changes, racy, restamp, noted, met, taken_by
                )
                del noted
            fresh = BuildCache(inputs, options, outcome.signatures, stamps, signed=outcome.signed)
            fresh.page_count = outcome.pages  # (the bundles' files left out)
            fresh.valid_until = outcome.valid_until
            with contextlib.suppress(OSError):  # without it, the next build is not a no-op
                # The record as this build judged and wrote it; or none, if it is not so
                # (it could not be written, or was changed or replaced meanwhile): then
                # the next build judges it again, even one with nothing else to do.
                digest = record_digest(config.path(config.content_dir))
                left = digest if seen == digest else ""
                write_sealed(_state_path(where) / RECORD_SEEN, left.encode("utf-8"))
                judged = f"{outcome.judged} {left}" if left else ""
                write_sealed(_state_path(where) / JUDGED, judged.encode("utf-8"))
            fresh.articles = outcome.articles
            fresh.output_hashes = hashes
            with timing.stage("hash sources"):
                known = cache.input_hashes if cache is not None else {}
                verified = cache.inputs if cache is not None else None
                read, outcome.digests = outcome.digests, {}  # (the posts': hashed as read)
                fresh.input_hashes = hashes_of(inputs, config.root, known, verified, read)
                del read, known, verified
                if checkout is not None:  # which blob hashed to what, for the next checkout
                    checkout.save(inputs)
                    checkout = None
            # The last build's cache is not needed again: let it go before this one's is
            # written (its stamps and hashes are a tenth of a rebuild's peak at 10,000).
            cache = last = None
            check.expected, check.hashes, check.fresh = {}, {}, None
            size = _size(stamps)
            with timing.stage("save cache"):
                try:
                    save_cache(where, fresh)
                except OSError as exc:
                    note(_unwritable(where, exc, "the next build will not use it"))
                else:
                    # (a new tree, or one found as recorded: its folders are its files')
                    names = stamps if from_notes or retaken else None
                    changed, removed = outcome.changes or ([], [])
                    walk = whole or check.refolder  # (so after a restamp too)
                    del fresh, stamps, hashes
                    moved = None if walk else changed
                    # A folder changed since the check began is listed by the next one
                    # (by anyone: the build began to change the site later); those of a
                    # new tree, made in the stage, date from when it was put in place.
                    since = (changed_from(output) or checked) if whole else checked
                    if check.restored:
                        _forget_folders(folders)
                    else:
                        _save_folders(output, folders, since, names, moved, removed, met or None)
        else:
            size = _size(stamp_tree(output))
    return BuildResult(
        output,
        outcome.articles,
        outcome.written,
        outcome.unchanged,
        _since(started),
        size,
        outcome.images_encoded,
        _moving(config, outcome.valid_until),
    )


def _moving(config: SiteConfig, until: str | None) -> str | None:
    """`until`, unless the build's clock stands still (SOURCE_DATE_EPOCH sets it)."""
    return until if config.now is None else None


def _write_record(config: SiteConfig, record: Record, note: Callable[[str], None]) -> str | None:
    """Save the published-URL record; the site is in place, so a record that cannot be
    written (a read-only checkout) is a warning, and the next build or check tries again.
    Its digest as written (see record_digest), or None."""
    try:
        return write_record(config.path(config.content_dir), record)
    except BroadsheetError as exc:
        note(f"warning: {exc}; the published-URL record was not updated")
        return None


def _size(stamps: Stamps) -> SiteSize:
    """The size of the site whose files have these `stamps`. (One pass to sum the sizes,
    another to find the few files large enough to name: a mapping of every file to its
    size, made to rank them all, took 6 ms of an edit at 10,000 articles.)"""
    sizes = list(map(itemgetter(0), stamps.values()))  # (maps: 30,000 files, in C)
    least = file_warned()
    large = []
    if sizes and max(sizes) > least:  # (as a rule, no file is)
        large = [(name, stamp[0]) for name, stamp in stamps.items() if stamp[0] > least]
    return SiteSize.summed(sum(sizes), large)


def _stamp_output(
    output: Path,
    cache: BuildCache | None,
    changes: tuple[list[str], list[str]] | None,
    racy: int,
    restamp: bool = False,
    noted: Notes | None = None,
    walked: list[str] | None = None,
    judged: int | None = None,
) -> tuple[Stamps, Hashes]:
    """The output's stamps: the last build's (verified since `racy`), updated for the
    files this one changed in place, or taken afresh when the site was replaced whole
    or when the last build's held only by the files' hashes and the check did not give
    the stamps it took (`restamp`: a site restored from a CI cache). The files just
    written are hashed if they are racy now (and the folders met, when the output is
    walked, added to `walked`). And the hash of every output file: the last build's,
    but for the files this one wrote.
    What the writers `noted` of the files they wrote spares reading them back (and, for
    a site replaced whole, even taking their stamps: see noted_stamps). A file is racy
    if its times are not older than the output file system's present (as Git judges
    against its index's time), or when that cannot be read, than a few seconds ago.
    Stamps this build's check took (`judged`: at or after the moment it judged them
    racy by) keep every hash they hold while that moment is not passed: a file racy
    then is racy still. (Looking through them, a restored site's 30,000 each with its
    hash, took 23 ms of a deploy at 10,000 articles, to drop none.)"""
    written = present(output) or racy_after()
    if cache is None or changes is None:
        if noted is not None:
            return noted_stamps(output, noted, written)
        stamps = stamp_tree(output, racy=written, folders=walked)
        return stamps, hashes_of(stamps, output, {})
    moved, removed = changes
    fresh, fresh_hashes = noted_stamps(output, noted or {}, written, moved)
    if restamp:
        stamps = stamp_tree(output, racy=written, folders=walked)
    else:
        moment = min(racy, written)
        if judged is not None and moment <= judged:
            stamps = dict(cache.output)
        else:
            stamps = settled(cache.output, moment) or dict(cache.output)
        for relative in removed:
            stamps.pop(relative, None)
    stamps.update(fresh)
    hashes = dict(cache.output_hashes)
    for relative in (*removed, *moved):
        hashes.pop(relative, None)
    hashes.update(fresh_hashes)
    return stamps, hashes  # compared as mappings: their order does not matter


def _save_folders(
    output: Path,
    at: Path,
    since: int,
    names: Iterable[str] | None,
    moved: list[str] | None,
    removed: list[str],
    walked: list[str] | None = None,
) -> None:
    """Keep the stamps of the output's folders at `at` (see cache.stamp_folders), once
    the build cache is saved and let go: for a new tree written from notes, or a
    restored one the check found as recorded (see OutputCheck.fresh), those of the
    folders its files lie in (`names`: such a tree has no folder without a file below
    it); after a build that changed the site in place (`moved`, `removed`) and whose
    check went by the last build's, those updated for what it changed; else every
    folder's (those the build `walked` already met, or found by a walk of the folders).
    A folder changed `since` the check began (for a new tree, since it was put in
    place) is stamped [] (listed by the next check), as something else may have
    written into it meanwhile; those of a new tree are listed here instead (see
    cache.settle_recent). What
    cannot be written is left as it was: stamps older than the cache's can only fail to
    hold (see cache.folders_path), and the next check then walks the site."""
    with contextlib.suppress(OSError):
        if names is not None:
            folders = stamp_folders(output, since, folders_of(names))
            folders = settle_recent(output, folders, names, lambda: _present(output))
        elif moved is not None and (known := load_folders(at)):
            folders = restamp_folders(output, known, (*moved, *removed), since)
        else:
            folders = stamp_folders(output, since, walked)
        save_folders(at, folders)


def _forget_folders(at: Path) -> None:
    """Keep no stamps of the output's folders at `at`, after a build whose site was
    restored (every file held only by its hash, and no folder by its stamp: a site and
    cache put back by a CI workflow's cache action, or copied). Such a site is most
    often restored so again before the next build, and then the stamps of its folders
    never hold (their change times and inodes are new): taking them cost a deploy 50 ms
    at 10,000 articles (17,000 folders). The next check reads every folder instead, as
    this one did; after a build that does, they are stamped again (see refolder). With
    no file of them, the next check reads every folder in one process (see
    OutputCheck._shares)."""
    with contextlib.suppress(OSError):  # (one that stays is found not to hold)
        at.unlink()


def _present(output: Path) -> int:
    return present(output) or racy_after()


def _settle_folders(
    output: Path, at: Path, check: OutputCheck, since: int, walked: list[str] | None = None
) -> None:
    """After a build that found nothing to do: the folders' stamps taken again if the
    check could not go by them (those of the folders `walked`, if the output was just
    walked whole), or for those that were too recent to go by. A folder changed `since`
    the check began is stamped [] (listed by the next check)."""
    if not (check.refolder or check.recent):
        return
    if check.restored:  # (see _forget_folders)
        _forget_folders(at)
        return
    with contextlib.suppress(OSError):
        known = {} if check.refolder else load_folders(at)
        if not known:
            folders = stamp_folders(output, since, walked)
        else:
            recent = [folder for folder, stamp in known.items() if not stamp]
            folders = {**known, **stamp_folders(output, since, recent)}
        save_folders(at, folders)


def _settle(
    where: Path,
    cache: BuildCache,
    inputs: Stamps,
    racy: int,
    output_racy: int,
    restamped: Stamps | None = None,
    root: Path | None = None,
) -> None:
    """After a build that found nothing to do: keep the stamps it just verified without
    the hashes of files that are no longer racy (as `git status` refreshes the index:
    the sources' by `racy`, the output's by `output_racy`, see _build), or taken afresh
    where the files only hashed as before (`restamped`: the output's new stamps; and
    sources whose stamps changed, below `root`), so that the next build need not read
    them again."""
    output = restamped or settled(cache.output, output_racy)
    if output is None and inputs == cache.inputs:
        return
    if inputs != cache.inputs and root is not None:
        cache.input_hashes = hashes_of(inputs, root, cache.input_hashes, cache.inputs)
    cache.inputs, cache.output = inputs, output or cache.output
    with contextlib.suppress(OSError):  # only saves the next build some reading
        save_cache(where, cache)


def _for_this_code(state: Path, version: str) -> None:
    """Empty the build's state folder if another Broadsheet (`version`: see
    broadsheet.codeversion) wrote it: its posts as parsed, search terms and related
    articles may not be what this one makes of the same sources. (The build cache
    beside it says which Broadsheet wrote it too, and is not loaded then.)"""
    marker = state / CODE_MARK
    if read_sealed(marker) == version.encode():
        return
    with contextlib.suppress(OSError):  # (what cannot be emptied: see _writable)
        if os.path.lexists(state):
            clear(state)
        make_folder(state)
        write_sealed(marker, version.encode())


def _writable(where: Path, state: Path, note: Callable[[str], None]) -> bool:
    """Whether the build cache's folders can be written (made if need be, anything in
    their way removed); if not, say so: the build goes on without the cache."""
    images = where.parent / "images"  # the image cache (assemble's), shared by every output
    for folder in (
        where.parent,
        state,
        *(state / n for n in ("posts", "templates")),
        images,
    ):
        probe = folder / f".probe-{os.getpid()}"
        try:  # (.broadsheet-cache may be a link, say to a faster disk; not the folders in it)
            make_folder(folder, links=folder == where.parent)
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            note(_unwritable(folder, exc, "building without it"))
            return False
    return True


def _unwritable(where: Path, exc: OSError, outcome: str) -> str:
    reason = exc.strerror or str(exc)
    return f"warning: cannot write the build cache ({display_path(where)}: {reason}); {outcome}"


def _options(config: SiteConfig, drafts: bool, output: Path) -> dict[str, Any]:
    """Everything besides the source files that decides the output."""
    return {
        "drafts": drafts,
        "base_url": config.base_url,
        "content": config.content_dir,
        "now": config.now.isoformat() if config.now else None,
        "zone": zone_stamp(config.timezone),  # (its rules: see there)
        "output": str(output),
    }


def _since(started: float) -> float:
    return time.perf_counter() - started
