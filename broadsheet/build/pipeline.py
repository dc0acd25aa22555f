"""`build(config)`: the whole program in one place, stage by stage."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment

from broadsheet.build.context import card_renderer, page_context, template_globals
from broadsheet.build.output_dir import check_output_dir, staged_output
from broadsheet.build.search import index_search
from broadsheet.config import SiteConfig
from broadsheet.content.loader import load_posts
from broadsheet.errors import BroadsheetError
from broadsheet.outputs.page import Page
from broadsheet.outputs.site import Site, plan_site
from broadsheet.render.markdown import pygments_css
from broadsheet.render.templates import make_environment, render_template

PYGMENTS_CSS = "css/pygments.css"


@dataclass(frozen=True)
class BuildResult:
    output: Path
    articles: int
    pages: int
    files: int
    seconds: float


def build(config: SiteConfig, output: Path | None = None) -> BuildResult:
    """content/ -> posts -> planned pages -> rendered files, swapped into site/ whole."""
    started = time.perf_counter()
    output = (output or config.path(config.output_dir)).resolve()
    check_output_dir(output, config)
    posts = load_posts(config.path(config.content_dir), config.zone)
    site = plan_site(posts, config)
    env = make_environment(config.path(config.templates_dir), template_globals(site))
    env.globals["card"] = card_renderer(env)
    generated = {PYGMENTS_CSS, *(page.path for page in site.pages)}
    with staged_output(output) as stage:
        files = copy_static(config.path(config.static_dir), stage, generated)
        _write(stage, PYGMENTS_CSS, pygments_css())
        for page in site.pages:
            _write(stage, page.path, render_page(env, site, page))
        index_search(stage)
    return BuildResult(
        output=output,
        articles=len(site.posts),
        pages=len(site.pages),
        files=files + 1 + len(site.pages),
        seconds=time.perf_counter() - started,
    )


def render_page(env: Environment, site: Site, page: Page) -> str:
    body = env.globals["render_body"](page.post) if page.post is not None else None  # type: ignore[operator]
    context = page_context(site, page, body)
    return render_template(env, page.template, context)


def copy_static(static_dir: Path, stage: Path, generated: set[str]) -> int:
    """Copy static/ over; a file that would shadow a generated page is an error."""
    if not static_dir.is_dir():
        return 0
    count = 0
    for source in sorted(static_dir.rglob("*")):
        if source.is_dir() or any(p.startswith(".") for p in source.relative_to(static_dir).parts):
            continue
        relative = source.relative_to(static_dir).as_posix()
        if relative in generated:
            raise BroadsheetError(f"would overwrite the generated page {relative}", source)
        target = stage / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        count += 1
    return count


def _write(stage: Path, relative: str, text: str) -> None:
    target = stage / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        target.write_text(text, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise BroadsheetError(f"cannot write: {exc.strerror or exc}", target) from exc
