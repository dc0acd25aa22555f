"""`build(config)`: the whole program in one place, stage by stage."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from broadsheet.build.cache import (
    BuildCache,
    cache_path,
    load_cache,
    save_cache,
    source_stamps,
    stamp_tree,
)
from broadsheet.build.context import card_renderer, template_globals
from broadsheet.build.output_dir import build_lock, check_output_dir, recover, staged_output
from broadsheet.build.render import Progress, render_pages
from broadsheet.build.search import SEARCH_DIR, index_search
from broadsheet.build.statics import copy_static
from broadsheet.config import SiteConfig
from broadsheet.content.loader import load_posts
from broadsheet.content.post import Post
from broadsheet.content.visibility import visible
from broadsheet.outputs.site import Site, plan_site
from broadsheet.paths import refuse_outside_links
from broadsheet.render.templates import make_environment


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
) -> BuildResult:
    """content/ -> posts -> planned pages -> rendered files, swapped into site/ whole.

    With the build cache, a build whose sources have not changed does nothing, and one
    after an edit renders only the pages whose inputs changed.
    """
    started = time.perf_counter()
    output = (output or config.path(config.output_dir)).resolve()
    check_output_dir(output, config)
    with build_lock(output, wait):
        recover(output)
        return _build(config, output, drafts, progress, jobs, use_cache, started)


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
    inputs, options = source_stamps(config), _options(config, drafts, output)
    where = cache_path(config, output)
    cache = load_cache(where, output) if use_cache else None
    if cache is not None and cache.is_current(inputs, options, now):
        return BuildResult(output, cache.articles, 0, len(cache.pages), _since(started))
    posts = load_posts(config.path(config.content_dir), config.zone)
    site = load_site(config, drafts=drafts, now=now, posts=posts)
    env = make_environment(config.path(config.templates_dir), template_globals(site))
    env.globals["card"] = card_renderer(env)
    previous = cache.pages if cache is not None else {}
    with staged_output(output, reuse=cache is not None) as stage:
        copied = copy_static(config.path(config.static_dir), stage, {p.path for p in site.pages})
        _drop_stale_statics(cache, inputs, config, stage)
        report = render_pages(site, env, stage, previous, progress, jobs or os.cpu_count() or 1)
        if cache is None or any(p.endswith(".html") for p in report.rendered + report.removed):
            shutil.rmtree(stage / SEARCH_DIR, ignore_errors=True)  # never write into links
            index_search(stage)
    if use_cache:
        fresh = BuildCache(inputs, options, report.signatures, stamp_tree(output))
        fresh.valid_until = _next_due(posts, now, drafts)
        fresh.articles = len(site.posts)
        save_cache(where, fresh)
    written = report.written + copied
    return BuildResult(output, len(site.posts), written, report.unchanged, _since(started))


def load_site(
    config: SiteConfig,
    *,
    drafts: bool,
    now: datetime | None = None,
    posts: list[Post] | None = None,
) -> Site:
    """Read the posts (unless given), drop drafts and scheduled ones unless asked, plan."""
    now = now or config.now or datetime.now(config.zone)
    if posts is None:
        posts = load_posts(config.path(config.content_dir), config.zone)
    return plan_site(visible(posts, now, drafts), config, now=now)


def _options(config: SiteConfig, drafts: bool, output: Path) -> dict[str, Any]:
    """Everything besides the source files that decides the output."""
    return {
        "drafts": drafts,
        "base_url": config.base_url,
        "content": config.content_dir,
        "now": config.now.isoformat() if config.now else None,
        "output": str(output),
    }


def _next_due(posts: list[Post], now: datetime, drafts: bool) -> str | None:
    """When the first scheduled post falls due: the output changes then without an edit."""
    if drafts:
        return None
    due = [p.date for p in posts if p.date is not None and p.date > now and not p.draft]
    return min(due).isoformat() if due else None


def _drop_stale_statics(
    cache: BuildCache | None, inputs: dict[str, list[int]], config: SiteConfig, stage: Path
) -> None:
    """Remove copies of static files that were deleted since the last build."""
    if cache is None:
        return
    prefix = config.static_dir.rstrip("/") + "/"
    for source in set(cache.inputs) - set(inputs):
        if source.startswith(prefix):
            (stage / source[len(prefix) :]).unlink(missing_ok=True)


def _since(started: float) -> float:
    return time.perf_counter() - started
