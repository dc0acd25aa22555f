"""`build(config)`: the whole program in one place, stage by stage."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from broadsheet.build.context import card_renderer, template_globals
from broadsheet.build.output_dir import check_output_dir, staged_output
from broadsheet.build.render import Progress, RenderReport, render_pages
from broadsheet.build.search import index_search
from broadsheet.build.statics import copy_static
from broadsheet.config import SiteConfig
from broadsheet.content.loader import load_posts
from broadsheet.content.post import Post
from broadsheet.content.visibility import visible
from broadsheet.outputs.site import Site, plan_site
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
) -> BuildResult:
    """content/ -> posts -> planned pages -> rendered files, swapped into site/ whole."""
    started = time.perf_counter()
    output = (output or config.path(config.output_dir)).resolve()
    check_output_dir(output, config)
    site = load_site(config, drafts=drafts)
    env = make_environment(config.path(config.templates_dir), template_globals(site))
    env.globals["card"] = card_renderer(env)
    with staged_output(output) as stage:
        copy_static(config.path(config.static_dir), stage, {p.path for p in site.pages})
        report = render_pages(site, env, stage, progress=progress)
        index_search(stage)
    return _result(output, site, report, started)


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


def _result(output: Path, site: Site, report: RenderReport, started: float) -> BuildResult:
    return BuildResult(
        output=output,
        articles=len(site.posts),
        written=report.written,
        unchanged=report.unchanged,
        seconds=time.perf_counter() - started,
    )
