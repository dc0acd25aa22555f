"""`build(config)`: the whole program in one place, stage by stage."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from broadsheet.config import SiteConfig
from broadsheet.errors import BroadsheetError, display_path
from broadsheet.locks import content_lock
from broadsheet.paths import resolve
from broadsheet.publish import timing
from broadsheet.publish.cache import (
    CACHE_DIR,
    BuildCache,
    OutputCheck,
    Stamps,
    cache_path,
    load_cache,
    save_cache,
    settled,
    source_stamps,
    stamp_tree,
)
from broadsheet.publish.output_dir import build_lock, check_output_dir, recover
from broadsheet.sealed import make_folder
from broadsheet.stamps import racy_after

if TYPE_CHECKING:
    from broadsheet.publish.render import Progress


@dataclass(frozen=True)
class BuildResult:
    output: Path
    articles: int
    written: int
    unchanged: int
    seconds: float
    images_encoded: int = 0  # images decoded and encoded (the others came from the cache)

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
) -> BuildResult:
    """content/ -> posts -> planned pages -> rendered files, swapped into site/ whole.

    With the build cache, a build whose sources have not changed does nothing, and one
    after an edit renders only the pages whose inputs changed. A build cache it cannot
    write is left alone: the build goes on without it, and says so through `note`
    (by default, a line on stderr). `cache_dir` keeps the cache somewhere other than
    the project's .broadsheet-cache/ (serve's own folder).
    Stopped by Ctrl-C or SIGTERM, it raises KeyboardInterrupt with a message that says
    where the site is.
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
            return _build(
                config, output, drafts, progress, jobs, use_cache, started, note or _say, where
            )
        except BaseException as exc:
            if not os.path.lexists(output):  # a failed first build leaves nothing it made
                _forget(made)
            if isinstance(exc, KeyboardInterrupt):
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
) -> BuildResult:
    """The build, with its cache at `where` (the build-*.json file; its state folder
    beside it)."""
    now = config.now or datetime.now(config.zone)
    with timing.stage("check cache"):  # the stamps' walk refuses unreadable files, bad links
        racy = racy_after()  # files changed since are hashed (see broadsheet.stamps)
        inputs, options = source_stamps(config, racy), _options(config, drafts, output)
        cache = load_cache(where) if use_cache else None
        check = OutputCheck(output, cache.output if cache is not None else {})
        current = cache is not None and cache.is_current(inputs, options, now, config.root)
        if cache is not None and current and check.holds():
            _settle(where, cache, inputs, racy)
            return BuildResult(output, cache.articles, 0, len(cache.pages), _since(started))
    if cache is not None:
        check.start()  # the output is stamped in another process while posts are read

    def trusted() -> BuildCache | None:
        """The cache, if the output still holds what it says (else trust nothing)."""
        return cache if cache is not None and check.holds() else None

    # Only now the rendering machinery (Jinja, YAML, Markdown): a no-op build skips it.
    from broadsheet.publish.assemble import assemble
    from broadsheet.workers import long_lived

    state = _state_path(where) if use_cache else None
    if state is not None and not _writable(where, state, note):
        use_cache, state = False, None
    with check, long_lived() as keep:  # the cache just read, and (in assemble) posts and plan
        keep()
        outcome = assemble(config, output, trusted, drafts, now, progress, jobs, state, inputs)
        if use_cache:
            with timing.stage("stamp output"):
                stamps = _stamp_output(output, trusted(), outcome.changes, racy)
            fresh = BuildCache(inputs, options, outcome.signatures, stamps, signed=outcome.signed)
            fresh.valid_until = outcome.valid_until
            fresh.articles = outcome.articles
            with timing.stage("save cache"):
                try:
                    save_cache(where, fresh)
                except OSError as exc:
                    note(_unwritable(where, exc, "the next build will not use it"))
    return BuildResult(
        output,
        outcome.articles,
        outcome.written,
        outcome.unchanged,
        _since(started),
        outcome.images_encoded,
    )


def _stamp_output(
    output: Path,
    cache: BuildCache | None,
    changes: tuple[list[str], list[str]] | None,
    racy: int,
) -> Stamps:
    """The output's stamps: the last build's (verified since `racy`), updated for the
    files this one changed in place, or taken afresh when the site was replaced whole.
    The files just written are hashed if they are racy now."""
    written = racy_after()
    if cache is None or changes is None:
        return stamp_tree(output, racy=written)
    stamps = settled(cache.output, racy) or dict(cache.output)
    moved, removed = changes
    for relative in removed:
        stamps.pop(relative, None)
    for relative in moved:
        stamps.update(stamp_tree(output / relative, output, written))
    return stamps  # compared as a mapping: its order does not matter


def _settle(where: Path, cache: BuildCache, inputs: Stamps, racy: int) -> None:
    """After a build that found nothing to do: keep the stamps it just verified without
    the hashes of files that are no longer racy (as `git status` refreshes the index),
    so that the next build need not read them again."""
    output = settled(cache.output, racy)
    if output is None and inputs == cache.inputs:
        return
    cache.inputs, cache.output = inputs, output or cache.output
    with contextlib.suppress(OSError):  # only saves the next build some reading
        save_cache(where, cache)


def _writable(where: Path, state: Path, note: Callable[[str], None]) -> bool:
    """Whether the build cache's folders can be written (made if need be, anything in
    their way removed); if not, say so: the build goes on without the cache."""
    images = where.parent / "images"  # the image cache (assemble's), shared by every output
    for folder in (
        where.parent,
        state,
        *(state / n for n in ("posts", "terms", "templates")),
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
        "output": str(output),
    }


def _since(started: float) -> float:
    return time.perf_counter() - started
