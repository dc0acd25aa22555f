"""`build(config)`: the whole program in one place, stage by stage."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from broadsheet.config import SiteConfig
from broadsheet.errors import BroadsheetError
from broadsheet.paths import refuse_outside_links
from broadsheet.publish import timing
from broadsheet.publish.cache import (
    CACHE_DIR,
    BuildCache,
    OutputCheck,
    Stamps,
    cache_path,
    load_cache,
    save_cache,
    source_stamps,
    stamp_tree,
)
from broadsheet.publish.output_dir import build_lock, check_output_dir, recover

if TYPE_CHECKING:
    from broadsheet.publish.render import Progress


@dataclass(frozen=True)
class BuildResult:
    output: Path
    articles: int
    written: int
    unchanged: int
    seconds: float

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
    warn: Callable[[str], None] | None = None,
) -> BuildResult:
    """content/ -> posts -> planned pages -> rendered files, swapped into site/ whole.

    With the build cache, a build whose sources have not changed does nothing, and one
    after an edit renders only the pages whose inputs changed. Stopped by Ctrl-C or
    SIGTERM, it raises KeyboardInterrupt with a message that says where the site is.
    """
    started = time.perf_counter()
    output = (output or config.path(config.output_dir)).resolve()
    check_output_dir(output, config)
    with build_lock(output, wait) as lock:
        made = _cache_files(config, output, use_cache)
        try:
            try:
                recover(output, lock, warn)
            except OSError as exc:
                message = f"cannot clean up after a previous build: {exc.strerror or exc}"
                raise BroadsheetError(message, exc.filename or output) from exc
            return _build(config, output, drafts, progress, jobs, use_cache, started)
        except BaseException as exc:
            if not os.path.lexists(output):  # a failed first build leaves nothing it made
                _forget(made)
            if isinstance(exc, KeyboardInterrupt):
                raise KeyboardInterrupt(_stopped(lock.committed, output)) from None
            raise


def _stopped(committed: bool, output: Path) -> str:
    if committed:
        return "stopped: the new site is in place"
    if output.is_dir():
        return "interrupted; the previous site is untouched"
    return "interrupted; no site was written"


def _cache_files(config: SiteConfig, output: Path, use_cache: bool) -> list[Path]:
    """The build cache's files for `output` (and its folder) that do not exist yet."""
    if not use_cache:
        return []
    where = cache_path(config, output)
    files = [where.parent, where, _state_path(where)]
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
) -> BuildResult:
    now = config.now or datetime.now(config.zone)
    folders = (config.content_dir, config.static_dir, config.templates_dir)
    refuse_outside_links([config.path(f) for f in folders], config.root)
    with timing.stage("check cache"):
        inputs, options = source_stamps(config), _options(config, drafts, output)
        where = cache_path(config, output)
        cache = load_cache(where) if use_cache else None
        check = OutputCheck(output, cache.output if cache is not None else {})
        if cache is not None and cache.is_current(inputs, options, now) and check.holds():
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
    with check, long_lived() as keep:  # the cache just read, and (in assemble) posts and plan
        keep()
        outcome = assemble(config, output, trusted, drafts, now, progress, jobs, state, inputs)
        if use_cache:
            with timing.stage("stamp output"):
                stamps = _stamp_output(output, trusted(), outcome.changes)
            fresh = BuildCache(inputs, options, outcome.signatures, stamps, signed=outcome.signed)
            fresh.valid_until = outcome.valid_until
            fresh.articles = outcome.articles
            with timing.stage("save cache"):
                save_cache(where, fresh)
    return BuildResult(
        output, outcome.articles, outcome.written, outcome.unchanged, _since(started)
    )


def _stamp_output(
    output: Path, cache: BuildCache | None, changes: tuple[list[str], list[str]] | None
) -> Stamps:
    """The output's stamps: the last build's, updated for the files this one changed
    in place, or taken afresh when the site was replaced whole."""
    if cache is None or changes is None:
        return stamp_tree(output)
    stamps = dict(cache.output)
    moved, removed = changes
    for relative in removed:
        stamps.pop(relative, None)
    for relative in moved:
        stamps.update(stamp_tree(output / relative, output))
    return stamps  # compared as a mapping: its order does not matter


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
