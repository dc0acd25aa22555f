"""The part of a build that reads posts and renders pages: only imported when needed."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from broadsheet.build.cache import BuildCache
from broadsheet.build.context import card_renderer, template_globals
from broadsheet.build.output_dir import staged_output
from broadsheet.build.render import Progress, render_pages
from broadsheet.build.search import SEARCH_DIR, index_search
from broadsheet.build.statics import copy_static
from broadsheet.config import SiteConfig
from broadsheet.content.loader import load_posts
from broadsheet.content.post import Post
from broadsheet.content.visibility import visible
from broadsheet.outputs.site import Site, plan_site
from broadsheet.render.templates import make_environment


@dataclass
class Outcome:
    articles: int
    written: int
    unchanged: int
    signatures: dict[str, str] = field(default_factory=dict)
    valid_until: str | None = None


def assemble(
    config: SiteConfig,
    output: Path,
    cache: BuildCache | None,
    drafts: bool,
    now: datetime,
    progress: Progress | None,
    jobs: int | None,
) -> Outcome:
    """Posts -> plan -> pages rendered into a stage (hard links to the last site when the
    cache can say what changed) -> search index -> swapped in whole."""
    posts = load_posts(config.path(config.content_dir), config.zone)
    site = load_site(config, drafts=drafts, now=now, posts=posts)
    env = make_environment(config.path(config.templates_dir), template_globals(site))
    env.globals["card"] = card_renderer(env)
    previous = cache.pages if cache is not None else {}
    with staged_output(output, reuse=cache is not None) as stage:
        copied = copy_static(config.path(config.static_dir), stage, {p.path for p in site.pages})
        _drop_stale_statics(cache, config, stage)
        report = render_pages(site, env, stage, previous, progress, jobs or os.cpu_count() or 1)
        if cache is None or any(p.endswith(".html") for p in report.rendered + report.removed):
            shutil.rmtree(stage / SEARCH_DIR, ignore_errors=True)  # never write into links
            index_search(stage)
    return Outcome(
        articles=len(site.posts),
        written=report.written + copied,
        unchanged=report.unchanged,
        signatures=report.signatures,
        valid_until=_next_due(posts, now, drafts),
    )


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


def _next_due(posts: list[Post], now: datetime, drafts: bool) -> str | None:
    """When the first scheduled post falls due: the output changes then without an edit."""
    if drafts:
        return None
    due = [p.date for p in posts if p.date is not None and p.date > now and not p.draft]
    return min(due).isoformat() if due else None


def _drop_stale_statics(cache: BuildCache | None, config: SiteConfig, stage: Path) -> None:
    """Remove copies of static files that were deleted since the last build."""
    if cache is None:
        return
    static = config.path(config.static_dir)
    prefix = static.relative_to(config.root).as_posix() + "/"
    for source in cache.inputs:
        if source.startswith(prefix) and not (static / source[len(prefix) :]).exists():
            (stage / source[len(prefix) :]).unlink(missing_ok=True)
